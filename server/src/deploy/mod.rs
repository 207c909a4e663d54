//! The deployment engine's cluster side: render a stack's manifests at a commit, plan them
//! against a cluster's discovery, server-side apply them in order, prune what left Git, wait for
//! health, and preview (dry-run + field-level diff). Knows nothing of HTTP or SQL: the rollout
//! queue (`crate::rollouts`) calls [`execute`] / [`preview`] and records what they return.
//!
//! Contract with the queue:
//! - [`render`] fails before anything touches a cluster, naming the file and document;
//! - [`execute`] never panics on cluster errors; it returns an [`Outcome`] whose `results` hold
//!   one entry per object it acted on (also reported through `progress` as they happen), whose
//!   `inventory` is the set of objects this deployment applied (`None` when the deployment failed:
//!   the previous inventory stays authoritative), and whose `error` says what failed, where, and
//!   whether it is worth retrying ([`DeployError::transient`]);
//! - objects are applied with field manager [`FIELD_MANAGER`] and carry [`STACK_LABEL`] /
//!   [`STACK_ANNOTATION`] so they can be traced back to their stack.

mod apply;
mod diff;
mod discovery;
mod documents;
mod engine;
mod errors;
mod health;
mod kustomize;
mod namespaces;
mod plan;
mod preview;
mod prune;
mod render;
mod validate;

use std::time::Duration;

pub use diff::FieldChange;
pub use discovery::{Discoveries, EnvDiscovery, Resolved};
pub use documents::describe_source;
pub use engine::{execute, remove_all};
pub use errors::is_transient;
pub use health::{Health, assess};
pub use kustomize::{
    NO_TOOL as KUSTOMIZE_MISSING, Tool as KustomizeTool, find_tool as find_kustomize,
};
pub use plan::describe_ref;
pub use preview::{ObjectChange, ObjectRejection, Preview, preview};
pub use render::{GitSource, MemorySource, RenderOptions, Source, render, render_with};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Server-side apply field manager of every object Berth applies.
pub const FIELD_MANAGER: &str = "berth";
/// Label carrying the stack id on every applied object.
pub const STACK_LABEL: &str = "berth.dev/stack";
/// Annotation carrying the stack name on every applied object (the commit is in Berth's
/// history, not on the object, so a new commit leaves untouched objects unchanged).
pub const STACK_ANNOTATION: &str = "berth.dev/source";

/// How a stack's files become objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    /// `.yaml`/`.yml`/`.json` files, multi-document, directories recursively, sorted by path.
    #[default]
    Plain,
    /// `kubectl kustomize` (or `kustomize build`) of each path.
    Kustomize,
}

/// The identity of one Kubernetes object (what the inventory and the results name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct ObjectRef {
    /// API group (`""` for the core group).
    pub group: String,
    pub version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Pruned,
    Failed,
}

/// One object's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObjectResult {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub action: Action,
    /// The API's message for failures (and notes such as "health: 2/3 replicas ready").
    pub message: Option<String>,
}

/// One rendered object and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `path/in/repo.yaml#<document index from 1>` (or `kustomize:<path>#<n>`), with
    /// `.items[<i>]` appended for an item of a `kind: List` document; [`describe_source`] turns it
    /// into "path/in/repo.yaml document 2".
    pub source: String,
    pub object: serde_json::Value,
}

/// The stack-level policies the engine obeys.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Namespace for namespaced objects that name none.
    pub default_namespace: Option<String>,
    /// Create missing namespaces the objects live in (else: failed, "namespace not found").
    pub create_namespace: bool,
    pub prune: bool,
    /// Wait for Deployment/StatefulSet/DaemonSet rollouts and Job completion.
    pub wait_for_health: bool,
    pub health_timeout: Duration,
    /// Take over fields owned by other field managers instead of failing with a conflict.
    pub force_conflicts: bool,
    /// Parallel applies within one ordering tier.
    pub parallelism: usize,
}

/// Who the applied objects belong to (labels/annotations).
#[derive(Debug, Clone)]
pub struct StackIdentity {
    pub id: Uuid,
    pub name: String,
    pub commit: String,
}

/// Where a deployment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Render,
    Plan,
    Apply,
    Prune,
    Health,
}

/// Why a deployment (or preview) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{phase:?}: {message}")]
pub struct DeployError {
    pub phase: Phase,
    pub message: String,
    /// Worth retrying: connection refused/reset, timeouts, 429, 5xx. Never for 4xx rejections,
    /// render errors or health timeouts.
    pub transient: bool,
}

/// What [`execute`] did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub results: Vec<ObjectResult>,
    /// The objects this deployment applied (the next prune's inventory); `None` on failure.
    pub inventory: Option<Vec<ObjectRef>>,
    pub error: Option<DeployError>,
}
