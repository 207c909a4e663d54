import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { anEnvironment, page } from "../../test/fixtures";
import { aUser, apiError, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

const twoContexts = `apiVersion: v1
kind: Config
current-context: prod-admin
clusters:
- name: prod
  cluster: {server: "https://prod.example.com:6443", certificate-authority-data: "AAAA"}
contexts:
- name: prod-admin
  context: {cluster: prod, user: admin}
- name: Prod_View
  context: {cluster: prod, user: view, namespace: apps}
users:
- name: admin
  user: {token: secret-admin-token}
- name: view
  user: {token: secret-view-token}
`;

function stub(role: "admin" | "viewer" = "admin") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("registering an environment", () => {
  it("reads the contexts of a chosen file and registers the ticked ones, showing a refusal at its row", async () => {
    const created = [anEnvironment({ name: "prod-admin" }), anEnvironment({ name: "prod_view" })];
    const api = stub()
      .on("POST", "/environments", apiError(409, "conflict", "name is already taken", "environments[1].name"), json({ items: created }, 201))
      .on("GET", "/environments", json(page(created)));
    const { user } = renderApp("/environments/new");

    const file = new File([twoContexts], "prod.yaml", { type: "application/yaml" });
    await user.upload(await screen.findByLabelText("Choose a kubeconfig file"), file);
    expect(await screen.findByText("Read from prod.yaml.")).toBeInTheDocument();
    const contexts = screen.getByRole("group", { name: "Contexts" });
    expect(within(contexts).getByRole("checkbox", { name: /prod-admin/ })).toBeChecked();
    await user.click(within(contexts).getByRole("checkbox", { name: /Prod_View/ }));
    expect(within(contexts).getByLabelText("Environment name for Prod_View")).toHaveValue("prod_view");
    await user.type(screen.getByLabelText("Tags"), "env=prod");
    await user.click(screen.getByRole("button", { name: "Register 2 environments" }));

    const second = await within(contexts).findByLabelText("Environment name for Prod_View");
    expect(second).toHaveAccessibleDescription("name is already taken");
    expect(second).toHaveFocus();
    await user.clear(second);
    await user.type(second, "prod-view");
    await user.click(screen.getByRole("button", { name: "Register 2 environments" }));

    expect(await screen.findByText("Registered prod-admin, prod_view.")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/environments");
    expect(api.callsTo("POST", "/environments")[1]?.body).toEqual({
      kubeconfig: twoContexts,
      verify: true,
      environments: [
        { name: "prod-admin", context: "prod-admin", tags: { env: "prod" } },
        { name: "prod-view", context: "Prod_View", tags: { env: "prod" } },
      ],
    });
  });

  it("shows a refused kubeconfig at the kubeconfig field, and explains saving an unreachable cluster", async () => {
    const env = anEnvironment({ name: "edge", status: "down" });
    const api = stub()
      .on(
        "POST",
        "/environments",
        apiError(422, "kubeconfig_refused", "exec plugins would run programs on the Berth server", "kubeconfig.users[admin].user.exec"),
        apiError(422, "cluster_unreachable", "cannot connect; pass verify=false to save it anyway", "kubeconfig.clusters[prod].cluster.server"),
        json({ items: [env] }, 201),
      )
      .on("GET", `/environments/${env.id}`, json(env));
    const { user } = renderApp("/environments/new");

    const kubeconfig = await screen.findByLabelText("Kubeconfig");
    await user.click(kubeconfig);
    await user.paste("apiVersion: v1\nkind: Config\ncontexts:\n- name: edge-ctx\n  context: {cluster: prod, user: admin}\n");
    expect(screen.getByLabelText("Name")).toHaveValue("edge-ctx");
    await user.clear(screen.getByLabelText("Name"));
    await user.type(screen.getByLabelText("Name"), "edge");
    await user.click(screen.getByRole("button", { name: "Register environment" }));
    expect(await screen.findByText("exec plugins would run programs on the Berth server (at users[admin].user.exec)")).toBeInTheDocument();
    expect(screen.getByLabelText("Kubeconfig")).toHaveAttribute("aria-invalid", "true");

    await user.click(screen.getByRole("button", { name: "Register environment" }));
    expect(await screen.findByText(/untick “Verify the connection” to save it anyway/)).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: "Verify the connection before saving" }));
    await user.click(screen.getByRole("button", { name: "Register environment" }));

    expect(await screen.findByRole("heading", { name: "edge" })).toBeInTheDocument();
    expect(screen.getByText("Registered edge.")).toBeInTheDocument();
    const last = api.callsTo("POST", "/environments")[2]?.body as Record<string, unknown>;
    expect(last).toMatchObject({ name: "edge", verify: false, tags: {} });
    expect(last).not.toHaveProperty("environments");
  });

  it("asks for a kubeconfig and a name before calling the server", async () => {
    const api = stub();
    const { user } = renderApp("/environments/new");
    await user.click(await screen.findByRole("button", { name: "Register environment" }));
    expect(screen.getByLabelText("Kubeconfig")).toHaveAccessibleDescription(/Drop, choose or paste a kubeconfig./);
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription(/Enter a name./);
    expect(api.callsTo("POST", "/environments")).toHaveLength(0);
  });

  it("is not offered to viewers", async () => {
    stub("viewer");
    renderApp("/environments/new");
    expect(await screen.findByText("Not allowed")).toBeInTheDocument();
  });
});
