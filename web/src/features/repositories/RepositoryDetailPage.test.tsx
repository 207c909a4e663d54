import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { aCheck, aRepository, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, noContent, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "operator" | "viewer") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("a repository's page", () => {
  it("checks now and shows the result as soon as the check is done", async () => {
    const repo = aRepository({ name: "apps" });
    const check = aCheck({ repository_id: repo.id, outcome: "unchanged" });
    const checked = { ...repo, status: { ...repo.status, last_outcome: "unchanged", last_check_at: new Date().toISOString(), last_check_duration_ms: 480 } };
    const api = stub("operator")
      .on("GET", `/repositories/${repo.id}`, json(repo), json(checked))
      .on("GET", `/repositories/${repo.id}/checks`, json(page([])), json(page([check])))
      .on("POST", `/repositories/${repo.id}/check`, json({ check_id: check.id }, 202))
      .on("GET", `/repositories/${repo.id}/checks/${check.id}`, json({ ...check, status: "running", outcome: null }), json(check));
    const { user } = renderApp(`/repositories/${repo.id}`);

    expect(await screen.findByText("No checks yet")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Check now" }));
    expect(await screen.findByText("Check finished: unchanged — 1 ref listed.", {}, { timeout: 4000 })).toBeInTheDocument();
    const history = screen.getByRole("region", { name: "Check history" });
    expect(await within(history).findByText("refs/heads/main")).toBeInTheDocument();
    expect(api.callsTo("POST", `/repositories/${repo.id}/check`)).toHaveLength(1);
  });

  it("shows webhook URLs per provider to everyone and the secret to admins only", async () => {
    const repo = aRepository({ name: "apps" });
    stub("viewer")
      .on("GET", `/repositories/${repo.id}`, json(repo))
      .on("GET", `/repositories/${repo.id}/checks`, json(page([])));
    const { user } = renderApp(`/repositories/${repo.id}`);

    const tabs = await screen.findByRole("tablist", { name: "Git host" });
    expect(screen.getByLabelText("Webhook URL")).toHaveValue(`${window.location.origin}/api/v1/webhooks/github`);
    within(tabs).getByRole("tab", { name: "GitHub" }).focus();
    await user.keyboard("{ArrowRight}");
    expect(within(tabs).getByRole("tab", { name: "GitLab" })).toHaveFocus();
    expect(within(tabs).getByRole("tab", { name: "GitLab" })).toHaveAttribute("aria-selected", "true");
    expect(screen.getByLabelText("Webhook URL")).toHaveValue(`${window.location.origin}/api/v1/webhooks/gitlab`);
    expect(screen.getByText(/Secret token: the webhook secret/)).toBeInTheDocument();
    await user.keyboard("{End}");
    expect(screen.getByLabelText("Webhook URL")).toHaveValue(`${window.location.origin}/api/v1/webhooks/generic`);

    expect(screen.getByText("Only admins can read the webhook secret.")).toBeInTheDocument();
    for (const name of ["Check now", "Pause", "Delete"]) expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
  });

  it("lets admins reveal and rotate the secret, pause, and delete with its stacks", async () => {
    const repo = aRepository({ name: "apps", stack_count: 2 });
    const api = stub("admin")
      .on("GET", `/repositories/${repo.id}`, json(repo))
      .on("GET", `/repositories/${repo.id}/checks`, json(page([])))
      .on("GET", `/repositories/${repo.id}/webhook-secret`, json({ webhook_secret: "old-secret" }))
      .on("POST", `/repositories/${repo.id}/webhook-secret`, json({ webhook_secret: "new-secret" }))
      .on("PATCH", `/repositories/${repo.id}`, json({ ...repo, paused: true }))
      .on("DELETE", `/repositories/${repo.id}`, apiError(409, "in_use", "the repository is used by 2 stack(s)"), noContent())
      .on("GET", "/repositories", json(page([])));
    const { user } = renderApp(`/repositories/${repo.id}`);

    await user.click(await screen.findByRole("button", { name: "Show webhook secret" }));
    expect(await screen.findByLabelText("Webhook secret")).toHaveValue("old-secret");
    await user.click(screen.getByRole("button", { name: "Rotate secret" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Rotate secret" }));
    await vi.waitFor(() => expect(screen.getByLabelText("Webhook secret")).toHaveValue("new-secret"));

    await user.click(screen.getByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(api.callsTo("PATCH", `/repositories/${repo.id}`)[0]?.body).toEqual({ paused: true });

    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete apps?" });
    expect(dialog).toHaveTextContent("2 stacks use this repository.");
    await user.click(within(dialog).getByRole("button", { name: "Delete repository" }));
    await user.click(await within(dialog).findByRole("button", { name: "Delete with its stacks" }));
    expect(await screen.findByText("Deleted apps.")).toBeInTheDocument();
    expect(api.callsTo("DELETE", `/repositories/${repo.id}`).map((c) => c.query.get("force"))).toEqual([null, "true"]);
  });

  it("reloads when a check of this repository finishes elsewhere", async () => {
    const repo = aRepository({ name: "apps" });
    const api = stub("viewer")
      .on("GET", `/repositories/${repo.id}`, json(repo))
      .on("GET", `/repositories/${repo.id}/checks`, json(page([])), json(page([aCheck({ outcome: "failed", error: "timed out", error_kind: "timeout" })])));
    renderApp(`/repositories/${repo.id}`);
    expect(await screen.findByText("No checks yet")).toBeInTheDocument();
    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("repository.checked", {
      id: repo.id,
      status: { ...repo.status, last_outcome: "failed", last_error: "timed out", last_error_kind: "timeout", consecutive_failures: 1 },
    });
    const history = screen.getByRole("region", { name: "Check history" });
    expect(await within(history).findByText("timed out")).toBeInTheDocument();
    expect(screen.getAllByText("Timed out").length).toBeGreaterThan(0);
  });
});
