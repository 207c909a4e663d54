//! Runs Git operations off the async runtime, under a global concurrency limit, with metrics per
//! repository (ref listings, fetches, bytes, durations, failures).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

use crate::git::{
    self, CheckOutcome, FetchStats, GitError, GitErrorKind, Mirror, RefListing, RemoteRef,
    RemoteSpec,
};

/// Shared by the service (connection tests) and the poller (checks).
#[derive(Clone)]
pub struct GitRunner {
    limit: Arc<Semaphore>,
    mirrors: PathBuf,
    pub timeout: Duration,
}

impl GitRunner {
    /// `concurrency` Git operations at most run at once in this replica.
    pub fn new(data_dir: &std::path::Path, concurrency: usize, timeout: Duration) -> Self {
        Self {
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            mirrors: data_dir.join("git"),
            timeout,
        }
    }

    /// The bare mirror of a repository (a cache; deleting it is always safe).
    pub fn mirror(&self, repository_id: Uuid) -> Mirror {
        Mirror::new(self.mirrors.join(format!("{repository_id}.git")))
    }

    /// Where mirrors live.
    pub fn mirrors_dir(&self) -> PathBuf {
        self.mirrors.clone()
    }

    /// Free slots for Git work right now.
    pub fn available(&self) -> usize {
        self.limit.available_permits()
    }

    async fn run<T, F>(&self, op: &'static str, label: &str, f: F) -> Result<T, GitError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, GitError> + Send + 'static,
    {
        let _permit = self
            .limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| GitError::new(GitErrorKind::Other, "shutting down"))?;
        let started = Instant::now();
        let span = tracing::Span::current();
        // Transports time out on their own (reqwest, ssh ConnectTimeout); this bounds the wait for
        // the rest (git:// has no timeout of its own). The thread finishes in the background.
        let limit = self.timeout * 4;
        let task = tokio::task::spawn_blocking(move || span.in_scope(f)).in_current_span();
        let result = match tokio::time::timeout(limit, task).await {
            Ok(joined) => joined
                .map_err(|e| GitError::new(GitErrorKind::Other, format!("git task failed: {e}")))?,
            Err(_) => Err(GitError::new(
                GitErrorKind::Timeout,
                format!("no answer within {}s", limit.as_secs()),
            )),
        };
        let repository = label.to_owned();
        metrics::histogram!("berth_git_operation_seconds", "operation" => op, "repository" => repository.clone())
            .record(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            metrics::counter!("berth_git_failures_total", "operation" => op, "repository" => repository, "kind" => e.kind.as_str())
                .increment(1);
        }
        result
    }

    /// Lists `wanted` refs of the repository (creating its mirror if needed).
    pub async fn list_refs(
        &self,
        repository_id: Uuid,
        label: &str,
        remote: RemoteSpec,
        wanted: Vec<String>,
    ) -> Result<RefListing, GitError> {
        metrics::counter!("berth_git_ref_listings_total", "repository" => label.to_owned())
            .increment(1);
        let mirror = self.mirror(repository_id);
        let listing = self
            .run("ls_refs", label, move || {
                git::list_refs(&mirror, &remote, &wanted)
            })
            .await?;
        metrics::counter!("berth_git_ref_listings_by_protocol_total",
            "repository" => label.to_owned(), "protocol" => listing.protocol.as_str())
        .increment(1);
        Ok(listing)
    }

    /// One check over one connection: lists `wanted`, lets `pick` choose the listed commits the
    /// caller needs, and fetches those the mirror lacks (one ref listing in all).
    pub async fn check_remote<P>(
        &self,
        repository_id: Uuid,
        label: &str,
        remote: RemoteSpec,
        wanted: Vec<String>,
        pick: P,
    ) -> Result<CheckOutcome, GitError>
    where
        P: FnOnce(&[RemoteRef]) -> Vec<String> + Send + 'static,
    {
        metrics::counter!("berth_git_ref_listings_total", "repository" => label.to_owned())
            .increment(1);
        let mirror = self.mirror(repository_id);
        let timeout = self.timeout;
        let outcome = self
            .run("check", label, move || {
                with_interrupt(timeout * 4, |interrupt| {
                    git::check_remote(&mirror, &remote, &wanted, pick, interrupt)
                })
            })
            .await?;
        if let Some(protocol) = outcome.protocol {
            metrics::counter!("berth_git_ref_listings_by_protocol_total",
                "repository" => label.to_owned(), "protocol" => protocol.as_str())
            .increment(1);
        }
        record_fetch(label, &outcome.stats);
        Ok(outcome)
    }

    /// Fetches exactly `commit` (depth 1) into the mirror.
    pub async fn fetch_commit(
        &self,
        repository_id: Uuid,
        label: &str,
        remote: RemoteSpec,
        commit: String,
    ) -> Result<FetchStats, GitError> {
        let mirror = self.mirror(repository_id);
        let timeout = self.timeout;
        let stats = self
            .run("fetch", label, move || {
                with_interrupt(timeout * 4, |interrupt| {
                    git::fetch_commit(&mirror, &remote, &commit, interrupt)
                })
            })
            .await?;
        record_fetch(label, &stats);
        Ok(stats)
    }

    /// The ids at `paths` in `commit` (`None` where a path does not exist).
    pub async fn tree_ids(
        &self,
        repository_id: Uuid,
        label: &str,
        commit: String,
        paths: Vec<String>,
    ) -> Result<Vec<(String, Option<String>)>, GitError> {
        let mirror = self.mirror(repository_id);
        self.run("read_tree", label, move || {
            paths
                .into_iter()
                .map(|p| git::tree_id_at(&mirror, &commit, &p).map(|id| (p, id)))
                .collect()
        })
        .await
    }

    /// Deletes a repository's mirror.
    pub async fn delete_mirror(&self, repository_id: Uuid) {
        let mirror = self.mirror(repository_id);
        let _ = tokio::task::spawn_blocking(move || mirror.delete()).await;
    }
}

/// Runs `f` with an interrupt flag that is raised once `budget` has passed, so a fetch that
/// outlives its time budget stops (the async timeout alone cannot stop a blocking thread).
fn with_interrupt<T>(budget: Duration, f: impl FnOnce(&AtomicBool) -> T) -> T {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            if Arc::strong_count(&flag) == 1 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let result = f(&interrupt);
    drop(interrupt);
    let _ = watchdog.join();
    result
}

fn record_fetch(label: &str, stats: &FetchStats) {
    if stats.fetched {
        metrics::counter!("berth_git_fetches_total", "repository" => label.to_owned()).increment(1);
        metrics::counter!("berth_git_fetch_bytes_total", "repository" => label.to_owned())
            .increment(stats.bytes);
    }
}
