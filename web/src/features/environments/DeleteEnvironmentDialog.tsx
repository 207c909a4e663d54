// Delete an environment after confirmation; when stacks still target it, the server refuses and
// the dialog offers to delete anyway (force). The cluster itself is never touched.
import { useState } from "react";
import { deleteEnvironment } from "../../api/environments";
import { describeError, isApiError } from "../../api/errors";
import type { Environment } from "../../api/types";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";

export function DeleteEnvironmentDialog({ env, onClose, onDeleted }: { env: Environment; onClose: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [inUse, setInUse] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function remove(force: boolean) {
    setBusy(true);
    setError(null);
    try {
      await deleteEnvironment(env.id, force);
      onDeleted();
    } catch (e) {
      if (isApiError(e) && e.code === "in_use") setInUse(e.message);
      else setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Delete ${env.name}?`}
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          {inUse === null ? (
            <button type="button" className="btn btn-danger" onClick={() => void remove(false)} disabled={busy}>
              {busy ? "Deleting…" : "Delete environment"}
            </button>
          ) : (
            <button type="button" className="btn btn-danger" onClick={() => void remove(true)} disabled={busy}>
              {busy ? "Deleting…" : "Delete anyway"}
            </button>
          )}
        </>
      }
    >
      <p>
        Berth forgets this cluster and its sealed credentials. Nothing in the cluster is changed or removed: objects Berth deployed stay where
        they are.
      </p>
      {inUse !== null && (
        <Alert kind="warning">
          {inUse}. Deleting anyway removes the environment from those stacks' targets; their objects in the cluster stay.
        </Alert>
      )}
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
