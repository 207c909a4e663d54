import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aStack, page } from "../../test/fixtures";
import { aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "viewer" = "admin") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("the stacks list", () => {
  it("shows each stack's sync state over its targets and filters by state on the server", async () => {
    const shop = aStack({ name: "shop", sync_state: "failed", targets: { in_sync: 2, out_of_date: 0, deploying: 0, failed: 1, unknown: 0 } });
    const web = aStack({ name: "web", sync_state: "in_sync", paused: true, targets: { in_sync: 3, out_of_date: 0, deploying: 0, failed: 0, unknown: 0 } });
    const api = stub().on("GET", "/stacks", (call) => json(page(call.query.get("state") === "failed" ? [shop] : [shop, web], null)));
    const { user } = renderApp("/stacks");

    const row = (await screen.findByRole("link", { name: "shop" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("Failed")).toBeInTheDocument();
    expect(within(row).getByText("2 in sync · 1 failed")).toBeInTheDocument();
    const webRow = screen.getByRole("link", { name: "web" }).closest("tr");
    if (webRow === null) throw new Error("no row");
    expect(within(webRow).getByText("Paused")).toBeInTheDocument();
    expect(within(webRow).getByText("In sync")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /New stack/ })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Sync state"), "failed");
    await vi.waitFor(() => expect(screen.queryByRole("link", { name: "web" })).not.toBeInTheDocument());
    expect(api.callsTo("GET", "/stacks").at(-1)?.query.get("state")).toBe("failed");
    expect(screen.getByTestId("location")).toHaveTextContent("/stacks?state=failed");

    await user.type(screen.getByPlaceholderText("Search by name…"), "sho");
    await vi.waitFor(() => expect(api.callsTo("GET", "/stacks").at(-1)?.query.get("search")).toBe("sho"));
  });

  it("pages on the server and reloads when a deployment finishes; viewers cannot create", async () => {
    const first = aStack({ name: "alpha" });
    const second = aStack({ name: "beta" });
    const api = stub("viewer").on("GET", "/stacks", (call) =>
      json(call.query.get("cursor") === "c1" ? page([second]) : page([{ ...first, sync_state: api.callsTo("GET", "/stacks").length > 2 ? "deploying" : "in_sync" }], "c1")),
    );
    const { user } = renderApp("/stacks");
    await screen.findByRole("link", { name: "alpha" });
    expect(screen.queryByRole("link", { name: /New stack/ })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: /Load more/ }));
    expect(await screen.findByRole("link", { name: "beta" })).toBeInTheDocument();

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("deployment.finished", { id: "d", rollout_id: "r", stack_id: first.id, status: "succeeded" });
    await vi.waitFor(
      () => {
        const row = screen.getByRole("link", { name: "alpha" }).closest("tr");
        expect(row && within(row).queryByText("Deploying")).toBeInTheDocument();
      },
      { timeout: 3000 },
    );
  });
});
