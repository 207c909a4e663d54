// Overview: who is signed in, which server this is, and how to get started while the fleet pages
// are not in the dashboard yet.
import { Link } from "react-router";
import { describeError } from "../../api/errors";
import { PageHeader } from "../../components/PageHeader";
import { RoleBadge } from "../../components/RoleBadge";
import { Spinner } from "../../components/feedback";
import { formatDateTime, formatRelative } from "../../lib/format";
import { useServerVersion } from "../../layout/VersionContext";
import { useUser } from "../auth/AuthContext";
import { roleRank } from "../auth/roles";

export function OverviewPage() {
  const user = useUser();
  const version = useServerVersion();
  const canWrite = roleRank(user.role) >= roleRank("operator");

  return (
    <>
      <PageHeader title="Overview" description="Berth deploys Git-defined stacks to your fleet of Kubernetes clusters." />
      <div className="grid-2">
        <section className="card" aria-labelledby="you-title">
          <h2 id="you-title" className="card-title">
            Signed in
          </h2>
          <dl className="props">
            <dt>User</dt>
            <dd>{user.username}</dd>
            <dt>Role</dt>
            <dd>
              <RoleBadge role={user.role} />
            </dd>
            <dt>Last sign-in</dt>
            <dd title={user.last_login_at ?? undefined}>
              {user.last_login_at ? `${formatRelative(user.last_login_at)} (${formatDateTime(user.last_login_at)})` : "—"}
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="server-title">
          <h2 id="server-title" className="card-title">
            Server
          </h2>
          <dl className="props">
            <dt>Version</dt>
            <dd>
              {version.value !== null ? (
                <code>{version.value}</code>
              ) : version.error !== null ? (
                <span className="text-error">Unavailable: {describeError(version.error)}</span>
              ) : (
                <Spinner label="Loading version…" />
              )}
            </dd>
            <dt>API</dt>
            <dd>
              <code>/api/v1</code>
            </dd>
          </dl>
        </section>
      </div>

      <section className="card" aria-labelledby="start-title">
        <h2 id="start-title" className="card-title">
          Getting started
        </h2>
        <p>
          The dashboard does not show environments, repositories or stacks yet. Until it does, manage them with the{" "}
          <code>berth</code> command-line tool or the REST API under <code>/api/v1</code>:
        </p>
        <ol className="steps">
          <li>
            <strong>Register an environment</strong>: a Kubernetes cluster Berth deploys to, with its kubeconfig.
          </li>
          <li>
            <strong>Register a repository</strong>: the Git repository that holds your manifests.
          </li>
          <li>
            <strong>Define a stack</strong>: what to deploy from that repository, and to which environments.
          </li>
        </ol>
        <p>
          Scripts and the CLI authenticate with an API token sent as <code>Authorization: Bearer berth_…</code>.{" "}
          <Link to="/admin/tokens">Create an API token</Link>
          {canWrite ? "." : "; your viewer role gives read-only access."} The complete
          API description is printed by <code>berth openapi</code>.
        </p>
      </section>
    </>
  );
}
