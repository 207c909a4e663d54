// The audit log (admin): who did what to what, filtered server-side, newest first, paginated.
import { useCallback, useState } from "react";
import { useSearchParams } from "react-router";
import { listAudit, type AuditFilter } from "../../../api/audit";
import { EmptyState, ErrorState, LoadingState } from "../../../components/feedback";
import { LoadMore } from "../../../components/LoadMore";
import { PageHeader } from "../../../components/PageHeader";
import { usePagedList } from "../../../lib/usePagedList";
import { AuditFilters, FILTER_KEYS } from "./AuditFilters";
import { AuditRow } from "./AuditRow";

/** Filters live in the URL so a filtered view can be shared and survives reloads. */
function filterFromParams(params: URLSearchParams): AuditFilter {
  const f: AuditFilter = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const filter = filterFromParams(params);
  const key = JSON.stringify(filter);
  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listAudit(JSON.parse(key) as AuditFilter, cursor, 50, signal),
    [key],
  );
  const list = usePagedList(key, fetchPage);
  const [formKey, setFormKey] = useState(0);
  const filtered = Object.keys(filter).length > 0;

  return (
    <>
      <PageHeader title="Audit log" description="Every change made through Berth, with who made it and from where." />
      <AuditFilters
        key={`${formKey}:${key}`}
        initial={filter}
        onApply={(f) => {
          const next = new URLSearchParams();
          for (const k of FILTER_KEYS) {
            const v = f[k];
            if (v) next.set(k, v);
          }
          setParams(next);
        }}
        onReset={() => {
          setParams(new URLSearchParams());
          setFormKey((k) => k + 1);
        }}
      />
      {list.loading && list.items.length === 0 ? (
        <LoadingState label="Loading audit events…" />
      ) : list.error !== null && list.items.length === 0 ? (
        <ErrorState error={list.error} onRetry={list.reload} title="Could not load the audit log" />
      ) : list.items.length === 0 ? (
        <EmptyState title={filtered ? "No events match these filters" : "No audit events yet"} />
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table className="table table-audit">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Client</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((e) => (
                <AuditRow key={e.id} event={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} noun={list.items.length === 1 ? "event" : "events"} />
    </>
  );
}
