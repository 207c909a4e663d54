// An environment's stacks (those targeting it, with their sync state there) and its deployment
// history (paged, newest first). Both reload as deployments there finish.
import { useCallback, useEffect, useRef } from "react";
import { Link } from "react-router";
import { listDeployments } from "../../api/rollouts";
import { environmentStacks } from "../../api/stacks";
import type { Deployment } from "../../api/types";
import { EmptyState, ErrorState, LoadingState } from "../../components/feedback";
import { PagedTable, type Column } from "../../components/PagedTable";
import { Time } from "../../components/Time";
import { usePagedList } from "../../lib/usePagedList";
import { useResource } from "../../lib/useResource";
import { Commit, duration, phaseLabel, StatusBadge, triggerLabel } from "../rollouts/status";
import { TargetsTable } from "../stacks/TargetsTable";

export function EnvironmentStacksSection({ environmentId, version }: { environmentId: string; version: number }) {
  const stacks = useResource(environmentId, (signal) => environmentStacks(environmentId, signal));
  // Reload in place (keeping the rows shown) when a deployment there finishes.
  const reload = useRef(stacks.reload);
  useEffect(() => {
    reload.current = stacks.reload;
  });
  useEffect(() => {
    if (version > 0) reload.current();
  }, [version]);
  return (
    <section className="card" aria-labelledby="env-stacks-title">
      <h2 id="env-stacks-title" className="card-title">
        Stacks targeting it
      </h2>
      {stacks.data !== null ? (
        <TargetsTable targets={stacks.data} by="stack" />
      ) : stacks.error !== null ? (
        <ErrorState error={stacks.error} onRetry={stacks.reload} title="Could not load the stacks" />
      ) : (
        <LoadingState label="Loading stacks…" />
      )}
    </section>
  );
}

const columns: Column<Deployment>[] = [
  {
    header: "Started",
    className: "nowrap",
    cell: (d) => (
      <Link to={`/deployments/${d.id}`}>
        <Time value={d.started_at ?? d.created_at} />
        <span className="sr-only">
          {" "}
          deployment of {d.stack_name} at {d.commit.slice(0, 10)}
        </span>
      </Link>
    ),
  },
  { header: "Stack", cell: (d) => (d.stack_id ? <Link to={`/stacks/${d.stack_id}`}>{d.stack_name}</Link> : d.stack_name) },
  { header: "Commit", cell: (d) => <Commit sha={d.commit} /> },
  { header: "Trigger", cell: (d) => triggerLabel(d.trigger) },
  { header: "Status", cell: (d) => <StatusBadge status={d.status} /> },
  { header: "Duration", className: "nowrap", cell: (d) => duration(d.started_at, d.finished_at) ?? "—" },
  {
    header: "Error",
    cell: (d) =>
      d.error ? (
        <span className="text-error cell-clip" title={d.error}>
          {phaseLabel(d.error_phase) && `While ${phaseLabel(d.error_phase)}: `}
          {d.error}
        </span>
      ) : (
        <span className="muted">—</span>
      ),
  },
];

export function EnvironmentDeploymentsSection({ environmentId, version }: { environmentId: string; version: number }) {
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => listDeployments({ environmentId }, cursor, 20, signal), [environmentId]);
  const list = usePagedList(`${environmentId}#${version}`, fetchPage);
  return (
    <section className="card" aria-labelledby="env-deployments-title">
      <h2 id="env-deployments-title" className="card-title">
        Deployment history
      </h2>
      <PagedTable
        list={list}
        columns={columns}
        rowKey={(d) => d.id}
        noun={["deployment", "deployments"]}
        caption="Deployments to this environment, newest first"
        loadingLabel="Loading deployments…"
        errorTitle="Could not load the deployments"
        empty={<EmptyState title="Nothing deployed here yet" />}
      />
    </section>
  );
}
