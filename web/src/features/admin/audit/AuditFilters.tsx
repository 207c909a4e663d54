// The audit filter form. Times are entered in local time and sent as RFC 3339 (UTC).
import { useState, type SubmitEvent } from "react";
import type { AuditFilter } from "../../../api/audit";
import { Field } from "../../../components/Field";

export const FILTER_KEYS = ["actor", "action", "target", "since", "until"] as const;

/** `2024-05-01T10:30` in local time ↔ RFC 3339. */
export function localInputToRfc3339(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function rfc3339ToLocalInput(value: string | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

interface Props {
  initial: AuditFilter;
  onApply: (f: AuditFilter) => void;
  onReset: () => void;
}

export function AuditFilters({ initial, onApply, onReset }: Props) {
  const [actor, setActor] = useState(initial.actor ?? "");
  const [action, setAction] = useState(initial.action ?? "");
  const [target, setTarget] = useState(initial.target ?? "");
  const [since, setSince] = useState(rfc3339ToLocalInput(initial.since));
  const [until, setUntil] = useState(rfc3339ToLocalInput(initial.until));
  const [rangeError, setRangeError] = useState<string | null>(null);

  function submit(e: SubmitEvent) {
    e.preventDefault();
    const s = localInputToRfc3339(since);
    const u = localInputToRfc3339(until);
    if (s && u && s > u) {
      setRangeError("“Until” must be after “Since”.");
      return;
    }
    setRangeError(null);
    onApply({ actor: actor.trim(), action: action.trim(), target: target.trim(), since: s, until: u });
  }

  return (
    <form className="filters" onSubmit={submit} aria-label="Filter audit events">
      <Field label="Actor">
        {(p) => <input {...p} placeholder="username" value={actor} onChange={(e) => setActor(e.target.value)} />}
      </Field>
      <Field label="Action">
        {(p) => <input {...p} placeholder="e.g. user.create" value={action} onChange={(e) => setAction(e.target.value)} />}
      </Field>
      <Field label="Target">
        {(p) => <input {...p} value={target} onChange={(e) => setTarget(e.target.value)} />}
      </Field>
      <Field label="Since">
        {(p) => <input {...p} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />}
      </Field>
      <Field label="Until" error={rangeError}>
        {(p) => <input {...p} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />}
      </Field>
      <div className="filters-actions">
        <button type="submit" className="btn btn-primary">
          Apply
        </button>
        <button type="button" className="btn btn-secondary" onClick={onReset}>
          Reset
        </button>
      </div>
    </form>
  );
}
