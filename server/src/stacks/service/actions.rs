//! The actions people take on a stack: deploy (the latest or a chosen commit), redeploy, roll back,
//! pause and resume. Each starts a rollout (or changes the stack) in one audited transaction.

use serde_json::json;
use uuid::Uuid;

use super::{Stacks, who};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::events::{EventBus, ServerEvent};
use crate::rollouts::{Trigger, dispatch, store as rollout_store};
use crate::stacks::SyncState;
use crate::stacks::model::StackError;
use crate::stacks::store::{self, StackRow};

impl Stacks {
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
    pub(super) async fn verify_commit(
        &self,
        stack: &StackRow,
        commit: &str,
    ) -> Result<String, StackError> {
        let commit = commit.trim().to_ascii_lowercase();
        if !crate::git::is_full_sha(&commit) {
            return Err(StackError::invalid(
                "commit",
                "must be a full 40-character commit id",
            ));
        }
        crate::rollouts::source::ensure_commit(
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
                t.state == SyncState::OutOfDate
                    || (t.state == SyncState::Failed && t.deployed_commit != stack.latest_commit)
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
}
