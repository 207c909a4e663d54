// Change own password. The server answers with a fresh session (others are revoked), which the API
// layer stores.
import { useState, type SubmitEvent } from "react";
import { changePassword } from "../../api/auth";
import { isApiError } from "../../api/errors";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";
import { toFormErrors, type FormErrors } from "../../lib/formErrors";
import { useAuth } from "./AuthContext";
import { useFocusInvalid } from "../../lib/useFocusInvalid";

const FIELDS = ["current_password", "new_password", "confirm"] as const;
type PwField = (typeof FIELDS)[number];

export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const { setUser } = useAuth();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [errors, setErrors] = useState<FormErrors<PwField>>({ fields: {}, form: null });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const fields: Partial<Record<PwField, string>> = {};
    if (!current) fields.current_password = "Enter your current password.";
    if (!next) fields.new_password = "Enter a new password.";
    else if (next === current) fields.new_password = "Choose a password different from the current one.";
    if (confirm !== next) fields.confirm = "The passwords do not match.";
    if (Object.keys(fields).length > 0) {
      setErrors({ fields, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      const res = await changePassword({ current_password: current, new_password: next });
      setUser(res.user);
      setDone(true);
    } catch (err) {
      if (isApiError(err) && err.code === "invalid_credentials") {
        setErrors({ fields: { current_password: "The current password is wrong." }, form: null });
      } else {
        setErrors(toFormErrors(err, FIELDS));
      }
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <Modal
        key="done"
        title="Password changed"
        onClose={onClose}
        actions={
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <Alert kind="success">Your password was changed. Your other sessions have been signed out.</Alert>
      </Modal>
    );
  }

  return (
    <Modal
      title="Change password"
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="change-password-form" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Change password"}
          </button>
        </>
      }
    >
      <form ref={formRef} id="change-password-form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="Current password" error={errors.fields.current_password}>
          {(p) => <input {...p} type="password" autoComplete="current-password" data-autofocus value={current} onChange={(e) => setCurrent(e.target.value)} />}
        </Field>
        <Field label="New password" error={errors.fields.new_password}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />}
        </Field>
        <Field label="Confirm new password" error={errors.fields.confirm}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />}
        </Field>
      </form>
    </Modal>
  );
}
