// Holds the tab's one connection to the server event stream while a user is signed in, and fans
// events out to the views that subscribed (useServerEvents).
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { connectEvents, type EventStreamOptions, type StreamStatus } from "./events";
import { EventsContext, type EventHub, type EventListener } from "./useServerEvents";

export function EventsProvider({ children, options }: { children: ReactNode; options?: EventStreamOptions }) {
  const listeners = useRef(new Set<EventListener>());
  const [status, setStatus] = useState<StreamStatus>("connecting");

  useEffect(
    () =>
      connectEvents(
        {
          onEvent: (e) => listeners.current.forEach((l) => l.onEvent(e)),
          onResync: () => listeners.current.forEach((l) => l.onResync()),
          onStatus: setStatus,
        },
        options,
      ),
    // The options are read once: one connection per provider.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );

  const subscribe = useCallback((l: EventListener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);
  const hub = useMemo<EventHub>(() => ({ status, subscribe }), [status, subscribe]);
  return <EventsContext.Provider value={hub}>{children}</EventsContext.Provider>;
}
