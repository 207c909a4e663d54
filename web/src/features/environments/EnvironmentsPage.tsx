// The environment list: server-side search, status and tag-selector filters kept in the URL,
// cursor pagination, and live status from the event stream.
import { useCallback, useState } from "react";
import { Link, useLocation } from "react-router";
import { getEnvironment, listEnvironments, type EnvironmentFilter } from "../../api/environments";
import { isApiError } from "../../api/errors";
import type { Environment } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, EmptyState } from "../../components/feedback";
import { PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { PagedTable } from "../../components/PagedTable";
import { useDebounced } from "../../lib/useDebounced";
import { usePagedList } from "../../lib/usePagedList";
import { useUrlState } from "../../lib/useUrlState";
import { useCan } from "../auth/useCan";
import { environmentColumns } from "./environmentColumns";
import { EnvironmentFilters } from "./EnvironmentFilters";
import { changeFrom } from "./liveUpdates";
import { isStatus } from "./status";

const KEYS = ["q", "status", "selector"] as const;

export function EnvironmentsPage() {
  const canAdmin = useCan("admin");
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice ?? null;
  const [url, setUrl] = useUrlState(KEYS);
  const search = useDebounced(url.q, 300);
  const selector = useDebounced(url.selector, 400);
  const [created, setCreated] = useState(0);

  const filter: EnvironmentFilter = {
    search: search || undefined,
    status: isStatus(url.status) ? url.status : undefined,
    selector: selector || undefined,
  };
  const key = JSON.stringify(filter);
  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listEnvironments(JSON.parse(key) as EnvironmentFilter, cursor, 50, signal),
    [key],
  );
  const list = usePagedList(key, fetchPage);
  const selectorError = isApiError(list.error) && list.error.field === "selector" ? list.error.message : null;

  const replace = (env: Environment) => list.update((items) => items.map((e) => (e.id === env.id ? env : e)));
  useServerEvents(
    ["environment."],
    (event) => {
      const change = changeFrom(event);
      if (change === null) return;
      if (event.kind === "environment.created") setCreated((n) => n + 1);
      else if (event.kind === "environment.deleted") list.update((items) => items.filter((e) => e.id !== change.id));
      else if (event.kind === "environment.updated" && list.items.some((e) => e.id === change.id)) {
        // Updates may change tags, which the event does not carry.
        getEnvironment(change.id).then(replace, () => undefined);
      } else list.update((items) => items.map((e) => (e.id === change.id ? { ...e, ...change.patch } : e)));
    },
    list.reload,
  );

  function showNew() {
    setCreated(0);
    list.reload();
  }

  return (
    <>
      <PageHeader
        title="Environments"
        description="The Kubernetes clusters Berth deploys to, and their health as the last probe saw it."
        actions={
          canAdmin && (
            <Link to="/environments/new" className="btn btn-primary">
              <PlusIcon /> Register environment
            </Link>
          )
        }
      />
      <EnvironmentFilters
        search={url.q}
        status={url.status}
        selector={url.selector}
        selectorError={selectorError}
        onChange={(changes) => setUrl(changes)}
      />
      {notice && <Alert kind="success">{notice}</Alert>}
      {created > 0 && (
        <div className="alert alert-info row-between" role="status">
          <span>
            {created} new environment{created === 1 ? "" : "s"} registered.
          </span>
          <button type="button" className="btn btn-secondary btn-sm" onClick={showNew}>
            Show
          </button>
        </div>
      )}
      {selectorError !== null ? (
        <EmptyState title="The tag selector is not valid">Fix it to see the matching environments.</EmptyState>
      ) : (
        <PagedTable
          list={list}
          columns={environmentColumns}
          rowKey={(e) => e.id}
          noun={["environment", "environments"]}
          caption="Environments"
          loadingLabel="Loading environments…"
          errorTitle="Could not load environments"
          empty={
            filter.search || filter.status || filter.selector ? (
              <EmptyState title="No environments match">Change the search or filters.</EmptyState>
            ) : (
              <EmptyState title="No environments yet">
                {canAdmin ? <Link to="/environments/new">Register the first cluster</Link> : "An admin registers clusters here."}
              </EmptyState>
            )
          }
        />
      )}
    </>
  );
}
