import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aRollout, aStack, aTarget, aDeployment, COMMIT_A, COMMIT_B, page } from "../../test/fixtures";
import { aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";
import type { Role } from "../../api/types";

function stub(role: Role) {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("a stack's page", () => {
  const stack = aStack({ name: "shop", rollback_hold_commit: COMMIT_A, deployed_commit: COMMIT_B });
  const failing = aTarget(stack, { environment_name: "prod-us", state: "failed", last_deployment_status: "failed", last_error: "ConfigMap shop/app: forbidden" });
  const good = aTarget(stack, { environment_name: "prod-eu" });

  it("shows viewers the targets and history but no action", async () => {
    stub("viewer")
      .on("GET", `/stacks/${stack.id}`, json(stack))
      .on("GET", `/stacks/${stack.id}/targets`, json([good, failing]))
      .on("GET", "/rollouts", json(page([aRollout({ stack_id: stack.id, commit: COMMIT_A })])));
    const { user } = renderApp(`/stacks/${stack.id}`);
    const row = (await screen.findByRole("link", { name: "prod-us" })).closest("tr");
    if (row === null) throw new Error("no row");
    expect(within(row).getByText("ConfigMap shop/app: forbidden")).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: /deployment to prod-us/ })).toHaveAttribute("href", `/deployments/${failing.last_deployment_id}`);
    expect(screen.getByText(/Auto-deploy paused after rollback/)).toHaveTextContent("or an operator resumes the stack.");
    for (const name of ["Deploy…", "Redeploy", "Resume", "Pause", "Delete"]) expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    for (const name of ["Edit", "Preview"]) expect(screen.queryByRole("link", { name })).not.toBeInTheDocument();

    await user.click(screen.getByRole("tab", { name: "History" }));
    expect(await screen.findByText("Succeeded")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Roll back/ })).not.toBeInTheDocument();
  });

  it("lets operators deploy, resume and roll back, but not edit or delete", async () => {
    const earlier = aRollout({ stack_id: stack.id, commit: COMMIT_A, status: "succeeded" });
    const current = aRollout({ stack_id: stack.id, commit: COMMIT_B, status: "succeeded" });
    const dep = aDeployment({ rollout_id: earlier.id });
    const rollback = aRollout({ stack_id: stack.id, commit: COMMIT_A, trigger: "rollback", status: "running" });
    const api = stub("operator")
      .on("GET", `/stacks/${stack.id}`, json(stack))
      .on("GET", `/stacks/${stack.id}/targets`, json([good]))
      .on("GET", "/rollouts", json(page([current, earlier])))
      .on("GET", "/deployments", json(page([dep])))
      .on("POST", `/stacks/${stack.id}/rollback`, json({ rollout_id: rollback.id }, 202))
      .on("GET", `/rollouts/${rollback.id}`, json(rollback));
    const { user } = renderApp(`/stacks/${stack.id}`);
    await screen.findByRole("link", { name: "prod-eu" });
    expect(screen.getByRole("button", { name: "Deploy…" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Resume" })).toBeEnabled();
    expect(screen.getByRole("link", { name: "Preview" })).toHaveAttribute("href", `/stacks/${stack.id}/preview`);
    expect(screen.queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
    expect(screen.getByText(/Auto-deploy paused after rollback/)).toHaveTextContent("or you resume the stack.");

    await user.click(screen.getByRole("tab", { name: "History" }));
    // Only the earlier commit can be rolled back to: the current one is deployed.
    const buttons = await screen.findAllByRole("button", { name: /Roll back to/ });
    expect(buttons).toHaveLength(1);
    const [only] = buttons;
    if (only === undefined) throw new Error("no rollback button");
    expect(only).toHaveTextContent(`Roll back to ${COMMIT_A.slice(0, 7)}`);
    await user.click(only);
    const dialog = await screen.findByRole("dialog", { name: "Roll back shop" });
    await user.click(within(dialog).getByRole("button", { name: "Roll back" }));
    expect(await screen.findByRole("heading", { name: "Rollout of shop" })).toBeInTheDocument();
    expect(api.callsTo("GET", "/deployments")[0]?.query.get("rollout_id")).toBe(earlier.id);
    expect(api.callsTo("POST", `/stacks/${stack.id}/rollback`)[0]?.body).toEqual({ deployment_id: dep.id });
  });

  it("gives admins edit and delete, and deleting can remove the objects", async () => {
    const removal = aRollout({ stack_id: stack.id, trigger: "removal", status: "running" });
    const api = stub("admin")
      .on("GET", `/stacks/${stack.id}`, json(stack))
      .on("GET", `/stacks/${stack.id}/targets`, json([good]))
      .on("DELETE", `/stacks/${stack.id}`, json({ removal_rollout_id: removal.id }, 202))
      .on("GET", `/rollouts/${removal.id}`, json(removal));
    const { user } = renderApp(`/stacks/${stack.id}`);
    await screen.findByRole("link", { name: "prod-eu" });
    expect(screen.getByRole("link", { name: "Edit" })).toHaveAttribute("href", `/stacks/${stack.id}/edit`);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete shop?" });
    await user.click(within(dialog).getByRole("checkbox", { name: /Also delete its objects/ }));
    await user.click(within(dialog).getByRole("button", { name: "Delete stack and objects" }));
    expect(await screen.findByText(/Removing the objects of shop/)).toBeInTheDocument();
    expect(api.callsTo("DELETE", `/stacks/${stack.id}`)[0]?.query.get("remove_objects")).toBe("true");
    await vi.waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(`/rollouts/${removal.id}`));
  });
});
