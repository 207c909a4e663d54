//! What a deployment deploys: the stack's commit, fetched into the repository's mirror when missing
//! and rendered (once per commit and source for all the environments of a rollout), and the
//! engine policy of the stack.

use std::time::Duration;

use super::run::failure;
use super::worker::Inner;
use crate::deploy::{self, DeployError, GitSource, Manifest, Phase, Policy};
use crate::git::GitErrorKind;
use crate::stacks::store::StackRow;

/// The engine policy of a stack.
pub fn policy_of(stack: &StackRow, parallelism: usize) -> Policy {
    Policy {
        default_namespace: stack.default_namespace.clone(),
        create_namespace: stack.create_namespace,
        prune: stack.prune,
        wait_for_health: stack.wait_for_health,
        health_timeout: Duration::from_secs(
            u64::try_from(stack.health_timeout_seconds).unwrap_or(300),
        ),
        force_conflicts: stack.force_conflicts,
        parallelism: parallelism.max(1),
    }
}

/// Makes sure the commit is in the repository's mirror (fetching it when missing).
pub async fn ensure_commit(
    pool: &sqlx::PgPool,
    repositories: &crate::repositories::Repositories,
    repository_id: uuid::Uuid,
    commit: &str,
) -> Result<crate::git::Mirror, DeployError> {
    let row = crate::repositories::store::get(pool, repository_id)
        .await
        .map_err(|e| failure(Phase::Render, format!("reading the repository: {e}"), true))?
        .ok_or_else(|| failure(Phase::Render, "the repository was deleted", false))?;
    let remote = repositories
        .remote_spec(&row)
        .map_err(|e| failure(Phase::Render, format!("repository credentials: {e}"), false))?;
    repositories
        .git
        .fetch_commit(row.repository_id, &row.name, remote, commit.to_owned())
        .await
        .map_err(|e| {
            let transient = matches!(
                e.kind,
                GitErrorKind::Timeout | GitErrorKind::Connection | GitErrorKind::Other
            );
            failure(
                Phase::Render,
                format!("fetching commit {commit} from {}: {e}", row.name),
                transient,
            )
        })?;
    Ok(repositories.git.mirror(row.repository_id))
}

/// Fetches the commit if needed, then renders the stack's paths there (off the runtime).
pub async fn render_stack(
    pool: &sqlx::PgPool,
    repositories: &crate::repositories::Repositories,
    stack: &StackRow,
    commit: &str,
) -> Result<Vec<Manifest>, DeployError> {
    let mirror = ensure_commit(pool, repositories, stack.repository_id, commit).await?;
    let source = GitSource {
        mirror,
        commit: commit.to_owned(),
    };
    let paths = stack.paths.clone();
    let watched = stack.watched_paths.clone();
    let renderer = stack.renderer();
    tokio::task::spawn_blocking(move || deploy::render(&source, &paths, &watched, renderer))
        .await
        .map_err(|e| failure(Phase::Render, format!("rendering stopped: {e}"), false))?
}

/// Renders through the deployer's cache: one commit rolled out to many environments is fetched
/// and rendered once. Keyed by everything rendering depends on; failures are not cached.
pub(super) async fn render(
    inner: &Inner,
    stack: &StackRow,
    commit: &str,
) -> Result<std::sync::Arc<Vec<Manifest>>, DeployError> {
    let key = format!(
        "{}\n{commit}\n{:?}\n{:?}\n{}",
        stack.repository_id, stack.paths, stack.watched_paths, stack.renderer
    );
    let cell = {
        let mut cache = inner.renders.lock();
        if cache.len() >= RENDER_CACHE && !cache.contains_key(&key) {
            cache.clear();
        }
        cache.entry(key.clone()).or_default().clone()
    };
    let rendered = cell
        .get_or_try_init(|| async {
            render_stack(&inner.pool, &inner.repositories, stack, commit)
                .await
                .map(std::sync::Arc::new)
        })
        .await;
    match rendered {
        Ok(m) => Ok(m.clone()),
        Err(e) => {
            inner.renders.lock().remove(&key);
            Err(e)
        }
    }
}

/// Renders kept per replica (distinct stack sources at distinct commits).
const RENDER_CACHE: usize = 64;
