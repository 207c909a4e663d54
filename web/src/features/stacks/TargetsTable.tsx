// Per-target sync state of a stack: what is deployed where, what is pending, the last deployment
// and its error.
import { Link } from "react-router";
import type { StackTarget } from "../../api/types";
import { EmptyState } from "../../components/feedback";
import { Time } from "../../components/Time";
import { Commit, StatusBadge } from "../rollouts/status";
import { SyncBadge } from "./syncState";

export function TargetsTable({ targets, by }: { targets: StackTarget[]; by: "environment" | "stack" }) {
  if (targets.length === 0) {
    return by === "environment" ? (
      <EmptyState title="No targets">Pick environments or write a tag selector that matches some.</EmptyState>
    ) : (
      <EmptyState title="No stack targets this environment" />
    );
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{by === "environment" ? "Targets and their sync state" : "Stacks targeting this environment"}</caption>
        <thead>
          <tr>
            <th scope="col">{by === "environment" ? "Environment" : "Stack"}</th>
            <th scope="col">State</th>
            <th scope="col">Deployed</th>
            <th scope="col">Latest</th>
            <th scope="col">Last deployment</th>
            <th scope="col" className="num">
              Objects
            </th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {targets.map((t) => (
            <tr key={`${t.stack_id}:${t.environment_id}`}>
              <th scope="row">
                {by === "environment" ? (
                  <div className="cell-stack">
                    <Link to={`/environments/${t.environment_id}`}>{t.environment_name}</Link>
                    <span className="muted">{t.environment_status}</span>
                  </div>
                ) : (
                  <Link to={`/stacks/${t.stack_id}`}>{t.stack_name}</Link>
                )}
              </th>
              <td>
                <SyncBadge state={t.state} />
              </td>
              <td>
                <Commit sha={t.deployed_commit} />
              </td>
              <td>
                {t.latest_commit !== null && t.latest_commit !== t.deployed_commit ? (
                  <span title="Not deployed here yet">
                    <Commit sha={t.latest_commit} /> <span className="muted">pending</span>
                  </span>
                ) : (
                  <Commit sha={t.latest_commit} />
                )}
              </td>
              <td className="nowrap">
                {t.last_deployment_id ? (
                  <div className="cell-stack">
                    <Link to={`/deployments/${t.last_deployment_id}`}>
                      <StatusBadge status={t.last_deployment_status} />
                      <span className="sr-only">
                        {" "}
                        deployment to {t.environment_name} of {t.stack_name}
                      </span>
                    </Link>
                    <Time value={t.last_deployed_at} empty="not finished" />
                  </div>
                ) : (
                  <span className="muted">never</span>
                )}
              </td>
              <td className="num">{t.object_count}</td>
              <td>{t.last_error ? <span className="text-error pre-wrap">{t.last_error}</span> : <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
