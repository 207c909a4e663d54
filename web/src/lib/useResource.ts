// One object loaded from the API (a detail page): loads on mount and whenever `key` changes,
// keeps showing the previous value while reloading, and can be replaced in place after a change
// answered with the new object (or patched from a live event).
import { useEffect, useRef, useState } from "react";

export interface Resource<T> {
  data: T | null;
  /** A load is in flight (`data` may still hold the previous value). */
  loading: boolean;
  error: unknown;
  reload: () => void;
  set: (fn: (current: T) => T) => void;
}

export function useResource<T>(key: string, fetch: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [generation, setGeneration] = useState(0);
  const requestKey = `${key}#${generation}`;
  const [state, setState] = useState<{ forKey: string | null; data: T | null; error: unknown }>({
    forKey: null,
    data: null,
    error: null,
  });
  const fetchRef = useRef(fetch);
  useEffect(() => {
    fetchRef.current = fetch;
  });

  useEffect(() => {
    const ctl = new AbortController();
    fetchRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ forKey: requestKey, data, error: null });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState((s) => ({ forKey: requestKey, data: s.data, error }));
      },
    );
    return () => ctl.abort();
  }, [requestKey]);

  const sameObject = state.forKey?.split("#")[0] === key;
  return {
    data: sameObject ? state.data : null,
    loading: state.forKey !== requestKey,
    error: state.forKey === requestKey ? state.error : null,
    reload: () => setGeneration((g) => g + 1),
    set: (fn) => setState((s) => (s.data === null ? s : { ...s, data: fn(s.data) })),
  };
}
