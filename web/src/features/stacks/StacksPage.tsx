// The stack list: server-side search and sync-state filter (kept in the URL), pagination, and the
// sync state of each stack's targets, refreshed live as deployments run.
import { useCallback } from "react";
import { Link, useLocation } from "react-router";
import { listStacks, type StackFilter } from "../../api/stacks";
import type { SyncState } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, EmptyState } from "../../components/feedback";
import { PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { PagedTable } from "../../components/PagedTable";
import { useCoalesced } from "../../lib/useCoalesced";
import { useDebounced } from "../../lib/useDebounced";
import { usePagedList } from "../../lib/usePagedList";
import { useUrlState } from "../../lib/useUrlState";
import { useCan } from "../auth/useCan";
import { stackColumns } from "./stackColumns";
import { SYNC_STATES, syncLabel } from "./syncState";

const KEYS = ["q", "state"] as const;

export function StacksPage() {
  const canAdmin = useCan("admin");
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice ?? null;
  const [url, setUrl] = useUrlState(KEYS);
  const search = useDebounced(url.q, 300);
  const state = (SYNC_STATES as readonly string[]).includes(url.state) ? (url.state as SyncState) : undefined;
  const filter: StackFilter = { search: search || undefined, state };
  const key = JSON.stringify(filter);
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => listStacks(JSON.parse(key) as StackFilter, cursor, 50, signal), [key]);
  const list = usePagedList(key, fetchPage);
  const reload = useCoalesced(list.reload, 1000);
  useServerEvents(["stack.", "rollout.created", "deployment.started", "deployment.finished", "repository.checked"], reload, list.reload);

  return (
    <>
      <PageHeader
        title="Stacks"
        description="Manifests in Git deployed to environments: each stack follows a ref of a repository and keeps its targets in sync."
        actions={
          canAdmin && (
            <Link to="/stacks/new" className="btn btn-primary">
              <PlusIcon /> New stack
            </Link>
          )
        }
      />
      <div className="toolbar" role="search" aria-label="Filter stacks">
        <label className="toolbar-field">
          <span className="sr-only">Search by name</span>
          <input type="search" placeholder="Search by name…" value={url.q} onChange={(e) => setUrl({ q: e.target.value })} />
        </label>
        <div className="toolbar-field">
          <label className="toolbar-label" htmlFor="stack-state">
            Sync state
          </label>
          <select id="stack-state" value={state ?? ""} onChange={(e) => setUrl({ state: e.target.value })}>
            <option value="">All</option>
            {SYNC_STATES.map((s) => (
              <option key={s} value={s}>
                {syncLabel(s)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {notice && <Alert kind="success">{notice}</Alert>}
      <PagedTable
        list={list}
        columns={stackColumns}
        rowKey={(s) => s.id}
        noun={["stack", "stacks"]}
        caption="Stacks"
        loadingLabel="Loading stacks…"
        errorTitle="Could not load stacks"
        rowClassName={(s) => (s.paused ? "row-muted" : undefined)}
        empty={
          filter.search !== undefined || filter.state !== undefined ? (
            <EmptyState title="No stacks match">Change the search or filter.</EmptyState>
          ) : (
            <EmptyState title="No stacks yet">{canAdmin ? <Link to="/stacks/new">Create the first stack</Link> : "An admin creates stacks here."}</EmptyState>
          )
        }
      />
    </>
  );
}
