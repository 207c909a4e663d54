//! Managing stacks and the actions people take on them: create, change, delete (optionally
//! removing their objects), deploy, redeploy, roll back, pause, resume, preview. Every change is
//! audited in its own transaction and announced on the event bus. Knows nothing of HTTP.

use futures::StreamExt as _;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{Stack, StackError, StackSpec, StackTarget};
use super::store::{self, StackFilter, StackRow};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::deploy::{self, Preview, Renderer};
use crate::environments::Environments;
use crate::events::{EventBus, ServerEvent};
use crate::pagination::{Page, PageRequest};
use crate::repositories::{Poller, Repositories};
use crate::rollouts::{Deployer, Trigger, dispatch, store as rollout_store};

/// Changes to a stack; `None` keeps the current value (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default)]
pub struct StackChanges {
    pub name: Option<String>,
    pub git_ref: Option<String>,
    pub paths: Option<Vec<String>>,
    pub watched_paths: Option<Vec<String>>,
    pub renderer: Option<Renderer>,
    pub environment_ids: Option<Vec<Uuid>>,
    pub selector: Option<Option<String>>,
    pub default_namespace: Option<Option<String>>,
    pub create_namespace: Option<bool>,
    pub auto_deploy: Option<bool>,
    pub prune: Option<bool>,
    pub wait_for_health: Option<bool>,
    pub health_timeout_seconds: Option<i32>,
    pub force_conflicts: Option<bool>,
    pub paused: Option<bool>,
}

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

#[derive(Clone)]
pub struct Stacks {
    pool: PgPool,
    repositories: Repositories,
    environments: Environments,
    poller: Poller,
    deployer: Deployer,
    apply_parallelism: usize,
}

fn who(actor: &Actor) -> String {
    actor.label.clone().unwrap_or_else(|| "system".to_owned())
}

fn map_unique(e: sqlx::Error) -> StackError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StackError::NameTaken,
        other => StackError::Database(other),
    }
}

impl Stacks {
    pub fn new(
        pool: PgPool,
        repositories: Repositories,
        environments: Environments,
        poller: Poller,
        deployer: Deployer,
        apply_parallelism: usize,
    ) -> Self {
        Self {
            pool,
            repositories,
            environments,
            poller,
            deployer,
            apply_parallelism,
        }
    }

    /// A stack by id or by name.
    pub async fn find(&self, id_or_name: &str) -> Result<Stack, StackError> {
        Ok(self.find_row(id_or_name).await?.into_stack())
    }

    async fn find_row(&self, id_or_name: &str) -> Result<StackRow, StackError> {
        let row = match Uuid::parse_str(id_or_name) {
            Ok(id) => store::get_row(&self.pool, id).await?,
            Err(_) => store::get_row_by_name(&self.pool, id_or_name).await?,
        };
        row.ok_or(StackError::NotFound("stack"))
    }

    async fn row(&self, id: Uuid) -> Result<StackRow, StackError> {
        store::get_row(&self.pool, id)
            .await?
            .ok_or(StackError::NotFound("stack"))
    }

