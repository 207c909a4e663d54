import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { anEnvironment, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "operator" | "viewer" = "admin") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("the environments list", () => {
  it("sends search, status and tag selector to the server, keeps them in the URL, and pages on", async () => {
    const prod = anEnvironment({ name: "prod-eu", tags: { env: "prod", region: "eu" } });
    const more = anEnvironment({ name: "prod-us", status: "down", last_error: "connection refused" });
    const api = stub().on("GET", "/environments", (call) =>
      call.query.get("cursor") === "n2" ? json(page([more])) : json(page([prod], call.query.get("selector") ? "n2" : null)),
    );
    const { user } = renderApp("/environments");

    expect(await screen.findByRole("link", { name: "prod-eu" })).toBeInTheDocument();
    expect(screen.getByText("env=prod")).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Status"), "up");
    await user.type(screen.getByLabelText("Tag selector"), "env=prod,region in (eu)");
    await user.type(screen.getByRole("searchbox", { name: "Search by name" }), "prod");
    // Filters apply after a pause in typing: wait for the request with all three.
    await vi.waitFor(() => expect(api.callsTo("GET", "/environments").at(-1)?.query.get("search")).toBe("prod"));
    await user.click(await screen.findByRole("button", { name: "Load more" }));

    expect(await screen.findByRole("link", { name: "prod-us" })).toBeInTheDocument();
    expect(screen.getByText("connection refused")).toBeInTheDocument();
    const last = api.callsTo("GET", "/environments").at(-1);
    expect(last?.query.get("status")).toBe("up");
    expect(last?.query.get("selector")).toBe("env=prod,region in (eu)");
    expect(last?.query.get("search")).toBe("prod");
    expect(last?.query.get("cursor")).toBe("n2");
    expect(screen.getByTestId("location")).toHaveTextContent("/environments?status=up&selector=env%3Dprod%2Cregion+in+%28eu%29&q=prod");
  });

  it("shows an invalid tag selector at the selector field", async () => {
    stub().on("GET", "/environments", (call) =>
      call.query.get("selector") ? apiError(400, "bad_request", "unexpected ')' at 5", "selector") : json(page([anEnvironment()])),
    );
    const { user } = renderApp("/environments");
    await screen.findByRole("table");
    await user.type(screen.getByLabelText("Tag selector"), "env=)");
    expect(await screen.findByText("unexpected ')' at 5")).toBeInTheDocument();
    expect(screen.getByLabelText("Tag selector")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("The tag selector is not valid")).toBeInTheDocument();
  });

  it("updates statuses live, removes deleted ones and offers to show new ones", async () => {
    const a = anEnvironment({ name: "alpha" });
    const b = anEnvironment({ name: "beta" });
    const api = stub("viewer").on("GET", "/environments", json(page([a, b])), json(page([a, b, anEnvironment({ name: "gamma" })])));
    const { user } = renderApp("/environments");
    const row = (await screen.findByRole("link", { name: "alpha" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("Up")).toBeInTheDocument();

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("environment.status", { id: a.id, name: "alpha", status: "down", last_error: "dial tcp: refused", node_count: null });
    expect(await within(row).findByText("Down")).toBeInTheDocument();
    expect(within(row).getByText("dial tcp: refused")).toBeInTheDocument();

    api.events.send("environment.deleted", { id: b.id, name: "beta" });
    await screen.findByText("1 environment");
    expect(screen.queryByRole("link", { name: "beta" })).not.toBeInTheDocument();

    api.events.send("environment.created", { id: "x", name: "gamma", status: "up" });
    await user.click(await screen.findByRole("button", { name: "Show" }));
    expect(await screen.findByRole("link", { name: "gamma" })).toBeInTheDocument();
  });

  it("shows viewers no register button, and admins one", async () => {
    stub("viewer").on("GET", "/environments", json(page([])));
    renderApp("/environments");
    expect(await screen.findByText("No environments yet")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /Register/ })).not.toBeInTheDocument();
    expect(screen.getByText("An admin registers clusters here.")).toBeInTheDocument();
  });
});
