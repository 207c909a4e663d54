// One deployment (a stack at a commit in one environment): status, attempts, timings, the error
// and where it happened, and the per-object results — streamed live while it runs, then the
// filterable table.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { getDeployment } from "../../api/rollouts";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { Time } from "../../components/Time";
import { useResource } from "../../lib/useResource";
import { deploymentOf, progressObjects, type ProgressObject } from "./liveProgress";
import { ObjectsTable } from "./ObjectsTable";
import { ActionBadge, Commit, duration, isActive, objectName, phaseLabel, StatusBadge, triggerLabel } from "./status";

export function DeploymentDetailPage() {
  const { id = "" } = useParams();
  const deployment = useResource(id, (signal) => getDeployment(id, signal));
  const [live, setLive] = useState<ProgressObject[]>([]);
  const [objectsVersion, setObjectsVersion] = useState(0);

  useServerEvents(
    ["deployment."],
    (event) => {
      const dep = deploymentOf(event);
      if (dep?.id !== id) return;
      const objects = progressObjects(event);
      if (objects.length > 0) {
        setLive((l) => [...l, ...objects]);
        return;
      }
      deployment.reload();
      if (event.kind === "deployment.finished") {
        setObjectsVersion((v) => v + 1);
        setLive([]);
      }
    },
    () => {
      deployment.reload();
      setObjectsVersion((v) => v + 1);
    },
  );

  if (deployment.data === null) {
    if (deployment.error !== null) return <ErrorState error={deployment.error} onRetry={deployment.reload} title="Could not load this deployment" />;
    return <LoadingState label="Loading deployment…" />;
  }
  const d = deployment.data;
  const running = isActive(d.status);
  return (
    <>
      <PageHeader
        title={`${d.stack_name} in ${d.environment_name}`}
        description={
          <>
            {d.stack_id ? <Link to={`/stacks/${d.stack_id}`}>{d.stack_name}</Link> : d.stack_name} / <Link to={`/rollouts/${d.rollout_id}`}>rollout</Link> / deployment to{" "}
            {d.environment_id ? <Link to={`/environments/${d.environment_id}`}>{d.environment_name}</Link> : d.environment_name} <StatusBadge status={d.status} />
          </>
        }
      />
      {d.error && (
        <Alert>
          <strong>Failed{phaseLabel(d.error_phase) ? ` while ${phaseLabel(d.error_phase)}` : ""}</strong>
          {d.error_phase && <span className="muted"> (phase: {d.error_phase})</span>}: <span className="pre-wrap">{d.error}</span>
        </Alert>
      )}
      <div className="grid-2">
        <section className="card" aria-labelledby="dep-facts-title">
          <h2 id="dep-facts-title" className="card-title">
            Deployment
          </h2>
          <dl className="props">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={d.status} />
            </dd>
            <dt>Commit</dt>
            <dd>
              <Commit sha={d.commit} />
            </dd>
            <dt>Kind</dt>
            <dd>{d.kind === "remove" ? "Removal of the stack's objects" : "Apply"}</dd>
            <dt>Trigger</dt>
            <dd>{triggerLabel(d.trigger)}</dd>
            <dt>By</dt>
            <dd>{d.actor}</dd>
            <dt>Attempts</dt>
            <dd>
              {d.attempts}
              {d.status === "queued" && d.attempts > 0 && (
                <span className="muted">
                  {" "}
                  · next <Time value={d.next_attempt_at} />
                </span>
              )}
            </dd>
            {d.superseded_by && (
              <>
                <dt>Superseded by</dt>
                <dd>
                  <Link to={`/deployments/${d.superseded_by}`}>a newer deployment</Link>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="dep-times-title">
          <h2 id="dep-times-title" className="card-title">
            Timings
          </h2>
          <dl className="props">
            <dt>Queued</dt>
            <dd>
              <Time value={d.created_at} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time value={d.started_at} empty="not yet" />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time value={d.finished_at} empty="not yet" />
            </dd>
            <dt>Duration</dt>
            <dd>{duration(d.started_at, d.finished_at) ?? "—"}</dd>
            <dt>Objects</dt>
            <dd>{running ? `${live.length} so far` : d.object_count}</dd>
          </dl>
        </section>
      </div>
      {running && (
        <section className="card" aria-labelledby="dep-live-title">
          <h2 id="dep-live-title" className="card-title">
            Live progress
          </h2>
          {live.length === 0 ? (
            <p className="muted" role="status">
              {d.status === "queued" ? "Waiting for a worker…" : "Rendering and applying…"}
            </p>
          ) : (
            <ol className="plain-list" aria-label="Objects applied so far">
              {live.map((o, i) => (
                <li key={i}>
                  <ActionBadge action={o.action} /> <code>{objectName(o)}</code>
                  {o.message && <span className="muted"> — {o.message}</span>}
                </li>
              ))}
            </ol>
          )}
        </section>
      )}
      <ObjectsTable deploymentId={d.id} version={objectsVersion} />
    </>
  );
}
