import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { anEnvironment, aRepository, aStack, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub() {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role: "admin" })));
}

describe("the stack form", () => {
  it("picks a repository by search, previews a selector live, places refusals at their field, and creates the stack", async () => {
    const repo = aRepository({ name: "manifests" });
    const other = aRepository({ name: "legacy" });
    const prodEu = anEnvironment({ name: "prod-eu", tags: { env: "prod" } });
    const prodUs = anEnvironment({ name: "prod-us", tags: { env: "prod" } });
    const staging = anEnvironment({ name: "staging", tags: { env: "staging" } });
    const created = aStack({ name: "shop", repository_id: repo.id, repository_name: repo.name });
    const api = stub()
      .on("GET", "/repositories", (call) => json(page(call.query.get("search") === "mani" ? [repo] : [repo, other])))
      .on("GET", "/environments", (call) => {
        const selector = call.query.get("selector");
        if (selector === "env=") return apiError(400, "bad_request", "selector: expected a value after '='", "selector");
        if (selector === "env=prod") return json(page([prodEu, prodUs]));
        return json(page([prodEu, prodUs, staging]));
      })
      .on("POST", "/stacks", apiError(422, "validation", "\"../x\" is not a relative path inside the repository", "paths"), json(created, 201))
      .on("GET", `/stacks/${created.id}`, json(created))
      .on("GET", `/stacks/${created.id}/targets`, json([]));
    const { user } = renderApp("/stacks/new");

    await user.type(await screen.findByLabelText("Name"), "shop");
    await user.click(screen.getByRole("button", { name: "Create stack" }));
    expect(screen.getByLabelText("Repository")).toHaveAccessibleDescription(/Choose the repository holding the manifests./);
    expect(api.callsTo("POST", "/stacks")).toHaveLength(0);

    await user.type(screen.getByLabelText("Find a repository"), "mani");
    await vi.waitFor(() => expect(api.callsTo("GET", "/repositories").at(-1)?.query.get("search")).toBe("mani"));
    await screen.findByText("1 repository matches.");
    await user.selectOptions(screen.getByLabelText("Repository"), repo.id);

    await user.type(screen.getByLabelText("Paths"), "../x");
    await user.type(screen.getByLabelText("Tag selector"), "env=");
    expect(await screen.findByText("selector: expected a value after '='")).toBeInTheDocument();
    expect(screen.getByLabelText("Tag selector")).toHaveAttribute("aria-invalid", "true");
    await user.type(screen.getByLabelText("Tag selector"), "prod");
    const matches = await screen.findByRole("list", { name: "Environments matching the selector" });
    expect(within(matches).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["prod-eu", "prod-us"]);
    expect(screen.getByText("2 environments match:")).toBeInTheDocument();

    await user.click(await screen.findByRole("checkbox", { name: /staging/ }));
    expect(within(screen.getByRole("list", { name: "Picked environments" })).getByText("staging")).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: /Prune/ }));

    await user.click(screen.getByRole("button", { name: "Create stack" }));
    expect(await screen.findByText("\"../x\" is not a relative path inside the repository")).toBeInTheDocument();
    expect(screen.getByLabelText("Paths")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Paths")).toHaveFocus();

    await user.clear(screen.getByLabelText("Paths"));
    await user.type(screen.getByLabelText("Paths"), "deploy");
    await user.click(screen.getByRole("button", { name: "Create stack" }));
    expect(await screen.findByRole("heading", { name: "shop" })).toBeInTheDocument();
    expect(screen.getByText("Created shop.")).toBeInTheDocument();
    expect(api.callsTo("POST", "/stacks")[1]?.body).toEqual({
      name: "shop",
      repository_id: repo.id,
      ref: "main",
      paths: ["deploy"],
      watched_paths: [],
      renderer: "plain",
      environment_ids: [staging.id],
      selector: "env=prod",
      default_namespace: null,
      create_namespace: false,
      auto_deploy: true,
      prune: false,
      wait_for_health: true,
      health_timeout_seconds: 300,
      force_conflicts: false,
      paused: false,
    });
  }, 60_000);

  it("edits only what changed", async () => {
    const stack = aStack({ name: "shop", selector: "env=prod" });
    const api = stub()
      .on("GET", `/stacks/${stack.id}`, json(stack))
      .on("GET", `/stacks/${stack.id}/targets`, json([]))
      .on("GET", "/environments", json(page([])))
      .on("PATCH", `/stacks/${stack.id}`, (call) => json({ ...stack, ...(call.body as object) }));
    const { user } = renderApp(`/stacks/${stack.id}/edit`);
    const selector = await screen.findByLabelText("Tag selector");
    await user.clear(selector);
    await user.click(screen.getByRole("checkbox", { name: /Auto-deploy/ }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved shop.")).toBeInTheDocument();
    expect(api.callsTo("PATCH", `/stacks/${stack.id}`)[0]?.body).toEqual({ selector: null, auto_deploy: false });
  });
});
