// One repository: source and security flags, check health and history, webhooks; by role, check
// now, pause/resume, edit and delete. Check results arrive live.
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { describeError } from "../../api/errors";
import { getRepository, updateRepository } from "../../api/repositories";
import type { Repository } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";
import { Alert, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { useResource } from "../../lib/useResource";
import { useCan } from "../auth/useCan";
import { CheckNowResult } from "./CheckNowResult";
import { ChecksTable } from "./ChecksTable";
import { DeleteRepositoryDialog } from "./DeleteRepositoryDialog";
import { checkedFrom } from "./liveStatus";
import { HealthCard, SourceCard } from "./RepositoryFacts";
import { useCheckNow } from "./useCheckNow";
import { WebhooksPanel } from "./WebhooksPanel";

interface LocationState {
  notice?: string;
  webhookSecret?: string;
}

export function RepositoryDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const state = (useLocation().state ?? {}) as LocationState;
  const canOperate = useCan("operator");
  const canAdmin = useCan("admin");
  const repo = useResource(id, (signal) => getRepository(id, signal));
  const [checksVersion, setChecksVersion] = useState(0);
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(state.notice ? { kind: "success", text: state.notice } : null);
  const [deleting, setDeleting] = useState(false);
  const [pausing, setPausing] = useState(false);
  const check = useCheckNow(id, () => {
    repo.reload();
    setChecksVersion((v) => v + 1);
  });

  useServerEvents(
    ["repository.checked"],
    (event) => {
      const c = checkedFrom(event);
      if (c?.id !== id) return;
      const status = c.status;
      if (status) repo.set((r) => ({ ...r, status }));
      setChecksVersion((v) => v + 1);
    },
    repo.reload,
  );

  async function setPaused(r: Repository, paused: boolean) {
    setPausing(true);
    setNotice(null);
    try {
      const saved = await updateRepository(r.id, { paused });
      repo.set(() => saved);
      setNotice({ kind: "success", text: paused ? `Paused ${r.name}: no scheduled checks, webhooks ignored.` : `Resumed ${r.name}.` });
    } catch (e) {
      setNotice({ kind: "error", text: describeError(e) });
    } finally {
      setPausing(false);
    }
  }

  if (repo.data === null) {
    if (repo.error !== null) return <ErrorState error={repo.error} onRetry={repo.reload} title="Could not load this repository" />;
    return <LoadingState label="Loading repository…" />;
  }
  const r = repo.data;
  return (
    <>
      <PageHeader
        title={r.name}
        description={
          <>
            <Link to="/repositories">Repositories</Link> / {r.name}
          </>
        }
        actions={
          <>
            {canOperate && (
              <button type="button" className="btn btn-primary" onClick={() => void check.start()} disabled={check.busy}>
                {check.busy ? "Checking…" : "Check now"}
              </button>
            )}
            {canAdmin && (
              <>
                <button type="button" className="btn btn-secondary" onClick={() => void setPaused(r, !r.paused)} disabled={pausing}>
                  {r.paused ? "Resume" : "Pause"}
                </button>
                <Link to={`/repositories/${r.id}/edit`} className="btn btn-secondary">
                  Edit
                </Link>
                <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
                  Delete
                </button>
              </>
            )}
          </>
        }
      />
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <CheckNowResult state={check.state} />
      {state.webhookSecret && (
        <Alert kind="info">The webhook secret is below; admins can show it again later. Configure it on your Git host to get checks on every push.</Alert>
      )}
      <div className="grid-2">
        <SourceCard repo={r} />
        <HealthCard repo={r} />
      </div>
      <ChecksTable repositoryId={r.id} version={checksVersion} />
      <WebhooksPanel repo={r} initialSecret={state.webhookSecret ?? null} />
      {deleting && (
        <DeleteRepositoryDialog
          repo={r}
          onClose={() => setDeleting(false)}
          onDeleted={() => void navigate("/repositories", { state: { notice: `Deleted ${r.name}.` } })}
        />
      )}
    </>
  );
}
