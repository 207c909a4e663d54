// Server-sent events from `GET /api/v1/events`, read with fetch so the bearer token travels in the
// Authorization header (EventSource cannot send headers, and a token in the URL would end up in
// logs). Parses the SSE wire format, reconnects with exponential backoff (sending Last-Event-ID
// when the server gave ids), and asks views to reload whenever events may have been missed: after
// a reconnect, and when the server says `lagged`.
import { openStream } from "./client";
import { isApiError } from "./errors";
import type { ServerEvent } from "./types";

/** One SSE message as it came over the wire. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/**
 * An incremental SSE parser: feed it decoded text in any chunking; it calls `onMessage` for each
 * complete message. Comments (keep-alives) are skipped; `retry:` is reported through `onRetry`.
 */
export function createSseParser(onMessage: (m: SseMessage) => void, onRetry?: (ms: number) => void): (chunk: string) => void {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | null = null;

  function line(l: string) {
    if (l === "") {
      if (data.length > 0) onMessage({ event: event || "message", data: data.join("\n"), id });
      event = "";
      data = [];
      return;
    }
    if (l.startsWith(":")) return;
    const colon = l.indexOf(":");
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? "" : l.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        event = value;
        break;
      case "data":
        data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) onRetry?.(Number(value));
        break;
    }
  }

  return (chunk: string) => {
    buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (match === null) return;
      // A lone \r at the very end may be the first half of \r\n: wait for more text.
      if (match[0] === "\r" && match.index === buffer.length - 1) return;
      line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  };
}

export type StreamStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface EventStreamHandlers {
  onEvent: (event: ServerEvent) => void;
  /** Events may have been missed (reconnected, or the server lagged): reload what is shown. */
  onResync: () => void;
  onStatus?: (status: StreamStatus) => void;
}

export interface EventStreamOptions {
  /** First reconnect delay; doubles per failed attempt up to `maxDelayMs` (with jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** With no bytes at all (the server sends keep-alives every 15 s) for this long, reconnect. */
  idleTimeoutMs?: number;
}

function parseEvent(m: SseMessage): ServerEvent | null {
  try {
    const v: unknown = JSON.parse(m.data);
    if (typeof v === "object" && v !== null && "kind" in v && typeof v.kind === "string" && "data" in v) {
      return v as ServerEvent;
    }
  } catch {
    // Not JSON: ignored below.
  }
  return null;
}

/**
 * Opens the event stream and keeps it open until the returned function is called. A rejected
 * session (401) stops it for good: the API client has already sent the user to sign in.
 */
export function connectEvents(handlers: EventStreamHandlers, options: EventStreamOptions = {}): () => void {
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const idleMs = options.idleTimeoutMs ?? 45_000;
  const stop = new AbortController();
  let lastEventId: string | null = null;
  let serverRetry: number | null = null;

  const status = (s: StreamStatus) => handlers.onStatus?.(s);
  let opens = 0;

  /** One connection, read until it ends. */
  async function readOnce(): Promise<{ opened: boolean; unauthorized: boolean }> {
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    stop.signal.addEventListener("abort", abort);
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(abort, idleMs);
    };
    let opened = false;
    try {
      touch();
      const res = await openStream("/events", {
        signal: attempt.signal,
        headers: lastEventId === null ? {} : { "Last-Event-ID": lastEventId },
      });
      if (res.body === null) return { opened, unauthorized: false };
      const reader = res.body.getReader();
      attempt.signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
      opened = true;
      opens += 1;
      status("open");
      // Nothing is replayed across connections: whatever changed in between must be reloaded.
      if (opens > 1) handlers.onResync();
      const decoder = new TextDecoder();
      const feed = createSseParser(
        (m) => {
          if (m.id !== null) lastEventId = m.id;
          if (m.event === "lagged") {
            handlers.onResync();
            return;
          }
          const ev = parseEvent(m);
          if (ev !== null) handlers.onEvent(ev);
        },
        (ms) => (serverRetry = ms),
      );
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { opened, unauthorized: false };
        touch();
        feed(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      return { opened, unauthorized: isApiError(e) && e.status === 401 };
    } finally {
      clearTimeout(idle);
      stop.signal.removeEventListener("abort", abort);
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      stop.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async function run() {
    let failures = 0;
    status("connecting");
    // A function, so the compiler does not assume the flag cannot change across awaits.
    const stopped = () => stop.signal.aborted;
    while (!stopped()) {
      const started = Date.now();
      const { opened, unauthorized } = await readOnce();
      if (stopped() || unauthorized) break;
      // A stream that stayed up a while was healthy: the backoff starts again from the bottom.
      failures = opened && Date.now() - started > 10_000 ? 1 : failures + 1;
      const delay = Math.min(max, (serverRetry ?? initial) * 2 ** (failures - 1));
      status("reconnecting");
      await pause(delay / 2 + Math.random() * (delay / 2));
    }
    status("closed");
  }

  void run();
  return () => stop.abort();
}
