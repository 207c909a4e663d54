import { formatDateTime, formatRelative } from "../lib/format";

/** A time as "3 minutes ago" (or "in 5 minutes"), the exact time in the tooltip. */
export function Time({ value, empty = "never" }: { value: string | null | undefined; empty?: string }) {
  if (!value) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={value} title={formatDateTime(value)}>
      {formatRelative(value)}
    </time>
  );
}
