//! Stacks: what to deploy (a repository, a ref, paths, a renderer), where (environment ids and a
//! tag selector), and how (policies). Change detection reads what each stack tracks and emits
//! deployment events (contract on [`store`]); [`service`] manages stacks and the actions people
//! take on them; the rollouts module turns both into deployments. Nothing here talks to clusters.

pub mod model;
pub mod service;
pub mod store;

pub use model::{Stack, StackError, StackSpec, StackSummary, StackTarget, SyncCounts, SyncState};
pub use service::{StackChanges, Stacks};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a stack tracks: a branch, a tag, a full ref, or a pinned commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackedRef {
    /// A full ref name (`refs/heads/x`, `refs/tags/x`).
    Full(String),
    /// A short name: the branch `refs/heads/<name>` if it exists, else the tag `refs/tags/<name>`.
    Short(String),
    /// A full commit sha: never moves.
    Commit(String),
}

impl TrackedRef {
    /// Parses a stack's `ref`; refuses what git would refuse as a ref name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("ref is required".into());
        }
        if crate::git::is_full_sha(t) {
            return Ok(TrackedRef::Commit(t.to_ascii_lowercase()));
        }
        let bad = t.contains("..")
            || t.contains("@{")
            || t.starts_with('/')
            || t.ends_with('/')
            || t.ends_with(".lock")
            || t.starts_with('-')
            || t.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c));
        if bad {
            return Err(format!("{t:?} is not a valid ref name"));
        }
        Ok(if t.starts_with("refs/") {
            TrackedRef::Full(t.to_owned())
        } else {
            TrackedRef::Short(t.to_owned())
        })
    }

    /// The full ref names to ask the server for (none for a pinned commit).
    pub fn candidates(&self) -> Vec<String> {
        match self {
            TrackedRef::Full(name) => vec![name.clone()],
            TrackedRef::Short(name) => {
                vec![format!("refs/heads/{name}"), format!("refs/tags/{name}")]
            }
            TrackedRef::Commit(_) => Vec::new(),
        }
    }
}

/// A stack's tracking state.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct TrackedStack {
    #[sqlx(rename = "stack_id")]
    pub id: Uuid,
    pub name: String,
    pub repository_id: Uuid,
    #[sqlx(rename = "ref")]
    pub git_ref: String,
    pub paths: Vec<String>,
    pub watched_paths: Vec<String>,
    pub paused: bool,
    pub auto_deploy: bool,
    pub last_seen_commit: Option<String>,
    #[schema(value_type = Option<HashMap<String, String>>)]
    pub last_seen_trees: Option<serde_json::Value>,
    pub deployed_commit: Option<String>,
}

impl TrackedStack {
    /// Every path whose content decides whether the stack changed (`""` when none: the root).
    pub fn all_watched(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .paths
            .iter()
            .chain(self.watched_paths.iter())
            .map(|p| p.trim_matches('/').to_owned())
            .map(|p| if p == "." { String::new() } else { p })
            .collect();
        if all.is_empty() {
            all.push(String::new());
        }
        all.sort();
        all.dedup();
        all
    }
}

/// A durable request to deploy a stack at a commit.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeploymentEvent {
    #[sqlx(rename = "deployment_event_id")]
    pub id: Uuid,
    pub stack_id: Uuid,
    pub commit: String,
    /// `poll`, `webhook` or `manual`.
    pub trigger: String,
    #[schema(required = true)]
    pub repository_check_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub consumed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_parsed_into_branches_tags_full_names_or_pins() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let cases = [
            ("main", TrackedRef::Short("main".into())),
            ("release/1.x", TrackedRef::Short("release/1.x".into())),
            ("refs/tags/v1", TrackedRef::Full("refs/tags/v1".into())),
            (sha, TrackedRef::Commit(sha.into())),
        ];
        for (text, want) in cases {
            assert_eq!(TrackedRef::parse(text).unwrap(), want, "{text}");
        }
        for bad in [
            "", "a..b", "x~1", "HEAD^", "a b", "-x", "a/", "x.lock", "a:b",
        ] {
            assert!(TrackedRef::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            TrackedRef::parse("v1").unwrap().candidates(),
            vec!["refs/heads/v1", "refs/tags/v1"]
        );
    }
}
