import type { ApiToken } from "../../../api/types";
import { RoleBadge } from "../../../components/RoleBadge";
import { formatDate, formatDateTime, formatRelative } from "../../../lib/format";

export type TokenStatus = "active" | "expired" | "revoked";

export function tokenStatus(t: ApiToken, now = Date.now()): TokenStatus {
  // Nullable fields may also be absent in the server's document.
  if (t.revoked_at) return "revoked";
  if (t.expires_at && Date.parse(t.expires_at) <= now) return "expired";
  return "active";
}

const statusBadge: Record<TokenStatus, string> = { active: "badge-ok", expired: "badge-warn", revoked: "badge-muted" };

interface Props {
  token: ApiToken;
  showOwner: boolean;
  canRevoke: boolean;
  onRevoke: () => void;
}

export function TokenRow({ token: t, showOwner, canRevoke, onRevoke }: Props) {
  const status = tokenStatus(t);
  return (
    <tr className={status === "active" ? undefined : "row-muted"}>
      <th scope="row" className="nowrap">
        {t.name}
      </th>
      <td>
        <code>{t.prefix}…</code>
      </td>
      {showOwner && <td>{t.username}</td>}
      <td>
        <RoleBadge role={t.role} />
      </td>
      <td>
        <span className={`badge ${statusBadge[status]}`} title={status === "revoked" ? formatDateTime(t.revoked_at) : undefined}>
          {status[0]?.toUpperCase()}
          {status.slice(1)}
        </span>
      </td>
      <td className="nowrap" title={formatDateTime(t.created_at)}>
        {formatDate(t.created_at)}
      </td>
      <td className="nowrap" title={t.expires_at ? formatDateTime(t.expires_at) : undefined}>
        {t.expires_at ? formatDate(t.expires_at) : "Never"}
      </td>
      <td className="nowrap" title={t.last_used_at ? formatDateTime(t.last_used_at) : undefined}>
        {formatRelative(t.last_used_at)}
      </td>
      <td className="cell-actions">
        {canRevoke && status !== "revoked" && (
          <button type="button" className="btn btn-ghost btn-sm btn-danger-text" onClick={onRevoke} aria-label={`Revoke ${t.name}`}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}
