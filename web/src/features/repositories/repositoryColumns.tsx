// Columns of the repository list: identity, schedule and the health of its checks.
import { Link } from "react-router";
import type { Repository } from "../../api/types";
import { Badge } from "../../components/Badge";
import type { Column } from "../../components/PagedTable";
import { Time } from "../../components/Time";
import { CheckHealth } from "./CheckHealth";
import { formatDuration, scheduleText } from "./health";

export function SecurityFlags({ repo }: { repo: Repository }) {
  return (
    <span className="flags">
      {repo.insecure_url && (
        <Badge tone="warn" title={`${repo.scheme}:// traffic is not encrypted: it can be read and altered`}>
          Unencrypted {repo.scheme}://
        </Badge>
      )}
      {repo.skip_tls_verify && (
        <Badge tone="warn" title="The server's TLS certificate is not verified">
          TLS not verified
        </Badge>
      )}
    </span>
  );
}

export const repositoryColumns: Column<Repository>[] = [
  {
    header: "Name",
    cell: (r) => (
      <div className="cell-stack">
        <Link to={`/repositories/${r.id}`}>{r.name}</Link>
        <span className="muted mono cell-clip" title={r.url}>
          {r.url}
        </span>
        <SecurityFlags repo={r} />
      </div>
    ),
  },
  { header: "Health", cell: (r) => <CheckHealth repo={r} /> },
  {
    header: "Last check",
    className: "nowrap",
    cell: (r) => (
      <>
        <Time value={r.status.last_check_at} />
        {r.status.last_check_duration_ms !== null && <span className="muted"> · {formatDuration(r.status.last_check_duration_ms)}</span>}
      </>
    ),
  },
  {
    header: "Next check",
    className: "nowrap",
    cell: (r) => (
      <div className="cell-stack">
        {r.paused ? <span className="muted">paused</span> : <Time value={r.status.next_check_at} empty="not scheduled" />}
        <span className="muted">{scheduleText(r.schedule)}</span>
      </div>
    ),
  },
  {
    header: "Error",
    cell: (r) =>
      r.status.last_error ? (
        <span className="text-error cell-clip" title={r.status.last_error}>
          {r.status.last_error}
        </span>
      ) : (
        <span className="muted">—</span>
      ),
  },
  { header: "Stacks", className: "num", cell: (r) => r.stack_count },
];
