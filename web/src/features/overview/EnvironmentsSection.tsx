// Overview: environments counted by status (each count links to the filtered list), and the ones
// that need attention.
import { Link } from "react-router";
import type { Environment, EnvironmentSummary } from "../../api/types";
import { Time } from "../../components/Time";
import { EnvironmentStatusBadge } from "../environments/EnvironmentStatusBadge";
import { statusLabel, STATUSES } from "../environments/status";

export function EnvironmentsSection({ summary, attention }: { summary: EnvironmentSummary; attention: Environment[] }) {
  return (
    <section className="card" aria-labelledby="ov-env-title">
      <div className="card-head">
        <h2 id="ov-env-title" className="card-title">
          Environments
        </h2>
        <Link to="/environments">All {summary.total}</Link>
      </div>
      <ul className="stat-row" aria-label="Environments by status">
        {STATUSES.map((s) => (
          <li key={s}>
            <Link to={`/environments?status=${s}`} className={`stat stat-${s}`}>
              <span className="stat-value">{summary[s]}</span> <span className="stat-label">{statusLabel(s)}</span>
            </Link>
          </li>
        ))}
      </ul>
      {(summary.certificates_expiring > 0 || summary.insecure > 0) && (
        <p className="muted">
          {summary.certificates_expiring > 0 && `${summary.certificates_expiring} client certificate(s) expiring within 30 days. `}
          {summary.insecure > 0 && `${summary.insecure} environment(s) without TLS verification.`}
        </p>
      )}
      {attention.length > 0 ? (
        <>
          <h3 className="card-subtitle">Needs attention</h3>
          <ul className="attention-list">
            {attention.map((e) => (
              <li key={e.id}>
                <Link to={`/environments/${e.id}`}>{e.name}</Link> <EnvironmentStatusBadge status={e.status} />{" "}
                <span className="muted">
                  last seen <Time value={e.last_seen_at} />
                </span>
                {e.last_error && <div className="text-error cell-clip">{e.last_error}</div>}
              </li>
            ))}
          </ul>
        </>
      ) : (
        summary.total > 0 && <p className="text-ok">Every environment answered its last probe.</p>
      )}
    </section>
  );
}
