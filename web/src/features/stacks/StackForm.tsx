// The stack form, for creating and for editing: source (repository, ref, paths, renderer), targets
// (environments by name and/or a tag selector with a live preview), namespace and policies. Refusals
// of the API are shown at the field they name.
import { useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router";
import { createStack, updateStack } from "../../api/stacks";
import type { Renderer, Stack, StackTarget, UpdateStackRequest } from "../../api/types";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { toFormErrors, type FormErrors } from "../../lib/formErrors";
import { useFocusInvalid } from "../../lib/useFocusInvalid";
import { RepositoryPicker, type PickedRepository } from "./RepositoryPicker";
import { EnvironmentPicker, SelectorField, type PickedEnvironment } from "./TargetsPicker";

const FIELDS = [
  "name",
  "repository_id",
  "ref",
  "paths",
  "watched_paths",
  "renderer",
  "environment_ids",
  "selector",
  "default_namespace",
  "health_timeout_seconds",
] as const;
type StackField = (typeof FIELDS)[number];

/** One path per line (or comma-separated), blanks dropped. */
export function parseLines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function StackForm({ initial, initialTargets = [] }: { initial: Stack | null; initialTargets?: StackTarget[] }) {
  const navigate = useNavigate();
  const [name, setName] = useState(initial?.name ?? "");
  const [repo, setRepo] = useState<PickedRepository | null>(initial ? { id: initial.repository_id, name: initial.repository_name } : null);
  const [ref, setRef] = useState(initial?.ref ?? "main");
  const [paths, setPaths] = useState((initial?.paths ?? []).join("\n"));
  const [watched, setWatched] = useState((initial?.watched_paths ?? []).join("\n"));
  const [renderer, setRenderer] = useState<Renderer>(initial?.renderer ?? "plain");
  const names = new Map(initialTargets.map((t) => [t.environment_id, t.environment_name]));
  const [envs, setEnvs] = useState<PickedEnvironment[]>((initial?.environment_ids ?? []).map((id) => ({ id, name: names.get(id) ?? id })));
  const [selector, setSelector] = useState(initial?.selector ?? "");
  const [namespace, setNamespace] = useState(initial?.default_namespace ?? "");
  const [createNamespace, setCreateNamespace] = useState(initial?.create_namespace ?? false);
  const [autoDeploy, setAutoDeploy] = useState(initial?.auto_deploy ?? true);
  const [prune, setPrune] = useState(initial?.prune ?? true);
  const [waitHealth, setWaitHealth] = useState(initial?.wait_for_health ?? true);
  const [timeout, setTimeoutText] = useState(String(initial?.health_timeout_seconds ?? 300));
  const [force, setForce] = useState(initial?.force_conflicts ?? false);
  const [paused, setPaused] = useState(initial?.paused ?? false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<StackField>>({ fields: {}, form: null });
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  function validate(): Partial<Record<StackField, string>> {
    const out: Partial<Record<StackField, string>> = {};
    if (!name.trim()) out.name = "Enter a name.";
    if (repo === null) out.repository_id = "Choose the repository holding the manifests.";
    if (!ref.trim()) out.ref = "Enter a branch, tag or commit.";
    const t = Number(timeout);
    if (waitHealth && (!Number.isInteger(t) || t < 1 || t > 86400)) out.health_timeout_seconds = "Enter whole seconds between 1 and 86400.";
    return out;
  }

  function updateRequest(s: Stack): UpdateStackRequest {
    const req: UpdateStackRequest = {};
    if (name.trim() !== s.name) req.name = name.trim();
    if (ref.trim() !== s.ref) req.ref = ref.trim();
    if (!sameList(parseLines(paths), s.paths)) req.paths = parseLines(paths);
    if (!sameList(parseLines(watched), s.watched_paths)) req.watched_paths = parseLines(watched);
    if (renderer !== s.renderer) req.renderer = renderer;
    const ids = envs.map((e) => e.id);
    if (!sameList([...ids].sort(), [...s.environment_ids].sort())) req.environment_ids = ids;
    if (selector.trim() !== (s.selector ?? "")) req.selector = selector.trim() || null;
    if (namespace.trim() !== (s.default_namespace ?? "")) req.default_namespace = namespace.trim() || null;
    if (createNamespace !== s.create_namespace) req.create_namespace = createNamespace;
    if (autoDeploy !== s.auto_deploy) req.auto_deploy = autoDeploy;
    if (prune !== s.prune) req.prune = prune;
    if (waitHealth !== s.wait_for_health) req.wait_for_health = waitHealth;
    if (Number(timeout) !== s.health_timeout_seconds) req.health_timeout_seconds = Number(timeout);
    if (force !== s.force_conflicts) req.force_conflicts = force;
    if (paused !== s.paused) req.paused = paused;
    return req;
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const problems = validate();
    if (Object.keys(problems).length > 0) {
      setErrors({ fields: problems, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      if (initial === null) {
        const created = await createStack({
          name: name.trim(),
          repository_id: repo?.id ?? "",
          ref: ref.trim(),
          paths: parseLines(paths),
          watched_paths: parseLines(watched),
          renderer,
          environment_ids: envs.map((x) => x.id),
          selector: selector.trim() || null,
          default_namespace: namespace.trim() || null,
          create_namespace: createNamespace,
          auto_deploy: autoDeploy,
          prune,
          wait_for_health: waitHealth,
          health_timeout_seconds: Number(timeout),
          force_conflicts: force,
          paused,
        });
        void navigate(`/stacks/${created.id}`, { state: { notice: `Created ${created.name}.` } });
      } else {
        const req = updateRequest(initial);
        const saved = Object.keys(req).length > 0 ? await updateStack(initial.id, req) : initial;
        void navigate(`/stacks/${saved.id}`, { state: { notice: `Saved ${saved.name}.` } });
      }
    } catch (err) {
      setErrors(toFormErrors(err, FIELDS));
      setBusy(false);
    }
  }

  const f = errors.fields;
  return (
    <form ref={formRef} className="card form-card" onSubmit={(e) => void submit(e)} noValidate aria-label={initial ? `Edit ${initial.name}` : "New stack"}>
      {errors.form && <Alert>{errors.form}</Alert>}
      <Field label="Name" error={f.name} hint="Lowercase letters, digits, '.', '_' and '-'; it labels the objects Berth applies.">
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} />}
      </Field>

      <h2 className="card-subtitle">Source</h2>
      {initial === null ? (
        <Field label="Repository" error={f.repository_id}>
          {(p) => <RepositoryPicker control={p} value={repo} onChange={setRepo} />}
        </Field>
      ) : (
        <div className="field">
          <span className="field-label">Repository</span>
          <p>
            <Link to={`/repositories/${initial.repository_id}`}>{initial.repository_name}</Link> <span className="muted">(fixed once the stack exists)</span>
          </p>
        </div>
      )}
      <Field label="Ref" error={f.ref} hint="A branch (main), a tag, a full ref (refs/heads/x) or a full commit id (a pin that never moves).">
        {(p) => <input {...p} className="mono" value={ref} onChange={(e) => setRef(e.target.value)} autoComplete="off" spellCheck={false} />}
      </Field>
      <Field label="Paths" error={f.paths} hint="Folders holding the manifests, one per line; empty means the repository's root.">
        {(p) => <textarea {...p} className="mono" rows={2} value={paths} onChange={(e) => setPaths(e.target.value)} spellCheck={false} placeholder="deploy" />}
      </Field>
      <Field label="Extra watched paths" error={f.watched_paths} hint="Other folders whose changes redeploy the stack (e.g. kustomize bases), one per line.">
        {(p) => <textarea {...p} className="mono" rows={2} value={watched} onChange={(e) => setWatched(e.target.value)} spellCheck={false} placeholder="bases/common" />}
      </Field>
      <Field label="Renderer" error={f.renderer}>
        {(p) => (
          <select {...p} value={renderer} onChange={(e) => setRenderer(e.target.value as Renderer)}>
            <option value="plain">Plain YAML</option>
            <option value="kustomize">Kustomize</option>
          </select>
        )}
      </Field>

      <h2 className="card-subtitle">Targets</h2>
      <EnvironmentPicker value={envs} onChange={setEnvs} error={f.environment_ids} />
      <SelectorField value={selector} onChange={setSelector} error={f.selector} />
      <Field label="Default namespace" error={f.default_namespace} hint="For namespaced objects that name none; empty uses each environment's default namespace.">
        {(p) => <input {...p} className="mono" value={namespace} onChange={(e) => setNamespace(e.target.value)} autoComplete="off" spellCheck={false} />}
      </Field>
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={createNamespace} onChange={(e) => setCreateNamespace(e.target.checked)} />
          <span>Create missing namespaces</span>
        </label>
      </div>

      <h2 className="card-subtitle">Policies</h2>
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={autoDeploy} onChange={(e) => setAutoDeploy(e.target.checked)} />
          <span>Auto-deploy (a detected change deploys; otherwise the stack shows “out of date”)</span>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} />
          <span>Prune (delete objects that left Git)</span>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={waitHealth} onChange={(e) => setWaitHealth(e.target.checked)} />
          <span>Wait for health (Deployments, StatefulSets, DaemonSets, Jobs)</span>
        </label>
      </div>
      {waitHealth && (
        <Field label="Health timeout (seconds)" error={f.health_timeout_seconds}>
          {(p) => <input {...p} type="number" min={1} max={86400} value={timeout} onChange={(e) => setTimeoutText(e.target.value)} />}
        </Field>
      )}
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          <span>Force conflicts (take over fields and objects owned by others)</span>
        </label>
        {force && (
          <p className="alert alert-warning" role="status">
            Berth will overwrite changes other tools made to these objects, and adopt objects of the same name.
          </p>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} />
          <span>Paused (no change detection, no auto-deploy)</span>
        </label>
      </div>
      <div className="form-actions">
        <Link to={initial ? `/stacks/${initial.id}` : "/stacks"} className="btn btn-secondary">
          Cancel
        </Link>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : initial ? "Save" : "Create stack"}
        </button>
      </div>
    </form>
  );
}
