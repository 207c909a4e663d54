import type { AuditEvent } from "../../../api/types";
import { formatDateTime } from "../../../lib/format";

export function AuditRow({ event: e }: { event: AuditEvent }) {
  const hasDetails = Object.keys(e.details).length > 0;
  return (
    <tr>
      <td className="nowrap" title={e.at}>
        {formatDateTime(e.at)}
      </td>
      <td>{e.actor ?? <span className="muted">—</span>}</td>
      <td>
        <code>{e.action}</code>
      </td>
      <td className="cell-wrap">{e.target ?? <span className="muted">—</span>}</td>
      <td>{e.client_addr ?? <span className="muted">—</span>}</td>
      <td className="cell-details">
        {hasDetails ? (
          <details>
            <summary>Show</summary>
            <pre>{JSON.stringify(e.details, null, 2)}</pre>
          </details>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
