// Overview: the fleet at a glance, live. Each part of the fleet is one section, fed by one load;
// stacks and rollouts have theirs.
import { Link } from "react-router";
import { listEnvironments } from "../../api/environments";
import { getOverview } from "../../api/overview";
import { listRepositories } from "../../api/repositories";
import { listRollouts } from "../../api/rollouts";
import { useServerEvents } from "../../api/useServerEvents";
import { ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { useCoalesced } from "../../lib/useCoalesced";
import { useResource } from "../../lib/useResource";
import { useCan } from "../auth/useCan";
import { EnvironmentsSection } from "./EnvironmentsSection";
import { RepositoriesSection } from "./RepositoriesSection";
import { StacksSection } from "./StacksSection";

const ATTENTION = 8;

async function loadOverview(signal: AbortSignal) {
  const [counts, down, unauthorized, failing, active, failed, partial] = await Promise.all([
    getOverview(signal),
    listEnvironments({ status: "down" }, null, ATTENTION, signal),
    listEnvironments({ status: "unauthorized" }, null, ATTENTION, signal),
    listRepositories({ failing: true }, null, ATTENTION, signal),
    listRollouts({ active: true }, null, ATTENTION, signal),
    listRollouts({ status: "failed" }, null, ATTENTION, signal),
    listRollouts({ status: "partial" }, null, ATTENTION, signal),
  ]);
  const failures = [...failed.items, ...partial.items].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, ATTENTION);
  return { counts, attention: [...down.items, ...unauthorized.items].slice(0, ATTENTION), failing: failing.items, active: active.items, failures };
}

export function OverviewPage() {
  const canAdmin = useCan("admin");
  const data = useResource("overview", loadOverview);
  const reload = useCoalesced(data.reload, 1000);
  useServerEvents(["environment.", "repository.checked", "stack.", "rollout.created", "deployment.started", "deployment.finished"], reload, data.reload);

  let body;
  if (data.data === null) {
    body = data.error !== null ? <ErrorState error={data.error} onRetry={data.reload} title="Could not load the overview" /> : <LoadingState label="Loading the fleet…" />;
  } else {
    const { counts, attention, failing, active, failures } = data.data;
    const empty = counts.environments.total === 0 && counts.repositories.total === 0;
    body = (
      <>
        {empty && (
          <section className="card" aria-labelledby="start-title">
            <h2 id="start-title" className="card-title">
              Getting started
            </h2>
            <ol className="steps">
              <li>
                {canAdmin ? <Link to="/environments/new">Register an environment</Link> : <strong>Register an environment</strong>}: a Kubernetes
                cluster Berth deploys to, from its kubeconfig.
              </li>
              <li>
                {canAdmin ? <Link to="/repositories/new">Add a repository</Link> : <strong>Add a repository</strong>}: the Git repository that
                holds your manifests.
              </li>
              <li>
                {canAdmin ? <Link to="/stacks/new">Create a stack</Link> : <strong>Create a stack</strong>}: which paths of the repository to deploy
                to which environments, and how.
              </li>
            </ol>
            {!canAdmin && <p className="muted">Admins do both; you will see them here once they exist.</p>}
          </section>
        )}
        <div className="grid-2">
          <EnvironmentsSection summary={counts.environments} attention={attention} />
          <RepositoriesSection summary={counts.repositories} failing={failing} />
          <StacksSection summary={counts.stacks} rollouts={counts.rollouts} active={active} failures={failures} />
        </div>
        {data.error !== null && <ErrorState error={data.error} onRetry={data.reload} title="Could not refresh the overview" />}
      </>
    );
  }
  return (
    <>
      <PageHeader title="Overview" description="The fleet at a glance; it updates as probes, checks and deployments report." />
      {body}
    </>
  );
}
