//! The poller: every sweep turns due schedules into queued checks (rows locked with `FOR UPDATE
//! SKIP LOCKED`, so each tick is handled once across replicas), claims queued checks up to the
//! free Git capacity, and runs them. A check lists the refs stacks track once for the whole
//! repository, fetches each moved commit once, compares the ids of every stack's watched paths,
//! and records the outcome with any deployment events in one transaction, announcing it to live
//! views (`repository.checked`).
//!
//! Sweeps run on the in-process clock (every second) and at once when another replica `NOTIFY`s
//! (schedule edits, webhooks, "check now"). The poller never deploys anything itself.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use uuid::Uuid;

use super::store::{self, CheckRecord, ClaimedCheck};
use super::{Repositories, RepositoryError};
use crate::events::{EventBus, ServerEvent};
use crate::git::{GitError, GitErrorKind, RemoteRef};
use crate::stacks::{self, TrackedRef, TrackedStack};

/// How long a claimed check's lease lasts; the replica running it renews it every minute, so a
/// check whose replica died is re-queued within this time.
const LEASE_SECS: i64 = 180;
/// Finished checks are kept this many days.
const CHECK_RETENTION_DAYS: i32 = 30;

#[derive(Clone)]
pub struct Poller {
    repos: Repositories,
    owner: Uuid,
    concurrency: usize,
    in_flight: Arc<AtomicUsize>,
    wake: Arc<Notify>,
    tasks: TaskTracker,
}

/// What a check decided for one stack.
#[derive(Debug)]
struct Decision {
    stack: TrackedStack,
    commit: String,
    trees: Value,
    deploy: bool,
}

/// Everything a check found, recorded in one transaction.
#[derive(Debug, Default)]
struct Findings {
    refs_listed: BTreeMap<String, String>,
    fetched: Vec<String>,
    decisions: Vec<Decision>,
    errors: Vec<String>,
    error_kind: Option<GitErrorKind>,
}

impl Poller {
    pub fn new(repos: Repositories, concurrency: usize) -> Self {
        Self {
            repos,
            owner: Uuid::new_v4(),
            concurrency: concurrency.max(1),
            in_flight: Arc::new(AtomicUsize::new(0)),
            wake: Arc::new(Notify::new()),
            tasks: TaskTracker::new(),
        }
    }

