import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockApi, signedIn } from "../test/mockApi";
import { changePassword, login } from "./auth";
import { buildUrl, onUnauthorized, requestJson } from "./client";
import { ApiError, describeError } from "./errors";
import { getToken } from "./session";

let unregister: (() => void) | null = null;
afterEach(() => {
  unregister?.();
  unregister = null;
});

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected the request to fail");
}

describe("the API client", () => {
  it("sends the bearer token to paths under /api/v1 and drops empty query values", async () => {
    signedIn("tok-1");
    const api = mockApi().on("GET", "/users", json({ items: [], next_cursor: null }));
    await requestJson("/users", { query: { limit: 10, search: "", role: undefined, disabled: false } });
    const [call] = api.calls;
    expect(call?.path).toBe("/api/v1/users");
    expect(call?.headers.get("Authorization")).toBe("Bearer tok-1");
    expect(call?.query.toString()).toBe("limit=10&disabled=false");
    expect(buildUrl("/x", { a: null })).toBe("/api/v1/x");
  });

  it("parses the JSON error shape into a typed error with its field", async () => {
    mockApi().on("POST", "/users", apiError(409, "conflict", "username is taken", "username"));
    const err = await failure(requestJson("/users", { method: "POST", body: {} }));
    expect(err).toMatchObject({ status: 409, code: "conflict", field: "username", message: "username is taken" });
  });

  it("turns a non-JSON error body into a generic error with the status", async () => {
    mockApi().on("GET", "/version", new Response("<html>bad gateway</html>", { status: 502 }));
    const err = await failure(requestJson("/version", { auth: false }));
    expect(err.status).toBe(502);
    expect(err.code).toBe("http_502");
    expect(err.field).toBeNull();
  });

  it("reads Retry-After from a 429 into the message", async () => {
    mockApi().on("POST", "/auth/login", apiError(429, "rate_limited", "slow down", null, { "Retry-After": "30" }));
    const err = await failure(login({ username: "a", password: "b" }));
    expect(err.retryAfterSeconds).toBe(30);
    expect(describeError(err)).toBe("Too many attempts. Try again in 30 seconds.");
  });

  it("reports a network failure as an ApiError with status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    const err = await failure(requestJson("/auth/me"));
    expect(err.status).toBe(0);
    expect(err.code).toBe("network");
  });

  it("forgets the session and calls the unauthorized handler on a 401", async () => {
    signedIn();
    const handler = vi.fn();
    unregister = onUnauthorized(handler);
    mockApi().on("GET", "/auth/me", apiError(401, "unauthorized", "session expired"));
    await failure(requestJson("/auth/me"));
    expect(handler).toHaveBeenCalledOnce();
    expect(getToken()).toBeNull();
  });

  it("keeps the session when a wrong current password is answered with 401", async () => {
    signedIn();
    const handler = vi.fn();
    unregister = onUnauthorized(handler);
    mockApi().on("POST", "/auth/password", apiError(401, "invalid_credentials", "wrong password"));
    const err = await failure(changePassword({ current_password: "x", new_password: "y" }));
    expect(err.code).toBe("invalid_credentials");
    expect(handler).not.toHaveBeenCalled();
    expect(getToken()).toBe("session-token");
  });

  it("does not treat a failed login as an expired session", async () => {
    const handler = vi.fn();
    unregister = onUnauthorized(handler);
    const api = mockApi().on("POST", "/auth/login", apiError(401, "invalid_credentials", "nope"));
    await failure(login({ username: "a", password: "b" }));
    expect(handler).not.toHaveBeenCalled();
    expect(api.calls[0]?.headers.has("Authorization")).toBe(false);
  });

  it("stores the fresh session returned by a password change", async () => {
    signedIn("old");
    mockApi().on(
      "POST",
      "/auth/password",
      json({ token: "new", expires_at: new Date(Date.now() + 60_000).toISOString(), user: { id: "1" } }),
    );
    await changePassword({ current_password: "a", new_password: "b" });
    expect(getToken()).toBe("new");
  });
});
