// How environment facts read in the dashboard.
import type { Tone } from "../../components/Badge";
import type { AccessLevel, EnvironmentStatus, KubeAuthKind } from "../../api/types";

export const STATUSES: readonly EnvironmentStatus[] = ["up", "down", "unauthorized", "unknown"];

const statusInfo: Record<EnvironmentStatus, { label: string; tone: Tone; meaning: string }> = {
  up: { label: "Up", tone: "ok", meaning: "The API server answered and accepted the credentials." },
  down: { label: "Down", tone: "error", meaning: "The API server could not be reached (network, TLS, timeout or 5xx)." },
  unauthorized: { label: "Unauthorized", tone: "warn", meaning: "The API server refused the credentials (401/403)." },
  unknown: { label: "Unknown", tone: "muted", meaning: "Not probed yet." },
};

export function statusLabel(s: EnvironmentStatus): string {
  return statusInfo[s].label;
}

export function statusTone(s: EnvironmentStatus): Tone {
  return statusInfo[s].tone;
}

export function statusMeaning(s: EnvironmentStatus): string {
  return statusInfo[s].meaning;
}

export function isStatus(v: unknown): v is EnvironmentStatus {
  return typeof v === "string" && (STATUSES as readonly string[]).includes(v);
}

const access: Record<AccessLevel, string> = {
  cluster_admin: "Cluster admin",
  namespaced: "Namespaced (edit)",
  read_only: "Read-only",
  none: "No access to workloads",
  unknown: "Not checked",
};

export function accessLabel(a: AccessLevel): string {
  return access[a];
}

const auth: Record<KubeAuthKind, string> = {
  token: "Bearer token",
  client_certificate: "Client certificate",
  basic: "Username and password",
  exec: "Exec plugin",
  auth_provider: "Auth provider plugin",
  none: "None",
};

export function authKindLabel(a: KubeAuthKind): string {
  return auth[a];
}
