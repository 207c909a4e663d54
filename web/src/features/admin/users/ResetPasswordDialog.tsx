// An admin sets a new password for another user.
import { useState, type SubmitEvent } from "react";
import type { User } from "../../../api/types";
import { updateUser } from "../../../api/users";
import { Field } from "../../../components/Field";
import { Alert } from "../../../components/feedback";
import { Modal } from "../../../components/Modal";
import { toFormErrors, type FormErrors } from "../../../lib/formErrors";
import { useFocusInvalid } from "../../../lib/useFocusInvalid";

const FIELDS = ["password"] as const;

export function ResetPasswordDialog({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: (u: User) => void }) {
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<"password">>({ fields: {}, form: null });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (!password) {
      setErrors({ fields: { password: "Enter a new password." }, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      onDone(await updateUser(user.id, { password }));
    } catch (err) {
      setErrors(toFormErrors(err, FIELDS));
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Reset password for ${user.username}`}
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="reset-password-form" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Set password"}
          </button>
        </>
      }
    >
      <form ref={formRef} id="reset-password-form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="New password" error={errors.fields.password} hint="Tell the user; they can change it after signing in.">
          {(p) => <input {...p} type="password" autoComplete="new-password" data-autofocus value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
      </form>
    </Modal>
  );
}
