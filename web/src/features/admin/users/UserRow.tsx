import type { Role, User } from "../../../api/types";
import { roleLabel } from "../../../components/RoleBadge";
import { formatDate, formatDateTime, formatRelative } from "../../../lib/format";
import { ROLES } from "../../auth/roles";

interface UserRowProps {
  user: User;
  /** The signed-in admin's own row: no self-demotion or self-disabling from here. */
  isSelf: boolean;
  busy: boolean;
  onRole: (role: Role) => void;
  onEnable: () => void;
  onDisable: () => void;
  onResetPassword: () => void;
}

export function UserRow({ user, isSelf, busy, onRole, onEnable, onDisable, onResetPassword }: UserRowProps) {
  return (
    <tr className={user.disabled ? "row-muted" : undefined}>
      <th scope="row">
        {user.username}
        {isSelf && <span className="muted"> (you)</span>}
      </th>
      <td>
        <select
          className="select-compact"
          aria-label={`Role of ${user.username}`}
          value={user.role}
          disabled={busy || isSelf}
          title={isSelf ? "You cannot change your own role" : undefined}
          onChange={(e) => onRole(e.target.value as Role)}
        >
          {[...ROLES].reverse().map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)}
            </option>
          ))}
        </select>
      </td>
      <td>
        {user.disabled ? <span className="badge badge-muted">Disabled</span> : <span className="badge badge-ok">Active</span>}
      </td>
      <td className="nowrap" title={user.last_login_at ? formatDateTime(user.last_login_at) : undefined}>
        {formatRelative(user.last_login_at)}
      </td>
      <td className="nowrap" title={formatDateTime(user.created_at)}>
        {formatDate(user.created_at)}
      </td>
      <td className="cell-actions">
        <button type="button" className="btn btn-ghost btn-sm" onClick={onResetPassword} disabled={busy} aria-label={`Reset password for ${user.username}`}>
          Reset password
        </button>
        {user.disabled ? (
          <button type="button" className="btn btn-ghost btn-sm" onClick={onEnable} disabled={busy} aria-label={`Enable ${user.username}`}>
            Enable
          </button>
        ) : (
          <button
            type="button"
            className="btn btn-ghost btn-sm btn-danger-text"
            onClick={onDisable}
            disabled={busy || isSelf}
            aria-label={`Disable ${user.username}`}
          >
            Disable
          </button>
        )}
      </td>
    </tr>
  );
}
