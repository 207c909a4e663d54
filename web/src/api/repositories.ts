// Git repositories: every role reads; admins register, change and delete; operators "check now".
import { requestJson, requestNoContent } from "./client";
import type {
  CheckPage,
  CheckQueued,
  CreatedRepository,
  CreateRepositoryRequest,
  Repository,
  RepositoryCheck,
  RepositoryPage,
  UpdateRepositoryRequest,
  WebhookSecret,
} from "./types";

export interface RepositoryFilter {
  search?: string;
  /** Only repositories whose last check failed (true) or did not (false). */
  failing?: boolean;
}

const path = (id: string) => `/repositories/${encodeURIComponent(id)}`;

export function listRepositories(
  filter: RepositoryFilter,
  cursor?: string | null,
  limit = 50,
  signal?: AbortSignal,
): Promise<RepositoryPage> {
  return requestJson<RepositoryPage>("/repositories", {
    query: { limit, cursor, search: filter.search?.trim(), failing: filter.failing },
    signal,
  });
}

export function getRepository(id: string, signal?: AbortSignal): Promise<Repository> {
  return requestJson<Repository>(path(id), { signal });
}

export function createRepository(req: CreateRepositoryRequest): Promise<CreatedRepository> {
  return requestJson<CreatedRepository>("/repositories", { method: "POST", body: req });
}

export function updateRepository(id: string, req: UpdateRepositoryRequest): Promise<Repository> {
  return requestJson<Repository>(path(id), { method: "PATCH", body: req });
}

export function deleteRepository(id: string, force = false): Promise<void> {
  return requestNoContent(path(id), { method: "DELETE", query: { force: force ? true : undefined } });
}

export function checkRepository(id: string): Promise<CheckQueued> {
  return requestJson<CheckQueued>(`${path(id)}/check`, { method: "POST" });
}

export function listChecks(id: string, cursor?: string | null, limit = 20, signal?: AbortSignal): Promise<CheckPage> {
  return requestJson<CheckPage>(`${path(id)}/checks`, { query: { limit, cursor }, signal });
}

export function getCheck(id: string, checkId: string, signal?: AbortSignal): Promise<RepositoryCheck> {
  return requestJson<RepositoryCheck>(`${path(id)}/checks/${encodeURIComponent(checkId)}`, { signal });
}

export function getWebhookSecret(id: string): Promise<WebhookSecret> {
  return requestJson<WebhookSecret>(`${path(id)}/webhook-secret`);
}

export function rotateWebhookSecret(id: string): Promise<WebhookSecret> {
  return requestJson<WebhookSecret>(`${path(id)}/webhook-secret`, { method: "POST" });
}
