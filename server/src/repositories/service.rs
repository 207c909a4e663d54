//! The repository service: registering, changing and deleting repositories (validated, sealed,
//! connection-tested, audited), and opening their credentials for Git. Check requests live in
//! `check_requests.rs`, webhook secrets in `webhook_secret.rs`, field checks in `fields.rs` and
//! `credentials.rs`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::credentials::{auth_suits, parse_credentials};
use super::fields::{check_tls_fields, parse_ca_bundle, parse_name, set_schedule};
use super::group_commit::GroupCommit;
use super::schedule::{Schedule, ScheduleLimits, ScheduleSpec};
use super::store::{self, QueuedCheck, RepositoryRow};
use super::url::{self, UrlScheme};
use super::{
    AuthKind, CredentialsInput, GitRunner, Repository, RepositoryError, RepositorySummary,
};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::crypto::{Secret, Vault, random_token};
use crate::git::{GitAuth, RemoteSpec};
use crate::pagination::{Page, PageRequest};

/// What the operator allows.
#[derive(Debug, Clone, Copy)]
pub struct RepositoryPolicy {
    pub allow_local: bool,
    pub limits: ScheduleLimits,
}

/// A repository to register.
#[derive(Debug, Clone)]
pub struct NewRepository {
    pub name: String,
    pub url: String,
    pub credentials: Option<CredentialsInput>,
    pub ca_bundle: Option<String>,
    pub skip_tls_verify: bool,
    pub schedule: Option<ScheduleSpec>,
    pub paused: bool,
}

/// Changes to a repository; `None` keeps the current value. `ca_bundle: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct RepositoryChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    pub credentials: Option<CredentialsInput>,
    pub ca_bundle: Option<Option<String>>,
    pub skip_tls_verify: Option<bool>,
    pub schedule: Option<ScheduleSpec>,
    pub paused: Option<bool>,
}

#[derive(Clone)]
pub struct Repositories {
    pub(super) pool: PgPool,
    pub(super) vault: Vault,
    policy: RepositoryPolicy,
    pub git: GitRunner,
    /// Check requests in flight, by repository and trigger (bursts share round trips).
    pub(super) check_requests: Arc<GroupCommit<(Uuid, String), QueuedCheck>>,
    /// Webhook URL lookups in flight, by URL key.
    pub(super) url_reads: Arc<GroupCommit<String, Vec<RepositoryRow>>>,
}

pub(super) fn credential_context(id: Uuid) -> String {
    format!("repository:{id}:credential")
}

pub(super) fn webhook_context(id: Uuid) -> String {
    format!("repository:{id}:webhook")
}

