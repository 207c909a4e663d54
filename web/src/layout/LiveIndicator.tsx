// Says whether live updates are flowing, so a stale page is never mistaken for a live one.
import { useEventStreamStatus } from "../api/useServerEvents";

const labels = {
  open: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  closed: "Not live",
} as const;

export function LiveIndicator() {
  const status = useEventStreamStatus();
  return (
    <span className={`live live-${status}`} role="status" title={status === "open" ? "Live updates are on" : "Live updates are paused; pages reload when they resume"}>
      <span className="live-dot" aria-hidden="true" />
      {labels[status]}
    </span>
  );
}
