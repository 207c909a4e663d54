// Reads a `repository.checked` event: which repository, and its status after the check.
import type { RepositoryStatus, ServerEvent } from "../../api/types";

export function checkedFrom(event: ServerEvent): { id: string; status: RepositoryStatus | null } | null {
  const d = event.data as Record<string, unknown>;
  if (typeof d.id !== "string") return null;
  const s = d.status;
  const status =
    typeof s === "object" && s !== null && "consecutive_failures" in s && "last_outcome" in s ? (s as RepositoryStatus) : null;
  return { id: d.id, status };
}
