// The audit log (admin only).
import { requestJson } from "./client";
import type { AuditPage } from "./types";

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** RFC 3339. */
  since?: string;
  /** RFC 3339. */
  until?: string;
}

export function listAudit(filter: AuditFilter, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<AuditPage> {
  return requestJson<AuditPage>("/audit", {
    query: {
      limit,
      cursor,
      actor: filter.actor?.trim(),
      action: filter.action?.trim(),
      target: filter.target?.trim(),
      since: filter.since,
      until: filter.until,
    },
    signal,
  });
}
