// Search, status and tag-selector filters of the environment list (applied on the server).
import type { EnvironmentStatus } from "../../api/types";
import { STATUSES, statusLabel } from "./status";

interface Props {
  search: string;
  status: string;
  selector: string;
  selectorError: string | null;
  onChange: (changes: { q?: string; status?: string; selector?: string }) => void;
}

export function EnvironmentFilters({ search, status, selector, selectorError, onChange }: Props) {
  return (
    <div className="toolbar" role="search" aria-label="Filter environments">
      <label className="toolbar-field">
        <span className="sr-only">Search by name</span>
        <input type="search" placeholder="Search by name…" value={search} onChange={(e) => onChange({ q: e.target.value })} />
      </label>
      <div className="toolbar-field">
        <label className="toolbar-label" htmlFor="env-status">
          Status
        </label>
        <select id="env-status" value={status} onChange={(e) => onChange({ status: e.target.value })}>
          <option value="">Any status</option>
          {STATUSES.map((s: EnvironmentStatus) => (
            <option key={s} value={s}>
              {statusLabel(s)}
            </option>
          ))}
        </select>
      </div>
      <div className="toolbar-field toolbar-grow">
        <label className="toolbar-label" htmlFor="env-selector">
          Tag selector
        </label>
        <input
          id="env-selector"
          className="mono"
          placeholder="env=prod,region in (eu,us),!spot"
          value={selector}
          aria-invalid={selectorError !== null}
          aria-describedby={selectorError !== null ? "env-selector-error" : undefined}
          onChange={(e) => onChange({ selector: e.target.value })}
        />
        {selectorError !== null && (
          <span id="env-selector-error" className="field-error">
            {selectorError}
          </span>
        )}
      </div>
    </div>
  );
}
