//! Git sources: URL policy, sealed credentials, CA bundles, poll schedules and status, checks.
//!
//! The service validates and audits changes; the poller runs checks (one ref listing per
//! repository serves every stack tracking it) and emits deployment events. SQL lives in
//! `store.rs`; Git in `crate::git`. Nothing here talks to clusters.

mod check_requests;
pub mod credentials;
mod fields;
mod group_commit;
mod mirrors;
pub mod poller;
pub mod runner;
pub mod schedule;
pub mod service;
pub mod store;
pub mod url;
mod webhook_secret;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use poller::Poller;
pub use runner::GitRunner;
pub use schedule::{Schedule, ScheduleSpec};
pub use service::Repositories;

use crate::crypto::Secret;
use crate::git::{GitError, GitErrorKind};
use url::UrlScheme;

/// How Berth authenticates to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
// Named apart from the environments' `AuthKind`, which would otherwise replace it in the document.
#[schema(as = RepositoryAuthKind)]
pub enum AuthKind {
    None,
    /// HTTPS username + token (or password).
    Https,
    /// SSH private key + known_hosts entry.
    Ssh,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Https => "https",
            AuthKind::Ssh => "ssh",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "https" => AuthKind::Https,
            "ssh" => AuthKind::Ssh,
            _ => AuthKind::None,
        }
    }
}

/// Credentials as sent by the API; write-only (never returned).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsInput {
    pub kind: AuthKind,
    /// For `https`.
    pub username: Option<String>,
    /// For `https`: a token or password.
    #[schema(value_type = Option<String>, format = Password)]
    pub token: Option<Secret<String>>,
    /// For `ssh`: an OpenSSH private key (unencrypted).
    #[schema(value_type = Option<String>, format = Password)]
    pub private_key: Option<Secret<String>>,
    /// For `ssh`: the server's known_hosts line(s), e.g. from `ssh-keyscan`.
    pub known_hosts: Option<String>,
}

/// A registered repository, as shown by the API. Credentials are never shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Repository {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub scheme: UrlScheme,
    /// Plain `http://` or `git://`: traffic can be read and altered (flag it).
    pub insecure_url: bool,
    pub auth_kind: AuthKind,
    #[schema(required = true)]
    pub username: Option<String>,
    /// Whether a token or key is stored (its value is write-only).
    pub has_credential: bool,
    #[schema(required = true)]
    pub known_hosts: Option<String>,
    #[schema(required = true)]
    pub ca_bundle: Option<String>,
    /// TLS verification disabled (flag it).
    pub skip_tls_verify: bool,
    pub schedule: ScheduleSpec,
    pub paused: bool,
    pub status: RepositoryStatus,
    /// Stacks tracking this repository.
    pub stack_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The outcome of the last checks and the next one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepositoryStatus {
    #[schema(required = true)]
    pub last_check_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_check_duration_ms: Option<i64>,
    /// `unchanged`, `moved` (refs moved, nothing to deploy), `changed` (deployment events) or `failed`.
    #[schema(required = true)]
    pub last_outcome: Option<String>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// `authentication`, `unknown_host`, `tls`, `not_found`, `timeout`, …
    #[schema(required = true)]
    pub last_error_kind: Option<String>,
    pub consecutive_failures: i32,
    /// Null when the schedule is manual or the repository is paused.
    #[schema(required = true)]
    pub next_check_at: Option<DateTime<Utc>>,
}

/// Repositories counted (the fleet at a glance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct RepositorySummary {
    pub total: i64,
    /// Repositories whose last check failed.
    pub failing: i64,
    pub paused: i64,
}

/// One check of a repository.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepositoryCheck {
    pub id: Uuid,
    pub repository_id: Uuid,
    /// `schedule`, `webhook` or `manual`.
    pub trigger: String,
    /// `queued`, `running` or `done`.
    pub status: String,
    pub requested_at: DateTime<Utc>,
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub duration_ms: Option<i64>,
    /// `unchanged`, `moved` (refs moved, nothing to deploy), `changed` (deployment events) or `failed`.
    #[schema(required = true)]
    pub outcome: Option<String>,
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(required = true)]
    pub error_kind: Option<String>,
    /// Refs listed and the commits they pointed at.
    #[schema(value_type = HashMap<String, String>)]
    pub refs_listed: serde_json::Value,
    pub fetched_commits: Vec<String>,
    /// Deployment events this check emitted.
    pub deployment_event_ids: Vec<Uuid>,
}

/// A repository domain error.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("repository not found")]
    NotFound,
    #[error("{what} not found")]
    NotFoundWhat { what: &'static str },
    #[error("a repository named like this already exists")]
    NameTaken,
    #[error("the repository is used by {stacks} stack(s); delete them first or pass force=true")]
    InUse { stacks: i64 },
    #[error("connection test failed: {0}")]
    Connection(GitError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("sealed secret cannot be opened: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("{0}")]
    Internal(String),
}

impl RepositoryError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// Which request field a connection failure most likely points at.
    pub fn connection_field(e: &GitError) -> &'static str {
        match e.kind {
            GitErrorKind::Authentication if e.is_ssh_key_refused() => "credentials.private_key",
            GitErrorKind::UnknownHost if e.is_ssh_host_key() => "credentials.known_hosts",
            GitErrorKind::Authentication | GitErrorKind::Ssh => "credentials",
            GitErrorKind::Tls => "ca_bundle",
            _ => "url",
        }
    }
}
