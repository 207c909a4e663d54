// Create an API token with a role up to the caller's own and an optional expiry; on success the
// secret is shown once, with a copy button, and is gone when the dialog closes.
import { useState, type SubmitEvent } from "react";
import { createToken } from "../../../api/tokens";
import type { ApiToken, CreatedToken, Role } from "../../../api/types";
import { Field } from "../../../components/Field";
import { Alert } from "../../../components/feedback";
import { Modal } from "../../../components/Modal";
import { roleLabel } from "../../../components/RoleBadge";
import { toFormErrors, type FormErrors } from "../../../lib/formErrors";
import { rolesUpTo } from "../../auth/roles";
import { TokenSecret } from "./TokenSecret";
import { useFocusInvalid } from "../../../lib/useFocusInvalid";

const FIELDS = ["name", "role", "expires_at"] as const;
type TokenField = (typeof FIELDS)[number];
const EXPIRY_CHOICES = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
  { value: "custom", label: "Custom date…" },
] as const;
type Expiry = (typeof EXPIRY_CHOICES)[number]["value"];

/** RFC 3339 expiry for a choice, or null for none. Custom dates expire at the end of that local day. */
export function expiryFor(choice: Expiry, customDate: string, now = new Date()): string | null {
  if (choice === "never") return null;
  if (choice === "custom") return new Date(`${customDate}T23:59:59`).toISOString();
  return new Date(now.getTime() + Number(choice) * 24 * 3600 * 1000).toISOString();
}

interface Props {
  ownRole: Role;
  onClose: () => void;
  onCreated: (token: ApiToken) => void;
}

export function CreateTokenDialog({ ownRole, onClose, onCreated }: Props) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>(ownRole);
  const [expiry, setExpiry] = useState<Expiry>("90");
  const [customDate, setCustomDate] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<TokenField>>({ fields: {}, form: null });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);
  const [created, setCreated] = useState<CreatedToken | null>(null);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const fields: Partial<Record<TokenField, string>> = {};
    if (!name.trim()) fields.name = "Give the token a name, e.g. where it is used.";
    if (expiry === "custom") {
      if (!customDate) fields.expires_at = "Pick an expiry date.";
      else if (new Date(`${customDate}T23:59:59`).getTime() <= Date.now()) fields.expires_at = "Pick a date in the future.";
    }
    if (Object.keys(fields).length > 0) {
      setErrors({ fields, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      const res = await createToken({ name: name.trim(), role, expires_at: expiryFor(expiry, customDate) });
      setCreated(res);
      onCreated(res.api_token);
    } catch (err) {
      setErrors(toFormErrors(err, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  if (created !== null) {
    return (
      <Modal
        key="done"
        title="API token created"
        onClose={onClose}
        width="md"
        actions={
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <Alert kind="warning">Copy this token now. It is shown only once; Berth keeps only a hash of it.</Alert>
        <TokenSecret token={created.token} />
        <p className="muted">
          Use it as <code>Authorization: Bearer …</code>. Token <strong>{created.api_token.name}</strong> has the{" "}
          {roleLabel(created.api_token.role).toLowerCase()} role.
        </p>
      </Modal>
    );
  }

  return (
    <Modal
      title="New API token"
      onClose={onClose}
      busy={busy}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="create-token-form" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create token"}
          </button>
        </>
      }
    >
      <form ref={formRef} id="create-token-form" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="Name" error={errors.fields.name} hint="Where the token is used, e.g. “CI pipeline”.">
          {(p) => <input {...p} autoComplete="off" data-autofocus value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Role" error={errors.fields.role} hint="At most your own role.">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {rolesUpTo(ownRole).map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Expires" error={expiry === "custom" ? undefined : errors.fields.expires_at}>
          {(p) => (
            <select {...p} value={expiry} onChange={(e) => setExpiry(e.target.value as Expiry)}>
              {EXPIRY_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {expiry === "custom" && (
          <Field label="Expiry date" error={errors.fields.expires_at}>
            {(p) => <input {...p} type="date" value={customDate} onChange={(e) => setCustomDate(e.target.value)} />}
          </Field>
        )}
      </form>
    </Modal>
  );
}
