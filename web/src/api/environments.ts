// Environments (clusters): every role reads; admins register, change, rotate and delete;
// operators may probe.
import { requestJson, requestNoContent } from "./client";
import type {
  Environment,
  EnvironmentPage,
  EnvironmentStatus,
  Registered,
  RegisterRequest,
  RotateRequest,
  UpdateEnvironmentRequest,
} from "./types";

export interface EnvironmentFilter {
  /** Tag selector, e.g. `env=prod,region in (eu,us)`. */
  selector?: string;
  status?: EnvironmentStatus;
  search?: string;
}

const path = (id: string) => `/environments/${encodeURIComponent(id)}`;

export function listEnvironments(
  filter: EnvironmentFilter,
  cursor?: string | null,
  limit = 50,
  signal?: AbortSignal,
): Promise<EnvironmentPage> {
  return requestJson<EnvironmentPage>("/environments", {
    query: { limit, cursor, selector: filter.selector?.trim(), status: filter.status, search: filter.search?.trim() },
    signal,
  });
}

export function getEnvironment(idOrName: string, signal?: AbortSignal): Promise<Environment> {
  return requestJson<Environment>(path(idOrName), { signal });
}

export function registerEnvironments(req: RegisterRequest): Promise<Registered> {
  return requestJson<Registered>("/environments", { method: "POST", body: req });
}

export function updateEnvironment(id: string, req: UpdateEnvironmentRequest): Promise<Environment> {
  return requestJson<Environment>(path(id), { method: "PATCH", body: req });
}

export function rotateKubeconfig(id: string, req: RotateRequest): Promise<Environment> {
  return requestJson<Environment>(`${path(id)}/kubeconfig`, { method: "PUT", body: req });
}

export function deleteEnvironment(id: string, force = false): Promise<void> {
  return requestNoContent(path(id), { method: "DELETE", query: { force: force ? true : undefined } });
}

export function probeEnvironment(id: string): Promise<Environment> {
  return requestJson<Environment>(`${path(id)}/probe`, { method: "POST" });
}
