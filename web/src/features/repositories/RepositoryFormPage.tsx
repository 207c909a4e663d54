// /repositories/new and /repositories/:id/edit: loads the repository to edit, then the form.
import { Link, useParams } from "react-router";
import { getRepository } from "../../api/repositories";
import { ErrorState, LoadingState } from "../../components/feedback";
import { PageHeader } from "../../components/PageHeader";
import { useResource } from "../../lib/useResource";
import { RepositoryForm } from "./RepositoryForm";

export function NewRepositoryPage() {
  return (
    <>
      <PageHeader
        title="Add a repository"
        description={
          <>
            The connection is tested before anything is saved. <Link to="/repositories">Back to repositories</Link>
          </>
        }
      />
      <RepositoryForm initial={null} />
    </>
  );
}

export function EditRepositoryPage() {
  const { id = "" } = useParams();
  const repo = useResource(id, (signal) => getRepository(id, signal));
  if (repo.data === null) {
    if (repo.error !== null) return <ErrorState error={repo.error} onRetry={repo.reload} title="Could not load this repository" />;
    return <LoadingState label="Loading repository…" />;
  }
  return (
    <>
      <PageHeader
        title={`Edit ${repo.data.name}`}
        description={
          <>
            <Link to="/repositories">Repositories</Link> / <Link to={`/repositories/${repo.data.id}`}>{repo.data.name}</Link> / edit
          </>
        }
      />
      <RepositoryForm initial={repo.data} />
    </>
  );
}
