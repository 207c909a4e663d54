// Edits a poll schedule (interval, cron + time zone, or manual) and shows the server's preview of
// the next runs, with refusals (too frequent, bad cron, unknown zone) at the field they name.
import { useEffect, useState } from "react";
import { isApiError, describeError } from "../../api/errors";
import { previewSchedule } from "../../api/schedules";
import type { SchedulePreview, ScheduleSpec } from "../../api/types";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/feedback";
import { formatDateTimeSeconds, formatRelative } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";

export type ScheduleKind = "interval" | "cron" | "manual";
export type ScheduleErrors = Partial<Record<"interval" | "cron" | "time_zone" | "kind", string>>;

const ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
})();

/** The spec for what the editor shows (as typed; see `normalizeSchedule`). */
export function toSpec(kind: ScheduleKind, interval: string, cron: string, zone: string): ScheduleSpec {
  if (kind === "manual") return { kind: "manual" };
  if (kind === "cron") return { kind: "cron", cron, time_zone: zone };
  return { kind: "interval", interval };
}

/** An empty zone means UTC. */
function zoneOrUtc(zone: string | null | undefined): string {
  return zone === undefined || zone === null || zone === "" ? "UTC" : zone;
}

/** The spec to send: trimmed, empty values left out (an empty interval means the default). */
export function normalizeSchedule(spec: ScheduleSpec): ScheduleSpec {
  const out: ScheduleSpec = { kind: spec.kind ?? "interval" };
  const interval = spec.interval?.trim();
  const cron = spec.cron?.trim();
  const zone = spec.time_zone?.trim();
  if (out.kind === "interval" && interval) out.interval = interval;
  if (out.kind === "cron") {
    out.cron = cron ?? "";
    out.time_zone = zoneOrUtc(zone);
  }
  return out;
}

interface Props {
  value: ScheduleSpec;
  onChange: (spec: ScheduleSpec) => void;
  /** Errors from saving (`schedule.cron` → `cron`). */
  errors: ScheduleErrors;
}

export function ScheduleEditor({ value, onChange, errors }: Props) {
  const kind = (value.kind ?? "interval") as ScheduleKind;
  const [preview, setPreview] = useState<{ forKey: string | null; data: SchedulePreview | null; errors: ScheduleErrors; failure: string | null }>({
    forKey: null,
    data: null,
    errors: {},
    failure: null,
  });
  const debounced = useDebounced(value, 300);
  const specKey = JSON.stringify(debounced);
  const loading = preview.forKey !== specKey;

  useEffect(() => {
    const ctl = new AbortController();
    previewSchedule(normalizeSchedule(JSON.parse(specKey) as ScheduleSpec), 5, ctl.signal).then(
      (data) => !ctl.signal.aborted && setPreview({ forKey: specKey, data, errors: {}, failure: null }),
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        const field = isApiError(e) ? e.field : null;
        if (field === "interval" || field === "cron" || field === "time_zone" || field === "kind") {
          setPreview({ forKey: specKey, data: null, errors: { [field]: isApiError(e) ? e.message : "" }, failure: null });
        } else setPreview({ forKey: specKey, data: null, errors: {}, failure: describeError(e) });
      },
    );
    return () => ctl.abort();
  }, [specKey]);

  const shown = { ...preview.errors, ...errors };
  const set = (k: ScheduleKind, interval = value.interval ?? "", cron = value.cron ?? "", zone = zoneOrUtc(value.time_zone)) =>
    onChange(toSpec(k, interval, cron, zone));

  return (
    <fieldset className="field schedule-editor">
      <legend className="field-label">Schedule</legend>
      <div className="segmented" role="radiogroup" aria-label="Schedule kind">
        {(["interval", "cron", "manual"] as const).map((k) => (
          <label key={k} className={`segment${kind === k ? " segment-on" : ""}`}>
            <input type="radio" name="schedule-kind" value={k} checked={kind === k} onChange={() => set(k)} />
            {k === "interval" ? "Every…" : k === "cron" ? "Cron" : "Manual"}
          </label>
        ))}
      </div>
      {kind === "interval" && (
        <Field
          label="Interval"
          error={shown.interval}
          hint={`For example 30s, 5m, 1h or 1h30m${preview.data ? `; at least ${preview.data.min_interval}, default ${preview.data.default_interval}` : ""}.`}
        >
          {(p) => <input {...p} value={value.interval ?? ""} placeholder={preview.data?.default_interval ?? "5m"} onChange={(e) => set("interval", e.target.value)} />}
        </Field>
      )}
      {kind === "cron" && (
        <div className="grid-2 grid-tight">
          <Field label="Cron expression" error={shown.cron} hint="5 fields (min hour day month weekday) or 6 with seconds first.">
            {(p) => <input {...p} className="mono" value={value.cron ?? ""} placeholder="*/5 * * * *" onChange={(e) => set("cron", undefined, e.target.value)} />}
          </Field>
          <Field label="Time zone" error={shown.time_zone} hint="An IANA name; runs follow local time across DST changes.">
            {(p) => (
              <>
                <input {...p} list="schedule-zones" value={value.time_zone ?? ""} onChange={(e) => set("cron", undefined, undefined, e.target.value)} />
                <datalist id="schedule-zones">
                  {ZONES.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
        </div>
      )}
      {kind === "manual" && <p className="field-hint">Never polled: checks run on webhooks and “check now” only.</p>}
      {shown.kind && <p className="field-error">{shown.kind}</p>}
      <ScheduleRuns preview={preview.data} loading={loading} failure={preview.failure} manual={kind === "manual"} />
    </fieldset>
  );
}

function ScheduleRuns({ preview, loading, failure, manual }: { preview: SchedulePreview | null; loading: boolean; failure: string | null; manual: boolean }) {
  if (manual) return null;
  return (
    <div className="schedule-runs" aria-live="polite">
      <span className="field-label">Next checks {loading && <Spinner label="Updating the preview…" />}</span>
      {failure && <p className="field-error">The preview is unavailable: {failure}</p>}
      {preview && preview.runs.length > 0 && (
        <ol className="run-list" aria-label="Next checks">
          {preview.runs.map((r) => (
            <li key={r}>
              <time dateTime={r}>{formatDateTimeSeconds(r)}</time> <span className="muted">({formatRelative(r)})</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
