// How repository check outcomes read in the dashboard.
import type { Tone } from "../../components/Badge";
import type { Repository, ScheduleSpec } from "../../api/types";

const outcomes: Record<string, { label: string; tone: Tone; meaning: string }> = {
  unchanged: { label: "Unchanged", tone: "ok", meaning: "No tracked ref moved." },
  moved: { label: "Moved", tone: "ok", meaning: "Refs moved, but nothing any stack watches changed." },
  changed: { label: "Changed", tone: "info", meaning: "Stacks' files changed: deployments were queued." },
  failed: { label: "Failed", tone: "error", meaning: "The check failed." },
};

export function outcomeInfo(outcome: string | null | undefined): { label: string; tone: Tone; meaning: string } {
  if (!outcome) return { label: "Not checked yet", tone: "muted", meaning: "No check has finished yet." };
  return outcomes[outcome] ?? { label: outcome, tone: "muted", meaning: outcome };
}

const errorKinds: Record<string, string> = {
  authentication: "Authentication failed",
  unknown_host: "Unknown host",
  tls: "TLS error",
  not_found: "Repository not found",
  timeout: "Timed out",
  ssh: "SSH error",
};

export function errorKindLabel(kind: string | null | undefined): string | null {
  if (!kind) return null;
  return errorKinds[kind] ?? kind.replace(/_/g, " ");
}

export function scheduleText(s: ScheduleSpec): string {
  switch (s.kind) {
    case "manual":
      return "Manual (webhooks and “check now” only)";
    case "cron":
      return `Cron ${s.cron ?? ""}${s.time_zone && s.time_zone !== "UTC" ? ` (${s.time_zone})` : " (UTC)"}`;
    default:
      return `Every ${s.interval ?? "?"}`;
  }
}

export function isInsecure(r: Pick<Repository, "insecure_url" | "skip_tls_verify">): boolean {
  return r.insecure_url || r.skip_tls_verify;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
