// The one place that calls fetch: knows the base path, attaches the bearer token, turns every
// failure into an ApiError, and reports a rejected session (401) so the app can send the user to
// the login page and back.
import { ApiError, errorFromResponse, networkError } from "./errors";
import { clearSession, getToken } from "./session";

/** `/api/v1`, below the path the dashboard is served from. */
export const API_BASE = `${import.meta.env.BASE_URL.replace(/\/+$/, "")}/api/v1`;

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Send the bearer token (default). Login and version are anonymous. */
  auth?: boolean;
  /**
   * 401 codes that are an answer about the request rather than about the session
   * (e.g. `invalid_credentials` for a wrong current password): they do not sign the user out.
   */
  keepSessionOn?: readonly string[] | "any";
  signal?: AbortSignal;
  /** Extra request headers (e.g. `Last-Event-ID` on a stream). */
  headers?: Record<string, string>;
  /** The Accept header (default `application/json`). */
  accept?: string;
}

type UnauthorizedHandler = (error: ApiError) => void;
let unauthorizedHandler: UnauthorizedHandler | null = null;

/** Registers what happens when the server rejects the session. Returns an unregister function. */
export function onUnauthorized(handler: UnauthorizedHandler): () => void {
  unauthorizedHandler = handler;
  return () => {
    if (unauthorizedHandler === handler) unauthorizedHandler = null;
  };
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ""}`;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers, Accept: opts.accept ?? "application/json" };
  const auth = opts.auth ?? true;
  if (auth) {
    const token = getToken();
    if (token !== null) headers.Authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw networkError(e);
  }
  if (res.ok) return res;

  const error = await errorFromResponse(res);
  const keep = opts.keepSessionOn === "any" || (opts.keepSessionOn ?? []).includes(error.code);
  if (res.status === 401 && auth && !keep) {
    clearSession();
    unauthorizedHandler?.(error);
  }
  throw error;
}

/** A request whose successful response carries a JSON body of type T. */
export async function requestJson<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, "bad_response", "The server sent a response the dashboard cannot read.");
  }
}

/** A request whose successful response has no body (204). */
export async function requestNoContent(path: string, opts: RequestOptions = {}): Promise<void> {
  await send(path, opts);
}

/**
 * A streaming request (server-sent events): the open response, whose body the caller reads.
 * Errors, including a rejected session, are handled exactly as for any other request.
 */
export function openStream(path: string, opts: Omit<RequestOptions, "body" | "method" | "accept"> = {}): Promise<Response> {
  return send(path, { ...opts, accept: "text/event-stream" });
}
