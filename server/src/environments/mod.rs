//! The environment inventory: the Kubernetes clusters Berth deploys to, one kubeconfig context
//! each. Owns kubeconfig intake and policy, sealed credentials, health probes and the kube client
//! cache. Nothing is ever installed in a cluster; this module only reads from it.
//! Knows nothing of HTTP; SQL lives in `store.rs`.

pub mod clients;
pub mod kubeconfig;
pub mod probe;
mod rounds;
pub mod selector;
pub mod service;
pub mod store;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use kubeconfig::{AuthKind, KubeconfigError, Policy};
pub use selector::Selector;
pub use service::Environments;

/// Client certificates expiring within this many days are flagged.
pub const CERT_EXPIRY_WARNING_DAYS: i64 = 30;

/// Health of an environment as the last probe saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The API server answered and the credentials were accepted.
    Up,
    /// The API server could not be reached (network, TLS, timeout, 5xx).
    Down,
    /// The API server refused the credentials (401/403).
    Unauthorized,
    /// Not probed yet.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Down => "down",
            Status::Unauthorized => "unauthorized",
            Status::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "up" => Status::Up,
            "down" => Status::Down,
            "unauthorized" => Status::Unauthorized,
            "unknown" => Status::Unknown,
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the credentials may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// Everything, cluster-wide.
    ClusterAdmin,
    /// Create and change objects in the namespace below, but not cluster-wide.
    Namespaced,
    /// Read but not write.
    ReadOnly,
    /// Authenticated, but may neither read nor write workloads.
    None,
    /// Never checked (the cluster was unreachable).
    #[default]
    Unknown,
}

/// The permissions summary shown on an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct Permissions {
    #[schema(required = true)]
    pub level: AccessLevel,
    /// The namespace the namespaced or read-only checks were made in.
    #[schema(required = true)]
    pub namespace: Option<String>,
    /// Whether the credentials may list nodes (the probe then reports a node count).
    #[schema(required = true)]
    pub can_list_nodes: bool,
}

/// How many environments there are, by status (the fleet at a glance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct EnvironmentSummary {
    pub total: i64,
    pub up: i64,
    pub down: i64,
    pub unauthorized: i64,
    pub unknown: i64,
    /// Client certificates expiring within 30 days (or expired).
    pub certificates_expiring: i64,
    /// Environments whose server certificate is not verified.
    pub insecure: i64,
}

/// An environment as the API shows it. Credentials are never part of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Environment {
    pub id: Uuid,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub default_namespace: String,
    pub server_url: String,
    /// The kubeconfig context the credentials came from.
    pub context: String,
    pub auth_kind: AuthKind,
    /// SHA-256 (hex) of the CA certificate given in the kubeconfig.
    #[schema(required = true)]
    pub ca_fingerprint: Option<String>,
    #[schema(required = true)]
    pub client_certificate_expires_at: Option<DateTime<Utc>>,
    /// The client certificate expires within 30 days (or has expired).
    pub client_certificate_expiring: bool,
    /// The server's certificate is not verified (`insecure-skip-tls-verify`).
    pub insecure_skip_tls_verify: bool,
    pub permissions: Permissions,
    pub status: Status,
    #[schema(required = true)]
    pub kubernetes_version: Option<String>,
    #[schema(required = true)]
    pub node_count: Option<i32>,
    #[schema(required = true)]
    pub probe_latency_ms: Option<i32>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    #[schema(required = true)]
    pub last_probe_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Incremented on each credential rotation.
    pub credential_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Errors of the environment inventory.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// The cluster could not be verified before saving.
    #[error("{message}")]
    Verify {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("environment not found")]
    NotFound,
    #[error("{field} is already taken")]
    Conflict { field: String },
    #[error("{message}")]
    InUse { message: String },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("stored credentials cannot be opened")]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("{0}")]
    Internal(String),
}

impl EnvError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        EnvError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Validates an environment name (lowercase letters, digits, `.`, `_`, `-`; 1 to 63 characters).
pub fn parse_name(field: &str, name: &str) -> Result<String, EnvError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(EnvError::invalid(
            field,
            "a name is 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        ));
    }
    Ok(name.to_owned())
}

/// Validates tags (`key=value` labels, Kubernetes label syntax, at most 64).
pub fn parse_tags(
    field: &str,
    tags: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, EnvError> {
    if tags.len() > 64 {
        return Err(EnvError::invalid(field, "at most 64 tags"));
    }
    for (k, v) in &tags {
        if !selector::valid_key(k) {
            return Err(EnvError::invalid(
                format!("{field}.{k}"),
                "a tag key is an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'",
            ));
        }
        if !selector::valid_value(v) {
            return Err(EnvError::invalid(
                format!("{field}.{k}"),
                "a tag value is up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            ));
        }
    }
    Ok(tags)
}

/// Parses `key=value` strings (CLI and multipart form fields) into a tag map.
pub fn tags_from_pairs<'a>(
    field: &str,
    pairs: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, EnvError> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        for item in pair.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                EnvError::invalid(field, format!("expected key=value, got {item:?}"))
            })?;
            out.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    parse_tags(field, out)
}

/// Validates a Kubernetes namespace name (DNS label).
pub fn parse_namespace(field: &str, ns: &str) -> Result<String, EnvError> {
    let ns = ns.trim();
    let b = ns.as_bytes();
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric();
    if !ok {
        return Err(EnvError::invalid(
            field,
            "a namespace is a DNS label: up to 63 lowercase letters, digits or '-'",
        ));
    }
    Ok(ns.to_owned())
}

/// One environment to register from an uploaded kubeconfig.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

impl NewEnvironment {
    /// Validates the fields of one registration; `prefix` names their place in the request.
    pub fn parse(
        prefix: &str,
        name: &str,
        tags: BTreeMap<String, String>,
        context: Option<String>,
        namespace: Option<String>,
    ) -> Result<Self, EnvError> {
        let f = |n: &str| format!("{prefix}{n}");
        Ok(Self {
            name: parse_name(&f("name"), name)?,
            tags: parse_tags(&f("tags"), tags)?,
            context: context
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            namespace: namespace
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse_namespace(&f("default_namespace"), &n))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_namespaces_are_validated_with_the_field_named() {
        assert!(parse_name("name", "prod-eu.1").is_ok());
        for bad in ["", "Prod", "-x", "a b", &"x".repeat(64)] {
            assert!(parse_name("name", bad).is_err(), "{bad}");
        }
        let t = tags_from_pairs("tags", ["env=prod", "region=eu,tier=web"]).unwrap();
        assert_eq!(t.len(), 3);
        let Err(EnvError::Invalid { field, .. }) = tags_from_pairs("tags", ["env=pr od"]) else {
            panic!("expected a validation error")
        };
        assert_eq!(field, "tags.env");
        assert!(tags_from_pairs("tags", ["novalue"]).is_err());
        assert!(parse_namespace("ns", "team-a").is_ok());
        assert!(parse_namespace("ns", "Team").is_err());
    }
}
