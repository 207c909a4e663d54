// The facts of one repository: source and security, schedule, health of its checks.
import type { Repository } from "../../api/types";
import { Time } from "../../components/Time";
import { CheckHealth } from "./CheckHealth";
import { errorKindLabel, formatDuration, scheduleText } from "./health";
import { SecurityFlags } from "./repositoryColumns";

export function SourceCard({ repo }: { repo: Repository }) {
  return (
    <section className="card" aria-labelledby="source-title">
      <h2 id="source-title" className="card-title">
        Source
      </h2>
      <dl className="props">
        <dt>URL</dt>
        <dd className="mono break">{repo.url}</dd>
        <dt>Security</dt>
        <dd>{repo.insecure_url || repo.skip_tls_verify ? <SecurityFlags repo={repo} /> : "Encrypted and verified"}</dd>
        <dt>Authentication</dt>
        <dd>
          {repo.auth_kind === "none"
            ? "None (public)"
            : repo.auth_kind === "https"
              ? `HTTPS token for ${repo.username ?? "?"}`
              : "SSH key"}
          {repo.has_credential && <span className="muted"> (stored, write-only)</span>}
        </dd>
        {repo.known_hosts && (
          <>
            <dt>Known hosts</dt>
            <dd className="mono break pre-wrap">{repo.known_hosts}</dd>
          </>
        )}
        <dt>CA bundle</dt>
        <dd>{repo.ca_bundle ? `${(repo.ca_bundle.match(/BEGIN CERTIFICATE/g) ?? []).length} certificate(s)` : <span className="muted">none</span>}</dd>
        <dt>Stacks</dt>
        <dd>{repo.stack_count}</dd>
      </dl>
    </section>
  );
}

export function HealthCard({ repo }: { repo: Repository }) {
  const s = repo.status;
  return (
    <section className="card" aria-labelledby="repo-health-title">
      <h2 id="repo-health-title" className="card-title">
        Health
      </h2>
      <dl className="props">
        <dt>Health</dt>
        <dd>
          <CheckHealth repo={repo} />
        </dd>
        <dt>Schedule</dt>
        <dd>{scheduleText(repo.schedule)}</dd>
        <dt>Last check</dt>
        <dd>
          <Time value={s.last_check_at} />
          {s.last_check_duration_ms !== null && <span className="muted"> · took {formatDuration(s.last_check_duration_ms)}</span>}
        </dd>
        <dt>Next check</dt>
        <dd>{repo.paused ? "paused" : <Time value={s.next_check_at} empty={repo.schedule.kind === "manual" ? "manual only" : "not scheduled"} />}</dd>
        <dt>Failures</dt>
        <dd className={s.consecutive_failures > 0 ? "text-error" : undefined}>{s.consecutive_failures > 0 ? `${s.consecutive_failures} in a row (checks back off)` : "none"}</dd>
        <dt>Last error</dt>
        <dd className={s.last_error ? "text-error pre-wrap" : undefined}>
          {s.last_error ? (
            <>
              {errorKindLabel(s.last_error_kind) && <strong>{errorKindLabel(s.last_error_kind)}: </strong>}
              {s.last_error}
            </>
          ) : (
            "none"
          )}
        </dd>
      </dl>
    </section>
  );
}
