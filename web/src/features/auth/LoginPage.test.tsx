import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

const future = () => new Date(Date.now() + 3600_000).toISOString();

function stubServer() {
  return mockApi()
    .on("GET", "/version", json({ version: "1.2.3" }))
    .on("GET", "/audit", json({ items: [], next_cursor: null }));
}

describe("signing in", () => {
  it("sends an anonymous visitor to the login page and back to the page they wanted", async () => {
    const api = stubServer().on("POST", "/auth/login", json({ token: "t1", expires_at: future(), user: aUser() }));
    const { user } = renderApp("/admin/audit?actor=bob");

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/login?next=%2Fadmin%2Faudit%3Factor%3Dbob");

    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password"), "s3cret");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "Audit log" })).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/admin/audit?actor=bob");
    expect(api.callsTo("POST", "/auth/login")[0]?.body).toEqual({ username: "ada", password: "s3cret" });
    await vi.waitFor(() => expect(api.callsTo("GET", "/audit")[0]?.headers.get("Authorization")).toBe("Bearer t1"));
  });

  it("shows a wrong password at the form and stays on the login page", async () => {
    stubServer().on("POST", "/auth/login", apiError(401, "invalid_credentials", "invalid username or password"));
    const { user } = renderApp("/login");

    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong username or password.");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    expect(screen.getByTestId("location")).toHaveTextContent("/login");
  });

  it("explains rate limiting with the wait from Retry-After", async () => {
    stubServer().on("POST", "/auth/login", apiError(429, "rate_limited", "too many attempts", null, { "Retry-After": "120" }));
    const { user } = renderApp("/login");

    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password"), "pw");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Try again in 2 minutes.");
  });

  it("asks for both fields before calling the server", async () => {
    const api = stubServer();
    const { user } = renderApp("/login");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByLabelText("Username")).toHaveAccessibleDescription("Enter your username.");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("Enter your password.");
    expect(api.callsTo("POST", "/auth/login")).toHaveLength(0);
  });

  it("returns to login when the session is rejected, then back to the same page", async () => {
    signedIn("stale");
    stubServer()
      .on("GET", "/auth/me", json(aUser()))
      .on("GET", "/tokens", apiError(401, "unauthorized", "session expired"), json({ items: [], next_cursor: null }))
      .on("POST", "/auth/login", json({ token: "fresh", expires_at: future(), user: aUser() }));
    const { user } = renderApp("/admin/tokens");

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Your session has ended");
    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password"), "pw");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    const heading = await screen.findByRole("heading", { name: "API tokens" });
    expect(heading).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/admin/tokens");
    expect(await screen.findByText("No API tokens yet")).toBeInTheDocument();
  });
});
