// A repository's check history, newest first, paged; reloads when a new check finishes.
import { useCallback } from "react";
import { listChecks } from "../../api/repositories";
import type { RepositoryCheck } from "../../api/types";
import { Badge } from "../../components/Badge";
import { EmptyState } from "../../components/feedback";
import { PagedTable, type Column } from "../../components/PagedTable";
import { Time } from "../../components/Time";
import { usePagedList } from "../../lib/usePagedList";
import { errorKindLabel, formatDuration, outcomeInfo } from "./health";

function Outcome({ check }: { check: RepositoryCheck }) {
  if (check.status !== "done") return <Badge tone="info">{check.status === "running" ? "Running" : "Queued"}</Badge>;
  const info = outcomeInfo(check.outcome);
  return (
    <Badge tone={info.tone} title={info.meaning}>
      {info.label}
    </Badge>
  );
}

const columns: Column<RepositoryCheck>[] = [
  { header: "Requested", className: "nowrap", cell: (c) => <Time value={c.requested_at} /> },
  { header: "Trigger", cell: (c) => c.trigger },
  { header: "Outcome", cell: (c) => <Outcome check={c} /> },
  { header: "Duration", className: "num", cell: (c) => formatDuration(c.duration_ms) },
  {
    header: "Refs",
    cell: (c) => {
      const refs = Object.entries(c.refs_listed);
      if (refs.length === 0) return <span className="muted">—</span>;
      return (
        <ul className="plain-list">
          {refs.map(([ref, sha]) => (
            <li key={ref}>
              <code>{ref}</code> <code className="muted" title={sha}>{sha.slice(0, 10)}</code>
            </li>
          ))}
        </ul>
      );
    },
  },
  {
    header: "Details",
    cell: (c) =>
      c.error ? (
        <span className="text-error pre-wrap">
          {errorKindLabel(c.error_kind) && <strong>{errorKindLabel(c.error_kind)}: </strong>}
          {c.error}
        </span>
      ) : c.deployment_event_ids.length > 0 ? (
        `${c.deployment_event_ids.length} deployment event${c.deployment_event_ids.length === 1 ? "" : "s"}`
      ) : c.fetched_commits.length > 0 ? (
        `fetched ${c.fetched_commits.length} commit${c.fetched_commits.length === 1 ? "" : "s"}`
      ) : (
        <span className="muted">—</span>
      ),
  },
];

export function ChecksTable({ repositoryId, version }: { repositoryId: string; version: number }) {
  const key = `${repositoryId}#${version}`;
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => listChecks(repositoryId, cursor, 20, signal), [repositoryId]);
  const list = usePagedList(key, fetchPage);
  return (
    <section className="card" aria-labelledby="checks-title">
      <h2 id="checks-title" className="card-title">
        Check history
      </h2>
      <PagedTable
        list={list}
        columns={columns}
        rowKey={(c) => c.id}
        noun={["check", "checks"]}
        caption="Checks of this repository, newest first"
        loadingLabel="Loading checks…"
        errorTitle="Could not load the checks"
        empty={<EmptyState title="No checks yet">The first check runs at the next scheduled time, on a webhook, or with “Check now”.</EmptyState>}
      />
    </section>
  );
}
