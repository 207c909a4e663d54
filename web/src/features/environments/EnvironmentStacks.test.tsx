import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aDeployment, anEnvironment, aStack, aTarget, page } from "../../test/fixtures";
import { aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

describe("an environment's stacks and deployment history", () => {
  it("lists the stacks targeting it with their state there, and its deployments, reloading as one finishes", async () => {
    const env = anEnvironment({ name: "prod-eu" });
    const shop = aStack({ name: "shop" });
    const target = aTarget(shop, { environment_id: env.id, environment_name: env.name, state: "failed", last_error: "ConfigMap shop/app: forbidden", last_deployment_status: "failed" });
    const old = aDeployment({ stack_name: "shop", stack_id: shop.id, environment_id: env.id, status: "failed", error_phase: "apply", error: "forbidden" });
    const fresh = aDeployment({ stack_name: "shop", stack_id: shop.id, environment_id: env.id, status: "succeeded" });
    signedIn();
    const api = mockApi()
      .on("GET", "/version", json({ version: "1.0.0" }))
      .on("GET", "/auth/me", json(aUser({ role: "viewer" })))
      .on("GET", `/environments/${env.id}`, json(env))
      .on("GET", `/environments/${env.id}/stacks`, json([target]), json([{ ...target, state: "in_sync", last_deployment_status: "succeeded", last_error: null }]))
      .on("GET", "/deployments", json(page([old])), json(page([fresh, old])));
    renderApp(`/environments/${env.id}`);

    const stacks = await screen.findByRole("region", { name: "Stacks targeting it" });
    const row = (await within(stacks).findByRole("link", { name: "shop" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getAllByText("Failed")).toHaveLength(2);
    expect(within(row).getByText("ConfigMap shop/app: forbidden")).toBeInTheDocument();

    const history = screen.getByRole("region", { name: "Deployment history" });
    expect(await within(history).findByText("While applying: forbidden")).toBeInTheDocument();
    expect(api.callsTo("GET", "/deployments")[0]?.query.get("environment_id")).toBe(env.id);

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("deployment.finished", { id: fresh.id, rollout_id: fresh.rollout_id, stack_id: shop.id, environment_id: env.id, status: "succeeded" });
    await vi.waitFor(() => expect(within(history).getAllByRole("row")).toHaveLength(3), { timeout: 3000 });
    await vi.waitFor(() => expect(within(row).getByText("In sync")).toBeInTheDocument());
    expect(within(row).queryByText("ConfigMap shop/app: forbidden")).not.toBeInTheDocument();
  });
});
