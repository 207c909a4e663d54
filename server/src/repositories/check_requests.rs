//! Asking for checks ("check now", webhooks) and reading their results. Queueing joins a check
//! that is already queued, so bursts of requests coalesce into one check; within a replica,
//! concurrent requests also share their database round trips (`group_commit.rs`).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::store::{self, QueuedCheck, RepositoryRow};
use super::{Repositories, RepositoryCheck, RepositoryError};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::pagination::{Page, PageRequest};

impl Repositories {
    /// Repositories whose URL matches `key` (webhook delivery). Concurrent deliveries for one URL
    /// share a read that started after they arrived.
    pub async fn by_url_key(&self, key: &str) -> Result<Vec<RepositoryRow>, RepositoryError> {
        let pool = self.pool.clone();
        let owned = key.to_owned();
        let read = move || {
            let pool = pool.clone();
            let key = owned.clone();
            async move { store::by_url_key(&pool, &key).await }
        };
        self.url_reads.run(key.to_owned(), read).await
    }

    /// Queues a check now, or joins the one already queued. A new check wakes every replica's
    /// poller; joining one needs no wake-up (its requester sent it), so a burst of requests
    /// costs one notification. Concurrent requests for one repository in this replica share
    /// database round trips (see `group_commit.rs`).
    pub async fn request_check(
        &self,
        id: Uuid,
        trigger: &str,
    ) -> Result<QueuedCheck, RepositoryError> {
        let pool = self.pool.clone();
        let owned = trigger.to_owned();
        let op = move || {
            let pool = pool.clone();
            let trigger = owned.clone();
            async move { queue_check(&pool, id, &trigger).await }
        };
        self.check_requests.run((id, trigger.to_owned()), op).await
    }

    /// "Check now" for operators (audited).
    pub async fn check_now(&self, id: Uuid, actor: &Actor) -> Result<Uuid, RepositoryError> {
        let row = store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let check = self.request_check(id, "manual").await?.id;
        let event = NewAuditEvent::new(
            actor,
            "repository.check",
            format!("repository:{}", row.name),
        )
        .details(json!({"id": id, "check_id": check}));
        audit::store::insert(&self.pool, &event).await?;
        Ok(check)
    }

    pub async fn get_check(
        &self,
        id: Uuid,
        check_id: Uuid,
    ) -> Result<RepositoryCheck, RepositoryError> {
        store::get_check(&self.pool, check_id)
            .await?
            .filter(|c| c.repository_id == id)
            .ok_or(RepositoryError::NotFoundWhat { what: "check" })
    }

    pub async fn list_checks(
        &self,
        id: Uuid,
        page: &PageRequest<(chrono::DateTime<Utc>, Uuid)>,
    ) -> Result<Page<RepositoryCheck>, RepositoryError> {
        store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        store::list_checks(&self.pool, id, page).await
    }
}

/// One round trip: queue or join the check, and `NOTIFY` if it is new.
async fn queue_check(
    pool: &sqlx::PgPool,
    id: Uuid,
    trigger: &str,
) -> Result<QueuedCheck, RepositoryError> {
    let mut conn = pool.acquire().await?;
    let check = store::request_check(&mut conn, id, trigger)
        .await
        .map_err(|e| match e {
            RepositoryError::Database(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                RepositoryError::NotFound
            }
            other => other,
        })?;
    if check.new {
        store::notify(&mut *conn).await?;
    }
    Ok(check)
}
