import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aUser, json, mockApi, signedIn } from "../../../test/mockApi";
import { renderApp } from "../../../test/render";
import { localInputToRfc3339 } from "./AuditFilters";

const event = {
  id: 7,
  at: "2024-03-01T12:00:00Z",
  actor: "root",
  actor_id: "00000000-0000-4000-8000-00000000000a",
  action: "user.create",
  target: "user:bob",
  client_addr: "10.0.0.5",
  details: { role: "viewer" },
};

describe("the audit log page", () => {
  it("sends the filters to the server, keeps them in the URL, and pages on", async () => {
    signedIn();
    const api = mockApi()
      .on("GET", "/version", json({ version: "1.0.0" }))
      .on("GET", "/auth/me", json(aUser()))
      .on("GET", "/audit", (call) =>
        call.query.get("cursor") === "next"
          ? json({ items: [{ ...event, id: 6, action: "token.revoke" }], next_cursor: null })
          : json({ items: [event], next_cursor: "next" }),
      );
    const { user } = renderApp("/admin/audit");

    expect(await screen.findByText("user.create")).toBeInTheDocument();
    const filters = screen.getByRole("form", { name: "Filter audit events" });
    await user.type(within(filters).getByLabelText("Actor"), "root");
    await user.type(within(filters).getByLabelText("Action"), "user.create");
    await user.type(within(filters).getByLabelText("Since"), "2024-03-01T10:00");
    await user.click(within(filters).getByRole("button", { name: "Apply" }));

    await user.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByText("token.revoke")).toBeInTheDocument();

    const calls = api.callsTo("GET", "/audit");
    const filtered = calls.find((c) => c.query.get("actor") === "root");
    expect(filtered?.query.get("action")).toBe("user.create");
    expect(filtered?.query.get("since")).toBe(localInputToRfc3339("2024-03-01T10:00"));
    expect(calls.at(-1)?.query.get("cursor")).toBe("next");
    expect(calls.at(-1)?.query.get("actor")).toBe("root");
    expect(screen.getByTestId("location")).toHaveTextContent("actor=root");
  });

  it("refuses an inverted time range at the field", async () => {
    signedIn();
    mockApi()
      .on("GET", "/version", json({ version: "1.0.0" }))
      .on("GET", "/auth/me", json(aUser()))
      .on("GET", "/audit", json({ items: [], next_cursor: null }));
    const { user } = renderApp("/admin/audit");
    expect(await screen.findByText("No audit events yet")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Since"), "2024-03-02T10:00");
    await user.type(screen.getByLabelText("Until"), "2024-03-01T10:00");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    expect(screen.getByLabelText("Until")).toHaveAccessibleDescription("“Until” must be after “Since”.");
  });
});
