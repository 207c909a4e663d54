import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aDeployment, anObject, aRollout, page } from "../../test/fixtures";
import { aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub() {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role: "viewer" })));
}

describe("rollout and deployment pages", () => {
  it("follow a rollout live and show where a deployment failed", async () => {
    const running = aDeployment({ status: "running", finished_at: null, environment_name: "prod-eu" });
    const rollout = aRollout({ status: "running", finished_at: null, targets: [running], deployments: { total: 1, queued: 0, running: 1, succeeded: 0, failed: 0, superseded: 0 } });
    const failed = { ...running, rollout_id: rollout.id, status: "failed", error_phase: "apply", error: "ConfigMap shop/app: admission webhook denied", finished_at: new Date().toISOString() };
    const finished = { ...rollout, status: "failed", targets: [failed], deployments: { ...rollout.deployments, running: 0, failed: 1 } };
    const api = stub()
      .on("GET", `/rollouts/${rollout.id}`, json(rollout), json(finished))
      .on("GET", `/deployments/${running.id}/objects`, json(page([])), json(page([anObject(1, { name: "app", action: "failed", message: "admission webhook denied" })])));
    renderApp(`/rollouts/${rollout.id}`);
    const row = (await screen.findByRole("link", { name: "prod-eu" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("Running")).toBeInTheDocument();
    expect(within(row).getByText("0 so far")).toBeInTheDocument();

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("deployment.progress", { id: running.id, objects: [{ group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: "a", action: "created", message: null }] });
    expect(await within(row).findByText("1 so far")).toBeInTheDocument();
    api.events.send("deployment.finished", { id: running.id, rollout_id: rollout.id, status: "failed", error: failed.error });
    expect(await screen.findByRole("alert", {}, { timeout: 3000 })).toHaveTextContent("prod-eu failed while applying: ConfigMap shop/app: admission webhook denied");
    expect(screen.getByText(/1 of 1 deployments finished: 0 succeeded, 1 failed/)).toBeInTheDocument();
    expect(within(row).getByText("Failed")).toBeInTheDocument();
    // The failed deployment's objects are listed below, reloaded when it finished.
    const objects = screen.getByRole("region", { name: "Objects" });
    expect(await within(objects).findByText("admission webhook denied")).toBeInTheDocument();
  });

  it("filters a deployment's per-object results on the server", async () => {
    const dep = aDeployment({ status: "failed", error_phase: "apply", error: "1 object failed" });
    const all = [anObject(1), anObject(2, { kind: "Deployment", group: "apps", name: "web", action: "failed", message: "field is immutable" }), anObject(3, { action: "unchanged" })];
    const api = stub()
      .on("GET", `/deployments/${dep.id}`, json(dep))
      .on("GET", `/deployments/${dep.id}/objects`, (call) => {
        const action = call.query.get("action");
        const kind = call.query.get("kind");
        const search = call.query.get("search");
        return json(page(all.filter((o) => (!action || o.action === action) && (!kind || o.kind === kind) && (!search || o.name.includes(search)))));
      });
    const { user } = renderApp(`/deployments/${dep.id}`);
    expect(await screen.findByText("Failed while applying")).toBeInTheDocument();
    expect(screen.getByText("(phase: apply)")).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: /Per-object results/ });
    expect(within(table).getAllByRole("row")).toHaveLength(4);

    await user.selectOptions(screen.getByLabelText("Action"), "failed");
    await vi.waitFor(() => expect(within(screen.getByRole("table", { name: /Per-object results/ })).getAllByRole("row")).toHaveLength(2));
    expect(screen.getByText("field is immutable")).toBeInTheDocument();
    expect(api.callsTo("GET", `/deployments/${dep.id}/objects`).at(-1)?.query.get("action")).toBe("failed");

    await user.selectOptions(screen.getByLabelText("Action"), "");
    await user.type(screen.getByLabelText("Name"), "cm-3");
    await vi.waitFor(() => expect(api.callsTo("GET", `/deployments/${dep.id}/objects`).at(-1)?.query.get("search")).toBe("cm-3"));
    await vi.waitFor(() => expect(within(screen.getByRole("table", { name: /Per-object results/ })).getAllByRole("row")).toHaveLength(2));
    expect(screen.getByText("cm-3")).toBeInTheDocument();
  });
});
