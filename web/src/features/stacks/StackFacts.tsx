// The facts of one stack: source, targets, policies and commits.
import { Link } from "react-router";
import type { Stack } from "../../api/types";
import { Time } from "../../components/Time";
import { Commit } from "../rollouts/status";

const yesNo = (b: boolean) => (b ? "Yes" : "No");

export function StackFacts({ stack: s }: { stack: Stack }) {
  return (
    <div className="grid-2">
      <section className="card" aria-labelledby="stack-source-title">
        <h2 id="stack-source-title" className="card-title">
          Source
        </h2>
        <dl className="props">
          <dt>Repository</dt>
          <dd>
            <Link to={`/repositories/${s.repository_id}`}>{s.repository_name}</Link>
          </dd>
          <dt>Ref</dt>
          <dd className="mono">{s.ref}</dd>
          <dt>Paths</dt>
          <dd className="mono">{s.paths.length > 0 ? s.paths.join(", ") : <span className="muted">repository root</span>}</dd>
          <dt>Watched paths</dt>
          <dd className="mono">{s.watched_paths.length > 0 ? s.watched_paths.join(", ") : <span className="muted">none</span>}</dd>
          <dt>Renderer</dt>
          <dd>{s.renderer === "kustomize" ? "Kustomize" : "Plain YAML"}</dd>
          <dt>Latest commit</dt>
          <dd>
            <Commit sha={s.latest_commit} />
          </dd>
          <dt>Last seen commit</dt>
          <dd>
            <Commit sha={s.last_seen_commit} />
          </dd>
          <dt>Deployed commit</dt>
          <dd>
            <Commit sha={s.deployed_commit} />
          </dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="stack-policy-title">
        <h2 id="stack-policy-title" className="card-title">
          Targets and policies
        </h2>
        <dl className="props">
          <dt>Picked environments</dt>
          <dd>{s.environment_ids.length}</dd>
          <dt>Tag selector</dt>
          <dd className="mono">{s.selector ?? <span className="muted">none</span>}</dd>
          <dt>Default namespace</dt>
          <dd className="mono">{s.default_namespace ?? <span className="muted">each environment's</span>}</dd>
          <dt>Create namespaces</dt>
          <dd>{yesNo(s.create_namespace)}</dd>
          <dt>Auto-deploy</dt>
          <dd>{yesNo(s.auto_deploy)}</dd>
          <dt>Prune</dt>
          <dd>{yesNo(s.prune)}</dd>
          <dt>Wait for health</dt>
          <dd>{s.wait_for_health ? `Yes, up to ${s.health_timeout_seconds} s` : "No"}</dd>
          <dt>Force conflicts</dt>
          <dd>{yesNo(s.force_conflicts)}</dd>
          <dt>Updated</dt>
          <dd>
            <Time value={s.updated_at} />
          </dd>
        </dl>
      </section>
    </div>
  );
}
