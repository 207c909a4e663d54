// Places an API refusal of a registration (or rotation) at the field it names: the kubeconfig
// (`kubeconfig`, `kubeconfig.users[x].user.exec`, …), the name, tags, context, default namespace,
// or one context's row when several are registered at once (`environments[1].name`).
import { describeError, isApiError } from "../../api/errors";

export interface ItemErrors {
  name?: string;
  tags?: string;
  context?: string;
  default_namespace?: string;
}

export interface RegisterErrors extends ItemErrors {
  kubeconfig?: string;
  /** Errors of the rows of a several-context registration, by row. */
  items: Record<number, ItemErrors>;
  /** Not about one field. */
  form?: string;
  /** The cluster could not be reached: saving without verification is possible. */
  unreachable?: boolean;
}

const ITEM_FIELDS = ["name", "tags", "context", "default_namespace"] as const;

function itemField(path: string): (typeof ITEM_FIELDS)[number] | null {
  const head = path.split(".")[0] ?? "";
  return (ITEM_FIELDS as readonly string[]).includes(head) ? (head as (typeof ITEM_FIELDS)[number]) : null;
}

export function registerErrors(e: unknown): RegisterErrors {
  const out: RegisterErrors = { items: {} };
  if (!isApiError(e) || e.field === null) {
    out.form = describeError(e);
    return out;
  }
  const field = e.field;
  if (isApiError(e) && e.code === "cluster_unreachable") out.unreachable = true;
  if (field === "kubeconfig" || field.startsWith("kubeconfig.")) {
    const where = field.slice("kubeconfig.".length);
    out.kubeconfig = where ? `${e.message} (at ${where})` : e.message;
    return out;
  }
  const item = /^environments\[(\d+)\]\.(.+)$/.exec(field);
  if (item) {
    const f = itemField(item[2] ?? "");
    if (f !== null) {
      out.items[Number(item[1])] = { [f]: e.message };
      return out;
    }
  }
  const f = itemField(field);
  if (f !== null) {
    out[f] = e.message;
    return out;
  }
  out.form = e.message;
  return out;
}

export function hasErrors(r: RegisterErrors): boolean {
  return Boolean(r.kubeconfig ?? r.name ?? r.tags ?? r.context ?? r.default_namespace ?? r.form) || Object.keys(r.items).length > 0;
}
