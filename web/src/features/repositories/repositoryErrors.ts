// Places an API refusal of a repository at its field: name, URL, TLS, credentials (`credentials`,
// `credentials.token`, …) or schedule (`schedule.cron`, …). A failed connection test is placed at
// the field the server names (URL, credentials or CA bundle).
import { describeError, isApiError } from "../../api/errors";
import type { CredentialErrors } from "./CredentialsFields";
import type { ScheduleErrors } from "./ScheduleEditor";

export interface RepositoryErrors {
  name?: string;
  url?: string;
  ca_bundle?: string;
  skip_tls_verify?: string;
  credentials: CredentialErrors;
  schedule: ScheduleErrors;
  form?: string;
}

export const noRepositoryErrors: RepositoryErrors = { credentials: {}, schedule: {} };

export function repositoryErrors(e: unknown): RepositoryErrors {
  const out: RepositoryErrors = { credentials: {}, schedule: {} };
  const field = isApiError(e) ? e.field : null;
  const message = describeError(e);
  if (field === null) out.form = message;
  else if (field === "name" || field === "url" || field === "ca_bundle" || field === "skip_tls_verify") out[field] = message;
  else if (field === "credentials") out.credentials.general = message;
  else if (field.startsWith("credentials.")) {
    const f = field.slice("credentials.".length);
    if (f === "kind" || f === "username" || f === "token" || f === "private_key" || f === "known_hosts") out.credentials[f] = message;
    else out.credentials.general = message;
  } else if (field.startsWith("schedule")) {
    const f = field.slice("schedule.".length);
    if (f === "interval" || f === "cron" || f === "time_zone") out.schedule[f] = message;
    else out.schedule.kind = message;
  } else out.form = message;
  return out;
}

export function hasRepositoryErrors(r: RepositoryErrors): boolean {
  return Boolean(r.name ?? r.url ?? r.ca_bundle ?? r.skip_tls_verify ?? r.form) || Object.keys(r.credentials).length > 0 || Object.keys(r.schedule).length > 0;
}
