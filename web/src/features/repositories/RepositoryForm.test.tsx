import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aRepository, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub() {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role: "admin" })));
}

function runs(from: number, stepMs: number) {
  return Array.from({ length: 5 }, (_, i) => new Date(from + (i + 1) * stepMs).toISOString());
}

describe("the repository form", () => {
  it("previews the schedule, places refusals at their fields, and adds the repository", async () => {
    const created = aRepository({ name: "apps", auth_kind: "https", username: "bot", has_credential: true });
    const api = stub()
      .on("GET", "/schedules/preview", (call) =>
        call.query.get("cron") === "* * *"
          ? apiError(400, "bad_request", "expected 5 or 6 fields (sec min hour dom mon dow), got 3", "cron")
          : json({ schedule: { kind: "interval", interval: "10m" }, runs: runs(Date.now(), 600_000), min_interval: "30s", default_interval: "5m" }),
      )
      .on(
        "POST",
        "/repositories",
        apiError(422, "connection_failed", "connection test failed: authentication failed", "credentials"),
        json({ repository: created, webhook_secret: "whsec-123" }, 201),
      )
      .on("GET", `/repositories/${created.id}`, json(created))
      .on("GET", `/repositories/${created.id}/checks`, json(page([])));
    const { user } = renderApp("/repositories/new");

    await user.type(await screen.findByLabelText("Name"), "apps");
    await user.type(screen.getByLabelText("URL"), "http://git.example.com/apps.git");
    expect(screen.getByText(/http:\/\/ is not encrypted/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText("URL"));
    await user.type(screen.getByLabelText("URL"), "https://git.example.com/apps.git");

    await user.click(screen.getByRole("radio", { name: "Cron" }));
    await user.type(screen.getByLabelText("Cron expression"), "* * *");

    expect(await screen.findByText("expected 5 or 6 fields (sec min hour dom mon dow), got 3")).toBeInTheDocument();
    await user.click(screen.getByRole("radio", { name: "Every…" }));
    await user.type(screen.getByLabelText("Interval"), "10m");
    const list = await screen.findByRole("list", { name: "Next checks" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(5);
    expect(screen.getByLabelText("Interval")).toHaveAccessibleDescription(/at least 30s, default 5m/);

    await user.click(screen.getByRole("radio", { name: "HTTPS username + token" }));
    await user.type(screen.getByLabelText("Username"), "bot");
    await user.type(screen.getByLabelText("Token or password"), "t0ken");
    await user.click(screen.getByRole("checkbox", { name: "Skip TLS verification" }));
    expect(screen.getByText(/Insecure: any server can pretend to be this one/)).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: "Skip TLS verification" }));
    await user.click(screen.getByRole("button", { name: "Add repository" }));
    expect(await screen.findByText("connection test failed: authentication failed")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Add repository" }));
    expect(await screen.findByRole("heading", { name: "apps" })).toBeInTheDocument();
    expect(screen.getByLabelText("Webhook secret")).toHaveValue("whsec-123");
    expect(api.callsTo("POST", "/repositories")[1]?.body).toEqual({
      name: "apps",
      url: "https://git.example.com/apps.git",
      credentials: { kind: "https", username: "bot", token: "t0ken" },
      skip_tls_verify: false,
      schedule: { kind: "interval", interval: "10m" },
      paused: false,
    });
  }, 20_000);

  it("edits only what changed and replaces credentials only when asked", async () => {
    const repo = aRepository({ name: "apps", auth_kind: "ssh", has_credential: true, url: "git@git.example.com:team/apps.git", scheme: "ssh" });
    const api = stub()
      .on("GET", `/repositories/${repo.id}`, json(repo))
      .on("GET", `/repositories/${repo.id}/checks`, json(page([])))
      .on("GET", "/schedules/preview", json({ schedule: repo.schedule, runs: runs(Date.now(), 300_000), min_interval: "30s", default_interval: "5m" }))
      .on("PATCH", `/repositories/${repo.id}`, (call) => json({ ...repo, ...(call.body as object) }));
    const { user } = renderApp(`/repositories/${repo.id}/edit`);

    expect(await screen.findByText(/An SSH key is stored \(write-only\)/)).toBeInTheDocument();
    expect(screen.queryByLabelText("CA bundle")).not.toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: /Paused/ }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved apps.")).toBeInTheDocument();
    expect(api.callsTo("PATCH", `/repositories/${repo.id}`)[0]?.body).toEqual({ paused: true });
  });

  it("asks for the secrets of the chosen credential kind before calling the server", async () => {
    const api = stub().on("GET", "/schedules/preview", json({ schedule: {}, runs: [], min_interval: "30s", default_interval: "5m" }));
    const { user } = renderApp("/repositories/new");
    await user.type(await screen.findByLabelText("Name"), "apps");
    await user.type(screen.getByLabelText("URL"), "ssh://git@host/apps.git");
    await user.click(screen.getByRole("radio", { name: "SSH key" }));
    await user.click(screen.getByRole("button", { name: "Add repository" }));
    expect(screen.getByLabelText("Private key")).toHaveAccessibleDescription(/Give the private key./);
    expect(screen.getByLabelText("Known hosts")).toHaveAccessibleDescription(/Give the server's known_hosts line./);
    expect(api.callsTo("POST", "/repositories")).toHaveLength(0);
  });
});
