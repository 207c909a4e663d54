// Stacks: every role reads; admins create, change and delete; operators deploy, redeploy, roll
// back, preview, pause and resume.
import { requestJson } from "./client";
import type {
  CreateStackRequest,
  RolloutStarted,
  Stack,
  StackDeleted,
  StackPage,
  StackPreview,
  StackResumed,
  StackTarget,
  SyncState,
  UpdateStackRequest,
} from "./types";

export interface StackFilter {
  /** Part of the name. */
  search?: string;
  /** Worst state over the targets. */
  state?: SyncState;
  repositoryId?: string;
  /** Stacks targeting this environment. */
  environmentId?: string;
}

const path = (id: string) => `/stacks/${encodeURIComponent(id)}`;

export function listStacks(filter: StackFilter, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<StackPage> {
  return requestJson<StackPage>("/stacks", {
    query: {
      limit,
      cursor,
      search: filter.search?.trim(),
      state: filter.state,
      repository_id: filter.repositoryId,
      environment_id: filter.environmentId,
    },
    signal,
  });
}

export function getStack(idOrName: string, signal?: AbortSignal): Promise<Stack> {
  return requestJson<Stack>(path(idOrName), { signal });
}

export function createStack(req: CreateStackRequest): Promise<Stack> {
  return requestJson<Stack>("/stacks", { method: "POST", body: req });
}

export function updateStack(id: string, req: UpdateStackRequest): Promise<Stack> {
  return requestJson<Stack>(path(id), { method: "PATCH", body: req });
}

export function deleteStack(id: string, removeObjects: boolean): Promise<StackDeleted> {
  return requestJson<StackDeleted>(path(id), { method: "DELETE", query: { remove_objects: removeObjects ? true : undefined } });
}

export function listTargets(id: string, signal?: AbortSignal): Promise<StackTarget[]> {
  return requestJson<StackTarget[]>(`${path(id)}/targets`, { signal });
}

export function environmentStacks(environmentId: string, signal?: AbortSignal): Promise<StackTarget[]> {
  return requestJson<StackTarget[]>(`/environments/${encodeURIComponent(environmentId)}/stacks`, { signal });
}

/** Deploys the latest commit, or `commit` (which then holds auto-deploy like a rollback). */
export function deployStack(id: string, commit?: string): Promise<RolloutStarted> {
  return requestJson<RolloutStarted>(`${path(id)}/deploy`, { method: "POST", body: commit ? { commit } : {} });
}

export function redeployStack(id: string): Promise<RolloutStarted> {
  return requestJson<RolloutStarted>(`${path(id)}/redeploy`, { method: "POST" });
}

export function rollbackStack(id: string, deploymentId: string): Promise<RolloutStarted> {
  return requestJson<RolloutStarted>(`${path(id)}/rollback`, { method: "POST", body: { deployment_id: deploymentId } });
}

export function previewStack(id: string, commit?: string, signal?: AbortSignal): Promise<StackPreview> {
  return requestJson<StackPreview>(`${path(id)}/preview`, { method: "POST", body: commit ? { commit } : {}, signal });
}

export function pauseStack(id: string): Promise<StackResumed> {
  return requestJson<StackResumed>(`${path(id)}/pause`, { method: "POST" });
}

export function resumeStack(id: string): Promise<StackResumed> {
  return requestJson<StackResumed>(`${path(id)}/resume`, { method: "POST" });
}
