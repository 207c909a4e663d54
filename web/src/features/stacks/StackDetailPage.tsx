// One stack: facts, the sync state of each target, its rollout history; by role, deploy (latest or
// a chosen commit), redeploy, preview, roll back (operators), pause/resume, edit and delete
// (admins). Deployments update it live.
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { describeError } from "../../api/errors";
import { getStack, listTargets, pauseStack, redeployStack, resumeStack } from "../../api/stacks";
import type { Rollout, ServerEvent } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, EmptyState, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { Tabs } from "../../components/Tabs";
import { useCoalesced } from "../../lib/useCoalesced";
import { useResource } from "../../lib/useResource";
import { useCan } from "../auth/useCan";
import { RolloutHistory } from "./RolloutHistory";
import { DeleteStackDialog, DeployDialog, RollbackDialog } from "./StackDialogs";
import { Commit } from "../rollouts/status";
import { StackFacts } from "./StackFacts";
import { StackFlags } from "./stackColumns";
import { SyncBadge } from "./syncState";
import { TargetsTable } from "./TargetsTable";

type Dialog = { kind: "deploy" } | { kind: "delete" } | { kind: "rollback"; rollout: Rollout } | null;
type Tab = "targets" | "history";

/** Whether an event may change what the page shows: the stack, its rollouts, or a check of its
 * repository (which records the latest commit). */
function concerns(event: ServerEvent, stack: { id: string; repository_id: string }): boolean {
  const d = event.data as { id?: unknown; stack_id?: unknown };
  if (event.kind.startsWith("stack.")) return d.id === stack.id;
  if (event.kind === "repository.checked") return d.id === stack.repository_id;
  return d.stack_id === stack.id;
}

export function StackDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const canOperate = useCan("operator");
  const canAdmin = useCan("admin");
  const data = useResource(id, async (signal) => {
    const stack = await getStack(id, signal);
    const targets = await listTargets(stack.id, signal);
    return { stack, targets };
  });
  const [tab, setTab] = useState<Tab>("targets");
  const [dialog, setDialog] = useState<Dialog>(null);
  const [historyVersion, setHistoryVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(
    (location.state as { notice?: string } | null)?.notice ? { kind: "success", text: (location.state as { notice: string }).notice } : null,
  );
  const refresh = useCoalesced(() => {
    data.reload();
    setHistoryVersion((v) => v + 1);
  }, 500);

  useServerEvents(
    ["stack.", "rollout.created", "deployment.started", "deployment.finished", "repository.checked"],
    (event) => {
      const stack = data.data?.stack;
      if (stack === undefined || !concerns(event, stack)) return;
      if (event.kind === "stack.deleted") setDeleted(true);
      else refresh();
    },
    refresh,
  );

  function started(rolloutId: string, what: string) {
    void navigate(`/rollouts/${rolloutId}`, { state: { notice: what } });
  }

  async function act(what: () => Promise<{ rollout_id: string | null }>, done: string) {
    setBusy(true);
    setNotice(null);
    try {
      const r = await what();
      if (r.rollout_id) started(r.rollout_id, done);
      else {
        setNotice({ kind: "success", text: done });
        refresh();
      }
    } catch (e) {
      setNotice({ kind: "error", text: describeError(e) });
    } finally {
      setBusy(false);
    }
  }

  if (data.data === null) {
    if (data.error !== null) return <ErrorState error={data.error} onRetry={data.reload} title="Could not load this stack" />;
    return <LoadingState label="Loading stack…" />;
  }
  const { stack: s, targets } = data.data;
  if (deleted) {
    return (
      <EmptyState title={`${s.name} was deleted`}>
        <Link to="/stacks">Back to stacks</Link>
      </EmptyState>
    );
  }
  const held = s.rollback_hold_commit !== null;

  return (
    <>
      <PageHeader
        title={s.name}
        description={
          <>
            <Link to="/stacks">Stacks</Link> / {s.name} <SyncBadge state={s.sync_state} /> <StackFlags stack={s} />
          </>
        }
        actions={
          <>
            {canOperate && (
              <>
                <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "deploy" })} disabled={busy || s.deleting}>
                  Deploy…
                </button>
                <button
                  type="button"
                  className="btn btn-secondary"
                  onClick={() => void act(() => redeployStack(s.id), `Redeploying ${s.deployed_commit?.slice(0, 10) ?? "the deployed commit"}.`)}
                  disabled={busy || s.deployed_commit === null || s.deleting}
                >
                  Redeploy
                </button>
                <Link to={`/stacks/${s.id}/preview`} className="btn btn-secondary">
                  Preview
                </Link>
                <button
                  type="button"
                  className="btn btn-secondary"
                  onClick={() => void act(() => (s.paused || held ? resumeStack(s.id) : pauseStack(s.id)), s.paused || held ? `Resumed ${s.name}.` : `Paused ${s.name}.`)}
                  disabled={busy}
                >
                  {s.paused || held ? "Resume" : "Pause"}
                </button>
              </>
            )}
            {canAdmin && (
              <>
                <Link to={`/stacks/${s.id}/edit`} className="btn btn-secondary">
                  Edit
                </Link>
                <button type="button" className="btn btn-danger" onClick={() => setDialog({ kind: "delete" })} disabled={s.deleting}>
                  Delete
                </button>
              </>
            )}
          </>
        }
      />
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {held && (
        <Alert kind="warning">
          Auto-deploy paused after rollback: <Commit sha={s.deployed_commit} /> stays deployed and <Commit sha={s.rollback_hold_commit} />, the commit rolled
          back from, is not deployed again. Auto-deploy resumes when a new commit arrives
          {canOperate ? " or you resume the stack." : " or an operator resumes the stack."}
        </Alert>
      )}
      {s.paused && <Alert kind="info">This stack is paused: no change detection and no auto-deploy until it is resumed.</Alert>}
      {s.deleting && <Alert kind="warning">This stack is being deleted: its objects are being removed from every target.</Alert>}
      <Tabs
        label="Stack views"
        tabs={[
          { key: "targets", label: `Targets (${targets.length})` },
          { key: "history", label: "History" },
        ]}
        selected={tab}
        onSelect={setTab}
      >
        {tab === "targets" ? (
          <>
            <TargetsTable targets={targets} by="environment" />
            <StackFacts stack={s} />
          </>
        ) : (
          <RolloutHistory stack={s} version={historyVersion} onRollback={canOperate ? (r) => setDialog({ kind: "rollback", rollout: r }) : null} />
        )}
      </Tabs>

      {dialog?.kind === "deploy" && <DeployDialog stack={s} onClose={() => setDialog(null)} onStarted={(r) => started(r, `Deploying ${s.name}.`)} />}
      {dialog?.kind === "rollback" && (
        <RollbackDialog
          stack={s}
          rollout={dialog.rollout}
          onClose={() => setDialog(null)}
          onStarted={(r) => started(r, `Rolling ${s.name} back to ${dialog.rollout.commit.slice(0, 10)}.`)}
        />
      )}
      {dialog?.kind === "delete" && (
        <DeleteStackDialog
          stack={s}
          onClose={() => setDialog(null)}
          onDeleted={(res) =>
            res.removal_rollout_id
              ? started(res.removal_rollout_id, `Removing the objects of ${s.name}; the stack is deleted when it succeeds.`)
              : void navigate("/stacks", { state: { notice: `Deleted ${s.name}.` } })
          }
        />
      )}
    </>
  );
}
