//! Rollouts and deployments: every trigger (a Git change, a webhook, a manual deploy, a redeploy, a
//! rollback, an environment joining a stack's targets, a stack's removal) becomes a rollout of
//! one stack at one commit, with one deployment per target environment.
//!
//! Deployments are a durable queue in Postgres (`store.rs`): claimed with `FOR UPDATE SKIP
//! LOCKED`, at most one running and one queued per (stack, environment) — a newer queued commit
//! supersedes an older queued one — and leased with heartbeats so another replica resumes the
//! work of one that died. `worker.rs` runs the queue; `run.rs` runs one deployment through the
//! engine (`crate::deploy`) and records its outcome in one transaction.

pub mod dispatch;
pub mod run;
pub mod source;
pub mod store;
pub mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use worker::{Deployer, DeployerSettings};

/// What created a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A scheduled check found a change.
    Poll,
    /// A webhook made a check happen, which found a change.
    Webhook,
    /// "Check now" found a change, or someone deployed by hand.
    Manual,
    /// The deployed commit again.
    Redeploy,
    /// An earlier successful deployment's commit.
    Rollback,
    /// An environment joined the stack's targets.
    EnvironmentJoined,
    /// The stack is being deleted with its objects.
    Removal,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Webhook => "webhook",
            Self::Manual => "manual",
            Self::Redeploy => "redeploy",
            Self::Rollback => "rollback",
            Self::EnvironmentJoined => "environment_joined",
            Self::Removal => "removal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "poll" => Self::Poll,
            "webhook" => Self::Webhook,
            "manual" => Self::Manual,
            "redeploy" => Self::Redeploy,
            "rollback" => Self::Rollback,
            "environment_joined" => Self::EnvironmentJoined,
            "removal" => Self::Removal,
            _ => return None,
        })
    }
}

/// Rollouts counted for the overview.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq, sqlx::FromRow)]
pub struct RolloutSummary {
    /// Queued or running.
    pub in_progress: i64,
    /// Failed (every or some target) and finished within the last 24 hours.
    pub failed_last_day: i64,
}

/// A rollout: one stack at one commit, to every target.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Rollout {
    #[sqlx(rename = "rollout_id")]
    pub id: Uuid,
    /// `null` once the stack is deleted (the history stays).
    #[schema(required = true)]
    pub stack_id: Option<Uuid>,
    pub stack_name: String,
    pub commit: String,
    /// `poll`, `webhook`, `manual`, `redeploy`, `rollback`, `environment_joined`, `removal`.
    pub trigger: String,
    /// Who: a user name, `token:<name>`, or `system`.
    pub actor: String,
    /// The deployment event (from a repository check) that caused it.
    #[schema(required = true)]
    pub deployment_event_id: Option<Uuid>,
    /// `queued`, `running`, `succeeded`, `failed`, `superseded`, `partial` (some targets failed).
    pub status: String,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Deployments by status.
    #[sqlx(skip)]
    pub deployments: DeploymentCounts,
}

/// How many deployments of a rollout are in each status.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct DeploymentCounts {
    pub total: i64,
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub superseded: i64,
}

/// One stack at one commit in one environment.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Deployment {
    #[sqlx(rename = "deployment_id")]
    pub id: Uuid,
    pub rollout_id: Uuid,
    #[schema(required = true)]
    pub stack_id: Option<Uuid>,
    pub stack_name: String,
    #[schema(required = true)]
    pub environment_id: Option<Uuid>,
    pub environment_name: String,
    pub commit: String,
    /// `apply` or `remove` (a stack's deletion).
    pub kind: String,
    pub trigger: String,
    pub actor: String,
    /// `queued`, `running`, `succeeded`, `failed`, `superseded`.
    pub status: String,
    pub attempts: i32,
    /// When a queued deployment may next run (retries back off).
    pub next_attempt_at: DateTime<Utc>,
    /// The deployment that replaced this queued one.
    #[schema(required = true)]
    pub superseded_by: Option<Uuid>,
    /// Where it failed: `render`, `plan`, `apply`, `prune`, `health`, `queue`.
    #[schema(required = true)]
    pub error_phase: Option<String>,
    #[schema(required = true)]
    pub error: Option<String>,
    pub object_count: i32,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// One object's result in a deployment.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeploymentObject {
    pub seq: i32,
    /// API group (`""` for core).
    #[sqlx(rename = "api_group")]
    pub group: String,
    #[sqlx(rename = "api_version")]
    pub version: String,
    pub kind: String,
    #[schema(required = true)]
    pub namespace: Option<String>,
    pub name: String,
    /// `created`, `configured`, `unchanged`, `pruned`, `failed`.
    pub action: String,
    #[schema(required = true)]
    pub message: Option<String>,
}
