// One environment: health, connection and TLS, permissions, settings, the stacks targeting it and
// its deployment history; live status; and, by role, probe now, edit, rotate the kubeconfig, delete.
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { describeError } from "../../api/errors";
import { getEnvironment, probeEnvironment } from "../../api/environments";
import type { Environment } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, EmptyState, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { isPast } from "../../lib/format";
import { useCoalesced } from "../../lib/useCoalesced";
import { useResource } from "../../lib/useResource";
import { useCan } from "../auth/useCan";
import { DeleteEnvironmentDialog } from "./DeleteEnvironmentDialog";
import { EditEnvironmentDialog } from "./EditEnvironmentDialog";
import { ConnectionCard, HealthCard, PermissionsCard, SettingsCard } from "./EnvironmentFacts";
import { EnvironmentDeploymentsSection, EnvironmentStacksSection } from "./EnvironmentStacks";
import { EnvironmentStatusBadge } from "./EnvironmentStatusBadge";
import { changeFrom } from "./liveUpdates";
import { RotateKubeconfigDialog } from "./RotateKubeconfigDialog";

type Dialog = "edit" | "rotate" | "delete" | null;

export function EnvironmentDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const canOperate = useCan("operator");
  const canAdmin = useCan("admin");
  const env = useResource(id, (signal) => getEnvironment(id, signal));
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(
    (location.state as { notice?: string } | null)?.notice ? { kind: "success", text: (location.state as { notice: string }).notice } : null,
  );
  const [probing, setProbing] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const [deploymentsVersion, setDeploymentsVersion] = useState(0);
  const refreshDeployments = useCoalesced(() => setDeploymentsVersion((v) => v + 1), 1000);

  useServerEvents(
    ["deployment.finished", "stack."],
    (event) => {
      const d = event.data as { environment_id?: unknown };
      if (event.kind.startsWith("stack.") || d.environment_id === env.data?.id) refreshDeployments();
    },
    refreshDeployments,
  );

  useServerEvents(
    ["environment."],
    (event) => {
      const change = changeFrom(event);
      if (change === null || change.id !== env.data?.id) return;
      if (event.kind === "environment.deleted") setDeleted(true);
      else if (event.kind === "environment.updated") env.reload();
      else env.set((e) => ({ ...e, ...change.patch }));
    },
    env.reload,
  );

  function changed(e: Environment, text: string) {
    env.set(() => e);
    setDialog(null);
    setNotice({ kind: "success", text });
  }

  async function probe(e: Environment) {
    setProbing(true);
    setNotice(null);
    try {
      const fresh = await probeEnvironment(e.id);
      env.set(() => fresh);
      setNotice({ kind: fresh.status === "up" ? "success" : "error", text: `Probed ${fresh.name}: ${fresh.status}.` });
    } catch (err) {
      setNotice({ kind: "error", text: `The probe failed: ${describeError(err)}` });
    } finally {
      setProbing(false);
    }
  }

  if (env.data === null) {
    if (env.error !== null) return <ErrorState error={env.error} onRetry={env.reload} title="Could not load this environment" />;
    return <LoadingState label="Loading environment…" />;
  }
  const e = env.data;
  if (deleted) {
    return (
      <EmptyState title={`${e.name} was deleted`}>
        <Link to="/environments">Back to environments</Link>
      </EmptyState>
    );
  }

  return (
    <>
      <PageHeader
        title={e.name}
        description={
          <>
            <Link to="/environments">Environments</Link> / {e.name} <EnvironmentStatusBadge status={e.status} />
          </>
        }
        actions={
          <>
            {canOperate && (
              <button type="button" className="btn btn-secondary" onClick={() => void probe(e)} disabled={probing}>
                {probing ? "Probing…" : "Probe now"}
              </button>
            )}
            {canAdmin && (
              <>
                <button type="button" className="btn btn-secondary" onClick={() => setDialog("edit")}>
                  Edit
                </button>
                <button type="button" className="btn btn-secondary" onClick={() => setDialog("rotate")}>
                  Rotate kubeconfig
                </button>
                <button type="button" className="btn btn-danger" onClick={() => setDialog("delete")}>
                  Delete
                </button>
              </>
            )}
          </>
        }
      />
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {e.client_certificate_expiring && (
        <Alert kind="warning">
          The client certificate {isPast(e.client_certificate_expires_at) ? "has expired" : "expires within 30 days"}.{" "}
          {canAdmin ? "Rotate the kubeconfig before Berth loses access." : "Ask an admin to rotate the kubeconfig."}
        </Alert>
      )}
      <div className="grid-2">
        <HealthCard env={e} />
        <ConnectionCard env={e} />
        <PermissionsCard env={e} />
        <SettingsCard env={e} />
      </div>
      <EnvironmentStacksSection environmentId={e.id} version={deploymentsVersion} />
      <EnvironmentDeploymentsSection environmentId={e.id} version={deploymentsVersion} />

      {dialog === "edit" && <EditEnvironmentDialog env={e} onClose={() => setDialog(null)} onSaved={(x) => changed(x, `Saved ${x.name}.`)} />}
      {dialog === "rotate" && (
        <RotateKubeconfigDialog env={e} onClose={() => setDialog(null)} onRotated={(x) => changed(x, `New credentials for ${x.name} are in use.`)} />
      )}
      {dialog === "delete" && (
        <DeleteEnvironmentDialog
          env={e}
          onClose={() => setDialog(null)}
          onDeleted={() => void navigate("/environments", { state: { notice: `Deleted ${e.name}.` } })}
        />
      )}
    </>
  );
}
