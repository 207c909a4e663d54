// Sessions: sign in, sign out, who am I, change password.
import { requestJson, requestNoContent } from "./client";
import { clearSession, setSession } from "./session";
import type { ChangePasswordRequest, LoginRequest, LoginResponse, User } from "./types";

/** Signs in and stores the session token. */
export async function login(req: LoginRequest): Promise<LoginResponse> {
  const res = await requestJson<LoginResponse>("/auth/login", { method: "POST", body: req, auth: false });
  setSession(res.token, res.expires_at);
  return res;
}

/** Ends the session on the server (best effort) and forgets the token either way. */
export async function logout(): Promise<void> {
  try {
    await requestNoContent("/auth/logout", { method: "POST", keepSessionOn: "any" });
  } finally {
    clearSession();
  }
}

export function getMe(signal?: AbortSignal): Promise<User> {
  return requestJson<User>("/auth/me", { signal });
}

/** Changes the password; the server revokes other sessions and returns a fresh one, which is stored. */
export async function changePassword(req: ChangePasswordRequest): Promise<LoginResponse> {
  const res = await requestJson<LoginResponse>("/auth/password", {
    method: "POST",
    body: req,
    keepSessionOn: ["invalid_credentials"],
  });
  setSession(res.token, res.expires_at);
  return res;
}
