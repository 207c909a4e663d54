// Users (admin): search and filter server-side, page with "Load more", create, change role,
// disable/enable, reset password.
import { useCallback, useState } from "react";
import { describeError } from "../../../api/errors";
import type { Role, User } from "../../../api/types";
import { listUsers, updateUser, type UserFilter } from "../../../api/users";
import { ConfirmDialog } from "../../../components/ConfirmDialog";
import { Alert, EmptyState, ErrorState, LoadingState } from "../../../components/feedback";
import { PlusIcon } from "../../../components/icons";
import { LoadMore } from "../../../components/LoadMore";
import { PageHeader } from "../../../components/PageHeader";
import { roleLabel } from "../../../components/RoleBadge";
import { useDebounced } from "../../../lib/useDebounced";
import { usePagedList } from "../../../lib/usePagedList";
import { useUser } from "../../auth/AuthContext";
import { ROLES } from "../../auth/roles";
import { CreateUserDialog } from "./CreateUserDialog";
import { ResetPasswordDialog } from "./ResetPasswordDialog";
import { UserRow } from "./UserRow";

type Dialog = { kind: "create" } | { kind: "reset"; user: User } | { kind: "disable"; user: User } | null;

export function UsersPage() {
  const me = useUser();
  const [search, setSearch] = useState("");
  const [role, setRole] = useState<Role | "">("");
  const [status, setStatus] = useState<"" | "active" | "disabled">("");
  const debouncedSearch = useDebounced(search, 300);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [pending, setPending] = useState<string | null>(null);

  const filter: UserFilter = {
    search: debouncedSearch || undefined,
    role: role || undefined,
    disabled: status === "" ? undefined : status === "disabled",
  };
  const key = JSON.stringify(filter);
  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listUsers(JSON.parse(key) as UserFilter, cursor, 50, signal),
    [key],
  );
  const list = usePagedList(key, fetchPage);

  function replace(user: User) {
    list.update((items) => items.map((u) => (u.id === user.id ? user : u)));
  }

  async function patch(user: User, change: { role?: Role; disabled?: boolean }, done: string) {
    setPending(user.id);
    setNotice(null);
    try {
      replace(await updateUser(user.id, change));
      setNotice({ kind: "success", text: done });
    } catch (e) {
      setNotice({ kind: "error", text: `Could not update ${user.username}: ${describeError(e)}` });
    } finally {
      setPending(null);
    }
  }

  return (
    <>
      <PageHeader
        title="Users"
        description="People who can sign in to Berth, and what their role lets them do."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "create" })}>
            <PlusIcon /> New user
          </button>
        }
      />
      <div className="toolbar" role="search" aria-label="Filter users">
        <label className="toolbar-field">
          <span className="sr-only">Search by username</span>
          <input type="search" placeholder="Search by username…" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label className="toolbar-field">
          <span className="toolbar-label">Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as Role | "")}>
            <option value="">All roles</option>
            {[...ROLES].reverse().map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span className="toolbar-label">Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as "" | "active" | "disabled")}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="disabled">Disabled</option>
          </select>
        </label>
      </div>

      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}

      {list.loading && list.items.length === 0 ? (
        <LoadingState label="Loading users…" />
      ) : list.error !== null && list.items.length === 0 ? (
        <ErrorState error={list.error} onRetry={list.reload} title="Could not load users" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No users match">Change the search or filters.</EmptyState>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((u) => (
                <UserRow
                  key={u.id}
                  user={u}
                  isSelf={u.id === me.id}
                  busy={pending === u.id}
                  onRole={(r) => void patch(u, { role: r }, `${u.username} is now ${roleLabel(r).toLowerCase()}.`)}
                  onEnable={() => void patch(u, { disabled: false }, `${u.username} was enabled.`)}
                  onDisable={() => setDialog({ kind: "disable", user: u })}
                  onResetPassword={() => setDialog({ kind: "reset", user: u })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} noun={list.items.length === 1 ? "user" : "users"} />

      {dialog?.kind === "create" && (
        <CreateUserDialog
          onClose={() => setDialog(null)}
          onCreated={(u) => {
            setDialog(null);
            setNotice({ kind: "success", text: `Created ${u.username}.` });
            list.reload();
          }}
        />
      )}
      {dialog?.kind === "reset" && (
        <ResetPasswordDialog
          user={dialog.user}
          onClose={() => setDialog(null)}
          onDone={(u) => {
            setDialog(null);
            replace(u);
            setNotice({ kind: "success", text: `Set a new password for ${u.username}.` });
          }}
        />
      )}
      {dialog?.kind === "disable" && (
        <ConfirmDialog
          title={`Disable ${dialog.user.username}?`}
          confirmLabel="Disable user"
          danger
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            replace(await updateUser(dialog.user.id, { disabled: true }));
            setNotice({ kind: "success", text: `${dialog.user.username} was disabled.` });
          }}
        >
          <p>They will no longer be able to sign in. You can enable the account again later.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
