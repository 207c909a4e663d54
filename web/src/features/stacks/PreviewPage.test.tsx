import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aStack, COMMIT_A, COMMIT_B } from "../../test/fixtures";
import { apiError, aUser, json, mockApi, signedIn } from "../../test/mockApi";
import { renderApp } from "../../test/render";

const cm = (name: string) => ({ group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name });

describe("a stack's preview", () => {
  it("shows per environment what would be created, changed field by field, pruned and refused, and a failure there", async () => {
    const stack = aStack({ name: "shop" });
    signedIn();
    const api = mockApi()
      .on("GET", "/version", json({ version: "1.0.0" }))
      .on("GET", "/auth/me", json(aUser({ role: "operator" })))
      .on("GET", `/stacks/${stack.id}`, json(stack))
      .on("POST", `/stacks/${stack.id}/preview`, (call) =>
        (call.body as { commit?: string }).commit === "nope"
          ? apiError(422, "validation", "commit nope is not in the repository", "commit")
          : json({
              commit: COMMIT_B,
              environments: [
                {
                  environment_id: "e1",
                  environment_name: "prod-eu",
                  error: null,
                  preview: {
                    create: [cm("new")],
                    change: [{ object: cm("app"), diff: [{ path: "data.k", before: "v", after: "v2" }, { path: "data.gone", before: "x", after: null }] }],
                    unchanged: [cm("same")],
                    prune: [cm("old")],
                    rejected: [{ object: cm("theirs"), message: "owned by stack billing" }],
                  },
                },
                { environment_id: "e2", environment_name: "prod-us", error: "the cluster is unreachable", preview: null },
              ],
            }),
      );
    const { user } = renderApp(`/stacks/${stack.id}/preview`);

    const eu = await screen.findByRole("region", { name: "prod-eu" });
    expect(within(eu).getByText("1 to create · 1 to change · 1 to prune · 1 unchanged")).toBeInTheDocument();
    expect(within(eu).getByText("ConfigMap shop/new")).toBeInTheDocument();
    expect(within(eu).getByText("data.k")).toBeInTheDocument();
    expect(within(eu).getByText("- v")).toBeInTheDocument();
    expect(within(eu).getByText("+ v2")).toBeInTheDocument();
    expect(within(eu).getByText("(removed)")).toBeInTheDocument();
    expect(within(eu).getByText("ConfigMap shop/old")).toBeInTheDocument();
    expect(within(eu).getByText("owned by stack billing")).toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "prod-us" })).getByRole("alert")).toHaveTextContent("the cluster is unreachable");
    expect(api.callsTo("POST", `/stacks/${stack.id}/preview`)[0]?.body).toEqual({});

    await user.type(screen.getByLabelText("Commit"), "nope");
    await user.click(screen.getByRole("button", { name: "Preview again" }));
    expect(await screen.findByText("commit nope is not in the repository")).toBeInTheDocument();
    expect(screen.getByLabelText("Commit")).toHaveAttribute("aria-invalid", "true");
    await user.clear(screen.getByLabelText("Commit"));
    await user.type(screen.getByLabelText("Commit"), COMMIT_A);
    await user.click(screen.getByRole("button", { name: "Preview again" }));
    await screen.findByRole("region", { name: "prod-eu" });
    expect(api.callsTo("POST", `/stacks/${stack.id}/preview`).at(-1)?.body).toEqual({ commit: COMMIT_A });
  });
});