    pub async fn list(
        &self,
        filter: &StackFilter,
        page: &PageRequest<String>,
    ) -> Result<Page<Stack>, StackError> {
        let rows = store::list_rows(
            &self.pool,
            filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let stacks: Vec<Stack> = rows.into_iter().map(StackRow::into_stack).collect();
        Ok(page.finish(stacks, |s| s.name.clone()))
    }

    pub async fn targets(&self, id: Uuid) -> Result<Vec<StackTarget>, StackError> {
        self.row(id).await?;
        Ok(store::targets(&self.pool, id).await?)
    }

    /// Stacks targeting an environment, with their state there.
    pub async fn of_environment(
        &self,
        environment_id: Uuid,
    ) -> Result<Vec<StackTarget>, StackError> {
        Ok(store::targets_of_environment(&self.pool, environment_id).await?)
    }

    /// Stacks by sync state and paused (the overview).
    pub async fn summary(&self) -> Result<super::StackSummary, StackError> {
        Ok(store::summary(&self.pool).await?)
    }

    async fn check_references(&self, spec: &StackSpec) -> Result<(), StackError> {
        let repo = crate::repositories::store::get(&self.pool, spec.repository_id)
            .await
            .map_err(|e| StackError::Internal(e.to_string()))?;
        if repo.is_none() {
            return Err(StackError::invalid(
                "repository_id",
                "no repository with this id",
            ));
        }
        if !spec.environment_ids.is_empty() {
            let known: Vec<Uuid> = sqlx::query_scalar(
                "select environment_id from environment where environment_id = any($1)",
            )
            .bind(&spec.environment_ids)
            .fetch_all(&self.pool)
            .await?;
            let unknown: Vec<String> = spec
                .environment_ids
                .iter()
                .filter(|id| !known.contains(id))
                .map(Uuid::to_string)
                .collect();
            if !unknown.is_empty() {
                return Err(StackError::invalid(
                    "environment_ids",
                    format!("no environment with id {}", unknown.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Creates a stack, computes its targets and asks for a check of its repository so the
    /// first deployment follows.
    pub async fn create(&self, spec: StackSpec, actor: &Actor) -> Result<Stack, StackError> {
        let spec = spec.validate()?;
        self.check_references(&spec).await?;
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        store::insert_spec(&mut *tx, id, &spec)
            .await
            .map_err(map_unique)?;
        dispatch::reconcile_stack(&mut tx, id, &who(actor)).await?;
        let event = NewAuditEvent::new(actor, "stack.create", format!("stack:{}", spec.name))
            .details(json!({"stack_id": id, "repository_id": spec.repository_id,
                            "ref": spec.git_ref, "paths": spec.paths}));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new("stack.created", json!({"id": id, "name": spec.name})),
        )
        .await?;
        tx.commit().await?;
        if !spec.paused {
            self.request_check(spec.repository_id).await;
        }
        self.find(&id.to_string()).await
    }

    async fn request_check(&self, repository_id: Uuid) {
        match self
            .repositories
            .request_check(repository_id, "manual")
            .await
        {
            Ok(_) => self.poller.wake(),
            Err(e) => tracing::warn!(error = %e, "could not request a repository check"),
        }
    }

    pub async fn update(
        &self,
        id: Uuid,
        c: StackChanges,
        actor: &Actor,
    ) -> Result<Stack, StackError> {
        let current = self.row(id).await?;
        let renderer = current.renderer();
        let spec = StackSpec {
            name: c.name.unwrap_or(current.name.clone()),
            repository_id: current.repository_id,
            git_ref: c.git_ref.unwrap_or(current.git_ref.clone()),
            paths: c.paths.unwrap_or(current.paths.clone()),
            watched_paths: c.watched_paths.unwrap_or(current.watched_paths.clone()),
            renderer: c.renderer.unwrap_or(renderer),
            environment_ids: c
                .environment_ids
                .unwrap_or(current.target_environment_ids.clone()),
            selector: c.selector.unwrap_or(current.target_selector.clone()),
            default_namespace: c
                .default_namespace
                .unwrap_or(current.default_namespace.clone()),
            create_namespace: c.create_namespace.unwrap_or(current.create_namespace),
            auto_deploy: c.auto_deploy.unwrap_or(current.auto_deploy),
            prune: c.prune.unwrap_or(current.prune),
            wait_for_health: c.wait_for_health.unwrap_or(current.wait_for_health),
            health_timeout_seconds: c
                .health_timeout_seconds
                .unwrap_or(current.health_timeout_seconds),
            force_conflicts: c.force_conflicts.unwrap_or(current.force_conflicts),
            paused: c.paused.unwrap_or(current.paused),
        }
        .validate()?;
        self.check_references(&spec).await?;
        let source_changed = spec.git_ref != current.git_ref
            || spec.paths != current.paths
            || spec.watched_paths != current.watched_paths
            || spec.renderer != renderer;
        let mut tx = self.pool.begin().await?;
        if !store::lock(&mut *tx, id).await? {
            return Err(StackError::NotFound("stack"));
        }
        store::update_spec(&mut *tx, id, &spec)
            .await
            .map_err(map_unique)?;
        dispatch::reconcile_stack(&mut tx, id, &who(actor)).await?;
        let event = NewAuditEvent::new(actor, "stack.update", format!("stack:{}", spec.name))
            .details(json!({"stack_id": id, "source_changed": source_changed,
                            "paused": spec.paused, "auto_deploy": spec.auto_deploy}));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new("stack.updated", json!({"id": id, "name": spec.name})),
        )
        .await?;
        tx.commit().await?;
        if !spec.paused && (source_changed || current.paused) {
            self.request_check(spec.repository_id).await;
        }
        self.find(&id.to_string()).await
    }

    /// Deletes a stack. With `remove_objects`, a removal rollout deletes its objects from every
    /// target first (the stack goes when it succeeds; its id is returned); without, the objects
    /// stay in the clusters.
    pub async fn delete(
        &self,
        id: Uuid,
        remove_objects: bool,
        actor: &Actor,
    ) -> Result<Option<Uuid>, StackError> {
        let mut tx = self.pool.begin().await?;
        if !store::lock(&mut *tx, id).await? {
            return Err(StackError::NotFound("stack"));
        }
        let stack = store::get_row(&mut *tx, id)
            .await?
            .ok_or(StackError::NotFound("stack"))?;
        let targets = store::targets(&mut *tx, id).await?;
        let with_objects: Vec<Uuid> = targets
            .iter()
            .filter(|t| t.object_count > 0)
            .map(|t| t.environment_id)
            .collect();
        let rollout = if remove_objects && !with_objects.is_empty() {
            store::set_deleting(&mut *tx, id).await?;
            let commit = stack
                .deployed_commit
                .clone()
                .unwrap_or_else(|| "0000000000000000000000000000000000000000".to_owned());
            Some(
                dispatch::start_rollout(
                    &mut tx,
                    &stack,
                    &commit,
                    Trigger::Removal,
                    &who(actor),
                    None,
                    Some(&with_objects),
                )
                .await?,
            )
        } else {
            store::delete(&mut *tx, id).await?;
            None
        };
        let event = NewAuditEvent::new(actor, "stack.delete", format!("stack:{}", stack.name))
            .details(json!({"stack_id": id, "remove_objects": remove_objects,
                            "removal_rollout_id": rollout}));
        audit::store::insert(&mut *tx, &event).await?;
        let kind = if rollout.is_some() {
            "stack.updated"
        } else {
            "stack.deleted"
        };
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new(kind, json!({"id": id, "name": stack.name})),
        )
        .await?;
        tx.commit().await?;
        self.deployer.wake();
        Ok(rollout)
    }

    /// Starts a rollout by hand and audits it.
    async fn roll_out(
        &self,
        stack: &StackRow,
        commit: &str,
        trigger: Trigger,
        action: &str,
        actor: &Actor,
        hold: Option<Option<&str>>,
    ) -> Result<Uuid, StackError> {
        if stack.deleting {
            return Err(StackError::Conflict(
                "the stack is being deleted".to_owned(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        store::lock(&mut *tx, stack.stack_id).await?;
        if let Some(hold) = hold {
            store::set_hold(&mut *tx, stack.stack_id, hold).await?;
        }
        let rollout =
            dispatch::start_rollout(&mut tx, stack, commit, trigger, &who(actor), None, None)
                .await?;
        let event = NewAuditEvent::new(actor, action, format!("stack:{}", stack.name))
            .details(json!({"stack_id": stack.stack_id, "commit": commit,
                            "rollout_id": rollout}));
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        self.deployer.wake();
        Ok(rollout)
    }

    /// Makes sure a commit chosen by a person exists in the repository (fetching it).
    async fn verify_commit(&self, stack: &StackRow, commit: &str) -> Result<String, StackError> {
        let commit = commit.trim().to_ascii_lowercase();
        if !crate::git::is_full_sha(&commit) {
            return Err(StackError::invalid(
                "commit",
                "must be a full 40-character commit id",
            ));
        }
        crate::rollouts::run::ensure_commit(
            &self.pool,
            &self.repositories,
            stack.repository_id,
            &commit,
        )
        .await
        .map_err(|e| StackError::invalid("commit", e.message))?;
        Ok(commit)
    }

    /// Deploys the latest commit (or a chosen one) to every target now.
    pub async fn deploy(
        &self,
        id: Uuid,
        commit: Option<String>,
        actor: &Actor,
    ) -> Result<Uuid, StackError> {
        let stack = self.row(id).await?;
        let (commit, hold) = match commit {
            Some(c) => {
                let c = self.verify_commit(&stack, &c).await?;
                let latest = stack.latest_commit.as_deref() == Some(c.as_str());
                // Deploying an older commit by hand holds auto-deploy like a rollback does.
                let hold = if latest {
                    None
                } else {
                    stack.latest_commit.clone()
                };
                (c, Some(hold))
            }
            None => {
                let c = stack
                    .latest_commit
                    .clone()
                    .or(stack.last_seen_commit.clone())
                    .ok_or_else(|| {
                        StackError::Conflict(
                            "no commit is known yet for this stack; check its repository first"
                                .to_owned(),
                        )
                    })?;
                (c, Some(None))
            }
        };
        self.roll_out(
            &stack,
            &commit,
            Trigger::Manual,
            "stack.deploy",
            actor,
            hold.as_ref().map(Option::as_deref),
        )
        .await
    }

    /// Deploys the currently deployed commit again (re-applies drifted objects).
    pub async fn redeploy(&self, id: Uuid, actor: &Actor) -> Result<Uuid, StackError> {
        let stack = self.row(id).await?;
        let commit = stack.deployed_commit.clone().ok_or_else(|| {
            StackError::Conflict("the stack has not been deployed yet".to_owned())
        })?;
        self.roll_out(
            &stack,
            &commit,
            Trigger::Redeploy,
            "stack.redeploy",
            actor,
            None,
        )
        .await
    }

    /// Deploys the commit of an earlier successful deployment and holds auto-deploy until a
    /// new commit arrives or someone resumes the stack.
    pub async fn rollback(
        &self,
        id: Uuid,
        deployment_id: Uuid,
        actor: &Actor,
    ) -> Result<Uuid, StackError> {
        let stack = self.row(id).await?;
        let commit = rollout_store::successful_commit(&self.pool, id, deployment_id)
            .await?
            .ok_or_else(|| {
                StackError::invalid("deployment_id", "not a successful deployment of this stack")
            })?;
        let hold = stack
            .latest_commit
            .clone()
            .or(stack.deployed_commit.clone())
            .unwrap_or(commit.clone());
        self.roll_out(
            &stack,
            &commit,
            Trigger::Rollback,
            "stack.rollback",
            actor,
            Some(Some(&hold)),
        )
        .await
    }

    /// Pauses or resumes a stack. Resuming also lifts a rollback hold and, when the stack
    /// auto-deploys and is out of date, deploys the latest commit (returned rollout).
    pub async fn set_paused(
        &self,
        id: Uuid,
        paused: bool,
        actor: &Actor,
    ) -> Result<Option<Uuid>, StackError> {
        let stack = self.row(id).await?;
        let mut tx = self.pool.begin().await?;
        store::lock(&mut *tx, id).await?;
        super::store::set_paused(&mut *tx, id, paused).await?;
        let mut rollout = None;
        if !paused {
            store::set_hold(&mut *tx, id, None).await?;
            let targets = store::targets(&mut *tx, id).await?;
            let behind = targets.iter().any(|t| {
                t.state == super::SyncState::OutOfDate
                    || (t.state == super::SyncState::Failed
                        && t.deployed_commit != stack.latest_commit)
            });
            if let (Some(latest), true, true) = (&stack.latest_commit, stack.auto_deploy, behind) {
                rollout = Some(
                    dispatch::start_rollout(
                        &mut tx,
                        &stack,
                        latest,
                        Trigger::Manual,
                        &who(actor),
                        None,
                        None,
                    )
                    .await?,
                );
            }
        }
        let action = if paused {
            "stack.pause"
        } else {
            "stack.resume"
        };
        let event = NewAuditEvent::new(actor, action, format!("stack:{}", stack.name))
            .details(json!({"stack_id": id, "rollout_id": rollout}));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new("stack.updated", json!({"id": id, "name": stack.name})),
        )
        .await?;
        tx.commit().await?;
        if !paused {
            self.request_check(stack.repository_id).await;
        }
        self.deployer.wake();
        Ok(rollout)
    }

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
            crate::rollouts::run::render_stack(&self.pool, &self.repositories, &stack, &commit)
                .await
                .map_err(|e| StackError::invalid("commit", e.to_string()))?;
        let targets = store::targets(&self.pool, id).await?;
        let policy = crate::rollouts::run::policy_of(&stack, self.apply_parallelism);
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
