// New user form; server validation and conflicts (e.g. a taken username) show at the field.
import { useState, type SubmitEvent } from "react";
import type { Role, User } from "../../../api/types";
import { createUser } from "../../../api/users";
import { Field } from "../../../components/Field";
import { Alert } from "../../../components/feedback";
import { Modal } from "../../../components/Modal";
import { roleLabel } from "../../../components/RoleBadge";
import { toFormErrors, type FormErrors } from "../../../lib/formErrors";
import { ROLES } from "../../auth/roles";
import { useFocusInvalid } from "../../../lib/useFocusInvalid";

const FIELDS = ["username", "password", "role"] as const;
type UserField = (typeof FIELDS)[number];

export function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (u: User) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<UserField>>({ fields: {}, form: null });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const fields: Partial<Record<UserField, string>> = {};
    if (!username.trim()) fields.username = "Enter a username.";
    if (!password) fields.password = "Enter an initial password.";
    if (Object.keys(fields).length > 0) {
      setErrors({ fields, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      const user = await createUser({ username: username.trim(), password, role });
      onCreated(user);
    } catch (err) {
      setErrors(toFormErrors(err, FIELDS));
      setBusy(false);
    }
  }

  return (
    <Modal
      title="New user"
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="create-user-form" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create user"}
          </button>
        </>
      }
    >
      <form ref={formRef} id="create-user-form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="Username" error={errors.fields.username}>
          {(p) => <input {...p} autoComplete="off" data-autofocus value={username} onChange={(e) => setUsername(e.target.value)} />}
        </Field>
        <Field label="Initial password" error={errors.fields.password} hint="Share it with the user; they can change it after signing in.">
          {(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Field label="Role" error={errors.fields.role}>
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {[...ROLES].reverse().map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
    </Modal>
  );
}
