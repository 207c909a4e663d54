import type { EnvironmentStatus } from "../../api/types";
import { Badge } from "../../components/Badge";
import { statusLabel, statusMeaning, statusTone } from "./status";

export function EnvironmentStatusBadge({ status }: { status: EnvironmentStatus }) {
  return (
    <Badge tone={statusTone(status)} title={statusMeaning(status)}>
      {statusLabel(status)}
    </Badge>
  );
}
