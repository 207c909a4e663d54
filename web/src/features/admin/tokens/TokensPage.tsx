// API tokens: the user's own, or everyone's for admins; create (secret shown once) and revoke.
import { useCallback, useState } from "react";
import { listTokens, revokeToken } from "../../../api/tokens";
import type { ApiToken } from "../../../api/types";
import { ConfirmDialog } from "../../../components/ConfirmDialog";
import { Alert, EmptyState, ErrorState, LoadingState } from "../../../components/feedback";
import { PlusIcon } from "../../../components/icons";
import { LoadMore } from "../../../components/LoadMore";
import { PageHeader } from "../../../components/PageHeader";
import { usePagedList } from "../../../lib/usePagedList";
import { useUser } from "../../auth/AuthContext";
import { CreateTokenDialog } from "./CreateTokenDialog";
import { TokenRow } from "./TokenRow";

export function TokensPage() {
  const me = useUser();
  const isAdmin = me.role === "admin";
  const [all, setAll] = useState(false);
  const showAll = isAdmin && all;
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const fetchPage = useCallback(
    (cursor: string | null, signal: AbortSignal) => listTokens(showAll, cursor, 50, signal),
    [showAll],
  );
  const list = usePagedList(showAll ? "all" : "own", fetchPage);

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts, CI and the berth CLI call the API as you, with a role up to your own."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            <PlusIcon /> New token
          </button>
        }
      />
      {isAdmin && (
        <div className="toolbar">
          <label className="checkbox">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
            Show every user's tokens
          </label>
        </div>
      )}
      {notice && <Alert kind="success">{notice}</Alert>}

      {list.loading && list.items.length === 0 ? (
        <LoadingState label="Loading tokens…" />
      ) : list.error !== null && list.items.length === 0 ? (
        <ErrorState error={list.error} onRetry={list.reload} title="Could not load tokens" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No API tokens yet">Create one to use the API from scripts or the CLI.</EmptyState>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                {showAll && <th scope="col">Owner</th>}
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((t) => (
                <TokenRow
                  key={t.id}
                  token={t}
                  showOwner={showAll}
                  canRevoke={isAdmin || t.user_id === me.id}
                  onRevoke={() => setRevoking(t)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} noun={list.items.length === 1 ? "token" : "tokens"} />

      {creating && (
        <CreateTokenDialog
          ownRole={me.role}
          onClose={() => setCreating(false)}
          onCreated={(t) => {
            setNotice(`Created token ${t.name}.`);
            list.reload();
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke token"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await revokeToken(revoking.id);
            const at = new Date().toISOString();
            list.update((items) => items.map((t) => (t.id === revoking.id ? { ...t, revoked_at: t.revoked_at ?? at } : t)));
            setNotice(`Revoked token ${revoking.name}.`);
          }}
        >
          <p>
            Anything using <code>{revoking.prefix}…</code> will be refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
