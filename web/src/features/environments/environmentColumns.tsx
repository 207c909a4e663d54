// Columns of the environment list.
import { Link } from "react-router";
import type { Environment } from "../../api/types";
import { Badge } from "../../components/Badge";
import type { Column } from "../../components/PagedTable";
import { Time } from "../../components/Time";
import { EnvironmentStatusBadge } from "./EnvironmentStatusBadge";
import { TagList } from "./TagList";

export function EnvironmentFlags({ env }: { env: Environment }) {
  return (
    <span className="flags">
      {env.insecure_skip_tls_verify && (
        <Badge tone="warn" title="The server's certificate is not verified (insecure-skip-tls-verify)">
          TLS not verified
        </Badge>
      )}
      {env.client_certificate_expiring && (
        <Badge tone="warn" title={`Client certificate expires ${env.client_certificate_expires_at ?? ""}`}>
          Certificate expiring
        </Badge>
      )}
    </span>
  );
}

export const environmentColumns: Column<Environment>[] = [
  {
    header: "Name",
    cell: (e) => (
      <div className="cell-stack">
        <Link to={`/environments/${e.id}`}>{e.name}</Link>
        <TagList tags={e.tags} />
      </div>
    ),
  },
  { header: "Status", cell: (e) => <EnvironmentStatusBadge status={e.status} /> },
  { header: "Version", cell: (e) => e.kubernetes_version ?? <span className="muted">—</span>, className: "nowrap" },
  { header: "Nodes", cell: (e) => e.node_count ?? <span className="muted">—</span>, className: "num" },
  {
    header: "Last probe",
    className: "nowrap",
    cell: (e) => (
      <>
        <Time value={e.last_probe_at} />
        {e.probe_latency_ms !== null && <span className="muted"> · {e.probe_latency_ms} ms</span>}
      </>
    ),
  },
  {
    header: "Notes",
    cell: (e) => (
      <div className="cell-stack">
        <EnvironmentFlags env={e} />
        {e.last_error && (
          <span className="text-error cell-clip" title={e.last_error}>
            {e.last_error}
          </span>
        )}
      </div>
    ),
  },
];
