// Left navigation. Links only to pages that exist, and only to those the user's role may open.
import type { ComponentType, SVGProps } from "react";
import { NavLink } from "react-router";
import type { Role } from "../api/types";
import { GitIcon, HomeIcon, KeyIcon, LayersIcon, ListIcon, LogoMark, ServerIcon, UsersIcon } from "../components/icons";
import { useUser } from "../features/auth/AuthContext";
import { roleRank } from "../features/auth/roles";

interface NavItem {
  to: string;
  label: string;
  icon: ComponentType<SVGProps<SVGSVGElement>>;
  minRole: Role;
  end?: boolean;
}

const sections: { title: string | null; items: NavItem[] }[] = [
  { title: null, items: [{ to: "/", label: "Overview", icon: HomeIcon, minRole: "viewer", end: true }] },
  {
    title: "Fleet",
    items: [
      { to: "/environments", label: "Environments", icon: ServerIcon, minRole: "viewer" },
      { to: "/repositories", label: "Repositories", icon: GitIcon, minRole: "viewer" },
      { to: "/stacks", label: "Stacks", icon: LayersIcon, minRole: "viewer" },
    ],
  },
  {
    title: "Administration",
    items: [
      { to: "/admin/users", label: "Users", icon: UsersIcon, minRole: "admin" },
      { to: "/admin/tokens", label: "API tokens", icon: KeyIcon, minRole: "viewer" },
      { to: "/admin/audit", label: "Audit log", icon: ListIcon, minRole: "admin" },
    ],
  },
];

export function Sidebar({ version }: { version: string | null }) {
  const user = useUser();
  return (
    <aside className="sidebar">
      <NavLink to="/" className="sidebar-brand" aria-label="Berth overview">
        <LogoMark />
        <span>Berth</span>
      </NavLink>
      <nav aria-label="Main">
        {sections.map((section) => {
          const items = section.items.filter((i) => roleRank(user.role) >= roleRank(i.minRole));
          if (items.length === 0) return null;
          return (
            <div className="nav-section" key={section.title ?? "main"}>
              {section.title && <h2 className="nav-title">{section.title}</h2>}
              <ul>
                {items.map(({ to, label, icon: Icon, end }) => (
                  <li key={to}>
                    <NavLink to={to} end={end} className={({ isActive }) => `nav-link${isActive ? " active" : ""}`}>
                      <Icon />
                      <span>{label}</span>
                    </NavLink>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <div className="sidebar-footer muted">{version ? `Berth ${version}` : null}</div>
    </aside>
  );
}
