// A deployment's per-object results, filtered on the server by action, kind, namespace and name.
import { useCallback, useState, type ReactNode } from "react";
import { listObjects, type ObjectFilter } from "../../api/rollouts";
import type { DeploymentObject } from "../../api/types";
import { EmptyState } from "../../components/feedback";
import { PagedTable, type Column } from "../../components/PagedTable";
import { useDebounced } from "../../lib/useDebounced";
import { usePagedList } from "../../lib/usePagedList";
import { ActionBadge, OBJECT_ACTIONS } from "./status";

export const objectColumns: Column<DeploymentObject>[] = [
  {
    header: "Kind",
    cell: (o) => (
      <span title={`${o.group ? `${o.group}/` : ""}${o.version}`}>
        {o.kind}
      </span>
    ),
  },
  { header: "Namespace", cell: (o) => o.namespace ?? <span className="muted">cluster</span> },
  { header: "Name", cell: (o) => <code>{o.name}</code> },
  { header: "Action", cell: (o) => <ActionBadge action={o.action} /> },
  { header: "Message", cell: (o) => (o.message ? <span className={o.action === "failed" ? "text-error pre-wrap" : "pre-wrap"}>{o.message}</span> : <span className="muted">—</span>) },
];

export function ObjectsTable({ deploymentId, version, picker }: { deploymentId: string; version: number; picker?: ReactNode }) {
  const [action, setAction] = useState("");
  const [kind, setKind] = useState("");
  const [namespace, setNamespace] = useState("");
  const [search, setSearch] = useState("");
  const typed = JSON.parse(useDebounced(JSON.stringify({ kind, namespace, search }), 300)) as { kind: string; namespace: string; search: string };
  const filter: ObjectFilter = {
    action: action || undefined,
    kind: typed.kind.trim() || undefined,
    namespace: typed.namespace.trim() || undefined,
    search: typed.search.trim() || undefined,
  };
  const key = `${deploymentId}#${version}#${JSON.stringify(filter)}`;
  const filterKey = JSON.stringify(filter);
  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listObjects(deploymentId, JSON.parse(filterKey) as ObjectFilter, cursor, 100, signal),
    [deploymentId, filterKey],
  );
  const list = usePagedList(key, fetchPage);
  const filtered = filter.action !== undefined || filter.kind !== undefined || filter.namespace !== undefined || filter.search !== undefined;

  return (
    <section className="card" aria-labelledby="objects-title">
      <h2 id="objects-title" className="card-title">
        Objects
      </h2>
      <div className="toolbar" role="search" aria-label="Filter objects">
        {picker}
        <div className="toolbar-field">
          <label className="toolbar-label" htmlFor="obj-action">
            Action
          </label>
          <select id="obj-action" value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">All</option>
            {OBJECT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <label className="toolbar-field">
          <span className="toolbar-label">Kind</span>
          <input value={kind} onChange={(e) => setKind(e.target.value)} placeholder="Deployment" size={12} />
        </label>
        <label className="toolbar-field">
          <span className="toolbar-label">Namespace</span>
          <input value={namespace} onChange={(e) => setNamespace(e.target.value)} size={12} />
        </label>
        <label className="toolbar-field">
          <span className="toolbar-label">Name</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Part of the name…" />
        </label>
      </div>
      <PagedTable
        list={list}
        columns={objectColumns}
        rowKey={(o) => String(o.seq)}
        noun={["object", "objects"]}
        caption="Per-object results, in the order they were applied"
        loadingLabel="Loading objects…"
        errorTitle="Could not load the objects"
        rowClassName={(o) => (o.action === "failed" ? "row-failed" : undefined)}
        empty={filtered ? <EmptyState title="No objects match">Change the filters.</EmptyState> : <EmptyState title="No object results yet" />}
      />
    </section>
  );
}
