// Overview: stacks by sync state, rollouts in progress and recent failures.
import { Link } from "react-router";
import type { Rollout, RolloutSummary, StackSummary } from "../../api/types";
import { Time } from "../../components/Time";
import { Commit, StatusBadge } from "../rollouts/status";

function RolloutList({ rollouts }: { rollouts: Rollout[] }) {
  return (
    <ul className="attention-list">
      {rollouts.map((r) => (
        <li key={r.id}>
          <Link to={`/rollouts/${r.id}`}>{r.stack_name}</Link> <StatusBadge status={r.status} />{" "}
          <span className="muted">
            <Commit sha={r.commit} /> · {r.deployments.succeeded + r.deployments.failed}/{r.deployments.total} done · <Time value={r.created_at} />
          </span>
        </li>
      ))}
    </ul>
  );
}

export function StacksSection({ summary, rollouts, active, failures }: { summary: StackSummary; rollouts: RolloutSummary; active: Rollout[]; failures: Rollout[] }) {
  const stat = (state: string, label: string, value: number, tone: string) => (
    <li>
      <Link to={`/stacks?state=${state}`} className={`stat ${tone}`}>
        <span className="stat-value">{value}</span> <span className="stat-label">{label}</span>
      </Link>
    </li>
  );
  return (
    <section className="card" aria-labelledby="ov-stacks-title">
      <div className="card-head">
        <h2 id="ov-stacks-title" className="card-title">
          Stacks
        </h2>
        <Link to="/stacks">All {summary.total}</Link>
      </div>
      <ul className="stat-row" aria-label="Stacks by sync state">
        {stat("in_sync", "In sync", summary.in_sync, "stat-up")}
        {stat("out_of_date", "Out of date", summary.out_of_date, "stat-unauthorized")}
        {stat("deploying", "Deploying", summary.deploying, "stat-unknown")}
        {stat("failed", "Failed", summary.failed, "stat-down")}
      </ul>
      <p className="muted">
        {summary.unknown} not deployed yet · {summary.paused} paused · {rollouts.in_progress} rollout{rollouts.in_progress === 1 ? "" : "s"} in progress ·{" "}
        {rollouts.failed_last_day} failed in the last 24 hours
      </p>
      {active.length > 0 && (
        <>
          <h3 className="card-subtitle">Rollouts in progress</h3>
          <RolloutList rollouts={active} />
        </>
      )}
      {failures.length > 0 && (
        <>
          <h3 className="card-subtitle">Recent failures</h3>
          <RolloutList rollouts={failures} />
        </>
      )}
      {summary.total > 0 && active.length === 0 && failures.length === 0 && <p className="text-ok">No rollout running or failed recently.</p>}
    </section>
  );
}
