//! Webhook secrets of repositories: sealed at rest, readable again by admins, rotatable. Every
//! read and rotation is audited.

use uuid::Uuid;

use super::service::webhook_context;
use super::store::{self, RepositoryRow};
use super::{Repositories, RepositoryError};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::crypto::{Secret, random_token};

impl Repositories {
    /// The webhook secret (admins; audited).
    pub async fn webhook_secret(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Secret<String>, RepositoryError> {
        let row = store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let secret = self.open_webhook_secret(&row)?;
        let event = NewAuditEvent::new(
            actor,
            "repository.webhook_secret.read",
            format!("repository:{}", row.name),
        );
        audit::store::insert(&self.pool, &event).await?;
        Ok(secret)
    }

    /// Replaces the webhook secret; the new one is returned (audited).
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Secret<String>, RepositoryError> {
        let mut tx = self.pool.begin().await?;
        let mut row = store::get_for_update(&mut *tx, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let secret = Secret::new(random_token(32));
        row.sealed_webhook_secret = self.vault.seal_str(&secret, &webhook_context(id));
        store::upsert(&mut *tx, &row).await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.webhook_secret.rotate",
            format!("repository:{}", row.name),
        );
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub fn open_webhook_secret(
        &self,
        row: &RepositoryRow,
    ) -> Result<Secret<String>, RepositoryError> {
        Ok(self.vault.open_str(
            &row.sealed_webhook_secret,
            &webhook_context(row.repository_id),
        )?)
    }
}
