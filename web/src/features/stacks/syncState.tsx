// How sync states read: a stack's worst state, and the count of targets in each.
import type { SyncCounts, SyncState } from "../../api/types";
import { Badge, type Tone } from "../../components/Badge";

export const SYNC_STATES: readonly SyncState[] = ["in_sync", "out_of_date", "deploying", "failed", "unknown"];

const states: Record<SyncState, { label: string; tone: Tone; meaning: string }> = {
  in_sync: { label: "In sync", tone: "ok", meaning: "The latest commit is deployed." },
  out_of_date: { label: "Out of date", tone: "warn", meaning: "A newer commit is not deployed yet." },
  deploying: { label: "Deploying", tone: "info", meaning: "A deployment is queued or running." },
  failed: { label: "Failed", tone: "error", meaning: "The last deployment failed." },
  unknown: { label: "Unknown", tone: "muted", meaning: "Not deployed or not checked yet." },
};

export function syncLabel(state: SyncState): string {
  return states[state].label;
}

export function SyncBadge({ state }: { state: SyncState }) {
  const s = states[state];
  return (
    <Badge tone={s.tone} title={s.meaning}>
      {s.label}
    </Badge>
  );
}

/** "3 in sync · 1 failed": the targets per state, leaving out the empty ones. */
export function SyncCountsText({ counts }: { counts: SyncCounts }) {
  const parts = SYNC_STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${states[s].label.toLowerCase()}`);
  const total = SYNC_STATES.reduce((n, s) => n + counts[s], 0);
  if (total === 0) return <span className="muted">no targets</span>;
  return <span className="muted">{parts.join(" · ")}</span>;
}

export function targetTotal(counts: SyncCounts): number {
  return SYNC_STATES.reduce((n, s) => n + counts[s], 0);
}
