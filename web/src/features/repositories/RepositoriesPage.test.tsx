import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aRepository, page } from "../../test/fixtures";
import { aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "viewer" = "admin") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("the repositories list", () => {
  it("shows check health, flags insecure sources, and filters failing ones on the server", async () => {
    const ok = aRepository({ name: "apps", status: { ...aRepository().status, last_outcome: "unchanged", last_check_at: new Date().toISOString(), last_check_duration_ms: 320 } });
    const bad = aRepository({
      name: "legacy",
      url: "http://git.internal/legacy.git",
      scheme: "http",
      insecure_url: true,
      skip_tls_verify: false,
      status: { ...aRepository().status, last_outcome: "failed", last_error: "authentication failed for bot", last_error_kind: "authentication", consecutive_failures: 3 },
    });
    const api = stub().on("GET", "/repositories", (call) => json(page(call.query.get("failing") === "true" ? [bad] : [ok, bad])));
    const { user } = renderApp("/repositories");

    const row = (await screen.findByRole("link", { name: "legacy" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("Authentication failed")).toBeInTheDocument();
    expect(within(row).getByText("3 failures in a row")).toBeInTheDocument();
    expect(within(row).getByText("Unencrypted http://")).toBeInTheDocument();
    expect(within(row).getByText("authentication failed for bot")).toBeInTheDocument();
    expect(screen.getByText("320 ms", { exact: false })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Health"), "failing");
    await vi.waitFor(() => expect(screen.queryByRole("link", { name: "apps" })).not.toBeInTheDocument());
    expect(api.callsTo("GET", "/repositories").at(-1)?.query.get("failing")).toBe("true");
    expect(screen.getByTestId("location")).toHaveTextContent("/repositories?health=failing");
  });

  it("updates a row when a check finishes", async () => {
    const repo = aRepository({ name: "apps" });
    const api = stub("viewer").on("GET", "/repositories", json(page([repo])));
    renderApp("/repositories");
    const row = (await screen.findByRole("link", { name: "apps" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("Not checked yet")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /Add repository/ })).not.toBeInTheDocument();

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("repository.checked", {
      id: repo.id,
      outcome: "failed",
      status: { ...repo.status, last_outcome: "failed", last_error: "repository not found", last_error_kind: "not_found", consecutive_failures: 1 },
    });
    expect(await within(row).findByText("Repository not found")).toBeInTheDocument();
    expect(within(row).getByText("repository not found")).toBeInTheDocument();
  });
});
