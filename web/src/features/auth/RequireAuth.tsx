// Route guards: signed in at all, and a minimum role.
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import type { Role } from "../../api/types";
import { ErrorState, LoadingState } from "../../components/feedback";
import { useAuth, useUser } from "./AuthContext";
import { roleRank } from "./roles";

export function RequireAuth({ children }: { children: ReactNode }) {
  const { state, retry } = useAuth();
  const location = useLocation();
  switch (state.status) {
    case "loading":
      return (
        <div className="fullscreen-center">
          <LoadingState label="Signing you in…" />
        </div>
      );
    case "error":
      return (
        <div className="fullscreen-center">
          <ErrorState title="Could not reach Berth" error={state.error} onRetry={retry} />
        </div>
      );
    case "anonymous": {
      const next = location.pathname + location.search + location.hash;
      const params = new URLSearchParams();
      if (next !== "/") params.set("next", next);
      if (state.expired) params.set("expired", "1");
      const qs = params.toString();
      return <Navigate to={`/login${qs ? `?${qs}` : ""}`} replace />;
    }
    case "authenticated":
      return children;
  }
}

export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  const user = useUser();
  if (roleRank(user.role) < roleRank(role)) {
    return (
      <div className="state state-error" role="alert">
        <strong>Not allowed</strong>
        <span>This page needs the {role} role; you are signed in as {user.role}.</span>
      </div>
    );
  }
  return children;
}

/** Where to go after signing in: only same-origin paths inside the app. */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next === "/login" || next.startsWith("/login?")) return "/";
  return next;
}
