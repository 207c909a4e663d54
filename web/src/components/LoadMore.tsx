// The footer of a cursor-paginated list.
import { describeError } from "../api/errors";
import type { PagedList } from "../lib/usePagedList";

export function LoadMore<T>({ list, noun }: { list: PagedList<T>; noun: string }) {
  if (list.loading) return null;
  return (
    <div className="list-footer">
      <span className="muted">
        {list.items.length} {noun}
        {list.hasMore ? " shown" : ""}
      </span>
      {list.error !== null && list.items.length > 0 && (
        <span className="field-error" role="alert">
          {describeError(list.error)}
        </span>
      )}
      {list.hasMore && (
        <button type="button" className="btn btn-secondary" onClick={list.loadMore} disabled={list.loadingMore}>
          {list.loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}
