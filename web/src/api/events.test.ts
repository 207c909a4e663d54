import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, mockApi, signedIn } from "../test/mockApi";
import { connectEvents, createSseParser, type SseMessage, type StreamStatus } from "./events";
import type { ServerEvent } from "./types";

let close: (() => void) | null = null;
afterEach(() => {
  close?.();
  close = null;
});

describe("the SSE parser", () => {
  it("assembles messages across arbitrary chunks, line endings and comments", () => {
    const got: SseMessage[] = [];
    const feed = createSseParser((m) => got.push(m));
    const wire = ": keep-alive\r\n\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\nid: 7\r\n\r\nevent: b\ndata:plain\n\ndata: no event name\r\r\n";
    for (const ch of wire) feed(ch);
    expect(got).toEqual([
      { event: "a", data: '{"x":\n1}', id: "7" },
      { event: "b", data: "plain", id: "7" },
      { event: "message", data: "no event name", id: "7" },
    ]);
  });

  it("reports retry hints and ignores unknown fields and messages without data", () => {
    const got: SseMessage[] = [];
    const retries: number[] = [];
    const feed = createSseParser(
      (m) => got.push(m),
      (ms) => retries.push(ms),
    );
    feed("retry: 2500\nfoo: bar\nevent: empty\n\nretry: soon\n\n");
    expect(got).toEqual([]);
    expect(retries).toEqual([2500]);
  });
});

function collect() {
  const events: ServerEvent[] = [];
  const statuses: StreamStatus[] = [];
  let resyncs = 0;
  return {
    events,
    statuses,
    get resyncs() {
      return resyncs;
    },
    handlers: {
      onEvent: (e: ServerEvent) => events.push(e),
      onResync: () => (resyncs += 1),
      onStatus: (s: StreamStatus) => statuses.push(s),
    },
  };
}

describe("the event stream", () => {
  it("sends the bearer token, delivers events, and asks for a reload when the server lags", async () => {
    signedIn("tok-sse");
    const api = mockApi();
    const seen = collect();
    close = connectEvents(seen.handlers);
    await vi.waitFor(() => expect(api.events.open).toBe(1));
    const call = api.callsTo("GET", "/events")[0];
    expect(call?.headers.get("Authorization")).toBe("Bearer tok-sse");
    expect(call?.headers.get("Accept")).toBe("text/event-stream");

    api.events.send("environment.status", { id: "e1", status: "down" });
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    expect(seen.events[0]).toMatchObject({ kind: "environment.status", data: { id: "e1", status: "down" } });
    expect(seen.statuses).toEqual(["connecting", "open"]);
    expect(seen.resyncs).toBe(0);

    api.events.lag();
    await vi.waitFor(() => expect(seen.resyncs).toBe(1));
  });

  it("reconnects after the stream ends and asks for a reload, since nothing is replayed", async () => {
    signedIn();
    const api = mockApi();
    const seen = collect();
    close = connectEvents(seen.handlers, { initialDelayMs: 5, maxDelayMs: 20 });
    await vi.waitFor(() => expect(api.events.open).toBe(1));
    api.events.drop();
    await vi.waitFor(() => expect(api.events.connections).toBe(2));
    await vi.waitFor(() => expect(seen.resyncs).toBe(1));
    expect(seen.statuses).toEqual(["connecting", "open", "reconnecting", "open"]);
    api.events.send("repository.checked", { id: "r1" });
    await vi.waitFor(() => expect(seen.events.map((e) => e.kind)).toEqual(["repository.checked"]));
  });

  it("backs off while the server fails, then resumes", async () => {
    signedIn();
    let failures = 3;
    const api = mockApi();
    const ok = api.events.answer;
    api.on("GET", "/events", () => (failures-- > 0 ? apiError(503, "unavailable", "starting") : ok()));
    const seen = collect();
    close = connectEvents(seen.handlers, { initialDelayMs: 4, maxDelayMs: 16 });
    await vi.waitFor(() => expect(seen.statuses.at(-1)).toBe("open"));
    expect(api.callsTo("GET", "/events")).toHaveLength(4);
  });

  it("stops for good when the session is rejected", async () => {
    signedIn();
    const api = mockApi().on("GET", "/events", apiError(401, "unauthorized", "session expired"));
    const seen = collect();
    close = connectEvents(seen.handlers, { initialDelayMs: 1 });
    await vi.waitFor(() => expect(seen.statuses.at(-1)).toBe("closed"));
    expect(api.callsTo("GET", "/events")).toHaveLength(1);
  });

  it("sends Last-Event-ID when reconnecting after events that had ids", async () => {
    signedIn();
    const api = mockApi();
    const encoder = new TextEncoder();
    let first = true;
    api.on("GET", "/events", () => {
      if (!first) return api.events.answer();
      first = false;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(encoder.encode('id: 41\nevent: x.y\ndata: {"kind":"x.y","at":"2026-01-01T00:00:00Z","data":{}}\n\n'));
          c.close();
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    });
    const seen = collect();
    close = connectEvents(seen.handlers, { initialDelayMs: 2 });
    await vi.waitFor(() => expect(api.callsTo("GET", "/events")).toHaveLength(2));
    expect(api.callsTo("GET", "/events")[0]?.headers.get("Last-Event-ID")).toBeNull();
    expect(api.callsTo("GET", "/events")[1]?.headers.get("Last-Event-ID")).toBe("41");
    expect(seen.events.map((e) => e.kind)).toEqual(["x.y"]);
  });
});
