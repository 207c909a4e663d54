// Delete a repository after confirmation; while stacks use it the server refuses, and the dialog
// offers to delete it together with those stacks (force).
import { useState } from "react";
import { describeError, isApiError } from "../../api/errors";
import { deleteRepository } from "../../api/repositories";
import type { Repository } from "../../api/types";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";

export function DeleteRepositoryDialog({ repo, onClose, onDeleted }: { repo: Repository; onClose: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [inUse, setInUse] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function remove(force: boolean) {
    setBusy(true);
    setError(null);
    try {
      await deleteRepository(repo.id, force);
      onDeleted();
    } catch (e) {
      if (isApiError(e) && e.code === "in_use") setInUse(e.message);
      else setError(describeError(e));
      setBusy(false);
    }
  }

  const force = inUse !== null || repo.stack_count > 0;
  return (
    <Modal
      title={`Delete ${repo.name}?`}
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void remove(inUse !== null)} disabled={busy}>
            {busy ? "Deleting…" : inUse !== null ? "Delete with its stacks" : "Delete repository"}
          </button>
        </>
      }
    >
      <p>Berth stops checking it and forgets its credentials and webhook secret. Nothing deployed to clusters is touched.</p>
      {force && (
        <Alert kind="warning">
          {inUse ?? `${repo.stack_count} stack${repo.stack_count === 1 ? " uses" : "s use"} this repository.`} Deleting anyway deletes those stacks too.
        </Alert>
      )}
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
