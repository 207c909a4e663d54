// What an environment event says about one environment, read defensively (events are hints).
import type { Environment, ServerEvent } from "../../api/types";
import { isStatus } from "./status";

export interface EnvironmentChange {
  id: string;
  patch: Partial<Pick<Environment, "name" | "status" | "kubernetes_version" | "node_count" | "last_error">>;
}

/** The environment an event is about and the fields it carries, or null. */
export function changeFrom(event: ServerEvent): EnvironmentChange | null {
  const d = event.data as Record<string, unknown>;
  if (typeof d.id !== "string") return null;
  const patch: EnvironmentChange["patch"] = {};
  if (typeof d.name === "string") patch.name = d.name;
  if (isStatus(d.status)) patch.status = d.status;
  if (typeof d.kubernetes_version === "string" || d.kubernetes_version === null) patch.kubernetes_version = d.kubernetes_version;
  if (typeof d.node_count === "number" || d.node_count === null) patch.node_count = d.node_count;
  if (typeof d.last_error === "string" || d.last_error === null) patch.last_error = d.last_error;
  return { id: d.id, patch };
}
