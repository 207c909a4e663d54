// The facts of one environment, grouped: health, connection and TLS, permissions, settings.
import type { Environment } from "../../api/types";
import { Time } from "../../components/Time";
import { formatDateTime, isPast } from "../../lib/format";
import { EnvironmentStatusBadge } from "./EnvironmentStatusBadge";
import { accessLabel, authKindLabel } from "./status";
import { TagList } from "./TagList";

const dash = <span className="muted">—</span>;

export function HealthCard({ env }: { env: Environment }) {
  return (
    <section className="card" aria-labelledby="health-title">
      <h2 id="health-title" className="card-title">
        Health
      </h2>
      <dl className="props">
        <dt>Status</dt>
        <dd>
          <EnvironmentStatusBadge status={env.status} />
        </dd>
        <dt>Kubernetes</dt>
        <dd>{env.kubernetes_version ?? dash}</dd>
        <dt>Nodes</dt>
        <dd>{env.node_count ?? (env.permissions.can_list_nodes ? dash : <span className="muted">not permitted to list nodes</span>)}</dd>
        <dt>Last probe</dt>
        <dd>
          <Time value={env.last_probe_at} />
          {env.probe_latency_ms !== null && <span className="muted"> · {env.probe_latency_ms} ms</span>}
        </dd>
        <dt>Last seen up</dt>
        <dd>
          <Time value={env.last_seen_at} />
        </dd>
        <dt>Last error</dt>
        <dd className={env.last_error ? "text-error pre-wrap" : undefined}>{env.last_error ?? "none"}</dd>
      </dl>
    </section>
  );
}

export function ConnectionCard({ env }: { env: Environment }) {
  const expires = env.client_certificate_expires_at;
  return (
    <section className="card" aria-labelledby="connection-title">
      <h2 id="connection-title" className="card-title">
        Connection
      </h2>
      <dl className="props">
        <dt>API server</dt>
        <dd className="mono break">{env.server_url}</dd>
        <dt>Context</dt>
        <dd className="mono">{env.context}</dd>
        <dt>Credentials</dt>
        <dd>{authKindLabel(env.auth_kind)}</dd>
        <dt>TLS</dt>
        <dd>
          {env.insecure_skip_tls_verify ? (
            <span className="text-warn">Not verified: the server's certificate is accepted blindly (insecure-skip-tls-verify)</span>
          ) : (
            "Verified"
          )}
        </dd>
        <dt>CA fingerprint</dt>
        <dd className="mono break" title="SHA-256 of the CA certificate given in the kubeconfig">
          {env.ca_fingerprint ?? <span className="muted">none (system trust store)</span>}
        </dd>
        {expires && (
          <>
            <dt>Client certificate</dt>
            <dd className={env.client_certificate_expiring ? "text-warn" : undefined}>
              {isPast(expires) ? "Expired" : "Expires"} {formatDateTime(expires)} (<Time value={expires} />)
              {env.client_certificate_expiring && " — rotate the kubeconfig soon"}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

export function PermissionsCard({ env }: { env: Environment }) {
  const p = env.permissions;
  return (
    <section className="card" aria-labelledby="permissions-title">
      <h2 id="permissions-title" className="card-title">
        Permissions
      </h2>
      <dl className="props">
        <dt>Access</dt>
        <dd>{accessLabel(p.level)}</dd>
        <dt>Checked in</dt>
        <dd>{p.namespace ? <code>{p.namespace}</code> : p.level === "cluster_admin" ? "all namespaces" : dash}</dd>
        <dt>List nodes</dt>
        <dd>{p.can_list_nodes ? "Yes" : "No"}</dd>
      </dl>
    </section>
  );
}

export function SettingsCard({ env }: { env: Environment }) {
  return (
    <section className="card" aria-labelledby="settings-title">
      <h2 id="settings-title" className="card-title">
        Settings
      </h2>
      <dl className="props">
        <dt>Tags</dt>
        <dd>{Object.keys(env.tags).length > 0 ? <TagList tags={env.tags} /> : <span className="muted">none</span>}</dd>
        <dt>Namespace</dt>
        <dd className="mono">{env.default_namespace}</dd>
        <dt>Credentials</dt>
        <dd>version {env.credential_version}</dd>
        <dt>Registered</dt>
        <dd>{formatDateTime(env.created_at)}</dd>
        <dt>Changed</dt>
        <dd>{formatDateTime(env.updated_at)}</dd>
      </dl>
    </section>
  );
}
