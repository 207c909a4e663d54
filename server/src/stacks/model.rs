//! What a stack is to its users: source, renderer, targets and policies, and the sync state of each
//! target. Validation of user input happens here (`StackSpec::validate`), so an invalid stack
//! cannot reach the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::TrackedRef;
use crate::deploy::Renderer;
use crate::environments::Selector;

/// Sync state of one (stack, environment), and the worst of them for a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The last deployment succeeded at the newest content commit.
    InSync,
    /// A newer commit exists than the one deployed (or nothing deployed yet).
    OutOfDate,
    /// A deployment is queued or running.
    Deploying,
    /// The last deployment failed.
    Failed,
    /// No commit is known yet (the repository has not been checked since the stack was made).
    Unknown,
}

impl SyncState {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "in_sync" => Self::InSync,
            "out_of_date" => Self::OutOfDate,
            "deploying" => Self::Deploying,
            "failed" => Self::Failed,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in_sync",
            Self::OutOfDate => "out_of_date",
            Self::Deploying => "deploying",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

/// How many targets are in each state.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct SyncCounts {
    pub in_sync: i64,
    pub out_of_date: i64,
    pub deploying: i64,
    pub failed: i64,
    pub unknown: i64,
}

/// Stacks counted by sync state, the worst over their targets (the fleet at a glance).
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq, sqlx::FromRow)]
pub struct StackSummary {
    pub total: i64,
    pub in_sync: i64,
    pub out_of_date: i64,
    pub deploying: i64,
    pub failed: i64,
    /// No target, or targets never deployed nor checked yet.
    pub unknown: i64,
    pub paused: i64,
}

/// A stack as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stack {
    pub id: Uuid,
    pub name: String,
    pub repository_id: Uuid,
    pub repository_name: String,
    /// Branch, tag, full ref or pinned commit.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub paths: Vec<String>,
    pub watched_paths: Vec<String>,
    pub renderer: Renderer,
    /// Environments targeted by id.
    pub environment_ids: Vec<Uuid>,
    /// Tag selector; environments matching it are targets too.
    #[schema(required = true)]
    pub selector: Option<String>,
    #[schema(required = true)]
    pub default_namespace: Option<String>,
    pub create_namespace: bool,
    pub auto_deploy: bool,
    pub prune: bool,
    pub wait_for_health: bool,
    pub health_timeout_seconds: i32,
    pub force_conflicts: bool,
    pub paused: bool,
    /// Set by a rollback: auto-deploy waits until a commit other than this one arrives or an
    /// operator resumes the stack.
    #[schema(required = true)]
    pub rollback_hold_commit: Option<String>,
    /// The newest commit whose content changed (what "in sync" compares with).
    #[schema(required = true)]
    pub latest_commit: Option<String>,
    /// The last commit change detection looked at.
    #[schema(required = true)]
    pub last_seen_commit: Option<String>,
    /// The commit of the stack's last successful deployment (any target).
    #[schema(required = true)]
    pub deployed_commit: Option<String>,
    /// A deletion that removes the stack's objects is running (or failed; see its rollout).
    pub deleting: bool,
    /// Worst state over the targets.
    pub sync_state: SyncState,
    pub targets: SyncCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One target of a stack and its sync state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StackTarget {
    pub stack_id: Uuid,
    pub stack_name: String,
    pub environment_id: Uuid,
    pub environment_name: String,
    /// The environment's probe status (`up`, `down`, …).
    pub environment_status: String,
    #[schema(required = true)]
    pub deployed_commit: Option<String>,
    #[schema(required = true)]
    pub latest_commit: Option<String>,
    pub state: SyncState,
    #[schema(required = true)]
    pub last_deployment_id: Option<Uuid>,
    #[schema(required = true)]
    pub last_deployment_status: Option<String>,
    #[schema(required = true)]
    pub last_deployed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// Objects the last successful deployment applied (the prune inventory).
    pub object_count: i64,
}

/// Everything a stack is made of, as created or fully updated.
#[derive(Debug, Clone)]
pub struct StackSpec {
    pub name: String,
    pub repository_id: Uuid,
    pub git_ref: String,
    pub paths: Vec<String>,
    pub watched_paths: Vec<String>,
    pub renderer: Renderer,
    pub environment_ids: Vec<Uuid>,
    pub selector: Option<String>,
    pub default_namespace: Option<String>,
    pub create_namespace: bool,
    pub auto_deploy: bool,
    pub prune: bool,
    pub wait_for_health: bool,
    pub health_timeout_seconds: i32,
    pub force_conflicts: bool,
    pub paused: bool,
}

/// A domain error of stacks, rollouts and deployments.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a stack with this name already exists")]
    NameTaken,
    /// The request cannot be served in the stack's current state.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl StackError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A path inside the repository: relative, `/`-separated, no `..`; `""` is the root.
pub fn normalize_path(field: &'static str, raw: &str) -> Result<String, StackError> {
    let p = raw.trim().trim_matches('/');
    if p == "." || p.is_empty() {
        return Ok(String::new());
    }
    if p.len() > 512 {
        return Err(StackError::invalid(
            field,
            "paths are at most 512 characters",
        ));
    }
    for part in p.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(StackError::invalid(
                field,
                format!("{raw:?} is not a relative path inside the repository"),
            ));
        }
        if part.chars().any(|c| c.is_control() || c == '\\') {
            return Err(StackError::invalid(
                field,
                format!("{raw:?} contains a control character or backslash"),
            ));
        }
    }
    Ok(p.to_owned())
}