    /// Asks for a sweep soon (coalesced with one already pending).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs sweeps when woken, and listens for other replicas' notifications, until `stop`.
    pub fn start(&self, stop: CancellationToken) {
        let me = self.clone();
        let stopped = stop.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stopped.cancelled() => break,
                    () = me.wake.notified() => {
                        if let Err(e) = me.sweep().await {
                            tracing::warn!(error = %e, "repository sweep failed");
                        }
                    }
                }
            }
        });
        let me = self.clone();
        self.tasks.spawn(async move { me.listen(stop).await });
    }

    /// Waits for running checks to finish (after `stop` was cancelled).
    pub async fn shutdown(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    async fn listen(&self, stop: CancellationToken) {
        loop {
            let listener = async {
                let mut l = sqlx::postgres::PgListener::connect_with(self.repos.pool()).await?;
                l.listen(store::CHANNEL).await?;
                loop {
                    l.recv().await?;
                    self.wake();
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            tokio::select! {
                () = stop.cancelled() => return,
                r = listener => {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// One sweep: re-queue checks of dead replicas, queue due schedules, claim and start checks.
    /// Returns how many checks it started.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep(&self) -> Result<usize, RepositoryError> {
        let pool = self.repos.pool();
        for (repository_id, trigger) in store::reap_expired(pool).await? {
            tracing::warn!(%repository_id, "a check's replica stopped; queueing a new check");
            let mut conn = pool.acquire().await?;
            store::request_check(&mut conn, repository_id, &trigger).await?;
        }
        let mut tx = pool.begin().await?;
        let due = store::lock_due(&mut *tx, 500).await?;
        let now = Utc::now();
        for d in &due {
            let schedule = super::Schedule::from_stored(
                &d.schedule_kind,
                d.interval_seconds,
                d.cron.as_deref(),
                &d.time_zone,
            );
            store::set_next_run(&mut *tx, d.repository_id, schedule.next_after(now)).await?;
            store::request_check(&mut tx, d.repository_id, "schedule").await?;
        }
        tx.commit().await?;
        let free = self
            .concurrency
            .saturating_sub(self.in_flight.load(Ordering::SeqCst));
        if free == 0 {
            return Ok(0);
        }
        let claimed = store::claim_checks(
            pool,
            self.owner,
            i64::try_from(free).unwrap_or(1),
            LEASE_SECS,
        )
        .await?;
        let started = claimed.len();
        for check in claimed {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let me = self.clone();
            let span = tracing::info_span!("repository_check", repository_id = %check.repository_id, check_id = %check.repository_check_id);
            self.tasks.spawn(
                async move {
                    me.run_check(&check).await;
                    me.in_flight.fetch_sub(1, Ordering::SeqCst);
                    me.wake();
                }
                .instrument(span),
            );
        }
        Ok(started)
    }

    /// Hourly: prunes old checks, deletes mirrors of deleted repositories and mirrors that grew
    /// too many packs (they are caches, rebuilt by the next fetch).
    pub async fn housekeeping(&self) -> Result<(), RepositoryError> {
        let pruned = store::prune_checks(self.repos.pool(), CHECK_RETENTION_DAYS).await?;
        let known: std::collections::HashSet<Uuid> = store::all_ids(self.repos.pool())
            .await?
            .into_iter()
            .collect();
        let root = self.repos.git.mirrors_dir();
        let removed =
            tokio::task::spawn_blocking(move || super::mirrors::clean_mirrors(&root, &known))
                .await
                .map_err(|e| RepositoryError::Internal(e.to_string()))?;
        if pruned > 0 || removed > 0 {
            tracing::info!(
                pruned_checks = pruned,
                removed_mirrors = removed,
                "repository housekeeping"
            );
        }
        Ok(())
    }

    /// Runs one claimed check and records it.
    async fn run_check(&self, check: &ClaimedCheck) {
        let started = Instant::now();
        let Ok(Some(row)) = store::get(self.repos.pool(), check.repository_id).await else {
            return;
        };
        let heartbeat = {
            let pool = self.repos.pool().clone();
            let id = check.repository_check_id;
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                every.tick().await;
                loop {
                    every.tick().await;
                    if let Err(e) = store::extend_lease(&pool, id, LEASE_SECS).await {
                        tracing::warn!(error = %e, "renewing a check's lease failed");
                    }
                }
            })
        };
        let findings = self.examine(&row, check).await;
        heartbeat.abort();
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let label = row.name.clone();
        if let Err(e) = self.record(&row, check, findings, duration_ms).await {
            tracing::error!(error = %e, repository = %label, "recording a check failed");
        }
        metrics::histogram!("berth_repository_check_seconds", "repository" => label)
            .record(started.elapsed().as_secs_f64());
    }

    async fn examine(&self, row: &store::RepositoryRow, check: &ClaimedCheck) -> Findings {
        let mut f = Findings::default();
        let fail = |f: &mut Findings, e: &GitError| {
            f.error_kind.get_or_insert(e.kind);
            f.errors.push(e.to_string());
        };
        let remote = match self.repos.remote_spec(row) {
            Ok(r) => r,
            Err(e) => {
                f.errors.push(e.to_string());
                f.error_kind = Some(GitErrorKind::Other);
                return f;
            }
        };
        let stacks = match stacks::store::tracking(self.repos.pool(), row.repository_id).await {
            Ok(s) => s,
            Err(e) => {
                f.errors.push(format!("reading stacks: {e}"));
                f.error_kind = Some(GitErrorKind::Other);
                return f;
            }
        };
        let mut tracked = Vec::new();
        for s in stacks {
            match TrackedRef::parse(&s.git_ref) {
                Ok(r) => tracked.push((s, r)),
                Err(e) => f.errors.push(format!("stack {}: {e}", s.name)),
            }
        }
        let mut wanted: Vec<String> = tracked.iter().flat_map(|(_, r)| r.candidates()).collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            wanted.push("HEAD".into());
        }
        let id = row.repository_id;
        let label = row.name.as_str();
        // Which listed commits are new to some stack: those are fetched on the listing's own
        // connection (one ref listing per check, never a re-listing after fetching).
        let wants: Vec<(Vec<String>, Option<String>)> = tracked
            .iter()
            .map(|(s, r)| (r.candidates(), s.last_seen_commit.clone()))
            .collect();
        let pick = move |refs: &[RemoteRef]| -> Vec<String> {
            let by_name: HashMap<&str, &str> = refs
                .iter()
                .map(|r| (r.name.as_str(), r.commit.as_str()))
                .collect();
            wants
                .iter()
                .filter_map(|(candidates, seen)| {
                    let commit = candidates.iter().find_map(|n| by_name.get(n.as_str()))?;
                    (seen.as_deref() != Some(*commit)).then(|| (*commit).to_owned())
                })
                .collect()
        };
        let checked = match self
            .repos
            .git
            .check_remote(id, label, remote.clone(), wanted, pick)
            .await
        {
            Ok(c) => {
                tracing::debug!(
                    protocol = c.protocol.map(crate::git::ListingProtocol::as_str),
                    refs = c.refs.len(),
                    fetched = c.fetched.len(),
                    "refs listed"
                );
                c
            }
            Err(e) => {
                fail(&mut f, &e);
                return f;
            }
        };
        let by_name: HashMap<String, String> = checked
            .refs
            .iter()
            .map(|r| (r.name.clone(), r.commit.clone()))
            .collect();
        f.fetched = checked.fetched;
        f.refs_listed = checked
            .refs
            .into_iter()
            .map(|r| (r.name, r.commit))
            .collect();
        // Resolve every stack to exactly the commit listed.
        let mut to_examine: Vec<(TrackedStack, String)> = Vec::new();
        for (stack, r) in tracked {
            let commit = match &r {
                TrackedRef::Commit(sha) => Some(sha.clone()),
                other => other
                    .candidates()
                    .iter()
                    .find_map(|n| by_name.get(n).cloned()),
            };
            let Some(commit) = commit else {
                f.error_kind.get_or_insert(GitErrorKind::RefNotFound);
                f.errors.push(format!(
                    "stack {}: ref {:?} not found on the server",
                    stack.name, stack.git_ref
                ));
                continue;
            };
            if stack.last_seen_commit.as_deref() != Some(commit.as_str()) {
                to_examine.push((stack, commit));
            }
        }
        // Branches and tags are in the mirror now; a pinned commit is fetched on its own, once.
        let mut fetched_ok: HashMap<String, bool> = HashMap::new();
        for (stack, commit) in to_examine {
            if !fetched_ok.contains_key(&commit) {
                match self
                    .repos
                    .git
                    .fetch_commit(id, label, remote.clone(), commit.clone())
                    .await
                {
                    Ok(stats) => {
                        if stats.fetched {
                            f.fetched.push(commit.clone());
                        }
                        fetched_ok.insert(commit.clone(), true);
                    }
                    Err(e) => {
                        fail(&mut f, &e);
                        fetched_ok.insert(commit.clone(), false);
                    }
                }
            }
            if !fetched_ok[&commit] {
                continue;
            }
            let paths = stack.all_watched();
            let trees = match self
                .repos
                .git
                .tree_ids(id, label, commit.clone(), paths.clone())
                .await
            {
                Ok(t) => trees_json(t),
                Err(e) => {
                    fail(&mut f, &e);
                    continue;
                }
            };
            let baseline = self.baseline(row, &remote, &stack, &paths).await;
            let deploy = baseline.as_ref() != Some(&trees);
            f.decisions.push(Decision {
                stack,
                commit,
                trees,
                deploy,
            });
        }
        let _ = check;
        f
    }

    /// The ids of the watched paths at the stack's last seen commit: stored with it, or read from
    /// the mirror (fetching that commit if the mirror lost it). `None` means "deploy".
    async fn baseline(
        &self,
        row: &store::RepositoryRow,
        remote: &crate::git::RemoteSpec,
        stack: &TrackedStack,
        paths: &[String],
    ) -> Option<Value> {
        let seen = stack.last_seen_commit.clone()?;
        if let Some(Value::Object(map)) = &stack.last_seen_trees
            && paths.iter().all(|p| map.contains_key(p))
            && map.len() == paths.len()
        {
            return stack.last_seen_trees.clone();
        }
        let id = row.repository_id;
        self.repos
            .git
            .fetch_commit(id, &row.name, remote.clone(), seen.clone())
            .await
            .ok()?;
        self.repos
            .git
            .tree_ids(id, &row.name, seen, paths.to_vec())
            .await
            .ok()
            .map(trees_json)
    }

    async fn record(
        &self,
        row: &store::RepositoryRow,
        check: &ClaimedCheck,
        f: Findings,
        duration_ms: i64,
    ) -> Result<(), RepositoryError> {
        let trigger = match check.trigger.as_str() {
            "webhook" => "webhook",
            "manual" => "manual",
            _ => "poll",
        };
        let mut tx = self.repos.pool().begin().await?;
        let mut events = 0;
        for (name, commit) in &f.refs_listed {
            if name != "HEAD" {
                store::set_ref_seen(&mut *tx, row.repository_id, name, commit).await?;
            }
        }
        for d in &f.decisions {
            stacks::store::set_seen(&mut *tx, d.stack.id, &d.commit, &d.trees).await?;
            if d.deploy {
                stacks::store::set_latest(&mut *tx, d.stack.id, &d.commit).await?;
            }
            if d.deploy && d.stack.auto_deploy {
                stacks::store::insert_event(
                    &mut *tx,
                    d.stack.id,
                    &d.commit,
                    trigger,
                    Some(check.repository_check_id),
                )
                .await?;
                events += 1;
            }
        }
        let failed = !f.errors.is_empty();
        let outcome = if failed {
            "failed"
        } else if events > 0 {
            "changed"
        } else if f.decisions.is_empty() {
            "unchanged"
        } else {
            "moved"
        };
        let record = CheckRecord {
            check_id: check.repository_check_id,
            repository_id: row.repository_id,
            outcome,
            error: failed.then(|| f.errors.join("; ")),
            error_kind: failed.then(|| f.error_kind.unwrap_or(GitErrorKind::Other).as_str()),
            duration_ms,
            refs_listed: json!(f.refs_listed),
            fetched_commits: f.fetched.clone(),
        };
        store::finish_check(&mut *tx, &record).await?;
        let backoff_until = if failed {
            let failures = store::consecutive_failures(&mut *tx, row.repository_id).await? + 1;
            row.schedule()
                .next_after_failure(Utc::now(), u32::try_from(failures).unwrap_or(1))
        } else {
            None
        };
        store::record_status(&mut *tx, &record, backoff_until).await?;
        if let Some(now) = store::get(&mut *tx, row.repository_id).await? {
            let event = ServerEvent::new(
                "repository.checked",
                json!({"id": row.repository_id, "name": row.name,
                    "check_id": check.repository_check_id, "trigger": check.trigger,
                    "outcome": outcome, "status": now.to_api().status}),
            );
            EventBus::publish(&mut *tx, &event).await?;
        }
        tx.commit().await?;
        metrics::counter!("berth_repository_checks_total", "repository" => row.name.clone(), "outcome" => outcome)
            .increment(1);
        if failed {
            tracing::warn!(repository = %row.name, error = record.error.as_deref().unwrap_or(""), "repository check failed");
        } else {
            tracing::debug!(repository = %row.name, outcome, events, "repository checked");
        }
        Ok(())
    }
}

fn trees_json(trees: Vec<(String, Option<String>)>) -> Value {
    Value::Object(
        trees
            .into_iter()
            .map(|(p, id)| (p, id.map_or(Value::Null, Value::String)))
            .collect(),
    )
}
