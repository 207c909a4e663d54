//! The audit log: one row per state-changing action (actor, action, target, time, client address).
//!
//! Handlers record events inside the same transaction as the change they describe, so a rejected or
//! failed request writes nothing. Details must never contain secrets.

pub mod store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;

/// One audited action.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEvent {
    #[sqlx(rename = "audit_event_id")]
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted: a username (with the API token's name when one was used); null for Berth itself.
    #[schema(required = true)]
    pub actor: Option<String>,
    #[schema(required = true)]
    pub actor_id: Option<Uuid>,
    /// Dotted verb, e.g. `user.create`, `auth.login`, `token.revoke`.
    pub action: String,
    /// What was acted on, e.g. `user:alice`.
    #[schema(required = true)]
    pub target: Option<String>,
    #[schema(required = true)]
    pub client_addr: Option<String>,
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub details: serde_json::Value,
}

/// Who did something and from where, taken from the request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub label: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    pub fn from_principal(p: &Principal, client_addr: Option<String>) -> Self {
        Self {
            id: Some(p.user_id),
            label: Some(p.actor_label()),
            client_addr,
        }
    }

    /// Berth acting on its own (schedulers, probes, first start).
    pub fn system() -> Self {
        Self {
            id: None,
            label: None,
            client_addr: None,
        }
    }
}

/// An event about to be written.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: Option<String>,
    pub details: serde_json::Value,
}

impl<'a> NewAuditEvent<'a> {
    pub fn new(actor: &'a Actor, action: &'a str, target: impl Into<Option<String>>) -> Self {
        Self {
            actor,
            action,
            target: target.into(),
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
