import type { Role } from "../api/types";

const labels: Record<Role, string> = { admin: "Admin", operator: "Operator", viewer: "Viewer" };

export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge badge-role-${role}`}>{labels[role]}</span>;
}

export function roleLabel(role: Role): string {
  return labels[role];
}
