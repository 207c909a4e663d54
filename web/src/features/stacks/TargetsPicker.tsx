// The stack's targets: environments picked by name (a search over the paginated environments API)
// and/or a tag selector, with a live preview of the environments it matches.
import { useCallback, useState } from "react";
import { listEnvironments } from "../../api/environments";
import { describeError, isApiError } from "../../api/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/feedback";
import { useDebounced } from "../../lib/useDebounced";
import { useResource } from "../../lib/useResource";
import { TagList } from "../environments/TagList";

const LIMIT = 10;
const PREVIEW = 10;

export interface PickedEnvironment {
  id: string;
  name: string;
}

export function EnvironmentPicker({ value, onChange, error }: { value: PickedEnvironment[]; onChange: (v: PickedEnvironment[]) => void; error?: string }) {
  const [query, setQuery] = useState("");
  const search = useDebounced(query.trim(), 250);
  const fetch = useCallback((signal: AbortSignal) => listEnvironments({ search: search || undefined }, null, LIMIT, signal), [search]);
  const found = useResource(`envs:${encodeURIComponent(search)}`, fetch);
  const picked = new Set(value.map((e) => e.id));

  return (
    <fieldset className={`field fieldset${error ? " field-invalid" : ""}`}>
      <legend className="field-label">Environments</legend>
      {value.length > 0 ? (
        <ul className="chips" aria-label="Picked environments">
          {value.map((e) => (
            <li key={e.id} className="chip">
              {e.name}
              <button type="button" className="btn-icon" onClick={() => onChange(value.filter((x) => x.id !== e.id))}>
                <span aria-hidden="true">×</span>
                <span className="sr-only">Remove {e.name}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No environment picked by name.</p>
      )}
      <label className="sr-only" htmlFor="env-picker-search">
        Find environments
      </label>
      <input id="env-picker-search" type="search" placeholder="Find environments by name…" value={query} onChange={(e) => setQuery(e.target.value)} aria-invalid={Boolean(error)} />
      {found.data !== null && found.data.items.length > 0 && (
        <ul className="pick-list" aria-label="Environments found">
          {found.data.items.map((e) => (
            <li key={e.id}>
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={picked.has(e.id)}
                  onChange={(ev) => onChange(ev.target.checked ? [...value, { id: e.id, name: e.name }] : value.filter((x) => x.id !== e.id))}
                />
                <span>{e.name}</span> <TagList tags={e.tags} />
              </label>
            </li>
          ))}
        </ul>
      )}
      <p className="field-hint" aria-live="polite">
        {found.loading ? <Spinner label="Searching…" /> : found.error !== null ? describeError(found.error) : found.data?.next_cursor ? `The first ${LIMIT} matches; type to narrow them.` : null}
      </p>
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

/** The environments a selector matches now (the first few, and whether there are more). */
function useSelectorPreview(selector: string) {
  const debounced = useDebounced(selector.trim(), 400);
  const fetch = useCallback(
    (signal: AbortSignal) => (debounced === "" ? Promise.resolve(null) : listEnvironments({ selector: debounced }, null, PREVIEW, signal)),
    [debounced],
  );
  const result = useResource(`selector:${encodeURIComponent(debounced)}`, fetch);
  return { selector: debounced, settled: debounced === selector.trim(), ...result };
}

export function SelectorField({ value, onChange, error }: { value: string; onChange: (v: string) => void; error?: string }) {
  const preview = useSelectorPreview(value);
  const invalid = preview.error !== null && isApiError(preview.error) && preview.error.field === "selector" ? preview.error.message : null;
  const shown = error ?? invalid;
  return (
    <Field label="Tag selector" error={shown} hint="Environments whose tags match are targets too, as they join, leave or change tags. Example: env=prod,region in (eu,us),!deprecated">
      {(p) => (
        <>
          <input {...p} className="mono" value={value} onChange={(e) => onChange(e.target.value)} autoComplete="off" spellCheck={false} placeholder="env=prod" />
          {preview.selector !== "" && (
            <div className="selector-preview" aria-live="polite">
              {!preview.settled || preview.loading ? (
                <Spinner label="Finding matching environments…" />
              ) : preview.error !== null ? (
                invalid === null && <span className="text-error">{describeError(preview.error)}</span>
              ) : preview.data !== null ? (
                preview.data.items.length === 0 ? (
                  <span className="muted">No environment matches this selector now.</span>
                ) : (
                  <>
                    <span>
                      {preview.data.next_cursor ? `More than ${PREVIEW} environments match` : `${preview.data.items.length} ${preview.data.items.length === 1 ? "environment matches" : "environments match"}`}:
                    </span>
                    <ul className="chips" aria-label="Environments matching the selector">
                      {preview.data.items.map((e) => (
                        <li key={e.id} className="chip">
                          {e.name}
                        </li>
                      ))}
                    </ul>
                  </>
                )
              ) : null}
            </div>
          )}
        </>
      )}
    </Field>
  );
}
