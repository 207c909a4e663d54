import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { anOverview, page } from "../test/fixtures";
import { aUser, json, mockApi, noContent, signedIn } from "../test/mockApi";
import { renderApp } from "../test/render";

function stub(role: "admin" | "operator" | "viewer") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "0.9.0" }))
    .on("GET", "/auth/me", json(aUser({ username: "vic", role })))
    .on("GET", "/overview", json(anOverview()))
    .on("GET", "/environments", json(page([])))
    .on("GET", "/repositories", json(page([])));
}

describe("the app shell", () => {
  it("shows admins every page, and the server version in the sidebar", async () => {
    stub("admin");
    renderApp("/");
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((l) => l.textContent)).toEqual([
      "Overview",
      "Environments",
      "Repositories",
      "Stacks",
      "Users",
      "API tokens",
      "Audit log",
    ]);
    expect(await screen.findByText("Berth 0.9.0")).toBeInTheDocument();
  });

  it("hides admin-only pages from a viewer, and refuses them by URL", async () => {
    stub("viewer");
    renderApp("/admin/users");
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((l) => l.textContent)).toEqual(["Overview", "Environments", "Repositories", "Stacks", "API tokens"]);
    expect(screen.getByText("Not allowed")).toBeInTheDocument();
  });

  it("shows a 404 inside the app for unknown paths", async () => {
    stub("operator");
    renderApp("/nowhere");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(document.title).toBe("Page not found · Berth");
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
  });

  it("signs out from the user menu with the keyboard", async () => {
    const api = stub("operator").on("POST", "/auth/logout", noContent());
    const { user } = renderApp("/");
    const button = await screen.findByRole("button", { name: /vic/ });
    button.focus();
    await user.keyboard("{Enter}");
    expect(screen.getByRole("menuitem", { name: "Change password" })).toHaveFocus();
    await user.keyboard("{ArrowDown}{Enter}");
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(api.callsTo("POST", "/auth/logout")).toHaveLength(1);
    expect(localStorage.getItem("berth.session")).toBeNull();
  });

  it("changes the password, keeping the user signed in with the new session", async () => {
    const api = stub("viewer").on(
      "POST",
      "/auth/password",
      json({ token: "fresh", expires_at: new Date(Date.now() + 3600_000).toISOString(), user: aUser({ username: "vic", role: "viewer" }) }),
    );
    const { user } = renderApp("/");
    await user.click(await screen.findByRole("button", { name: /vic/ }));
    await user.click(screen.getByRole("menuitem", { name: "Change password" }));
    const dialog = screen.getByRole("dialog", { name: "Change password" });
    await user.type(within(dialog).getByLabelText("Current password"), "old-pass");
    await user.type(within(dialog).getByLabelText("New password"), "new-pass-1");
    await user.type(within(dialog).getByLabelText("Confirm new password"), "new-pass-1");
    await user.click(within(dialog).getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("dialog", { name: "Password changed" })).toBeInTheDocument();
    expect(api.callsTo("POST", "/auth/password")[0]?.body).toEqual({ current_password: "old-pass", new_password: "new-pass-1" });
    expect(localStorage.getItem("berth.session")).toContain("fresh");
  });
});
