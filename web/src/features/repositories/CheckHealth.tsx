import type { Repository } from "../../api/types";
import { Badge } from "../../components/Badge";
import { errorKindLabel, outcomeInfo } from "./health";

/** The outcome of a repository's last check, with its failure streak. */
export function CheckHealth({ repo }: { repo: Repository }) {
  const s = repo.status;
  const info = outcomeInfo(s.last_outcome);
  return (
    <span className="flags">
      <Badge tone={info.tone} title={info.meaning}>
        {s.last_outcome === "failed" ? (errorKindLabel(s.last_error_kind) ?? info.label) : info.label}
      </Badge>
      {s.consecutive_failures > 1 && <span className="text-error">{s.consecutive_failures} failures in a row</span>}
      {repo.paused && <Badge tone="muted">Paused</Badge>}
    </span>
  );
}
