// User administration (admin only).
import { requestJson } from "./client";
import type { CreateUserRequest, Role, UpdateUserRequest, User, UserPage } from "./types";

export interface UserFilter {
  search?: string;
  role?: Role;
  disabled?: boolean;
}

export function listUsers(filter: UserFilter, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<UserPage> {
  return requestJson<UserPage>("/users", {
    query: { limit, cursor, search: filter.search?.trim(), role: filter.role, disabled: filter.disabled },
    signal,
  });
}

export function createUser(req: CreateUserRequest): Promise<User> {
  return requestJson<User>("/users", { method: "POST", body: req });
}

export function getUser(id: string): Promise<User> {
  return requestJson<User>(`/users/${encodeURIComponent(id)}`);
}

export function updateUser(id: string, req: UpdateUserRequest): Promise<User> {
  return requestJson<User>(`/users/${encodeURIComponent(id)}`, { method: "PATCH", body: req });
}
