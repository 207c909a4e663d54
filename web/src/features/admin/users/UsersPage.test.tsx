import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aUser, apiError, json, mockApi, signedIn } from "../../../test/mockApi";
import { renderApp } from "../../../test/render";

const admin = aUser({ id: "00000000-0000-4000-8000-00000000000a", username: "root", role: "admin" });
const bob = aUser({ id: "00000000-0000-4000-8000-00000000000b", username: "bob", role: "viewer" });

function stub() {
  signedIn();
  return mockApi()
    .on("GET", "/version", json({ version: "1.0.0" }))
    .on("GET", "/auth/me", json(admin));
}

describe("the users page", () => {
  it("creates a user and shows a taken username next to the field", async () => {
    const carol = aUser({ id: "00000000-0000-4000-8000-00000000000c", username: "carol", role: "operator" });
    const api = stub()
      .on("GET", "/users", json({ items: [admin, bob], next_cursor: null }), json({ items: [admin, bob, carol], next_cursor: null }))
      .on(
        "POST",
        "/users",
        apiError(409, "conflict", "a user named bob already exists", "username"),
        json(carol, 201),
      );
    const { user } = renderApp("/admin/users");

    expect(await screen.findByRole("rowheader", { name: "bob" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New user" }));
    const dialog = screen.getByRole("dialog", { name: "New user" });
    await user.type(within(dialog).getByLabelText("Username"), "bob");
    await user.type(within(dialog).getByLabelText("Initial password"), "pw-123456");
    await user.selectOptions(within(dialog).getByLabelText("Role"), "operator");
    await user.click(within(dialog).getByRole("button", { name: "Create user" }));

    const username = within(dialog).getByLabelText("Username");
    expect(await within(dialog).findByText("a user named bob already exists")).toBeInTheDocument();
    expect(username).toHaveAttribute("aria-invalid", "true");
    expect(username).toHaveAccessibleDescription("a user named bob already exists");
    expect(username).toHaveFocus();

    await user.clear(username);
    await user.type(username, "carol");
    await user.click(within(dialog).getByRole("button", { name: "Create user" }));

    expect(await screen.findByRole("rowheader", { name: "carol" })).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByText("Created carol.")).toBeInTheDocument();
    expect(api.callsTo("POST", "/users")[1]?.body).toEqual({ username: "carol", password: "pw-123456", role: "operator" });
  });

  it("filters by role on the server and loads the next page with the cursor", async () => {
    const api = stub().on("GET", "/users", (call) =>
      call.query.get("cursor") === "c2"
        ? json({ items: [aUser({ id: "00000000-0000-4000-8000-0000000000dd", username: "dora", role: "viewer" })], next_cursor: null })
        : json({ items: [bob], next_cursor: "c2" }),
    );
    const { user } = renderApp("/admin/users");

    await screen.findByRole("rowheader", { name: "bob" });
    await user.selectOptions(screen.getByLabelText("Role"), "viewer");
    await user.click(await screen.findByRole("button", { name: "Load more" }));

    expect(await screen.findByRole("rowheader", { name: "dora" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    const last = api.callsTo("GET", "/users").at(-1);
    expect(last?.query.get("role")).toBe("viewer");
    expect(last?.query.get("cursor")).toBe("c2");
  });

  it("changes a role and disables a user after confirmation", async () => {
    const api = stub()
      .on("GET", "/users", json({ items: [admin, bob], next_cursor: null }))
      .on("PATCH", `/users/${bob.id}`, (call) => json({ ...bob, ...(call.body as object) }));
    const { user } = renderApp("/admin/users");

    await user.selectOptions(await screen.findByLabelText("Role of bob"), "operator");
    expect(await screen.findByText("bob is now operator.")).toBeInTheDocument();
    expect(screen.getByLabelText("Role of root")).toBeDisabled();

    await user.click(screen.getByRole("button", { name: "Disable bob" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Disable user" }));
    expect(await screen.findByRole("button", { name: "Enable bob" })).toBeInTheDocument();
    expect(api.callsTo("PATCH", `/users/${bob.id}`).map((c) => c.body)).toEqual([{ role: "operator" }, { disabled: true }]);
  });

  it("shows a failed load with a way to retry", async () => {
    stub().on("GET", "/users", apiError(500, "internal", "internal error"), json({ items: [bob], next_cursor: null }));
    const { user } = renderApp("/admin/users");
    expect(await screen.findByText("Could not load users")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("rowheader", { name: "bob" })).toBeInTheDocument();
  });
});
