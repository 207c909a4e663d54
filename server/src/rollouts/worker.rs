//! The deployer: each replica's worker pool for the deployment queue.
//!
//! Woken every second by the clock, at once by server events (`rollout.created`, environment
//! changes) from any replica, it (1) re-queues deployments whose replica died (expired leases),
//! (2) turns pending deployment events into rollouts, (3) re-evaluates stack targets when
//! environments changed, and (4) claims as many deployments as it has free workers. Each running
//! deployment heartbeats its lease; on shutdown, running deployments are released back to the
//! queue so another replica resumes them at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::{dispatch, run, store};
use crate::deploy::{Discoveries, Manifest};
use crate::environments::Environments;
use crate::events::EventBus;
use crate::repositories::Repositories;

/// How the deployer runs (from the configuration).
#[derive(Debug, Clone)]
pub struct DeployerSettings {
    /// Deployments running at once in this replica (0: it claims none).
    pub concurrency: usize,
    /// Lease of a running deployment; heartbeats renew it every third of it.
    pub lease: Duration,
    /// Attempts (transient failures and replica deaths) before a deployment fails for good.
    pub max_attempts: i32,
    /// First retry delay; doubled each attempt, capped at 5 minutes.
    pub retry_backoff: Duration,
    /// Parallel applies within one ordering tier of one deployment.
    pub apply_parallelism: usize,
}

impl Default for DeployerSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            lease: Duration::from_secs(30),
            max_attempts: 5,
            retry_backoff: Duration::from_secs(5),
            apply_parallelism: 8,
        }
    }
}

/// One render, shared by the deployments that need it at the same time.
pub(super) type RenderCell = Arc<tokio::sync::OnceCell<Arc<Vec<Manifest>>>>;

#[derive(Clone)]
pub struct Deployer {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) pool: sqlx::PgPool,
    pub(super) environments: Environments,
    pub(super) repositories: Repositories,
    pub(super) discoveries: Discoveries,
    pub(super) settings: DeployerSettings,
    /// This replica's lease owner name.
    pub(super) owner: String,
    wake: Notify,
    /// Set when environments changed: targets are re-evaluated on the next tick.
    targets_dirty: Mutex<bool>,
    permits: Arc<Semaphore>,
    tasks: TaskTracker,
    /// Cancelled on shutdown: running deployments release their leases.
    running: CancellationToken,
    /// Rendered manifests by source and commit (see `source::render`).
    pub(super) renders: Mutex<HashMap<String, RenderCell>>,
}

impl Deployer {
    pub fn new(
        pool: sqlx::PgPool,
        environments: Environments,
        repositories: Repositories,
        settings: DeployerSettings,
    ) -> Self {
        let host = hostname();
        Self {
            inner: Arc::new(Inner {
                pool,
                environments,
                repositories,
                discoveries: Discoveries::default(),
                permits: Arc::new(Semaphore::new(settings.concurrency)),
                settings,
                owner: format!("{host}/{}", Uuid::new_v4()),
                wake: Notify::new(),
                targets_dirty: Mutex::new(true),
                tasks: TaskTracker::new(),
                running: CancellationToken::new(),
                renders: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The lease owner name of this replica.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The engine's discovery cache (shared with previews).
    pub fn discoveries(&self) -> &Discoveries {
        &self.inner.discoveries
    }

    /// Asks for a tick soon.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Environments joined, left or changed tags: re-evaluate targets on the next tick.
    pub fn targets_changed(&self) {
        *self.inner.targets_dirty.lock() = true;
        self.wake();
    }

    /// Runs ticks until `stop`, woken by the bus's events too.
    pub fn start(&self, bus: &EventBus, stop: CancellationToken) {
        let me = self.clone();
        let mut events = bus.subscribe();
        let stopped = stop.clone();
        self.inner.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stopped.cancelled() => break,
                    event = events.recv() => match event {
                        Ok(e) if e.kind.starts_with("environment.") && e.kind != "environment.status" => {
                            me.targets_changed();
                        }
                        Ok(e) if e.kind == "rollout.created" || e.kind == "deployment.finished" => me.wake(),
                        // A check that found changes committed deployment events: dispatch them
                        // now rather than on the next clock tick.
                        Ok(e) if e.kind == "repository.checked" && e.data["outcome"] == "changed" => me.wake(),
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => me.targets_changed(),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
        });
        let me = self.clone();
        self.inner.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = me.inner.wake.notified() => me.tick().await,
                }
            }
            me.inner.running.cancel();
        });
    }

    /// Waits for the deployer's tasks after `stop` (running deployments release their leases).
    pub async fn shutdown(&self) {
        self.inner.running.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// One round: reap, dispatch, reconcile, claim.
    pub async fn tick(&self) {
        if let Err(e) = self.reap().await {
            tracing::warn!(error = %e, "re-queueing abandoned deployments failed");
        }
        match dispatch::consume_events(&self.inner.pool).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rollouts = n, "deployment events dispatched"),
            Err(e) => tracing::warn!(error = %e, "dispatching deployment events failed"),
        }
        let dirty = std::mem::take(&mut *self.inner.targets_dirty.lock());
        if dirty && let Err(e) = dispatch::reconcile_all(&self.inner.pool).await {
            *self.inner.targets_dirty.lock() = true;
            tracing::warn!(error = %e, "re-evaluating stack targets failed");
        }
        if let Err(e) = self.claim_and_run().await {
            tracing::warn!(error = %e, "claiming deployments failed");
        }
    }

    async fn reap(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.inner.pool.begin().await?;
        let mut touched = store::reap_expired(&mut tx, self.inner.settings.max_attempts).await?;
        let stale = store::stale_rollouts(&mut *tx).await?;
        for r in &stale {
            store::refresh_rollout(&mut tx, *r).await?;
        }
        for r in &touched {
            store::refresh_rollout(&mut tx, *r).await?;
        }
        tx.commit().await?;
        touched.retain(|r| !stale.contains(r));
        if !touched.is_empty() {
            tracing::info!(
                rollouts = touched.len(),
                "deployments of a replica that stopped responding were re-queued"
            );
        }
        Ok(())
    }

    async fn claim_and_run(&self) -> Result<(), sqlx::Error> {
        let free = self.inner.permits.available_permits();
        if free == 0 {
            return Ok(());
        }
        let lease = self.inner.settings.lease.as_secs_f64();
        let claimed = match store::claim(
            &self.inner.pool,
            &self.inner.owner,
            lease,
            i64::try_from(free).unwrap_or(1),
        )
        .await
        {
            Ok(c) => c,
            // Another replica claimed the pair's successor at the same instant: next tick.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(()),
            Err(e) => return Err(e),
        };
        for c in claimed {
            let Ok(permit) = self.inner.permits.clone().try_acquire_owned() else {
                // Cannot happen (we claimed at most `free`); release rather than hold a lease.
                run::release(&self.inner, &c).await;
                continue;
            };
            let inner = self.inner.clone();
            let cancel = self.inner.running.child_token();
            self.inner.tasks.spawn(async move {
                run::run(&inner, c, cancel).await;
                drop(permit);
                inner.wake.notify_one();
            });
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "berth".to_owned())
}
