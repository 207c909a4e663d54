// How rollout, deployment and object statuses read in the dashboard (text always, colour as a hint).
import { Badge, type Tone } from "../../components/Badge";

const statuses: Record<string, { label: string; tone: Tone }> = {
  queued: { label: "Queued", tone: "muted" },
  running: { label: "Running", tone: "info" },
  succeeded: { label: "Succeeded", tone: "ok" },
  failed: { label: "Failed", tone: "error" },
  superseded: { label: "Superseded", tone: "muted" },
  partial: { label: "Partly failed", tone: "error" },
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  if (!status) return <span className="muted">—</span>;
  const s = statuses[status] ?? { label: status, tone: "muted" as Tone };
  return <Badge tone={s.tone}>{s.label}</Badge>;
}

export function isActive(status: string): boolean {
  return status === "queued" || status === "running";
}

const actions: Record<string, Tone> = { created: "ok", configured: "info", unchanged: "muted", pruned: "warn", failed: "error" };

export function ActionBadge({ action }: { action: string }) {
  return <Badge tone={actions[action] ?? "muted"}>{action}</Badge>;
}

export const OBJECT_ACTIONS = ["created", "configured", "unchanged", "pruned", "failed"] as const;

const triggers: Record<string, string> = {
  poll: "Scheduled check",
  webhook: "Webhook",
  manual: "Deploy now",
  redeploy: "Redeploy",
  rollback: "Rollback",
  environment_joined: "Environment joined",
  removal: "Stack removal",
};

export function triggerLabel(trigger: string): string {
  return triggers[trigger] ?? trigger;
}

const phases: Record<string, string> = {
  render: "rendering the manifests",
  plan: "planning",
  apply: "applying",
  prune: "pruning",
  health: "waiting for health",
  queue: "queueing",
};

export function phaseLabel(phase: string | null | undefined): string | null {
  if (!phase) return null;
  return phases[phase] ?? phase;
}

/** A commit id shortened for tables; the full id in the tooltip. */
export function Commit({ sha }: { sha: string | null | undefined }) {
  if (!sha) return <span className="muted">—</span>;
  return (
    <code className="mono" title={sha}>
      {sha.slice(0, 10)}
    </code>
  );
}

/** Seconds between two times, as "1.2 s" or "3 min 4 s"; null while unknown. */
export function duration(from: string | null | undefined, to: string | null | undefined, now = Date.now()): string | null {
  if (!from) return null;
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  const ms = Math.max(0, end - start);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** `apps/v1 Deployment shop/web`, how an object is named in messages. */
export function objectName(o: { group: string; version: string; kind: string; namespace?: string | null; name: string }): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}
