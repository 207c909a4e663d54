// Picks the stack's repository: a search over the paginated repositories API (never the whole
// list), then a choice among the matches.
import { useCallback, useState } from "react";
import { listRepositories } from "../../api/repositories";
import type { Repository } from "../../api/types";
import type { ControlProps } from "../../components/Field";
import { Spinner } from "../../components/feedback";
import { describeError } from "../../api/errors";
import { useDebounced } from "../../lib/useDebounced";
import { useResource } from "../../lib/useResource";

const LIMIT = 20;

export interface PickedRepository {
  id: string;
  name: string;
}

export function RepositoryPicker({ control, value, onChange }: { control: ControlProps; value: PickedRepository | null; onChange: (r: PickedRepository | null) => void }) {
  const [query, setQuery] = useState("");
  const search = useDebounced(query.trim(), 250);
  const fetch = useCallback((signal: AbortSignal) => listRepositories({ search: search || undefined }, null, LIMIT, signal), [search]);
  const found = useResource(`repos:${encodeURIComponent(search)}`, fetch);
  const items: Repository[] = found.data?.items ?? [];
  const options = value !== null && !items.some((r) => r.id === value.id) ? [{ id: value.id, name: value.name, url: "" }, ...items] : items;

  return (
    <div className="picker">
      <label className="sr-only" htmlFor={`${control.id}-search`}>
        Find a repository
      </label>
      <input id={`${control.id}-search`} type="search" placeholder="Find a repository by name or URL…" value={query} onChange={(e) => setQuery(e.target.value)} />
      <select
        {...control}
        value={value?.id ?? ""}
        onChange={(e) => {
          const r = options.find((o) => o.id === e.target.value);
          onChange(r ? { id: r.id, name: r.name } : null);
        }}
      >
        <option value="">{found.loading && found.data === null ? "Loading repositories…" : "Choose a repository"}</option>
        {options.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
            {r.url ? ` — ${r.url}` : ""}
          </option>
        ))}
      </select>
      <p className="field-hint" aria-live="polite">
        {found.loading ? (
          <Spinner label="Searching…" />
        ) : found.error !== null ? (
          <span className="text-error">{describeError(found.error)}</span>
        ) : found.data?.next_cursor ? (
          `Showing the first ${LIMIT} matches; type to narrow them.`
        ) : (
          `${items.length} ${items.length === 1 ? "repository matches" : "repositories match"}.`
        )}
      </p>
    </div>
  );
}
