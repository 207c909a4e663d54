// A cursor-paginated table with every state handled: first load, failure with retry, empty, the
// rows (dimmed while a new filter loads), and "Load more". Columns are data, so list pages stay
// short; the first column is the row header.
import type { ReactNode } from "react";
import type { PagedList } from "../lib/usePagedList";
import { ErrorState, LoadingState } from "./feedback";
import { LoadMore } from "./LoadMore";

export interface Column<T> {
  header: string;
  /** Visually hide the header (e.g. the actions column); it stays for screen readers. */
  hideHeader?: boolean;
  cell: (item: T) => ReactNode;
  className?: string;
}

interface PagedTableProps<T> {
  list: PagedList<T>;
  columns: Column<T>[];
  rowKey: (item: T) => string;
  /** Plural noun for the footer ("12 environments"); singular when one. */
  noun: [string, string];
  caption: string;
  loadingLabel: string;
  errorTitle: string;
  empty: ReactNode;
  rowClassName?: (item: T) => string | undefined;
}

export function PagedTable<T>({ list, columns, rowKey, noun, caption, loadingLabel, errorTitle, empty, rowClassName }: PagedTableProps<T>) {
  let body: ReactNode;
  if (list.loading && list.items.length === 0) {
    body = <LoadingState label={loadingLabel} />;
  } else if (list.error !== null && list.items.length === 0) {
    body = <ErrorState error={list.error} onRetry={list.reload} title={errorTitle} />;
  } else if (list.items.length === 0) {
    body = empty;
  } else {
    body = (
      <div className="table-wrap" aria-busy={list.loading}>
        <table className={`table${list.loading ? " table-stale" : ""}`}>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.header} scope="col" className={c.className}>
                  {c.hideHeader ? <span className="sr-only">{c.header}</span> : c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.items.map((item) => (
              <tr key={rowKey(item)} className={rowClassName?.(item)}>
                {columns.map((c, i) =>
                  i === 0 ? (
                    <th key={c.header} scope="row" className={c.className}>
                      {c.cell(item)}
                    </th>
                  ) : (
                    <td key={c.header} className={c.className}>
                      {c.cell(item)}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <>
      {body}
      <LoadMore list={list} noun={list.items.length === 1 ? noun[0] : noun[1]} />
    </>
  );
}

