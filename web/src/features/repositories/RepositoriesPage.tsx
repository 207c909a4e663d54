// The repository list: server-side search and health filter (kept in the URL), pagination, and
// check results arriving live.
import { useCallback } from "react";
import { Link, useLocation } from "react-router";
import { listRepositories, type RepositoryFilter } from "../../api/repositories";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, EmptyState } from "../../components/feedback";
import { PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { PagedTable } from "../../components/PagedTable";
import { useDebounced } from "../../lib/useDebounced";
import { usePagedList } from "../../lib/usePagedList";
import { useUrlState } from "../../lib/useUrlState";
import { useCan } from "../auth/useCan";
import { checkedFrom } from "./liveStatus";
import { repositoryColumns } from "./repositoryColumns";

const KEYS = ["q", "health"] as const;

export function RepositoriesPage() {
  const canAdmin = useCan("admin");
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice ?? null;
  const [url, setUrl] = useUrlState(KEYS);
  const search = useDebounced(url.q, 300);
  const filter: RepositoryFilter = {
    search: search || undefined,
    failing: url.health === "failing" ? true : url.health === "healthy" ? false : undefined,
  };
  const key = JSON.stringify(filter);
  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listRepositories(JSON.parse(key) as RepositoryFilter, cursor, 50, signal),
    [key],
  );
  const list = usePagedList(key, fetchPage);

  useServerEvents(
    ["repository.checked"],
    (event) => {
      const c = checkedFrom(event);
      if (c?.status) {
        const status = c.status;
        list.update((items) => items.map((r) => (r.id === c.id ? { ...r, status } : r)));
      }
    },
    list.reload,
  );

  return (
    <>
      <PageHeader
        title="Repositories"
        description="Git repositories Berth checks on their schedules: one ref listing per check serves every stack on the repository."
        actions={
          canAdmin && (
            <Link to="/repositories/new" className="btn btn-primary">
              <PlusIcon /> Add repository
            </Link>
          )
        }
      />
      <div className="toolbar" role="search" aria-label="Filter repositories">
        <label className="toolbar-field">
          <span className="sr-only">Search by name or URL</span>
          <input type="search" placeholder="Search by name or URL…" value={url.q} onChange={(e) => setUrl({ q: e.target.value })} />
        </label>
        <div className="toolbar-field">
          <label className="toolbar-label" htmlFor="repo-health">
            Health
          </label>
          <select id="repo-health" value={url.health} onChange={(e) => setUrl({ health: e.target.value })}>
            <option value="">All</option>
            <option value="failing">Last check failed</option>
            <option value="healthy">Not failing</option>
          </select>
        </div>
      </div>
      {notice && <Alert kind="success">{notice}</Alert>}
      <PagedTable
        list={list}
        columns={repositoryColumns}
        rowKey={(r) => r.id}
        noun={["repository", "repositories"]}
        caption="Repositories"
        loadingLabel="Loading repositories…"
        errorTitle="Could not load repositories"
        rowClassName={(r) => (r.paused ? "row-muted" : undefined)}
        empty={
          filter.search !== undefined || filter.failing !== undefined ? (
            <EmptyState title="No repositories match">Change the search or filter.</EmptyState>
          ) : (
            <EmptyState title="No repositories yet">
              {canAdmin ? <Link to="/repositories/new">Add the first repository</Link> : "An admin adds repositories here."}
            </EmptyState>
          )
        }
      />
    </>
  );
}
