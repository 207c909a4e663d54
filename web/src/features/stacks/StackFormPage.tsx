// /stacks/new and /stacks/:id/edit: loads the stack (and its targets' names) to edit, then the form.
import { Link, useParams } from "react-router";
import { getStack, listTargets } from "../../api/stacks";
import { ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { useResource } from "../../lib/useResource";
import { StackForm } from "./StackForm";

export function NewStackPage() {
  return (
    <>
      <PageHeader
        title="New stack"
        description={
          <>
            Its targets are computed at once and its repository is checked, so the first deployment follows. <Link to="/stacks">Back to stacks</Link>
          </>
        }
      />
      <StackForm initial={null} />
    </>
  );
}

export function EditStackPage() {
  const { id = "" } = useParams();
  const data = useResource(id, async (signal) => {
    const stack = await getStack(id, signal);
    const targets = await listTargets(stack.id, signal);
    return { stack, targets };
  });
  if (data.data === null) {
    if (data.error !== null) return <ErrorState error={data.error} onRetry={data.reload} title="Could not load this stack" />;
    return <LoadingState label="Loading stack…" />;
  }
  const { stack, targets } = data.data;
  return (
    <>
      <PageHeader
        title={`Edit ${stack.name}`}
        description={
          <>
            <Link to="/stacks">Stacks</Link> / <Link to={`/stacks/${stack.id}`}>{stack.name}</Link> / edit
          </>
        }
      />
      <StackForm initial={stack} initialTargets={targets} />
    </>
  );
}
