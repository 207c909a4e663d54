import { Alert } from "../../components/feedback";
import { errorKindLabel, outcomeInfo } from "./health";
import type { CheckNowState } from "./useCheckNow";

/** What a "check now" is doing, then how it ended. */
export function CheckNowResult({ state }: { state: CheckNowState }) {
  switch (state.phase) {
    case "idle":
      return null;
    case "queued":
    case "running":
      return <Alert kind="info">{state.phase === "queued" ? "Check queued…" : "Checking…"}</Alert>;
    case "error":
      return <Alert>Check now failed: {state.message}</Alert>;
    case "done": {
      const c = state.check;
      if (c.outcome === "failed") {
        return (
          <Alert>
            Check failed{errorKindLabel(c.error_kind) ? ` (${errorKindLabel(c.error_kind)})` : ""}: {c.error}
          </Alert>
        );
      }
      const refs = Object.keys(c.refs_listed).length;
      return (
        <Alert kind="success">
          Check finished: {outcomeInfo(c.outcome).label.toLowerCase()} — {refs} ref{refs === 1 ? "" : "s"} listed
          {c.deployment_event_ids.length > 0 ? `, ${c.deployment_event_ids.length} deployment(s) queued` : ""}.
        </Alert>
      );
    }
  }
}
