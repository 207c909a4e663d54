// Holds who is signed in. On start it resolves a stored token with /auth/me; when any API call is
// answered 401 it drops to anonymous, and <RequireAuth> sends the user to the login page.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import * as authApi from "../../api/auth";
import { onUnauthorized } from "../../api/client";
import { getToken } from "../../api/session";
import type { User } from "../../api/types";
import { AuthContext, type AuthContextValue, type AuthState } from "./AuthContext";

function initialState(): AuthState {
  return getToken() === null ? { status: "anonymous", expired: false } : { status: "loading" };
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>(initialState);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => onUnauthorized(() => setState({ status: "anonymous", expired: true })), []);

  const needsMe = state.status === "loading";
  useEffect(() => {
    if (!needsMe) return;
    const ctl = new AbortController();
    authApi.getMe(ctl.signal).then(
      (user) => setState({ status: "authenticated", user }),
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        // A 401 has already switched to anonymous through onUnauthorized.
        setState((s) => (s.status === "loading" ? { status: "error", error } : s));
      },
    );
    return () => ctl.abort();
  }, [needsMe, attempt]);

  const signIn = useCallback(async (username: string, password: string) => {
    const res = await authApi.login({ username, password });
    setState({ status: "authenticated", user: res.user });
    return res.user;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await authApi.logout();
    } catch {
      // The token is forgotten locally either way.
    }
    setState({ status: "anonymous", expired: false });
  }, []);

  const setUser = useCallback((user: User) => setState({ status: "authenticated", user }), []);
  const retry = useCallback(() => {
    setState(initialState());
    setAttempt((a) => a + 1);
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ state, signIn, signOut, setUser, retry }),
    [state, signIn, signOut, setUser, retry],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
