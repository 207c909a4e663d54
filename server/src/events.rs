//! The server event bus: state changes pushed to dashboard and CLI clients (SSE).
//!
//! Events are published with `pg_notify` inside the transaction of the change they describe, so
//! they are delivered only if it commits, and reach every replica: each replica `LISTEN`s on one
//! channel and fans notifications out to its local subscribers through a tokio broadcast channel.
//! Events are hints for live views, not a durable log (the audit log and the tables are).
//! Payloads must never contain secrets.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

/// The PostgreSQL channel every replica listens on.
pub const CHANNEL: &str = "berth_events";

/// One event, as sent on the SSE stream (`event:` is `kind`, `data:` is this JSON).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerEvent {
    /// Dotted kind, e.g. `environment.status`, `environment.created`, `environment.deleted`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The kind's payload (ids, names, statuses; never secrets).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl ServerEvent {
    pub fn new(kind: &str, data: serde_json::Value) -> Self {
        Self {
            kind: kind.to_owned(),
            at: Utc::now(),
            data,
        }
    }
}

/// Publishes and subscribes. Cloning shares the bus.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<ServerEvent>>,
    closed: CancellationToken,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self {
            tx,
            closed: CancellationToken::new(),
        }
    }

    /// Ends every subscription (at shutdown, so open streams do not hold the server up).
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// Cancelled once the bus is closed.
    pub fn closed(&self) -> CancellationToken {
        self.closed.clone()
    }

    /// Queues `event` for every replica; delivered when `db`'s transaction commits.
    pub async fn publish(db: impl PgExecutor<'_>, event: &ServerEvent) -> Result<(), sqlx::Error> {
        let payload = serde_json::to_string(event).expect("events serialize");
        sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(db)
            .await?;
        Ok(())
    }

    /// A receiver of every event from now on (it reports `Lagged` if it falls behind).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ServerEvent>> {
        self.tx.subscribe()
    }

    /// Relays notifications to local subscribers until `stop`, reconnecting after failures.
    pub async fn run_listener(self, pool: sqlx::PgPool, stop: CancellationToken) {
        loop {
            let result = tokio::select! {
                () = stop.cancelled() => return,
                r = self.listen_once(&pool) => r,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn listen_once(&self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let n = listener.recv().await?;
            match serde_json::from_str::<ServerEvent>(n.payload()) {
                Ok(event) => {
                    // No subscribers is fine.
                    let _ = self.tx.send(Arc::new(event));
                }
                Err(e) => tracing::warn!(error = %e, "malformed event notification ignored"),
            }
        }
    }
}
