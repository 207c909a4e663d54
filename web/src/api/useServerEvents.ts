// React access to the one server event stream of a signed-in tab (see events.ts): views subscribe
// to the kinds they show and reload on resync. Without an <EventsProvider> (a page rendered alone
// in a test) subscriptions are inert and the status is "closed".
import { createContext, useContext, useEffect, useRef } from "react";
import type { StreamStatus } from "./events";
import type { ServerEvent } from "./types";

export interface EventListener {
  onEvent: (event: ServerEvent) => void;
  onResync: () => void;
}

export interface EventHub {
  subscribe: (listener: EventListener) => () => void;
  status: StreamStatus;
}

export const EventsContext = createContext<EventHub | null>(null);

/** `environment.` matches every kind starting with it; `environment.status` only itself. */
export function kindMatches(kind: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith(".") ? kind.startsWith(p) : kind === p));
}

/**
 * Calls `onEvent` for events whose kind matches `kinds`, and `onResync` when events may have been
 * missed (after a reconnect or a server-side lag): reload what the view shows then.
 */
export function useServerEvents(kinds: readonly string[], onEvent: (event: ServerEvent) => void, onResync?: () => void): void {
  const subscribe = useContext(EventsContext)?.subscribe;
  const latest = useRef({ kinds, onEvent, onResync });
  useEffect(() => {
    latest.current = { kinds, onEvent, onResync };
  });
  useEffect(() => {
    if (subscribe === undefined) return;
    return subscribe({
      onEvent: (e) => {
        if (kindMatches(e.kind, latest.current.kinds)) latest.current.onEvent(e);
      },
      onResync: () => latest.current.onResync?.(),
    });
  }, [subscribe]);
}

/** Whether live updates are flowing. */
export function useEventStreamStatus(): StreamStatus {
  return useContext(EventsContext)?.status ?? "closed";
}
