// Payloads of the deployment events the server publishes (see server/src/rollouts/run.rs):
// `deployment.started` {id, rollout_id, stack_id, environment_id, environment, attempt}, `deployment.progress` {id, objects}
// (batches of object results as they are applied), `deployment.finished` {id, rollout_id, stack_id,
// environment_id, status, error}, `rollout.created` {id, stack_id, …}.
import type { ServerEvent } from "../../api/types";

export interface ProgressObject {
  group: string;
  version: string;
  kind: string;
  namespace?: string | null;
  name: string;
  action: string;
  message?: string | null;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The deployment and rollout an event is about, when it is a deployment event. */
export function deploymentOf(event: ServerEvent): { id: string; rolloutId: string | null } | null {
  if (!event.kind.startsWith("deployment.")) return null;
  const d = event.data as Record<string, unknown>;
  const id = str(d.id);
  return id === null ? null : { id, rolloutId: str(d.rollout_id) };
}

/** The object results a `deployment.progress` event carries. */
export function progressObjects(event: ServerEvent): ProgressObject[] {
  if (event.kind !== "deployment.progress") return [];
  const objects = (event.data as { objects?: unknown }).objects;
  if (!Array.isArray(objects)) return [];
  return objects.filter((o): o is ProgressObject => typeof o === "object" && o !== null && typeof (o as ProgressObject).name === "string" && typeof (o as ProgressObject).kind === "string");
}
