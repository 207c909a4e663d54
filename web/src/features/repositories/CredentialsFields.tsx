// Write-only credentials of a repository: none, HTTPS username + token, or an SSH key with the
// server's known_hosts line. Stored values are never shown; on edit they are replaced only when
// the admin chooses to.
import type { RepositoryAuthKind } from "../../api/types";
import { Field } from "../../components/Field";
import { TextFileInput } from "../../components/TextFileInput";

export interface CredentialsState {
  kind: RepositoryAuthKind;
  username: string;
  token: string;
  privateKey: string;
  knownHosts: string;
}

export type CredentialErrors = Partial<Record<"kind" | "username" | "token" | "private_key" | "known_hosts" | "general", string>>;

export const noCredentials: CredentialsState = { kind: "none", username: "", token: "", privateKey: "", knownHosts: "" };

const KINDS: { kind: RepositoryAuthKind; label: string }[] = [
  { kind: "none", label: "None (public)" },
  { kind: "https", label: "HTTPS username + token" },
  { kind: "ssh", label: "SSH key" },
];

interface Props {
  value: CredentialsState;
  onChange: (v: CredentialsState) => void;
  errors: CredentialErrors;
  /** Editing a repository whose credential is stored: empty secrets would be refused. */
  replacing: boolean;
}

export function CredentialsFields({ value, onChange, errors, replacing }: Props) {
  const set = (patch: Partial<CredentialsState>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="field">
      <legend className="field-label">Authentication</legend>
      {errors.general && <p className="field-error">{errors.general}</p>}
      <div className="segmented" role="radiogroup" aria-label="Authentication">
        {KINDS.map((k) => (
          <label key={k.kind} className={`segment${value.kind === k.kind ? " segment-on" : ""}`}>
            <input type="radio" name="credential-kind" value={k.kind} checked={value.kind === k.kind} onChange={() => set({ kind: k.kind })} />
            {k.label}
          </label>
        ))}
      </div>
      {errors.kind && <p className="field-error">{errors.kind}</p>}
      {value.kind === "https" && (
        <div className="grid-2 grid-tight">
          <Field label="Username" error={errors.username}>
            {(p) => <input {...p} value={value.username} autoComplete="off" onChange={(e) => set({ username: e.target.value })} />}
          </Field>
          <Field label="Token or password" error={errors.token} hint={replacing ? "Write-only: the stored token is never shown." : "Write-only: sealed on the server, never shown again."}>
            {(p) => <input {...p} type="password" value={value.token} autoComplete="new-password" onChange={(e) => set({ token: e.target.value })} />}
          </Field>
        </div>
      )}
      {value.kind === "ssh" && (
        <>
          <Field label="Private key" error={errors.private_key} hint="An unencrypted OpenSSH private key. Write-only: sealed on the server, never shown again.">
            {(p) => (
              <TextFileInput
                control={p}
                value={value.privateKey}
                onChange={(t) => set({ privateKey: t })}
                what="a private key file"
                maxBytes={64 * 1024}
                rows={5}
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              />
            )}
          </Field>
          <Field label="Known hosts" error={errors.known_hosts} hint={<>The server's host key line(s), e.g. from <code>ssh-keyscan git.example.com</code>. Hosts not listed are refused.</>}>
            {(p) => <textarea {...p} className="mono" rows={3} spellCheck={false} value={value.knownHosts} onChange={(e) => set({ knownHosts: e.target.value })} />}
          </Field>
        </>
      )}
    </fieldset>
  );
}
