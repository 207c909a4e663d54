import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { anEnvironment, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, noContent, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

function stub(role: "admin" | "operator" | "viewer") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

const soon = new Date(Date.now() + 5 * 86_400_000).toISOString();

describe("an environment's page", () => {
  it("shows version, nodes, permissions, TLS facts and an expiring certificate, with no actions for viewers", async () => {
    const env = anEnvironment({
      name: "edge",
      auth_kind: "client_certificate",
      insecure_skip_tls_verify: true,
      ca_fingerprint: null,
      client_certificate_expires_at: soon,
      client_certificate_expiring: true,
      permissions: { level: "namespaced", namespace: "apps", can_list_nodes: false },
      node_count: null,
      tags: { env: "edge" },
    });
    stub("viewer").on("GET", `/environments/${env.id}`, json(env));
    renderApp(`/environments/${env.id}`);

    expect(await screen.findByRole("heading", { name: "edge" })).toBeInTheDocument();
    expect(screen.getByText("v1.33.1")).toBeInTheDocument();
    expect(screen.getByText("not permitted to list nodes")).toBeInTheDocument();
    expect(screen.getByText("Namespaced (edit)")).toBeInTheDocument();
    expect(screen.getAllByText("Client certificate")).toHaveLength(2);
    expect(screen.getByText(/Not verified: the server's certificate is accepted blindly/)).toBeInTheDocument();
    expect(screen.getByText("none (system trust store)")).toBeInTheDocument();
    expect(screen.getByText(/The client certificate expires within 30 days/)).toHaveTextContent("Ask an admin to rotate the kubeconfig.");
    for (const name of ["Probe now", "Edit", "Rotate kubeconfig", "Delete"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
  });

  it("lets operators probe, and shows the new status live", async () => {
    const env = anEnvironment({ name: "core" });
    const api = stub("operator")
      .on("GET", `/environments/${env.id}`, json(env))
      .on("POST", `/environments/${env.id}/probe`, json({ ...env, probe_latency_ms: 7 }));
    const { user } = renderApp(`/environments/${env.id}`);

    await user.click(await screen.findByRole("button", { name: "Probe now" }));
    expect(await screen.findByText("Probed core: up.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();

    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.send("environment.status", { id: env.id, status: "unauthorized", last_error: "401 Unauthorized" });
    expect(await screen.findByText("401 Unauthorized")).toBeInTheDocument();
    expect(screen.getAllByText("Unauthorized").length).toBeGreaterThan(0);
  });

  it("edits name and tags, sending only what changed", async () => {
    const env = anEnvironment({ name: "core", tags: { env: "dev" } });
    const api = stub("admin")
      .on("GET", `/environments/${env.id}`, json(env))
      .on("PATCH", `/environments/${env.id}`, apiError(409, "conflict", "name is already taken", "name"), json({ ...env, name: "core-2", tags: { env: "prod" } }));
    const { user } = renderApp(`/environments/${env.id}`);

    await user.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = screen.getByRole("dialog", { name: "Edit core" });
    await user.clear(within(dialog).getByLabelText("Name"));
    await user.type(within(dialog).getByLabelText("Name"), "core-2");
    await user.clear(within(dialog).getByLabelText("Tags"));
    await user.type(within(dialog).getByLabelText("Tags"), "env=prod");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByText("name is already taken")).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved core-2.")).toBeInTheDocument();
    expect(api.callsTo("PATCH", `/environments/${env.id}`)[1]?.body).toEqual({ name: "core-2", tags: { env: "prod" } });
  });

  it("rotates the kubeconfig, keeping the dialog open with the refusal when the new one fails", async () => {
    const env = anEnvironment({ name: "core", credential_version: 1 });
    const api = stub("admin")
      .on("GET", `/environments/${env.id}`, json(env))
      .on(
        "PUT",
        `/environments/${env.id}/kubeconfig`,
        apiError(422, "cluster_unauthorized", "the API server refused the credentials", "kubeconfig.users[u].user"),
        json({ ...env, credential_version: 2 }),
      );
    const { user } = renderApp(`/environments/${env.id}`);

    await user.click(await screen.findByRole("button", { name: "Rotate kubeconfig" }));
    const dialog = screen.getByRole("dialog", { name: "Rotate the kubeconfig of core" });
    await user.click(within(dialog).getByLabelText("New kubeconfig"));
    await user.paste("apiVersion: v1\nkind: Config\n");
    await user.click(within(dialog).getByRole("button", { name: "Replace credentials" }));
    expect(await within(dialog).findByText("the API server refused the credentials (at users[u].user)")).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Replace credentials" }));

    expect(await screen.findByText("New credentials for core are in use.")).toBeInTheDocument();
    expect(screen.getByText("version 2")).toBeInTheDocument();
    expect(api.callsTo("PUT", `/environments/${env.id}/kubeconfig`)[0]?.body).toEqual({ kubeconfig: "apiVersion: v1\nkind: Config\n", verify: true });
  });

  it("deletes after confirmation, offering force when stacks target it", async () => {
    const env = anEnvironment({ name: "old" });
    const api = stub("admin")
      .on("GET", `/environments/${env.id}`, json(env))
      .on("GET", "/environments", json(page([])))
      .on("DELETE", `/environments/${env.id}`, apiError(409, "in_use", "stacks target this environment"), noContent());
    const { user } = renderApp(`/environments/${env.id}`);

    await user.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete old?" });
    expect(dialog).toHaveTextContent("Nothing in the cluster is changed or removed");
    await user.click(within(dialog).getByRole("button", { name: "Delete environment" }));
    expect(await within(dialog).findByText(/stacks target this environment/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Delete anyway" }));

    expect(await screen.findByText("Deleted old.")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/environments");
    const calls = api.callsTo("DELETE", `/environments/${env.id}`);
    expect(calls.map((c) => c.query.get("force"))).toEqual([null, "true"]);
  });

  it("shows a failed load with a way to retry", async () => {
    const env = anEnvironment({ name: "flaky" });
    stub("viewer").on("GET", `/environments/${env.id}`, apiError(500, "internal", "internal error"), json(env));
    const { user } = renderApp(`/environments/${env.id}`);
    expect(await screen.findByText("Could not load this environment")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "flaky" })).toBeInTheDocument();
  });
});
