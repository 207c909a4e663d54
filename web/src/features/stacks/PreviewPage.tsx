// /stacks/:id/preview: what deploying the latest (or a chosen) commit would do on each target —
// objects to create, to change (field by field) and to prune, and those it would fail on.
import { useState, type SubmitEvent } from "react";
import { Link, useParams } from "react-router";
import { isApiError } from "../../api/errors";
import { getStack, previewStack } from "../../api/stacks";
import type { EnvironmentPreview, FieldChange, ObjectRef, StackPreview } from "../../api/types";
import { Badge } from "../../components/Badge";
import { Field } from "../../components/Field";
import { EmptyState, ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { useResource } from "../../lib/useResource";
import { Commit, objectName } from "../rollouts/status";

function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

function Diff({ changes }: { changes: FieldChange[] }) {
  return (
    <ul className="diff" aria-label="Changed fields">
      {changes.map((c) => (
        <li key={c.path}>
          <code className="diff-path">{c.path}</code>
          {c.before !== null && c.before !== undefined && (
            <pre className="diff-line diff-del">
              <span className="sr-only">before: </span>- {show(c.before)}
            </pre>
          )}
          {c.after !== null && c.after !== undefined ? (
            <pre className="diff-line diff-add">
              <span className="sr-only">after: </span>+ {show(c.after)}
            </pre>
          ) : (
            <span className="muted"> (removed)</span>
          )}
        </li>
      ))}
    </ul>
  );
}

function Objects({ title, objects, tone }: { title: string; objects: ObjectRef[]; tone: "ok" | "warn" | "muted" }) {
  if (objects.length === 0) return null;
  return (
    <>
      <h3 className="card-subtitle">
        {title} <Badge tone={tone}>{objects.length}</Badge>
      </h3>
      <ul className="plain-list">
        {objects.map((o) => (
          <li key={`${o.group}/${o.kind}/${o.namespace ?? ""}/${o.name}`}>
            <code>{objectName(o)}</code>
          </li>
        ))}
      </ul>
    </>
  );
}

function EnvironmentResult({ env }: { env: EnvironmentPreview }) {
  const p = env.preview;
  const headingId = `preview-${env.environment_id}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-head">
        <h2 id={headingId} className="card-title">
          <Link to={`/environments/${env.environment_id}`}>{env.environment_name}</Link>
        </h2>
        {p !== null && (
          <span className="muted">
            {p.create.length} to create · {p.change.length} to change · {p.prune.length} to prune · {p.unchanged.length} unchanged
          </span>
        )}
      </div>
      {env.error !== null || p === null ? (
        <p className="text-error pre-wrap" role="alert">
          The preview failed here: {env.error ?? "no result"}
        </p>
      ) : p.create.length + p.change.length + p.prune.length + p.rejected.length === 0 ? (
        <p className="text-ok">No change: everything is as in Git.</p>
      ) : (
        <>
          <Objects title="To create" objects={p.create} tone="ok" />
          {p.change.length > 0 && (
            <>
              <h3 className="card-subtitle">
                To change <Badge tone="info">{p.change.length}</Badge>
              </h3>
              <ul className="plain-list">
                {p.change.map((c) => (
                  <li key={`${c.object.group}/${c.object.kind}/${c.object.namespace ?? ""}/${c.object.name}`}>
                    <code>{objectName(c.object)}</code>
                    <Diff changes={c.diff} />
                  </li>
                ))}
              </ul>
            </>
          )}
          <Objects title="To prune" objects={p.prune} tone="warn" />
          {p.rejected.length > 0 && (
            <>
              <h3 className="card-subtitle">
                Would fail <Badge tone="error">{p.rejected.length}</Badge>
              </h3>
              <ul className="plain-list">
                {p.rejected.map((r) => (
                  <li key={`${r.object.kind}/${r.object.namespace ?? ""}/${r.object.name}`}>
                    <code>{objectName(r.object)}</code>: <span className="text-error">{r.message}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

function PreviewResult({ preview }: { preview: StackPreview }) {
  return (
    <>
      <p>
        At commit <Commit sha={preview.commit} />:
      </p>
      {preview.environments.length === 0 ? (
        <EmptyState title="No targets">The stack targets no environment.</EmptyState>
      ) : (
        preview.environments.map((e) => <EnvironmentResult key={e.environment_id} env={e} />)
      )}
    </>
  );
}

export function PreviewPage() {
  const { id = "" } = useParams();
  const stack = useResource(id, (signal) => getStack(id, signal));
  const [commitInput, setCommitInput] = useState("");
  const [commit, setCommit] = useState("");
  const result = useResource(`${id}@${encodeURIComponent(commit)}`, (signal) => previewStack(id, commit || undefined, signal));

  function submit(e: SubmitEvent) {
    e.preventDefault();
    setCommit(commitInput.trim());
    if (commitInput.trim() === commit) result.reload();
  }

  const name = stack.data?.name ?? "stack";
  const commitError = !result.loading && isApiError(result.error) && result.error.field === "commit" ? result.error.message : null;
  return (
    <>
      <PageHeader
        title={`Preview ${name}`}
        description={
          <>
            <Link to="/stacks">Stacks</Link> / <Link to={`/stacks/${id}`}>{name}</Link> / preview — a dry run against every target; nothing is applied.
          </>
        }
      />
      <form className="toolbar" onSubmit={submit} aria-label="Preview options">
        <div className="toolbar-grow">
          <Field label="Commit" error={commitError} hint="Empty: the latest commit change detection found.">
            {(p) => <input {...p} className="mono" value={commitInput} onChange={(e) => setCommitInput(e.target.value)} autoComplete="off" spellCheck={false} />}
          </Field>
        </div>
        <button type="submit" className="btn btn-primary" disabled={result.loading}>
          {result.loading ? "Previewing…" : "Preview again"}
        </button>
      </form>
      {result.loading && <LoadingState label="Rendering and dry-running against every target…" />}
      {!result.loading && result.error !== null && commitError === null && <ErrorState error={result.error} onRetry={result.reload} title="The preview failed" />}
      {!result.loading && result.data !== null && <PreviewResult preview={result.data} />}
    </>
  );
}
