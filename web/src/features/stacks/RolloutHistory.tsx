// A stack's rollouts, newest first, paged; operators roll back to an earlier successful one.
import { useCallback } from "react";
import { Link } from "react-router";
import { listRollouts } from "../../api/rollouts";
import type { Rollout, Stack } from "../../api/types";
import { EmptyState } from "../../components/feedback";
import { PagedTable, type Column } from "../../components/PagedTable";
import { Time } from "../../components/Time";
import { usePagedList } from "../../lib/usePagedList";
import { Commit, StatusBadge, triggerLabel } from "../rollouts/status";

function counts(r: Rollout): string {
  const d = r.deployments;
  const parts = [
    d.succeeded > 0 && `${d.succeeded} succeeded`,
    d.failed > 0 && `${d.failed} failed`,
    d.running > 0 && `${d.running} running`,
    d.queued > 0 && `${d.queued} queued`,
    d.superseded > 0 && `${d.superseded} superseded`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(" · ") : "no targets";
}

export function RolloutHistory({ stack, version, onRollback }: { stack: Stack; version: number; onRollback: ((r: Rollout) => void) | null }) {
  const key = `${stack.id}#${version}`;
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => listRollouts({ stackId: stack.id }, cursor, 20, signal), [stack.id]);
  const list = usePagedList(key, fetchPage);
  const columns: Column<Rollout>[] = [
    {
      header: "Started",
      className: "nowrap",
      cell: (r) => (
        <Link to={`/rollouts/${r.id}`}>
          <Time value={r.created_at} />
          <span className="sr-only"> rollout of {r.commit.slice(0, 10)}</span>
        </Link>
      ),
    },
    { header: "Commit", cell: (r) => <Commit sha={r.commit} /> },
    { header: "Trigger", cell: (r) => triggerLabel(r.trigger) },
    { header: "By", cell: (r) => r.actor },
    { header: "Status", cell: (r) => <StatusBadge status={r.status} /> },
    { header: "Deployments", cell: (r) => <span className="muted">{counts(r)}</span> },
  ];
  if (onRollback !== null) {
    columns.push({
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (r) =>
        r.status === "succeeded" && r.commit !== stack.deployed_commit && r.trigger !== "removal" ? (
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => onRollback(r)}>
            Roll back to {r.commit.slice(0, 7)}
          </button>
        ) : null,
    });
  }
  return (
    <PagedTable
      list={list}
      columns={columns}
      rowKey={(r) => r.id}
      noun={["rollout", "rollouts"]}
      caption="Rollouts of this stack, newest first"
      loadingLabel="Loading the history…"
      errorTitle="Could not load the history"
      empty={<EmptyState title="No rollouts yet">The first one starts once the repository's check finds the ref.</EmptyState>}
    />
  );
}
