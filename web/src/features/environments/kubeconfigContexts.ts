// Reads the context list of a kubeconfig in the browser, so a file with several contexts can be
// registered as one or several environments. Only names are read; the server does every check
// (and the file's credentials never leave the form until it is sent).
import { parseDocument } from "yaml";

export interface KubeContext {
  name: string;
  cluster: string | null;
  namespace: string | null;
}

export interface KubeconfigSummary {
  contexts: KubeContext[];
  current: string | null;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** The contexts of a kubeconfig, or null when the text is not a readable kubeconfig. */
export function readContexts(text: string): KubeconfigSummary | null {
  if (text.trim() === "" || text.length > 1024 * 1024) return null;
  let doc: unknown;
  try {
    const parsed = parseDocument(text, { uniqueKeys: false });
    if (parsed.errors.length > 0) return null;
    doc = parsed.toJS({ maxAliasCount: 64 });
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null) return null;
  const root = doc as Record<string, unknown>;
  const list = Array.isArray(root.contexts) ? (root.contexts as unknown[]) : [];
  const contexts: KubeContext[] = [];
  for (const item of list) {
    if (typeof item !== "object" || item === null) continue;
    const entry = item as Record<string, unknown>;
    const name = str(entry.name);
    if (name === null) continue;
    const ctx = typeof entry.context === "object" && entry.context !== null ? (entry.context as Record<string, unknown>) : {};
    contexts.push({ name, cluster: str(ctx.cluster), namespace: str(ctx.namespace) });
  }
  return { contexts, current: str(root["current-context"]) };
}

/** A valid environment name derived from a context name (`kind-Prod_EU` → `kind-prod_eu`). */
export function nameFromContext(context: string): string {
  const cleaned = context
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 63);
  return cleaned || "cluster";
}
