import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aToken, aUser, json, mockApi, noContent, signedIn } from "../../../test/mockApi";
import { renderApp } from "../../../test/render";

function stub(role: "admin" | "operator" | "viewer") {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(aUser({ role })));
}

describe("the API tokens page", () => {
  it("shows a new token once, with a copy button, and never again", async () => {
    const created = aToken({ name: "deploy-bot", role: "viewer" });
    const api = stub("operator")
      .on("GET", "/tokens", json({ items: [], next_cursor: null }), json({ items: [created], next_cursor: null }))
      .on("POST", "/tokens", json({ token: "berth_Ab12SECRETSECRET", api_token: created }, 201));
    const { user } = renderApp("/admin/tokens");

    await user.click(await screen.findByRole("button", { name: "New token" }));
    const form = screen.getByRole("dialog", { name: "New API token" });
    const role = within(form).getByLabelText("Role");
    expect(within(role).getAllByRole("option").map((o) => o.textContent)).toEqual(["Operator", "Viewer"]);
    await user.type(within(form).getByLabelText("Name"), "deploy-bot");
    await user.selectOptions(role, "viewer");
    await user.selectOptions(within(form).getByLabelText("Expires"), "never");
    await user.click(within(form).getByRole("button", { name: "Create token" }));

    const shown = await screen.findByRole("dialog", { name: "API token created" });
    expect(within(shown).getByLabelText("API token")).toHaveValue("berth_Ab12SECRETSECRET");
    expect(within(shown).getByRole("button", { name: /Copy/ })).toBeInTheDocument();
    expect(api.callsTo("POST", "/tokens")[0]?.body).toEqual({ name: "deploy-bot", role: "viewer", expires_at: null });

    await user.click(within(shown).getByRole("button", { name: "Done" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(await screen.findByRole("rowheader", { name: "deploy-bot" })).toBeInTheDocument();
    expect(screen.queryByDisplayValue("berth_Ab12SECRETSECRET")).not.toBeInTheDocument();
    expect(document.body.textContent).not.toContain("SECRETSECRET");
  });

  it("revokes a token after confirmation", async () => {
    const token = aToken({ name: "old-ci" });
    const api = stub("viewer")
      .on("GET", "/tokens", json({ items: [token], next_cursor: null }))
      .on("DELETE", `/tokens/${token.id}`, noContent());
    const { user } = renderApp("/admin/tokens");

    await user.click(await screen.findByRole("button", { name: "Revoke old-ci" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Revoke token" }));

    expect(await screen.findByText("Revoked")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Revoke old-ci" })).not.toBeInTheDocument();
    expect(api.callsTo("DELETE", `/tokens/${token.id}`)).toHaveLength(1);
    expect(api.callsTo("GET", "/tokens")[0]?.query.has("all")).toBe(false);
  });

  it("lets admins list every user's tokens", async () => {
    const api = stub("admin").on("GET", "/tokens", json({ items: [aToken({ username: "zoe" })], next_cursor: null }));
    const { user } = renderApp("/admin/tokens");
    await user.click(await screen.findByLabelText("Show every user's tokens"));
    expect(await screen.findByRole("columnheader", { name: "Owner" })).toBeInTheDocument();
    expect(api.callsTo("GET", "/tokens").at(-1)?.query.get("all")).toBe("true");
  });
});
