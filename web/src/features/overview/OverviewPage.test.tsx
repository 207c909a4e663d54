import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { anEnvironment, anOverview, aRepository, aRollout, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "viewer" = "viewer") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("the overview", () => {
  it("counts environments by status, lists those needing attention and failing repositories, and follows live events", async () => {
    const down = anEnvironment({ name: "edge-1", status: "down", last_error: "i/o timeout" });
    const failing = aRepository({ name: "legacy", status: { ...aRepository().status, last_outcome: "failed", last_error_kind: "authentication", consecutive_failures: 4, last_error: "401" } });
    const api = stub()
      .on(
        "GET",
        "/overview",
        json(anOverview({ environments: { total: 12, up: 10, down: 1, unauthorized: 0, unknown: 1, certificates_expiring: 2 }, repositories: { total: 5, failing: 1, paused: 1 } })),
        json(anOverview({ environments: { total: 12, up: 11, down: 0, unknown: 1 }, repositories: { total: 5, failing: 1, paused: 1 } })),
      )
      .on("GET", "/environments", (call) => json(page(call.query.get("status") === "down" ? [down] : [])))
      .on("GET", "/repositories", json(page([failing])))
      .on("GET", "/rollouts", json(page([])));
    renderApp("/");

    const envs = await screen.findByRole("region", { name: "Environments" });
    expect(within(envs).getByRole("link", { name: "10 Up" })).toHaveAttribute("href", "/environments?status=up");
    expect(within(envs).getByRole("link", { name: "1 Down" })).toBeInTheDocument();
    expect(within(envs).getByText(/2 client certificate\(s\) expiring/)).toBeInTheDocument();
    expect(within(envs).getByRole("link", { name: "edge-1" })).toBeInTheDocument();
    expect(within(envs).getByText("i/o timeout")).toBeInTheDocument();
    const repos = screen.getByRole("region", { name: "Repositories" });
    expect(within(repos).getByRole("link", { name: "1 Failing" })).toHaveAttribute("href", "/repositories?health=failing");
    expect(within(repos).getByRole("link", { name: "legacy" })).toBeInTheDocument();
    expect(within(repos).getByText(/Authentication failed · 4 in a row/)).toBeInTheDocument();
    expect(api.callsTo("GET", "/repositories")[0]?.query.get("failing")).toBe("true");
    expect(api.callsTo("GET", "/environments")[0]?.query.get("limit")).toBe("8");

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("environment.status", { id: down.id, status: "up" });
    api.events.send("environment.status", { id: down.id, status: "up" });
    expect(await within(envs).findByRole("link", { name: "11 Up" }, { timeout: 3000 })).toBeInTheDocument();
    expect(api.callsTo("GET", "/overview")).toHaveLength(2);
  });

  it("guides admins through the first steps on an empty fleet", async () => {
    stub("admin").on("GET", "/overview", json(anOverview())).on("GET", "/environments", json(page([]))).on("GET", "/repositories", json(page([]))).on("GET", "/rollouts", json(page([])));
    renderApp("/");
    expect(await screen.findByRole("link", { name: "Register an environment" })).toHaveAttribute("href", "/environments/new");
    expect(screen.getByRole("link", { name: "Add a repository" })).toHaveAttribute("href", "/repositories/new");
    expect(screen.getByRole("link", { name: "Create a stack" })).toHaveAttribute("href", "/stacks/new");
  });

  it("shows a failure with a way to retry instead of a blank page", async () => {
    stub()
      .on("GET", "/overview", apiError(503, "unavailable", "database unreachable"), json(anOverview()))
      .on("GET", "/environments", json(page([])))
      .on("GET", "/repositories", json(page([])))
      .on("GET", "/rollouts", json(page([])));
    const { user } = renderApp("/");
    expect(await screen.findByText("database unreachable")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("region", { name: "Environments" })).toBeInTheDocument();
  });

  it("counts stacks by sync state and lists rollouts in progress and recent failures", async () => {
    const running = aRollout({ stack_name: "shop", status: "running", finished_at: null });
    const failed = aRollout({ stack_name: "billing", status: "failed" });
    const partial = aRollout({ stack_name: "web", status: "partial", created_at: new Date(Date.now() - 3600_000).toISOString() });
    const api = stub()
      .on("GET", "/overview", json(anOverview({ stacks: { total: 9, in_sync: 5, out_of_date: 1, deploying: 1, failed: 2, paused: 1 }, rollouts: { in_progress: 1, failed_last_day: 2 } })))
      .on("GET", "/environments", json(page([])))
      .on("GET", "/repositories", json(page([])))
      .on("GET", "/rollouts", (call) => json(page(call.query.get("active") === "true" ? [running] : call.query.get("status") === "failed" ? [failed] : [partial])));
    renderApp("/");
    const stacks = await screen.findByRole("region", { name: "Stacks" });
    expect(within(stacks).getByRole("link", { name: "5 In sync" })).toHaveAttribute("href", "/stacks?state=in_sync");
    expect(within(stacks).getByRole("link", { name: "2 Failed" })).toHaveAttribute("href", "/stacks?state=failed");
    expect(within(stacks).getByText(/1 rollout in progress · 2 failed in the last 24 hours/)).toBeInTheDocument();
    expect(within(stacks).getByRole("link", { name: "shop" })).toHaveAttribute("href", `/rollouts/${running.id}`);
    const failures = within(stacks).getAllByRole("list").at(-1);
    if (failures === undefined) throw new Error("no failures list");
    expect(within(failures).getAllByRole("link").map((l) => l.textContent)).toEqual(["billing", "web"]);
    expect(api.callsTo("GET", "/rollouts").map((c) => c.query.get("limit"))).toEqual(["8", "8", "8"]);
  });
});
