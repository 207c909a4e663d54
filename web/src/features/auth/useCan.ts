import type { Role } from "../../api/types";
import { useUser } from "./AuthContext";
import { roleRank } from "./roles";

/** Whether the signed-in user has at least `role`; actions they cannot perform are not shown. */
export function useCan(role: Role): boolean {
  return roleRank(useUser().role) >= roleRank(role);
}
