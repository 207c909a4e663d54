// Replace an environment's credentials with a new kubeconfig (admins). The server validates and
// verifies it first; on any refusal the old credentials stay in use.
import { useMemo, useState, type SubmitEvent } from "react";
import { rotateKubeconfig } from "../../api/environments";
import type { Environment } from "../../api/types";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { Modal } from "../../components/Modal";
import { TextFileInput } from "../../components/TextFileInput";
import { useFocusInvalid } from "../../lib/useFocusInvalid";
import { readContexts } from "./kubeconfigContexts";
import { registerErrors, type RegisterErrors } from "./registerErrors";
import { VerifyOption } from "./VerifyOption";

export function RotateKubeconfigDialog({ env, onClose, onRotated }: { env: Environment; onClose: () => void; onRotated: (e: Environment) => void }) {
  const [kubeconfig, setKubeconfig] = useState("");
  const [context, setContext] = useState("");
  const [verify, setVerify] = useState(true);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<RegisterErrors>({ items: {} });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);
  const summary = useMemo(() => readContexts(kubeconfig), [kubeconfig]);
  const contexts = summary?.contexts ?? [];

  function onFile(text: string) {
    setKubeconfig(text);
    const s = readContexts(text);
    const names = s?.contexts.map((c) => c.name) ?? [];
    // Prefer the file's current context, then one named like the environment's current one.
    setContext(s?.current && names.includes(s.current) ? s.current : names.includes(env.context) ? env.context : (names[0] ?? ""));
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (kubeconfig.trim() === "") {
      setErrors({ items: {}, kubeconfig: "Drop, choose or paste the new kubeconfig." });
      return;
    }
    setBusy(true);
    setErrors({ items: {} });
    try {
      onRotated(await rotateKubeconfig(env.id, { kubeconfig, verify, context: context || undefined }));
    } catch (err) {
      setErrors(registerErrors(err));
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Rotate the kubeconfig of ${env.name}`}
      onClose={onClose}
      busy={busy}
      width="md"
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form="rotate-kubeconfig" className="btn btn-primary" disabled={busy}>
            {busy ? "Checking…" : "Replace credentials"}
          </button>
        </>
      }
    >
      <form id="rotate-kubeconfig" ref={formRef} onSubmit={(e) => void submit(e)} noValidate>
        <p className="muted">The new kubeconfig is checked like a new registration. If anything is refused, the current credentials stay in use.</p>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field label="New kubeconfig" error={errors.kubeconfig}>
          {(p) => <TextFileInput control={p} value={kubeconfig} onChange={onFile} what="a kubeconfig file" maxBytes={1024 * 1024} rows={8} />}
        </Field>
        {contexts.length > 1 && (
          <Field label="Context" error={errors.context}>
            {(p) => (
              <select {...p} value={context} onChange={(e) => setContext(e.target.value)}>
                {contexts.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {contexts.length <= 1 && errors.context && <Alert>{errors.context}</Alert>}
        <VerifyOption verify={verify} onChange={setVerify} unreachable={errors.unreachable === true} />
      </form>
    </Modal>
  );
}
