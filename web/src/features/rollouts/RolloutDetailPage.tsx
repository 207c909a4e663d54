// One rollout (a stack at a commit, to every target): its deployments progressing live, their
// errors and where they happened, timings, trigger and actor, and the per-object results of one
// deployment (the first failed one unless another is picked).
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { getRollout } from "../../api/rollouts";
import type { Deployment } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { Time } from "../../components/Time";
import { useCoalesced } from "../../lib/useCoalesced";
import { useResource } from "../../lib/useResource";
import { deploymentOf, progressObjects } from "./liveProgress";
import { ObjectsTable } from "./ObjectsTable";
import { Commit, duration, isActive, phaseLabel, StatusBadge, triggerLabel } from "./status";

function DeploymentsTable({ deployments, live }: { deployments: Deployment[]; live: Record<string, number> }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">Deployments of this rollout, one per environment</caption>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col" className="num">
              Objects
            </th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id}>
              <th scope="row">
                <Link to={`/deployments/${d.id}`}>{d.environment_name}</Link>
              </th>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td className="num">{d.attempts}</td>
              <td className="nowrap">
                <Time value={d.started_at} empty={d.status === "queued" ? "waiting" : "—"} />
              </td>
              <td className="nowrap">{duration(d.started_at, d.finished_at) ?? "—"}</td>
              <td className="num">{isActive(d.status) ? `${live[d.id] ?? 0} so far` : d.object_count}</td>
              <td>
                {d.error ? (
                  <span className="text-error pre-wrap">
                    {phaseLabel(d.error_phase) && <strong>While {phaseLabel(d.error_phase)}: </strong>}
                    {d.error}
                  </span>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RolloutDetailPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice ?? null;
  const rollout = useResource(id, (signal) => getRollout(id, signal));
  const [live, setLive] = useState<Record<string, number>>({});
  const [picked, setPicked] = useState<string | null>(null);
  const [objectsVersion, setObjectsVersion] = useState(0);
  const reload = useCoalesced(rollout.reload, 300);

  useServerEvents(
    ["deployment.", "rollout."],
    (event) => {
      const dep = deploymentOf(event);
      if (dep === null) return;
      const r = rollout.data;
      if (r === null) {
        // The first load is still in flight and may answer with a state this event already
        // changed: load again once it is in (a fast deployment can start and finish meanwhile).
        reload();
        if (event.kind === "deployment.finished") setObjectsVersion((v) => v + 1);
        return;
      }
      const ours = dep.rolloutId === r.id || r.targets.some((d) => d.id === dep.id);
      if (!ours) return;
      const objects = progressObjects(event);
      if (objects.length > 0) setLive((l) => ({ ...l, [dep.id]: (l[dep.id] ?? 0) + objects.length }));
      else {
        reload();
        if (event.kind === "deployment.finished") setObjectsVersion((v) => v + 1);
      }
    },
    rollout.reload,
  );

  if (rollout.data === null) {
    if (rollout.error !== null) return <ErrorState error={rollout.error} onRetry={rollout.reload} title="Could not load this rollout" />;
    return <LoadingState label="Loading rollout…" />;
  }
  const r = rollout.data;
  const c = r.deployments;
  const done = c.succeeded + c.failed + c.superseded;
  const failed = r.targets.filter((d) => d.status === "failed");
  // Objects of one deployment: the one picked, else the first that failed, else the first.
  const shown = r.targets.find((d) => d.id === picked) ?? failed[0] ?? r.targets[0];
  return (
    <>
      <PageHeader
        title={`Rollout of ${r.stack_name}`}
        description={
          <>
            {r.stack_id ? <Link to={`/stacks/${r.stack_id}`}>{r.stack_name}</Link> : r.stack_name} / rollout at <Commit sha={r.commit} /> <StatusBadge status={r.status} />
          </>
        }
      />
      {notice && <Alert kind="success">{notice}</Alert>}
      <div className="grid-2">
        <section className="card" aria-labelledby="rollout-facts-title">
          <h2 id="rollout-facts-title" className="card-title">
            Rollout
          </h2>
          <dl className="props">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={r.status} />
            </dd>
            <dt>Commit</dt>
            <dd className="mono break">{r.commit}</dd>
            <dt>Trigger</dt>
            <dd>{triggerLabel(r.trigger)}</dd>
            <dt>By</dt>
            <dd>{r.actor}</dd>
            <dt>Started</dt>
            <dd>
              <Time value={r.created_at} />
            </dd>
            <dt>Finished</dt>
            <dd>{r.finished_at ? <Time value={r.finished_at} /> : <span className="muted">not yet</span>}</dd>
            <dt>Duration</dt>
            <dd>{duration(r.created_at, r.finished_at) ?? "—"}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="rollout-progress-title">
          <h2 id="rollout-progress-title" className="card-title">
            Progress
          </h2>
          <progress className="progress" max={Math.max(1, c.total)} value={done} aria-label={`${done} of ${c.total} deployments finished`} />
          <p>
            {done} of {c.total} deployments finished: {c.succeeded} succeeded, {c.failed} failed
            {c.superseded > 0 && `, ${c.superseded} superseded`}
            {c.running > 0 && `; ${c.running} running`}
            {c.queued > 0 && `; ${c.queued} queued`}.
          </p>
          {isActive(r.status) && <p className="muted">Updates live as each environment progresses.</p>}
        </section>
      </div>
      {failed.length > 0 && (
        <Alert>
          {failed.map((d) => (
            <div key={d.id}>
              <strong>{d.environment_name}</strong> failed{phaseLabel(d.error_phase) ? ` while ${phaseLabel(d.error_phase)}` : ""}: {d.error ?? "no message"}
            </div>
          ))}
        </Alert>
      )}
      <section className="card" aria-labelledby="rollout-deployments-title">
        <h2 id="rollout-deployments-title" className="card-title">
          Deployments
        </h2>
        <DeploymentsTable deployments={r.targets} live={live} />
      </section>
      {shown !== undefined && (
        <ObjectsTable
          deploymentId={shown.id}
          version={objectsVersion}
          picker={
            r.targets.length > 1 && (
              <div className="toolbar-field">
                <label className="toolbar-label" htmlFor="obj-deployment">
                  Environment
                </label>
                <select id="obj-deployment" value={shown.id} onChange={(e) => setPicked(e.target.value)}>
                  {r.targets.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.environment_name}
                    </option>
                  ))}
                </select>
              </div>
            )
          }
        />
      )}
    </>
  );
}
