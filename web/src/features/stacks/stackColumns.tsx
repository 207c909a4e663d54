// Columns of the stack list: identity and source, sync state over the targets, policies.
import { Link } from "react-router";
import type { Stack } from "../../api/types";
import { Badge } from "../../components/Badge";
import type { Column } from "../../components/PagedTable";
import { Commit } from "../rollouts/status";
import { SyncBadge, SyncCountsText, targetTotal } from "./syncState";

export function StackFlags({ stack }: { stack: Stack }) {
  return (
    <span className="flags">
      {stack.deleting && <Badge tone="warn">Deleting</Badge>}
      {stack.paused && (
        <Badge tone="warn" title="Change detection and auto-deploy are stopped">
          Paused
        </Badge>
      )}
      {stack.rollback_hold_commit !== null && (
        <Badge tone="warn" title="Auto-deploy holds after a rollback until a new commit arrives or the stack is resumed">
          Held after rollback
        </Badge>
      )}
      {stack.auto_deploy ? (
        <Badge tone="muted" title="A detected change deploys">
          Auto-deploy
        </Badge>
      ) : (
        <Badge tone="muted" title="Changes wait for someone to deploy them">
          Manual deploy
        </Badge>
      )}
    </span>
  );
}

export const stackColumns: Column<Stack>[] = [
  {
    header: "Name",
    cell: (s) => (
      <div className="cell-stack">
        <Link to={`/stacks/${s.id}`}>{s.name}</Link>
        <span className="muted cell-clip">
          {s.repository_name} · <code>{s.ref}</code>
          {s.paths.length > 0 && <> · {s.paths.join(", ")}</>}
        </span>
      </div>
    ),
  },
  {
    header: "Sync",
    cell: (s) => (
      <div className="cell-stack">
        <SyncBadge state={s.sync_state} />
        <SyncCountsText counts={s.targets} />
      </div>
    ),
  },
  { header: "Targets", className: "num", cell: (s) => targetTotal(s.targets) },
  {
    header: "Deployed",
    className: "nowrap",
    cell: (s) => (
      <div className="cell-stack">
        <Commit sha={s.deployed_commit} />
        {s.latest_commit !== null && s.latest_commit !== s.deployed_commit && (
          <span className="muted">
            latest <Commit sha={s.latest_commit} />
          </span>
        )}
      </div>
    ),
  },
  { header: "Policies", cell: (s) => <StackFlags stack={s} /> },
];
