//! Berth's in-process clock for its own periodic jobs (tokio-cron-scheduler).
//!
//! Every replica runs these jobs; work that must happen once across replicas claims rows in
//! PostgreSQL instead (see DESIGN.md, "Scheduling and scale-out"). Jobs never deploy anything.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

type JobFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The clock: named jobs on 6-field cron schedules (`sec min hour dom mon dow`, UTC).
pub struct Clock {
    scheduler: JobScheduler,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Clock {
    pub async fn new() -> Result<Self, JobSchedulerError> {
        Ok(Self {
            scheduler: JobScheduler::new().await?,
            tracker: TaskTracker::new(),
            stop: CancellationToken::new(),
        })
    }

    /// Adds a job. A run never overlaps the previous run of the same job, and no new run starts
    /// after shutdown began.
    pub async fn add<F, Fut>(
        &self,
        name: &'static str,
        cron: &str,
        job: F,
    ) -> Result<(), JobSchedulerError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let job: JobFn = Arc::new(move || Box::pin(job()));
        let running = Arc::new(tokio::sync::Mutex::new(()));
        let tracker = self.tracker.clone();
        let stop = self.stop.clone();
        let scheduled = Job::new_async(cron, move |_id, _sched| {
            let job = job.clone();
            let running = running.clone();
            let tracker = tracker.clone();
            let stop = stop.clone();
            Box::pin(async move {
                if stop.is_cancelled() {
                    return;
                }
                let Ok(guard) = running.try_lock_owned() else {
                    tracing::debug!(job = name, "previous run still going; skipping this tick");
                    return;
                };
                tracker.spawn(async move {
                    job().await;
                    drop(guard);
                });
            })
        })?;
        self.scheduler.add(scheduled).await?;
        Ok(())
    }

    pub async fn start(&self) -> Result<(), JobSchedulerError> {
        self.scheduler.start().await
    }

    /// Stops ticking, then waits for running jobs to reach their end.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "scheduler shutdown");
        }
        self.tracker.close();
        self.tracker.wait().await;
    }
}
