// The repository form, for adding and for editing: name and URL, write-only credentials, TLS
// (CA bundle, skip verification), schedule with its preview, paused. Unencrypted URLs and skipped
// TLS verification are flagged as they are chosen.
import { useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router";
import { createRepository, updateRepository } from "../../api/repositories";
import type { CredentialsInput, Repository, ScheduleSpec, UpdateRepositoryRequest } from "../../api/types";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { TextFileInput } from "../../components/TextFileInput";
import { useFocusInvalid } from "../../lib/useFocusInvalid";
import { CredentialsFields, noCredentials, type CredentialsState } from "./CredentialsFields";
import { hasRepositoryErrors, noRepositoryErrors, repositoryErrors, type RepositoryErrors } from "./repositoryErrors";
import { normalizeSchedule, ScheduleEditor } from "./ScheduleEditor";

function credentialsInput(c: CredentialsState): CredentialsInput {
  if (c.kind === "https") return { kind: "https", username: c.username.trim(), token: c.token };
  if (c.kind === "ssh") return { kind: "ssh", private_key: c.privateKey, known_hosts: c.knownHosts.trim() };
  return { kind: "none" };
}

function checkCredentials(c: CredentialsState): RepositoryErrors["credentials"] {
  if (c.kind === "https") return { ...(c.username.trim() ? {} : { username: "Enter the username." }), ...(c.token ? {} : { token: "Enter the token." }) };
  if (c.kind === "ssh") {
    return { ...(c.privateKey.trim() ? {} : { private_key: "Give the private key." }), ...(c.knownHosts.trim() ? {} : { known_hosts: "Give the server's known_hosts line." }) };
  }
  return {};
}

export function RepositoryForm({ initial }: { initial: Repository | null }) {
  const navigate = useNavigate();
  const [name, setName] = useState(initial?.name ?? "");
  const [url, setUrl] = useState(initial?.url ?? "");
  const [creds, setCreds] = useState<CredentialsState>({ ...noCredentials, kind: initial?.auth_kind ?? "none", username: initial?.username ?? "" });
  const [replaceCreds, setReplaceCreds] = useState(initial === null);
  const [caBundle, setCaBundle] = useState(initial?.ca_bundle ?? "");
  const [skipTls, setSkipTls] = useState(initial?.skip_tls_verify ?? false);
  const [schedule, setSchedule] = useState<ScheduleSpec>(initial?.schedule ?? { kind: "interval" });
  const [paused, setPaused] = useState(initial?.paused ?? false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<RepositoryErrors>(noRepositoryErrors);
  const formRef = useFocusInvalid<HTMLFormElement>(errors);
  const scheme = /^([a-z+]+):\/\//i.exec(url.trim())?.[1]?.toLowerCase() ?? null;
  const unencrypted = scheme === "http" || scheme === "git";

  function validate(): RepositoryErrors {
    const out: RepositoryErrors = { credentials: replaceCreds ? checkCredentials(creds) : {}, schedule: {} };
    if (!name.trim()) out.name = "Enter a name.";
    if (!url.trim()) out.url = "Enter the repository URL.";
    return out;
  }

  function updateRequest(r: Repository): UpdateRepositoryRequest {
    const req: UpdateRepositoryRequest = {};
    if (name.trim() !== r.name) req.name = name.trim();
    if (url.trim() !== r.url) req.url = url.trim();
    if (replaceCreds) req.credentials = credentialsInput(creds);
    if (caBundle.trim() !== (r.ca_bundle ?? "").trim()) req.ca_bundle = caBundle.trim() ? caBundle : null;
    if (skipTls !== r.skip_tls_verify) req.skip_tls_verify = skipTls;
    const spec = normalizeSchedule(schedule);
    if (JSON.stringify(spec) !== JSON.stringify(normalizeSchedule(r.schedule))) req.schedule = spec;
    if (paused !== r.paused) req.paused = paused;
    return req;
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const problems = validate();
    if (hasRepositoryErrors(problems)) {
      setErrors(problems);
      return;
    }
    setBusy(true);
    setErrors(noRepositoryErrors);
    try {
      if (initial === null) {
        const created = await createRepository({
          name: name.trim(),
          url: url.trim(),
          credentials: creds.kind === "none" ? undefined : credentialsInput(creds),
          ca_bundle: caBundle.trim() ? caBundle : undefined,
          skip_tls_verify: skipTls,
          schedule: normalizeSchedule(schedule),
          paused,
        });
        void navigate(`/repositories/${created.repository.id}`, {
          state: { notice: `Added ${created.repository.name}.`, webhookSecret: created.webhook_secret },
        });
      } else {
        const req = updateRequest(initial);
        const saved = Object.keys(req).length > 0 ? await updateRepository(initial.id, req) : initial;
        void navigate(`/repositories/${saved.id}`, { state: { notice: `Saved ${saved.name}.` } });
      }
    } catch (err) {
      setErrors(repositoryErrors(err));
      setBusy(false);
    }
  }

  const storedKind = initial?.has_credential ? initial.auth_kind : null;
  return (
    <form ref={formRef} className="card form-card" onSubmit={(e) => void submit(e)} noValidate>
      {errors.form && <Alert>{errors.form}</Alert>}
      <Field label="Name" error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
      </Field>
      <Field label="URL" error={errors.url} hint="https://, ssh://, user@host:path, or (unencrypted) http:// and git://. Never put credentials in the URL.">
        {(p) => <input {...p} className="mono" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" spellCheck={false} placeholder="https://git.example.com/team/manifests.git" />}
      </Field>
      {unencrypted && (
        <Alert kind="warning">
          {scheme}:// is not encrypted: anyone on the network path can read and alter what Berth fetches. Credentials are never sent over it.
        </Alert>
      )}
      {initial !== null && !replaceCreds ? (
        <div className="field">
          <span className="field-label">Authentication</span>
          <p>
            {storedKind === null ? "None (public)." : `${storedKind === "ssh" ? "An SSH key" : `HTTPS token for ${initial.username ?? "?"}`} is stored (write-only).`}{" "}
            <button type="button" className="btn btn-secondary btn-sm" onClick={() => setReplaceCreds(true)}>
              Change credentials
            </button>
          </p>
        </div>
      ) : (
        <CredentialsFields value={creds} onChange={setCreds} errors={errors.credentials} replacing={initial?.has_credential ?? false} />
      )}
      {scheme !== "ssh" && scheme !== "git" && !url.includes("@") && (
        <>
          <Field label="CA bundle" error={errors.ca_bundle} hint="Optional PEM certificates to trust for this https server (a private CA).">
            {(p) => <TextFileInput control={p} value={caBundle} onChange={(t) => setCaBundle(t)} what="a PEM file" maxBytes={256 * 1024} rows={4} placeholder="-----BEGIN CERTIFICATE-----" />}
          </Field>
          <div className="field">
            <label className="checkbox">
              <input type="checkbox" checked={skipTls} onChange={(e) => setSkipTls(e.target.checked)} />
              <span>Skip TLS verification</span>
            </label>
            {errors.skip_tls_verify && <p className="field-error">{errors.skip_tls_verify}</p>}
            {skipTls && (
              <p className="alert alert-warning" role="status">
                Insecure: any server can pretend to be this one. Prefer a CA bundle. The repository is flagged wherever it is shown.
              </p>
            )}
          </div>
        </>
      )}
      <ScheduleEditor value={schedule} onChange={setSchedule} errors={errors.schedule} />
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} />
          <span>Paused (no scheduled checks; webhooks are ignored)</span>
        </label>
      </div>
      <div className="form-actions">
        <Link to={initial ? `/repositories/${initial.id}` : "/repositories"} className="btn btn-secondary">
          Cancel
        </Link>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Testing the connection…" : initial ? "Save" : "Add repository"}
        </button>
      </div>
    </form>
  );
}
