import { createContext, useContext } from "react";
import type { User } from "../../api/types";

export type AuthState =
  | { status: "loading" }
  | { status: "anonymous"; /** The server rejected a session we had. */ expired: boolean }
  | { status: "authenticated"; user: User }
  | { status: "error"; error: unknown };

export interface AuthContextValue {
  state: AuthState;
  signIn: (username: string, password: string) => Promise<User>;
  signOut: () => Promise<void>;
  /** After a change that returns the user again (e.g. a password change). */
  setUser: (user: User) => void;
  retry: () => void;
}

export const AuthContext = createContext<AuthContextValue | null>(null);

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (ctx === null) throw new Error("useAuth outside <AuthProvider>");
  return ctx;
}

/** The signed-in user; only for components rendered behind <RequireAuth>. */
export function useUser(): User {
  const { state } = useAuth();
  if (state.status !== "authenticated") throw new Error("useUser without a signed-in user");
  return state.user;
}
