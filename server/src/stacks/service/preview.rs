//! Previews: a stack rendered at a commit and dry-run against every target, changing nothing.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use futures::StreamExt as _;

use super::Stacks;
use crate::deploy::{self, Preview};
use crate::stacks::model::StackError;
use crate::stacks::store;

/// What a preview found in one environment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnvironmentPreview {
    pub environment_id: Uuid,
    pub environment_name: String,
    /// `null` when the preview failed there (see `error`).
    #[schema(required = true)]
    pub preview: Option<Preview>,
    #[schema(required = true)]
    pub error: Option<String>,
}

/// A preview of a stack at a commit, per target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StackPreview {
    pub commit: String,
    pub environments: Vec<EnvironmentPreview>,
}

impl Stacks {
    /// Renders the stack at a commit (default: the latest) and dry-runs it against every
    /// target: what would be created, changed (with field diffs) and pruned. Changes nothing.
    pub async fn preview(
        &self,
        id: Uuid,
        commit: Option<String>,
    ) -> Result<StackPreview, StackError> {
        let stack = self.row(id).await?;
        let commit = match commit {
            Some(c) => self.verify_commit(&stack, &c).await?,
            None => stack
                .latest_commit
                .clone()
                .or(stack.last_seen_commit.clone())
                .ok_or_else(|| {
                    StackError::Conflict(
                        "no commit is known yet for this stack; check its repository first"
                            .to_owned(),
                    )
                })?,
        };
        let manifests =
            crate::rollouts::source::render_stack(&self.pool, &self.repositories, &stack, &commit)
                .await
                .map_err(|e| StackError::invalid("commit", e.to_string()))?;
        let targets = store::targets(&self.pool, id).await?;
        let policy = crate::rollouts::source::policy_of(&stack, self.apply_parallelism);
        let identity = deploy::StackIdentity {
            id: stack.stack_id,
            name: stack.name.clone(),
            commit: commit.clone(),
        };
        let environments = futures::stream::iter(targets)
            .map(|t| {
                let manifests = &manifests;
                let policy = &policy;
                let identity = &identity;
                async move {
                    let result = self
                        .preview_one(t.stack_id, t.environment_id, manifests, identity, policy)
                        .await;
                    let (preview, error) = match result {
                        Ok(p) => (Some(p), None),
                        Err(e) => (None, Some(e)),
                    };
                    EnvironmentPreview {
                        environment_id: t.environment_id,
                        environment_name: t.environment_name,
                        preview,
                        error,
                    }
                }
            })
            .buffered(8)
            .collect::<Vec<_>>()
            .await;
        Ok(StackPreview {
            commit,
            environments,
        })
    }

    async fn preview_one(
        &self,
        stack_id: Uuid,
        environment_id: Uuid,
        manifests: &[deploy::Manifest],
        identity: &deploy::StackIdentity,
        policy: &deploy::Policy,
    ) -> Result<Preview, String> {
        let mut policy = policy.clone();
        if policy.default_namespace.is_none() {
            policy.default_namespace = self
                .environments
                .find(&environment_id.to_string())
                .await
                .ok()
                .map(|e| e.default_namespace);
        }
        let previous = store::inventory(&self.pool, stack_id, environment_id)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let (client, version) = self
            .environments
            .client_with_version(environment_id)
            .await
            .map_err(|e| e.to_string())?;
        deploy::preview(
            &client,
            self.deployer.discoveries(),
            (environment_id, version),
            manifests,
            &previous,
            identity,
            &policy,
        )
        .await
        .map_err(|e| e.message)
    }
}
