import type { Role } from "../../api/types";

/** Every role, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** Roles at most as strong as `role`, strongest first (what a token may be given). */
export function rolesUpTo(role: Role): Role[] {
  return ROLES.filter((r) => roleRank(r) <= roleRank(role)).reverse();
}
