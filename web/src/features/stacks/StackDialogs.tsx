// The stack's dialogs: deploy now (latest or a chosen commit), roll back to an earlier successful
// rollout, delete (optionally removing its objects from every target).
import { useState } from "react";
import { describeError, isApiError } from "../../api/errors";
import { listDeployments } from "../../api/rollouts";
import { deleteStack, deployStack, rollbackStack } from "../../api/stacks";
import type { Rollout, Stack, StackDeleted } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";

export function DeployDialog({ stack, onClose, onStarted }: { stack: Stack; onClose: () => void; onStarted: (rolloutId: string) => void }) {
  const [mode, setMode] = useState<"latest" | "commit">("latest");
  const [commit, setCommit] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);

  async function deploy() {
    if (mode === "commit" && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(commit.trim())) {
      setError({ field: "commit", message: "Enter a full commit id (40 hexadecimal characters)." });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const started = await deployStack(stack.id, mode === "commit" ? commit.trim() : undefined);
      onStarted(started.rollout_id);
    } catch (e) {
      setError({ field: isApiError(e) ? e.field : null, message: describeError(e) });
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Deploy ${stack.name}`}
      onClose={onClose}
      busy={busy}
      width="md"
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void deploy()} disabled={busy}>
            {busy ? "Starting…" : "Deploy"}
          </button>
        </>
      }
    >
      <fieldset className="field">
        <legend className="field-label">What to deploy</legend>
        <label className="checkbox">
          <input type="radio" name="deploy-what" checked={mode === "latest"} onChange={() => setMode("latest")} />
          <span>The latest commit{stack.latest_commit ? ` (${stack.latest_commit.slice(0, 10)})` : ""}</span>
        </label>
        <label className="checkbox">
          <input type="radio" name="deploy-what" checked={mode === "commit"} onChange={() => setMode("commit")} />
          <span>A chosen commit (holds auto-deploy like a rollback)</span>
        </label>
      </fieldset>
      {mode === "commit" && (
        <Field label="Commit" error={error?.field === "commit" ? error.message : null} hint="A full commit id reachable in the repository.">
          {(p) => <input {...p} className="mono" value={commit} onChange={(e) => setCommit(e.target.value)} autoComplete="off" spellCheck={false} />}
        </Field>
      )}
      {error !== null && error.field !== "commit" && <Alert>{error.message}</Alert>}
    </Modal>
  );
}

export function RollbackDialog({ stack, rollout, onClose, onStarted }: { stack: Stack; rollout: Rollout; onClose: () => void; onStarted: (rolloutId: string) => void }) {
  return (
    <ConfirmDialog
      title={`Roll back ${stack.name}`}
      confirmLabel="Roll back"
      onClose={onClose}
      onConfirm={async () => {
        const found = await listDeployments({ rolloutId: rollout.id, status: "succeeded" }, null, 1);
        const deployment = found.items[0];
        if (deployment === undefined) throw new Error("This rollout has no successful deployment to roll back to.");
        const started = await rollbackStack(stack.id, deployment.id);
        onStarted(started.rollout_id);
      }}
    >
      <p>
        Deploy commit <code title={rollout.commit}>{rollout.commit.slice(0, 10)}</code> again to every target.
      </p>
      <p className="muted">Auto-deploy then holds until a new commit arrives or someone resumes the stack.</p>
    </ConfirmDialog>
  );
}

export function DeleteStackDialog({ stack, onClose, onDeleted }: { stack: Stack; onClose: () => void; onDeleted: (result: StackDeleted) => void }) {
  const [remove, setRemove] = useState(false);
  return (
    <ConfirmDialog
      title={`Delete ${stack.name}?`}
      confirmLabel={remove ? "Delete stack and objects" : "Delete stack"}
      danger
      onClose={onClose}
      onConfirm={async () => {
        onDeleted(await deleteStack(stack.id, remove));
      }}
    >
      <p>Berth stops deploying this stack. Its history stays.</p>
      <label className="checkbox">
        <input type="checkbox" checked={remove} onChange={(e) => setRemove(e.target.checked)} />
        <span>Also delete its objects from every target (recorded as a removal rollout)</span>
      </label>
      {!remove && <p className="muted">Without this, the objects stay in the clusters, unmanaged.</p>}
    </ConfirmDialog>
  );
}
