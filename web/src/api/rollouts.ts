// Rollouts (one stack at one commit, to every target) and their deployments (one per
// environment), with per-object results. Read by every role.
import { requestJson } from "./client";
import type { Deployment, DeploymentPage, ObjectPage, RolloutDetail, RolloutPage } from "./types";

export interface RolloutFilter {
  stackId?: string;
  environmentId?: string;
  /** `queued`, `running`, `succeeded`, `failed`, `superseded`, `partial`. */
  status?: string;
  trigger?: string;
  /** Only rollouts still queued or running. */
  active?: boolean;
}

export function listRollouts(filter: RolloutFilter, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<RolloutPage> {
  return requestJson<RolloutPage>("/rollouts", {
    query: {
      limit,
      cursor,
      stack_id: filter.stackId,
      environment_id: filter.environmentId,
      status: filter.status,
      trigger: filter.trigger,
      active: filter.active ? true : undefined,
    },
    signal,
  });
}

export function getRollout(id: string, signal?: AbortSignal): Promise<RolloutDetail> {
  return requestJson<RolloutDetail>(`/rollouts/${encodeURIComponent(id)}`, { signal });
}

export interface DeploymentFilter {
  rolloutId?: string;
  stackId?: string;
  environmentId?: string;
  status?: string;
}

export function listDeployments(filter: DeploymentFilter, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<DeploymentPage> {
  return requestJson<DeploymentPage>("/deployments", {
    query: {
      limit,
      cursor,
      rollout_id: filter.rolloutId,
      stack_id: filter.stackId,
      environment_id: filter.environmentId,
      status: filter.status,
    },
    signal,
  });
}

export function getDeployment(id: string, signal?: AbortSignal): Promise<Deployment> {
  return requestJson<Deployment>(`/deployments/${encodeURIComponent(id)}`, { signal });
}

export interface ObjectFilter {
  /** `created`, `configured`, `unchanged`, `pruned`, `failed`. */
  action?: string;
  kind?: string;
  namespace?: string;
  /** Part of the object's name. */
  search?: string;
}

export function listObjects(deploymentId: string, filter: ObjectFilter, cursor?: string | null, limit = 100, signal?: AbortSignal): Promise<ObjectPage> {
  return requestJson<ObjectPage>(`/deployments/${encodeURIComponent(deploymentId)}/objects`, {
    query: {
      limit,
      cursor,
      action: filter.action,
      kind: filter.kind?.trim(),
      namespace: filter.namespace?.trim(),
      search: filter.search?.trim(),
    },
    signal,
  });
}