impl Repositories {
    pub fn new(pool: PgPool, vault: Vault, policy: RepositoryPolicy, git: GitRunner) -> Self {
        Self {
            pool,
            vault,
            policy,
            git,
            check_requests: GroupCommit::new(),
            url_reads: GroupCommit::new(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Registers a repository after a successful connection test; returns it with its webhook
    /// secret (shown this once; admins can read it again).
    pub async fn create(
        &self,
        new: NewRepository,
        actor: &Actor,
    ) -> Result<(Repository, Secret<String>), RepositoryError> {
        let id = Uuid::new_v4();
        let name = parse_name(&new.name)?;
        let parsed = url::parse(&new.url, self.policy.allow_local)
            .map_err(|m| RepositoryError::invalid("url", m))?;
        let schedule = Schedule::parse(&new.schedule.unwrap_or_default(), self.policy.limits)
            .map_err(|e| RepositoryError::invalid(e.field, e.message))?;
        let ca_bundle = parse_ca_bundle(new.ca_bundle)?;
        let creds = new.credentials.unwrap_or(CredentialsInput {
            kind: AuthKind::None,
            username: None,
            token: None,
            private_key: None,
            known_hosts: None,
        });
        let (auth_kind, username, credential, known_hosts) =
            parse_credentials(creds, parsed.scheme)?;
        check_tls_fields(parsed.scheme, ca_bundle.as_ref(), new.skip_tls_verify)?;
        let secret = Secret::new(random_token(32));
        let mut row = RepositoryRow {
            repository_id: id,
            name,
            url: parsed.url.clone(),
            url_key: parsed.key,
            auth_kind: auth_kind.as_str().to_owned(),
            username,
            sealed_credential: credential
                .as_ref()
                .map(|c| self.vault.seal_str(c, &credential_context(id))),
            known_hosts,
            ca_bundle,
            skip_tls_verify: new.skip_tls_verify,
            schedule_kind: String::new(),
            interval_seconds: None,
            cron: None,
            time_zone: "UTC".into(),
            paused: new.paused,
            sealed_webhook_secret: self.vault.seal_str(&secret, &webhook_context(id)),
            next_run_at: None,
            last_check_at: None,
            last_check_duration_ms: None,
            last_outcome: None,
            last_error: None,
            last_error_kind: None,
            consecutive_failures: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            stack_count: 0,
        };
        set_schedule(&mut row, &schedule);
        let test = self.test_connection(&row).await;
        if let Err(e) = test {
            self.git.delete_mirror(id).await;
            return Err(e);
        }
        let mut tx = self.pool.begin().await?;
        store::upsert(&mut *tx, &row).await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.create",
            format!("repository:{}", row.name),
        )
        .details(json!({"id": id, "url": row.url, "auth_kind": row.auth_kind,
                "schedule": schedule.to_spec(), "skip_tls_verify": row.skip_tls_verify}));
        audit::store::insert(&mut *tx, &event).await?;
        store::notify(&mut *tx).await?;
        tx.commit().await?;
        let repo = self.get(id).await?;
        Ok((repo, secret))
    }

    pub async fn get(&self, id: Uuid) -> Result<Repository, RepositoryError> {
        store::get(&self.pool, id)
            .await?
            .map(|r| r.to_api())
            .ok_or(RepositoryError::NotFound)
    }

    pub async fn list(
        &self,
        filter: &store::ListFilter,
        page: &PageRequest<String>,
    ) -> Result<Page<Repository>, RepositoryError> {
        let rows = store::list(&self.pool, filter, page).await?;
        Ok(Page {
            items: rows.items.iter().map(RepositoryRow::to_api).collect(),
            next_cursor: rows.next_cursor,
        })
    }

    /// Repositories counted: all, failing, paused.
    pub async fn summary(&self) -> Result<RepositorySummary, RepositoryError> {
        store::summary(&self.pool).await
    }

    /// Applies changes; when the URL, credentials or TLS settings change, the connection is
    /// tested first. Schedule and pause changes take effect at once on every replica.
    pub async fn update(
        &self,
        id: Uuid,
        changes: RepositoryChanges,
        actor: &Actor,
    ) -> Result<Repository, RepositoryError> {
        let current = store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let mut row = current.clone();
        let mut changed: Vec<&str> = Vec::new();
        if let Some(name) = &changes.name {
            row.name = parse_name(name)?;
            changed.push("name");
        }
        let mut scheme = url::parse(&row.url, true).map_or(UrlScheme::Https, |u| u.scheme);
        if let Some(u) = &changes.url {
            let parsed = url::parse(u, self.policy.allow_local)
                .map_err(|m| RepositoryError::invalid("url", m))?;
            scheme = parsed.scheme;
            row.url = parsed.url;
            row.url_key = parsed.key;
            changed.push("url");
        }
        if let Some(creds) = changes.credentials {
            let (kind, username, credential, known_hosts) = parse_credentials(creds, scheme)?;
            row.auth_kind = kind.as_str().to_owned();
            row.username = username;
            row.sealed_credential = credential
                .as_ref()
                .map(|c| self.vault.seal_str(c, &credential_context(id)));
            row.known_hosts = known_hosts;
            changed.push("credentials");
        } else if changes.url.is_some() {
            // The stored credentials must still suit the new URL.
            let kind = AuthKind::from_db(&row.auth_kind);
            if !auth_suits(kind, scheme) {
                return Err(RepositoryError::invalid(
                    "credentials",
                    format!(
                        "{} credentials do not work with this URL; send new credentials",
                        kind.as_str()
                    ),
                ));
            }
        }
        if let Some(ca) = changes.ca_bundle {
            row.ca_bundle = parse_ca_bundle(ca)?;
            changed.push("ca_bundle");
        }
        if let Some(skip) = changes.skip_tls_verify {
            row.skip_tls_verify = skip;
            changed.push("skip_tls_verify");
        }
        check_tls_fields(scheme, row.ca_bundle.as_ref(), row.skip_tls_verify)?;
        let mut reschedule = false;
        if let Some(spec) = &changes.schedule {
            let schedule = Schedule::parse(spec, self.policy.limits)
                .map_err(|e| RepositoryError::invalid(e.field, e.message))?;
            set_schedule(&mut row, &schedule);
            reschedule = true;
            changed.push("schedule");
        }
        if let Some(paused) = changes.paused {
            reschedule |= paused != row.paused;
            row.paused = paused;
            changed.push("paused");
        }
        if reschedule {
            row.next_run_at = if row.paused {
                None
            } else {
                row.schedule().next_after(Utc::now())
            };
        }
        let connection_changed = changed
            .iter()
            .any(|c| matches!(*c, "url" | "credentials" | "ca_bundle" | "skip_tls_verify"));
        if connection_changed {
            self.test_connection(&row).await?;
        }
        let mut tx = self.pool.begin().await?;
        // Keep status columns as they are now (a check may have finished meanwhile).
        let fresh = store::get_for_update(&mut *tx, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        if !reschedule {
            row.next_run_at = fresh.next_run_at;
        }
        store::upsert(&mut *tx, &row).await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.update",
            format!("repository:{}", row.name),
        )
        .details(json!({"id": id, "changed": changed}));
        audit::store::insert(&mut *tx, &event).await?;
        store::notify(&mut *tx).await?;
        tx.commit().await?;
        if changes.url.is_some() && current.url != row.url {
            // Another repository's objects: start the cache afresh.
            self.git.delete_mirror(id).await;
        }
        self.get(id).await
    }

    /// Deletes a repository; with stacks using it, only when `force` (their stacks go too).
    pub async fn delete(
        &self,
        id: Uuid,
        force: bool,
        actor: &Actor,
    ) -> Result<(), RepositoryError> {
        let mut tx = self.pool.begin().await?;
        let row = store::get_for_update(&mut *tx, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let stacks = crate::stacks::store::count_for_repository(&mut *tx, id).await?;
        if stacks > 0 && !force {
            return Err(RepositoryError::InUse { stacks });
        }
        if stacks > 0 {
            crate::stacks::store::delete_for_repository(&mut *tx, id).await?;
        }
        store::delete(&mut *tx, id).await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.delete",
            format!("repository:{}", row.name),
        )
        .details(json!({"id": id, "force": force, "stacks_deleted": stacks}));
        audit::store::insert(&mut *tx, &event).await?;
        store::notify(&mut *tx).await?;
        tx.commit().await?;
        self.git.delete_mirror(id).await;
        Ok(())
    }

    /// How to reach the repository, with its credentials opened.
    pub fn remote_spec(&self, row: &RepositoryRow) -> Result<RemoteSpec, RepositoryError> {
        let credential = row
            .sealed_credential
            .as_ref()
            .map(|s| {
                self.vault
                    .open_str(s, &credential_context(row.repository_id))
            })
            .transpose()?;
        let auth = match (AuthKind::from_db(&row.auth_kind), credential) {
            (AuthKind::Https, Some(password)) => GitAuth::Basic {
                username: row.username.clone().unwrap_or_default(),
                password,
            },
            (AuthKind::Ssh, Some(private_key)) => GitAuth::Ssh {
                private_key,
                known_hosts: row.known_hosts.clone().unwrap_or_default(),
            },
            _ => GitAuth::None,
        };
        Ok(RemoteSpec {
            url: row.url.clone(),
            auth,
            ca_bundle: row.ca_bundle.clone(),
            skip_tls_verify: row.skip_tls_verify,
            timeout: self.git.timeout,
        })
    }

    /// A ref listing (HEAD only): proves the URL, credentials and TLS settings work.
    async fn test_connection(&self, row: &RepositoryRow) -> Result<(), RepositoryError> {
        let remote = self.remote_spec(row)?;
        let deadline = self.git.timeout + Duration::from_secs(5);
        let listing = self
            .git
            .list_refs(row.repository_id, &row.name, remote, vec!["HEAD".into()]);
        match tokio::time::timeout(deadline, listing).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(RepositoryError::Connection(e)),
            Err(_) => Err(RepositoryError::Connection(crate::git::GitError::new(
                crate::git::GitErrorKind::Timeout,
                "no answer within the time limit",
            ))),
        }
    }
}
