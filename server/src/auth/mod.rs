//! Users, roles, password hashes, login sessions (JWT) and API tokens.
//!
//! Owns who may call Berth and with which role. Sessions are JWTs whose id (`sid`) points at a
//! `user_session` row, so logout and revocation hold on every replica; API tokens are random
//! `berth_…` strings of which only a SHA-256 hash is stored. Knows nothing of HTTP.

pub mod jwt;
pub mod password;
pub mod ratelimit;
pub mod service;
pub mod store;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use service::Auth;

/// What a caller may do. Ordered: viewer < operator < admin.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything except secrets and the audit log.
    Viewer,
    /// Viewer, plus deploy, preview, roll back and "check now".
    Operator,
    /// Everything: users, environments, repositories, stacks, audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(AuthError::Invalid {
                field: "role",
                reason: format!("unknown role {other:?} (expected admin, operator or viewer)"),
            }),
        }
    }
}

/// A Berth user as the API shows it (never with its password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(required = true)]
    pub last_login_at: Option<DateTime<Utc>>,
}

/// An API token as the API shows it: never the token itself, only its prefix.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// First characters of the token, to tell tokens apart.
    pub prefix: String,
    /// The token's ceiling; it never acts above its owner's current role.
    pub role: Role,
    pub user_id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { session_id: Uuid },
    ApiToken { token_id: Uuid, name: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    /// Effective role: for API tokens, the lower of the token's and the owner's role.
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    /// Fails with `Forbidden` unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AuthError::Forbidden { needed: role })
        }
    }

    /// How the actor is written in the audit log.
    pub fn actor_label(&self) -> String {
        match &self.credential {
            Credential::Session { .. } => self.username.clone(),
            Credential::ApiToken { name, .. } => format!("{} (token {name})", self.username),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing credentials: send Authorization: Bearer <session or API token>")]
    MissingCredentials,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("the session or token is invalid, expired or revoked")]
    InvalidToken,
    #[error("this action needs the {needed} role")]
    Forbidden { needed: Role },
    #[error("too many login attempts; retry in {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A validated username: lowercase letters, digits, `.`, `_`, `-`; 1 to 63 characters.
pub fn parse_username(raw: &str) -> Result<String, AuthError> {
    let name = raw.trim().to_ascii_lowercase();
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let first_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if name.is_empty() || name.len() > 63 || !valid_chars || !first_ok {
        return Err(AuthError::Invalid {
            field: "username",
            reason: "must be 1-63 characters: lowercase letters, digits, '.', '_' or '-', \
                     starting with a letter or digit"
                .into(),
        });
    }
    Ok(name)
}

/// A password must be 8 to 1024 characters (the upper bound keeps hashing cheap to refuse).
pub fn check_password_policy(field: &'static str, password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < 8 {
        return Err(AuthError::Invalid {
            field,
            reason: "must be at least 8 characters".into(),
        });
    }
    if password.len() > 1024 {
        return Err(AuthError::Invalid {
            field,
            reason: "must be at most 1024 bytes".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_viewer_operator_admin() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_are_normalized_and_checked() {
        assert_eq!(parse_username(" Alice ").unwrap(), "alice");
        for bad in ["", "-x", "a b", "ünïcode", &"x".repeat(64)] {
            assert!(parse_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_password_policy("password", "short").is_err());
        assert!(check_password_policy("password", &"x".repeat(2000)).is_err());
        assert!(check_password_policy("password", "long enough").is_ok());
    }
}
