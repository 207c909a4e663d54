// Overview: repositories whose last check failed.
import { Link } from "react-router";
import type { Repository, RepositorySummary } from "../../api/types";
import { Time } from "../../components/Time";
import { errorKindLabel } from "../repositories/health";

export function RepositoriesSection({ summary, failing }: { summary: RepositorySummary; failing: Repository[] }) {
  return (
    <section className="card" aria-labelledby="ov-repo-title">
      <div className="card-head">
        <h2 id="ov-repo-title" className="card-title">
          Repositories
        </h2>
        <Link to="/repositories">All {summary.total}</Link>
      </div>
      <ul className="stat-row" aria-label="Repositories by health">
        <li>
          <Link to="/repositories?health=failing" className="stat stat-down">
            <span className="stat-value">{summary.failing}</span> <span className="stat-label">Failing</span>
          </Link>
        </li>
        <li>
          <Link to="/repositories?health=healthy" className="stat stat-up">
            <span className="stat-value">{summary.total - summary.failing}</span> <span className="stat-label">Not failing</span>
          </Link>
        </li>
        <li>
          <span className="stat stat-unknown">
            <span className="stat-value">{summary.paused}</span> <span className="stat-label">Paused</span>
          </span>
        </li>
      </ul>
      {failing.length > 0 ? (
        <>
          <h3 className="card-subtitle">Checks failing</h3>
          <ul className="attention-list">
            {failing.map((r) => (
              <li key={r.id}>
                <Link to={`/repositories/${r.id}`}>{r.name}</Link>{" "}
                <span className="muted">
                  {errorKindLabel(r.status.last_error_kind) ?? "failed"} · {r.status.consecutive_failures} in a row · last <Time value={r.status.last_check_at} />
                </span>
                {r.status.last_error && <div className="text-error cell-clip">{r.status.last_error}</div>}
              </li>
            ))}
          </ul>
        </>
      ) : (
        summary.total > 0 && <p className="text-ok">No repository check is failing.</p>
      )}
    </section>
  );
}
