import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors";
import { nameFromContext, readContexts } from "./kubeconfigContexts";
import { registerErrors } from "./registerErrors";
import { formatTags, parseTags } from "./tags";

const multi = `apiVersion: v1
kind: Config
current-context: view
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443"}
contexts:
- name: admin
  context: {cluster: c1, user: u1}
- name: view
  context:
    cluster: c1
    user: u2
    namespace: apps
users: []
`;

describe("reading a kubeconfig's contexts in the browser", () => {
  it("lists the contexts with their cluster and namespace, and the current one", () => {
    expect(readContexts(multi)).toEqual({
      current: "view",
      contexts: [
        { name: "admin", cluster: "c1", namespace: null },
        { name: "view", cluster: "c1", namespace: "apps" },
      ],
    });
  });

  it("accepts JSON kubeconfigs and answers null for text that is not one", () => {
    expect(readContexts('{"contexts":[{"name":"a","context":{"cluster":"x"}}]}')?.contexts).toEqual([{ name: "a", cluster: "x", namespace: null }]);
    expect(readContexts("")).toBeNull();
    expect(readContexts("key: [unclosed")).toBeNull();
    expect(readContexts("just a string")).toBeNull();
  });

  it("refuses alias bombs instead of expanding them", () => {
    const letters = "abcdefghijklm";
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < letters.length; i++) {
      const prev = letters[i - 1] ?? "a";
      lines.push(`${letters[i] ?? "z"}: &${letters[i] ?? "z"} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const bomb = lines.join("\n");
    const started = performance.now();
    expect(readContexts(bomb)).toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("derives valid environment names from context names", () => {
    expect(nameFromContext("kind-Prod_EU")).toBe("kind-prod_eu");
    expect(nameFromContext("arn:aws:eks:eu-west-1:123:cluster/prod")).toBe("arn-aws-eks-eu-west-1-123-cluster-prod");
    expect(nameFromContext("--@@")).toBe("cluster");
  });
});

describe("tags as typed", () => {
  it("parses comma or newline separated pairs and formats them back", () => {
    expect(parseTags("env=prod, region = eu\ntier=")).toEqual({ tags: { env: "prod", region: "eu", tier: "" }, error: null });
    expect(formatTags({ env: "prod", region: "eu" })).toBe("env=prod, region=eu");
    expect(parseTags("")).toEqual({ tags: {}, error: null });
  });

  it("names the malformed or repeated pair", () => {
    expect(parseTags("env=prod, oops")).toEqual({ tags: null, error: '"oops" is not key=value.' });
    expect(parseTags("=x").error).toBe('"=x" is not key=value.');
    expect(parseTags("a=1,a=2").error).toBe("The tag a is given twice.");
  });
});

describe("placing a registration refusal", () => {
  it("puts kubeconfig paths, row fields and plain fields where they belong", () => {
    const at = (field: string | null, code = "kubeconfig_refused") => registerErrors(new ApiError(422, code, "refused", field));
    expect(at("kubeconfig.users[admin].user.exec").kubeconfig).toBe("refused (at users[admin].user.exec)");
    expect(at("kubeconfig").kubeconfig).toBe("refused");
    expect(at("environments[1].name", "conflict").items).toEqual({ 1: { name: "refused" } });
    expect(at("tags.env", "validation").tags).toBe("refused");
    expect(at("context", "context_required").context).toBe("refused");
    expect(at(null, "internal").form).toBe("refused");
    const unreachable = at("kubeconfig.clusters[c].cluster.server", "cluster_unreachable");
    expect(unreachable.unreachable).toBe(true);
    expect(unreachable.kubeconfig).toContain("clusters[c].cluster.server");
  });
});