/// Stack names: lowercase letters, digits, `.`, `_`, `-`; 1 to 63 characters; starts with a
/// letter or digit (it becomes a label value on applied objects).
pub fn validate_name(name: &str) -> Result<String, StackError> {
    let n = name.trim();
    let ok = !n.is_empty()
        && n.len() <= 63
        && n.as_bytes()[0].is_ascii_alphanumeric()
        && n.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_'
        });
    if ok {
        Ok(n.to_owned())
    } else {
        Err(StackError::invalid(
            "name",
            "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

/// A namespace name (RFC 1123 label).
pub fn validate_namespace(field: &'static str, ns: &str) -> Result<String, StackError> {
    let n = ns.trim();
    let ok = !n.is_empty()
        && n.len() <= 63
        && n.as_bytes()[0].is_ascii_alphanumeric()
        && n.as_bytes()[n.len() - 1].is_ascii_alphanumeric()
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(n.to_owned())
    } else {
        Err(StackError::invalid(
            field,
            format!("{ns:?} is not a valid namespace name (lowercase RFC 1123 label)"),
        ))
    }
}

impl StackSpec {
    /// Checks and normalises every field; the repository and environments are checked to exist
    /// by the service.
    pub fn validate(mut self) -> Result<Self, StackError> {
        self.name = validate_name(&self.name)?;
        TrackedRef::parse(&self.git_ref).map_err(|m| StackError::invalid("ref", m))?;
        self.git_ref = self.git_ref.trim().to_owned();
        let mut paths = Vec::new();
        for p in &self.paths {
            paths.push(normalize_path("paths", p)?);
        }
        if paths.is_empty() {
            paths.push(String::new());
        }
        paths.sort();
        paths.dedup();
        if paths.len() > 32 {
            return Err(StackError::invalid("paths", "at most 32 paths"));
        }
        self.paths = paths;
        let mut watched = Vec::new();
        for p in &self.watched_paths {
            watched.push(normalize_path("watched_paths", p)?);
        }
        watched.sort();
        watched.dedup();
        if watched.len() > 32 {
            return Err(StackError::invalid("watched_paths", "at most 32 paths"));
        }
        self.watched_paths = watched;
        self.selector = match self.selector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let parsed = Selector::parse(s)
                    .map_err(|e| StackError::invalid("selector", e.to_string()))?;
                Some(parsed.to_string())
            }
        };
        self.environment_ids.sort();
        self.environment_ids.dedup();
        if self.environment_ids.len() > 10_000 {
            return Err(StackError::invalid(
                "environment_ids",
                "at most 10000 environments; use a selector",
            ));
        }
        self.default_namespace = match self.default_namespace.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(ns) => Some(validate_namespace("default_namespace", ns)?),
        };
        if !(1..=86_400).contains(&self.health_timeout_seconds) {
            return Err(StackError::invalid(
                "health_timeout_seconds",
                "must be between 1 and 86400",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> StackSpec {
        StackSpec {
            name: "web".into(),
            repository_id: Uuid::nil(),
            git_ref: "main".into(),
            paths: vec!["apps/web/".into()],
            watched_paths: vec![],
            renderer: Renderer::Plain,
            environment_ids: vec![],
            selector: Some("env = prod".into()),
            default_namespace: None,
            create_namespace: false,
            auto_deploy: true,
            prune: true,
            wait_for_health: true,
            health_timeout_seconds: 300,
            force_conflicts: false,
            paused: false,
        }
    }

    #[test]
    fn a_valid_spec_is_normalised() {
        let s = spec().validate().unwrap();
        assert_eq!(s.paths, vec!["apps/web"]);
        assert_eq!(s.selector.as_deref(), Some("env=prod"));
    }

    #[test]
    fn each_invalid_field_is_named() {
        type Change = Box<dyn Fn(&mut StackSpec)>;
        let cases: Vec<(&str, Change)> = vec![
            ("name", Box::new(|s| s.name = "Web App".into())),
            ("ref", Box::new(|s| s.git_ref = "a..b".into())),
            ("paths", Box::new(|s| s.paths = vec!["../etc".into()])),
            ("paths", Box::new(|s| s.paths = vec!["a//b".into()])),
            (
                "watched_paths",
                Box::new(|s| s.watched_paths = vec!["x/../..".into()]),
            ),
            (
                "selector",
                Box::new(|s| s.selector = Some("env in (".into())),
            ),
            (
                "default_namespace",
                Box::new(|s| s.default_namespace = Some("Bad_NS".into())),
            ),
            (
                "health_timeout_seconds",
                Box::new(|s| s.health_timeout_seconds = 0),
            ),
        ];
        for (field, change) in cases {
            let mut s = spec();
            change(&mut s);
            match s.validate() {
                Err(StackError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_root_is_the_default_path() {
        let mut s = spec();
        s.paths = vec![];
        assert_eq!(s.validate().unwrap().paths, vec![""]);
        assert_eq!(normalize_path("paths", "./").unwrap(), "");
    }
}
