//! Group commit for check requests, within one replica. While a request for a key (repository
//! and trigger) is at the database, later ones wait and are all served by the next request,
//! which starts only once they have arrived. So every caller still gets a check queued after it
//! arrived (a webhook's commit is seen by the check it joins), and a burst of deliveries costs
//! about two database round trips per repository instead of one per delivery.
//!
//! No SQL here: the operation is passed in. A caller whose batch failed runs the operation
//! itself; a leader that is cancelled (its client went away) still hands over to the next batch.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

/// A batch's answer: `None` until it is known, `Some(None)` when the batch failed.
type Answer<T> = Option<Option<T>>;

/// Per-key group commit of an idempotent "join or create" operation.
pub struct GroupCommit<K, T> {
    /// A key is present while a request for it runs; its value is the next batch, if anyone
    /// is waiting for one.
    running: Mutex<HashMap<K, Option<watch::Sender<Answer<T>>>>>,
}

enum Role<T> {
    Leader,
    Follower(watch::Receiver<Answer<T>>),
}

impl<K, T> GroupCommit<K, T>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            running: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `op` for `key`, or waits for the next run that starts after this call and takes its
    /// answer.
    pub async fn run<F, Fut, E>(self: &Arc<Self>, key: K, op: F) -> Result<T, E>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let role = {
            let mut running = self.lock();
            match running.get_mut(&key) {
                None => {
                    running.insert(key.clone(), None);
                    Role::Leader
                }
                Some(next) => Role::Follower(
                    next.get_or_insert_with(|| watch::channel(None).0)
                        .subscribe(),
                ),
            }
        };
        match role {
            Role::Leader => {
                let op = Arc::new(op);
                // Hands over to the next batch when done, or if this future is dropped midway.
                let _handover = Handover {
                    commit: Arc::clone(self),
                    key: Some(key),
                    op: Arc::clone(&op),
                };
                op().await
            }
            Role::Follower(mut answer) => loop {
                let known = answer.borrow_and_update().clone();
                match known {
                    Some(Some(value)) => return Ok(value),
                    // The batch failed: try ourselves (and report our own error).
                    Some(None) => return op().await,
                    None => {}
                }
                if answer.changed().await.is_err() {
                    // The batch never answered (its task ended): do it ourselves.
                    return op().await;
                }
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Option<watch::Sender<Answer<T>>>>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The request for `key` finished: start the next batch if callers wait for one, else mark
    /// the key idle.
    fn hand_over<F, Fut, E>(self: &Arc<Self>, key: K, op: Arc<F>)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let next = {
            let mut running = self.lock();
            match running.get_mut(&key).map(Option::take) {
                Some(Some(batch)) => batch,
                _ => {
                    running.remove(&key);
                    return;
                }
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime (shutting down): the waiting callers see the batch dropped and run
            // the operation themselves.
            self.lock().remove(&key);
            return;
        };
        let commit = Arc::clone(self);
        runtime.spawn(async move {
            let _handover = Handover {
                commit,
                key: Some(key),
                op: Arc::clone(&op),
            };
            let result = op().await;
            let _ = next.send(Some(result.ok()));
        });
    }
}

/// Hands the key over when the request that owns it ends, however it ends.
struct Handover<K, T, F, Fut, E>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    commit: Arc<GroupCommit<K, T>>,
    key: Option<K>,
    op: Arc<F>,
}

impl<K, T, F, Fut, E> Drop for Handover<K, T, F, Fut, E>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.commit.hand_over(key, Arc::clone(&self.op));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    /// An operation that counts its runs and answers with the instant it started.
    fn counted(
        runs: &Arc<AtomicUsize>,
        fail: bool,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<Instant, String>> + Send>>
    + Send
    + Sync
    + 'static {
        let runs = Arc::clone(runs);
        move || {
            let runs = Arc::clone(&runs);
            Box::pin(async move {
                let started = Instant::now();
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                if fail {
                    Err("database unavailable".to_owned())
                } else {
                    Ok(started)
                }
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_is_served_by_a_few_runs_each_started_after_its_callers_arrived() {
        let commit = GroupCommit::<u8, Instant>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut callers = Vec::new();
        for _ in 0..200 {
            let commit = Arc::clone(&commit);
            let op = counted(&runs, false);
            callers.push(tokio::spawn(async move {
                let arrived = Instant::now();
                let started = commit.run(1, op).await.unwrap();
                (arrived, started)
            }));
        }
        for caller in callers {
            let (arrived, started) = caller.await.unwrap();
            assert!(
                started >= arrived,
                "a caller got an answer older than itself"
            );
        }
        let runs = runs.load(Ordering::SeqCst);
        assert!((1..=4).contains(&runs), "{runs} runs for 200 callers");
        assert!(commit.lock().is_empty(), "the key is idle again");
    }

    #[tokio::test]
    async fn keys_do_not_wait_for_each_other() {
        let commit = GroupCommit::<u8, Instant>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, b) = tokio::join!(
            commit.run(1, counted(&runs, false)),
            commit.run(2, counted(&runs, false))
        );
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_leader_still_hands_over_and_failed_batches_fall_back() {
        let commit = GroupCommit::<u8, Instant>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let leader = {
            let commit = Arc::clone(&commit);
            let op = counted(&runs, false);
            tokio::spawn(async move { commit.run(1, op).await })
        };
        tokio::time::timeout(Duration::from_secs(5), async {
            while runs.load(Ordering::SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        let follower = {
            let commit = Arc::clone(&commit);
            let op = counted(&runs, false);
            tokio::spawn(async move { commit.run(1, op).await })
        };
        tokio::task::yield_now().await;
        leader.abort();
        let answer = tokio::time::timeout(Duration::from_secs(5), follower)
            .await
            .expect("the follower is served")
            .unwrap();
        assert!(answer.is_ok());

        // A batch that fails: its callers run the operation themselves (and see the error).
        let failing = GroupCommit::<u8, Instant>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let results =
            futures::future::join_all((0..5).map(|_| failing.run(1, counted(&runs, true)))).await;
        assert!(results.iter().all(Result::is_err));
    }
}
