//! Managing stacks and the actions people take on them: create, change, delete (optionally
//! removing their objects), deploy, redeploy, roll back, pause, resume, preview. Every change is
//! audited in its own transaction and announced on the event bus. Knows nothing of HTTP. The actions
//! that start rollouts are in `actions`, previews in `preview`.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::model::{Stack, StackError, StackSpec, StackTarget};
use super::store::{self, StackFilter, StackRow};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::deploy::Renderer;
use crate::environments::Environments;
use crate::events::{EventBus, ServerEvent};
use crate::pagination::{Page, PageRequest};
use crate::repositories::{Poller, Repositories};
use crate::rollouts::{Deployer, Trigger, dispatch};

mod actions;
mod preview;
pub use preview::{EnvironmentPreview, StackPreview};

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
}
