//! Asking for checks ("check now", webhooks) and reading their results. Queueing joins a check
//! that is already queued, so bursts of requests coalesce into one check.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::store::{self, QueuedCheck, RepositoryRow};
use super::{Repositories, RepositoryCheck, RepositoryError};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::pagination::{Page, PageRequest};

impl Repositories {
    /// Repositories whose URL matches `key` (webhook delivery).
    pub async fn by_url_key(&self, key: &str) -> Result<Vec<RepositoryRow>, RepositoryError> {
        store::by_url_key(&self.pool, key).await
    }

    /// Queues a check now, or joins the one already queued. A new check wakes every replica's
    /// poller; joining one needs no wake-up (its requester sent it), so a burst of requests
    /// costs one notification.
    pub async fn request_check(
        &self,
        id: Uuid,
        trigger: &str,
    ) -> Result<QueuedCheck, RepositoryError> {
        let mut conn = self.pool.acquire().await?;
        let check = store::request_check(&mut conn, id, trigger)
            .await
            .map_err(|e| match e {
                RepositoryError::Database(sqlx::Error::Database(d))
                    if d.is_foreign_key_violation() =>
                {
                    RepositoryError::NotFound
                }
                other => other,
            })?;
        if check.new {
            store::notify(&mut *conn).await?;
        }
        Ok(check)
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
