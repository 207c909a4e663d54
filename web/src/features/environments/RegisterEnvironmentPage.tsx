// Register a cluster from a kubeconfig: drop, choose or paste the file; with several contexts,
// tick the ones to register (one environment each). Refusals are shown at the field they name.
import { useMemo, useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router";
import { registerEnvironments } from "../../api/environments";
import type { RegisterRequest } from "../../api/types";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { TextFileInput } from "../../components/TextFileInput";
import { useFocusInvalid } from "../../lib/useFocusInvalid";
import { ContextPicker, type ContextChoice } from "./ContextPicker";
import { nameFromContext, readContexts } from "./kubeconfigContexts";
import { hasErrors, registerErrors, type RegisterErrors } from "./registerErrors";
import { parseTags } from "./tags";
import { VerifyOption } from "./VerifyOption";

const MAX_BYTES = 1024 * 1024;

export function RegisterEnvironmentPage() {
  const navigate = useNavigate();
  const [kubeconfig, setKubeconfig] = useState("");
  const [chosen, setChosen] = useState<ContextChoice[]>([]);
  const [name, setName] = useState("");
  const [tagsText, setTagsText] = useState("");
  const [namespace, setNamespace] = useState("");
  const [verify, setVerify] = useState(true);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<RegisterErrors>({ items: {} });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);
  const summary = useMemo(() => readContexts(kubeconfig), [kubeconfig]);
  const several = summary !== null && summary.contexts.length > 1;

  function onKubeconfig(text: string) {
    setKubeconfig(text);
    const s = readContexts(text);
    if (s === null || s.contexts.length === 0) return;
    const first = s.contexts.find((c) => c.name === s.current) ?? s.contexts[0];
    if (first === undefined) return;
    if (s.contexts.length > 1) setChosen([{ context: first.name, name: nameFromContext(first.name) }]);
    else if (name.trim() === "") setName(nameFromContext(first.name));
  }

  function request(): RegisterRequest | RegisterErrors {
    const problems: RegisterErrors = { items: {} };
    const tags = parseTags(tagsText);
    if (kubeconfig.trim() === "") problems.kubeconfig = "Drop, choose or paste a kubeconfig.";
    if (tags.error !== null) problems.tags = tags.error;
    if (several && chosen.length === 0) problems.context = "Tick at least one context.";
    if (several) chosen.forEach((c, i) => c.name.trim() === "" && (problems.items[i] = { name: "Enter a name." }));
    else if (name.trim() === "") problems.name = "Enter a name.";
    if (hasErrors(problems) || tags.tags === null) return problems;
    const base = { kubeconfig, verify, tags: tags.tags };
    const ns = namespace.trim() || undefined;
    const [only] = chosen;
    if (!several) return { ...base, name: name.trim(), default_namespace: ns };
    if (chosen.length === 1 && only) return { ...base, name: only.name.trim(), context: only.context, default_namespace: ns };
    return { kubeconfig, verify, environments: chosen.map((c) => ({ name: c.name.trim(), context: c.context, tags: tags.tags })) };
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const req = request();
    if ("items" in req) {
      setErrors(req);
      return;
    }
    setBusy(true);
    setErrors({ items: {} });
    try {
      const { items } = await registerEnvironments(req);
      const [one] = items;
      if (items.length === 1 && one) void navigate(`/environments/${one.id}`, { state: { notice: `Registered ${one.name}.` } });
      else void navigate("/environments", { state: { notice: `Registered ${items.map((i) => i.name).join(", ")}.` } });
    } catch (err) {
      const mapped = registerErrors(err);
      // One ticked context is sent as `name`/`context`: show its errors on its row.
      if (several && chosen.length === 1 && (mapped.name ?? mapped.context)) {
        mapped.items[0] = { name: mapped.name ?? mapped.context };
        mapped.name = undefined;
        mapped.context = undefined;
      }
      setErrors(mapped);
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader
        title="Register an environment"
        description={
          <>
            A Kubernetes cluster Berth deploys to. Nothing is installed in it. <Link to="/environments">Back to environments</Link>
          </>
        }
      />
      <form ref={formRef} className="card form-card" onSubmit={(e) => void submit(e)} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <Field
          label="Kubeconfig"
          error={errors.kubeconfig}
          hint="Credentials are sealed on the server and never shown again. Exec and auth-provider plugins and file paths are refused."
        >
          {(p) => (
            <TextFileInput
              control={p}
              value={kubeconfig}
              onChange={onKubeconfig}
              what="a kubeconfig file"
              maxBytes={MAX_BYTES}
              placeholder="apiVersion: v1&#10;kind: Config&#10;clusters: …"
              accept=".yaml,.yml,.json,.conf,.config,text/*"
            />
          )}
        </Field>
        {several ? (
          <ContextPicker
            contexts={summary.contexts}
            current={summary.current}
            chosen={chosen}
            onChange={setChosen}
            defaultName={nameFromContext}
            errors={errors.items}
            error={errors.context}
          />
        ) : (
          <Field label="Name" error={errors.name ?? errors.context} hint="Lowercase letters, digits, '.', '_' or '-'.">
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
          </Field>
        )}
        <Field label="Tags" error={errors.tags} hint="key=value pairs separated by commas, e.g. env=prod, region=eu. Stacks target environments by tag.">
          {(p) => <input {...p} value={tagsText} onChange={(e) => setTagsText(e.target.value)} autoComplete="off" />}
        </Field>
        {(!several || chosen.length <= 1) && (
          <Field label="Default namespace" error={errors.default_namespace} hint="Optional. Default: the context's namespace, else default.">
            {(p) => <input {...p} value={namespace} onChange={(e) => setNamespace(e.target.value)} autoComplete="off" />}
          </Field>
        )}
        <VerifyOption verify={verify} onChange={setVerify} unreachable={errors.unreachable === true} />
        <div className="form-actions">
          <Link to="/environments" className="btn btn-secondary">
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? (verify ? "Connecting…" : "Registering…") : several && chosen.length > 1 ? `Register ${chosen.length} environments` : "Register environment"}
          </button>
        </div>
      </form>
    </>
  );
}
