// Change an environment's name, tags and default namespace (admins).
import { useState, type SubmitEvent } from "react";
import { updateEnvironment } from "../../api/environments";
import type { Environment, UpdateEnvironmentRequest } from "../../api/types";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";
import { useFocusInvalid } from "../../lib/useFocusInvalid";
import { registerErrors, type RegisterErrors } from "./registerErrors";
import { formatTags, parseTags } from "./tags";

export function EditEnvironmentDialog({ env, onClose, onSaved }: { env: Environment; onClose: () => void; onSaved: (e: Environment) => void }) {
  const [name, setName] = useState(env.name);
  const [tags, setTags] = useState(formatTags(env.tags));
  const [namespace, setNamespace] = useState(env.default_namespace);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<RegisterErrors>({ items: {} });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const parsed = parseTags(tags);
    const problems: RegisterErrors = { items: {} };
    if (name.trim() === "") problems.name = "Enter a name.";
    if (parsed.error !== null) problems.tags = parsed.error;
    if (namespace.trim() === "") problems.default_namespace = "Enter a namespace.";
    if (problems.name ?? problems.tags ?? problems.default_namespace) {
      setErrors(problems);
      return;
    }
    const req: UpdateEnvironmentRequest = {};
    if (name.trim() !== env.name) req.name = name.trim();
    if (parsed.tags !== null && formatTags(parsed.tags) !== formatTags(env.tags)) req.tags = parsed.tags;
    if (namespace.trim() !== env.default_namespace) req.default_namespace = namespace.trim();
    if (Object.keys(req).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      onSaved(await updateEnvironment(env.id, req));
    } catch (err) {
      setErrors(registerErrors(err));
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Edit ${env.name}`}
      onClose={onClose}
      busy={busy}
      width="md"
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="edit-environment" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
        </>
      }
    >
      <form id="edit-environment" ref={formRef} onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="Name" error={errors.name}>
          {(p) => <input {...p} data-autofocus value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Tags" error={errors.tags} hint="key=value pairs separated by commas. Replaces every tag.">
          {(p) => <input {...p} value={tags} onChange={(e) => setTags(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Default namespace" error={errors.default_namespace}>
          {(p) => <input {...p} value={namespace} onChange={(e) => setNamespace(e.target.value)} autoComplete="off" />}
        </Field>
      </form>
    </Modal>
  );
}
