// A scripted stand-in for the Berth API: tests register answers per "METHOD /path" and can assert
// the exact requests made. Unregistered requests fail the test loudly with a 599.
import { vi } from "vitest";
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Answer = Response | ((call: RecordedCall) => Response | Promise<Response>);

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

export function apiError(status: number, code: string, message: string, field: string | null = null, headers: Record<string, string> = {}): Response {
  const body: Schemas["ErrorBody"] = { error: { code, field, message } };
  return json(body, status, headers);
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/**
 * A scripted server-sent event stream: every GET /events gets a fresh open stream; `send` writes
 * an event to all of them, `lag` the server's `lagged` notice, `drop` ends them (the client then
 * reconnects).
 */
export function eventStream() {
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const encoder = new TextEncoder();
  const write = (text: string) => {
    for (const c of open) c.enqueue(encoder.encode(text));
  };
  let connections = 0;
  return {
    answer: (): Response => {
      connections += 1;
      let mine: ReadableStreamDefaultController<Uint8Array> | null = null;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          mine = c;
          open.add(c);
        },
        cancel: () => {
          if (mine) open.delete(mine);
        },
      });
      return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    },
    send(kind: string, data: Record<string, unknown>) {
      write(`event: ${kind}\ndata: ${JSON.stringify({ kind, at: new Date().toISOString(), data })}\n\n`);
    },
    lag() {
      write("event: lagged\ndata: 3\n\n");
    },
    drop() {
      for (const c of open) c.close();
      open.clear();
    },
    get open() {
      return open.size;
    },
    get connections() {
      return connections;
    },
  };
}

export function mockApi() {
  const routes = new Map<string, Answer[]>();
  const calls: RecordedCall[] = [];
  const events = eventStream();
  // Every signed-in page holds the event stream open; by default it stays quiet.
  routes.set("GET /api/v1/events", [() => events.answer()]);

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url, "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const call: RecordedCall = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined,
    };
    calls.push(call);
    const queue = routes.get(`${method} ${url.pathname}`);
    const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (answer === undefined) return apiError(599, "unmocked", `no mock for ${method} ${url.pathname}`);
    const res = typeof answer === "function" ? await answer(call) : answer.clone();
    return res;
  });
  vi.stubGlobal("fetch", fetchMock);

  return {
    calls,
    events,
    /** Answers every matching request the same way; `once` answers queue up and are used in order. */
    on(method: string, path: string, ...answers: Answer[]) {
      routes.set(`${method} /api/v1${path}`, answers);
      return this;
    },
    callsTo(method: string, path: string): RecordedCall[] {
      return calls.filter((c) => c.method === method && c.path === `/api/v1${path}`);
    },
  };
}

export function aUser(overrides: Partial<Schemas["User"]> = {}): Schemas["User"] {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    username: "ada",
    role: "admin",
    disabled: false,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    last_login_at: null,
    ...overrides,
  };
}

export function aToken(overrides: Partial<Schemas["ApiToken"]> = {}): Schemas["ApiToken"] {
  return {
    id: "10000000-0000-4000-8000-000000000001",
    name: "ci",
    prefix: "berth_Ab12",
    role: "operator",
    user_id: "00000000-0000-4000-8000-000000000001",
    username: "ada",
    created_at: "2024-01-01T00:00:00Z",
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
    ...overrides,
  };
}

/** Stores a session as a previous sign-in would have. */
export function signedIn(token = "session-token"): void {
  localStorage.setItem("berth.session", JSON.stringify({ token, expiresAt: new Date(Date.now() + 3600_000).toISOString() }));
}
