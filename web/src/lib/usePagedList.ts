// Cursor-paginated lists: the first page loads on mount and whenever `key` changes (or on reload);
// "Load more" appends the next page. Responses for a superseded key are dropped.
import { useEffect, useRef, useState } from "react";

export interface Page<T> {
  items: T[];
  /** Absent or null on the last page. */
  next_cursor?: string | null;
}

export interface PagedList<T> {
  /** The loaded items; while a new key loads, the previous ones (shown dimmed). */
  items: T[];
  /** The first page for the current key is loading. */
  loading: boolean;
  loadingMore: boolean;
  /** The last failure: of the first page (then items are empty) or of "Load more". */
  error: unknown;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
  /** Edits items in place, e.g. after an update answered with the new object. */
  update: (fn: (items: T[]) => T[]) => void;
}

interface Loaded<T> {
  forKey: string | null;
  items: T[];
  cursor: string | null;
  error: unknown;
}

export function usePagedList<T>(
  key: string,
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>,
): PagedList<T> {
  const [generation, setGeneration] = useState(0);
  const requestKey = `${key}#${generation}`;
  const [loaded, setLoaded] = useState<Loaded<T>>({ forKey: null, items: [], cursor: null, error: null });
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const fetchRef = useRef(fetchPage);
  const moreCtl = useRef<AbortController | null>(null);

  useEffect(() => {
    fetchRef.current = fetchPage;
  });

  useEffect(() => {
    const ctl = new AbortController();
    fetchRef.current(null, ctl.signal).then(
      (page) => {
        if (ctl.signal.aborted) return;
        setLoaded({ forKey: requestKey, items: page.items, cursor: page.next_cursor ?? null, error: null });
        setMore({ loading: false, error: null });
      },
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        setLoaded({ forKey: requestKey, items: [], cursor: null, error });
        setMore({ loading: false, error: null });
      },
    );
    return () => {
      ctl.abort();
      moreCtl.current?.abort();
    };
  }, [requestKey]);

  const loading = loaded.forKey !== requestKey;

  function loadMore() {
    const cursor = loaded.cursor;
    if (loading || more.loading || cursor === null) return;
    const ctl = new AbortController();
    moreCtl.current = ctl;
    setMore({ loading: true, error: null });
    fetchRef.current(cursor, ctl.signal).then(
      (page) => {
        if (ctl.signal.aborted) return;
        setLoaded((s) => ({ ...s, items: [...s.items, ...page.items], cursor: page.next_cursor ?? null }));
        setMore({ loading: false, error: null });
      },
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        setMore({ loading: false, error });
      },
    );
  }

  return {
    items: loaded.items,
    loading,
    loadingMore: more.loading,
    error: loading ? null : (loaded.error ?? more.error),
    hasMore: !loading && loaded.cursor !== null,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
    update: (fn) => setLoaded((s) => ({ ...s, items: fn(s.items) })),
  };
}
