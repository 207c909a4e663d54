//! The auth service: login, sessions, users and API tokens, each change audited in its transaction.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::jwt::SessionKeys;
use super::ratelimit::LoginLimiter;
use super::store::{self, NewToken, UserChanges, UserFilter};
use super::{
    ApiToken, AuthError, Credential, Principal, Role, User, check_password_policy, parse_username,
    password,
};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::crypto::{Secret, random_token, sha256_hex};
use crate::pagination::{Page, PageRequest};

/// Prefix of every API token, so secret scanners and people can recognise them.
pub const TOKEN_PREFIX: &str = "berth_";

/// Where a request came from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// A new session: the bearer token and its user.
#[derive(Debug)]
pub struct Session {
    pub token: Secret<String>,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A new API token: shown once.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: Secret<String>,
    pub api_token: ApiToken,
}

#[derive(Clone)]
pub struct Auth {
    pool: PgPool,
    keys: SessionKeys,
    limiter: LoginLimiter,
    session_ttl: chrono::Duration,
}

impl Auth {
    pub fn new(pool: PgPool, keys: SessionKeys, login_per_minute: u32, ttl: Duration) -> Self {
        Self {
            pool,
            keys,
            limiter: LoginLimiter::new(login_per_minute),
            session_ttl: chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(8)),
        }
    }

    /// On first start with no users, creates `admin` with the given password or a random one,
    /// which is returned so it can be printed once.
    pub async fn bootstrap_admin(
        &self,
        configured: Option<Secret<String>>,
    ) -> Result<Option<Secret<String>>, AuthError> {
        if store::count_users(&self.pool).await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match configured {
            Some(p) => {
                check_password_policy("BERTH_ADMIN_PASSWORD", p.expose())?;
                (p, false)
            }
            None => (Secret::new(random_token(18)), true),
        };
        let hash = password::hash(password.clone()).await?;
        let mut tx = self.pool.begin().await?;
        if !store::insert_first_admin(&mut *tx, &hash).await? {
            return Ok(None);
        }
        let actor = Actor::system();
        let event = NewAuditEvent::new(&actor, "user.create", "user:admin".to_owned())
            .details(json!({"role": "admin", "reason": "first start"}));
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(generated.then_some(password))
    }

    /// Checks the password (rate-limited per address and per username) and opens a session.
    pub async fn login(
        &self,
        username: &str,
        password_given: Secret<String>,
        client: &ClientInfo,
    ) -> Result<Session, AuthError> {
        let username = username.trim().to_ascii_lowercase();
        self.limiter
            .check(client.addr, &username)
            .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        if password_given.expose().len() > 1024 {
            return Err(AuthError::InvalidCredentials);
        }
        let found = store::user_with_hash(&self.pool, &username).await?;
        let Some((user, hash)) = found else {
            // Same work as a real check, so response time does not reveal usernames.
            let _ = password::verify(password_given, password::dummy_hash().await).await;
            metrics::counter!("berth_login_failures_total").increment(1);
            return Err(AuthError::InvalidCredentials);
        };
        if !password::verify(password_given, hash).await? || user.disabled {
            metrics::counter!("berth_login_failures_total").increment(1);
            tracing::warn!(username = %user.username, "failed login");
            return Err(AuthError::InvalidCredentials);
        }
        let actor = Actor {
            id: Some(user.id),
            label: Some(user.username.clone()),
            client_addr: client.addr.map(|a| a.to_string()),
        };
        self.open_session(user, client, &actor, "auth.login").await
    }

    async fn open_session(
        &self,
        user: User,
        client: &ClientInfo,
        actor: &Actor,
        action: &str,
    ) -> Result<Session, AuthError> {
        let now = Utc::now();
        let expires_at = now + self.session_ttl;
        let session_id = Uuid::new_v4();
        let addr = client.addr.map(|a| a.to_string());
        let mut tx = self.pool.begin().await?;
        store::insert_session(
            &mut *tx,
            session_id,
            user.id,
            expires_at,
            addr.as_deref(),
            client.user_agent.as_deref(),
        )
        .await?;
        store::touch_last_login(&mut *tx, user.id).await?;
        let target = format!("user:{}", user.username);
        audit::store::insert(&mut *tx, &NewAuditEvent::new(actor, action, target)).await?;
        tx.commit().await?;
        let token = self.keys.sign(user.id, session_id, now, expires_at)?;
        Ok(Session {
            token: Secret::new(token),
            expires_at,
            user,
        })
    }

    /// Resolves a bearer token (session JWT or `berth_…` API token) to its principal.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        if bearer.starts_with(TOKEN_PREFIX) {
            let hash = sha256_hex(bearer.as_bytes());
            let (token, owner) = store::use_token(&self.pool, &hash)
                .await?
                .ok_or(AuthError::InvalidToken)?;
            return Ok(Principal {
                user_id: owner.id,
                username: owner.username,
                role: token.role.min(owner.role),
                credential: Credential::ApiToken {
                    token_id: token.id,
                    name: token.name,
                },
            });
        }
        let claims = self.keys.verify(bearer)?;
        let user = store::session_user(&self.pool, claims.sid, claims.sub)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        Ok(Principal {
            user_id: user.id,
            username: user.username,
            role: user.role,
            credential: Credential::Session {
                session_id: claims.sid,
            },
        })
    }

    /// Ends the caller's session (API tokens are revoked through the token endpoints).
    pub async fn logout(&self, who: &Principal, actor: &Actor) -> Result<(), AuthError> {
        let Credential::Session { session_id } = who.credential else {
            return Err(AuthError::Invalid {
                field: "authorization",
                reason: "API tokens cannot log out; revoke the token instead".into(),
            });
        };
        let mut tx = self.pool.begin().await?;
        store::revoke_session(&mut *tx, session_id).await?;
        let target = format!("user:{}", who.username);
        audit::store::insert(&mut *tx, &NewAuditEvent::new(actor, "auth.logout", target)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's password, revokes all their sessions and opens a fresh one.
    pub async fn change_password(
        &self,
        who: &Principal,
        current: Secret<String>,
        new: Secret<String>,
        client: &ClientInfo,
        actor: &Actor,
    ) -> Result<Session, AuthError> {
        if !matches!(who.credential, Credential::Session { .. }) {
            return Err(AuthError::Invalid {
                field: "authorization",
                reason: "change your password from a login session, not an API token".into(),
            });
        }
        check_password_policy("new_password", new.expose())?;
        let hash = store::password_hash(&self.pool, who.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if !password::verify(current, hash).await? {
            return Err(AuthError::Invalid {
                field: "current_password",
                reason: "is not your current password".into(),
            });
        }
        let new_hash = password::hash(new).await?;
        let mut tx = self.pool.begin().await?;
        let changes = UserChanges {
            password_hash: Some(new_hash),
            ..UserChanges::default()
        };
        let user = store::update_user(&mut *tx, who.user_id, &changes)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        store::revoke_user_sessions(&mut *tx, who.user_id).await?;
        let target = format!("user:{}", who.username);
        audit::store::insert(
            &mut *tx,
            &NewAuditEvent::new(actor, "auth.password_change", target),
        )
        .await?;
        tx.commit().await?;
        self.open_session(user, client, actor, "auth.session_renew")
            .await
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User, AuthError> {
        store::user_by_id(&self.pool, id)
            .await?
            .ok_or(AuthError::NotFound { what: "user" })
    }

    pub async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest<String>,
    ) -> Result<Page<User>, AuthError> {
        store::list_users(&self.pool, filter, page).await
    }

    pub async fn create_user(
        &self,
        username: &str,
        password_given: Secret<String>,
        role: Role,
        actor: &Actor,
    ) -> Result<User, AuthError> {
        let username = parse_username(username)?;
        check_password_policy("password", password_given.expose())?;
        let hash = password::hash(password_given).await?;
        let mut tx = self.pool.begin().await?;
        let user = store::insert_user(&mut *tx, &username, &hash, role).await?;
        let event = NewAuditEvent::new(actor, "user.create", format!("user:{username}"))
            .details(json!({"role": role}));
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Changes role, disabled flag or password. Any of them revokes the user's sessions; the last
    /// enabled admin cannot be demoted or disabled.
    pub async fn update_user(
        &self,
        id: Uuid,
        role: Option<Role>,
        disabled: Option<bool>,
        new_password: Option<Secret<String>>,
        actor: &Actor,
    ) -> Result<User, AuthError> {
        if let Some(p) = &new_password {
            check_password_policy("password", p.expose())?;
        }
        let password_hash = match new_password {
            Some(p) => Some(password::hash(p).await?),
            None => None,
        };
        let mut tx = self.pool.begin().await?;
        let before = store::user_by_id(&mut *tx, id)
            .await?
            .ok_or(AuthError::NotFound { what: "user" })?;
        let demoted = role.is_some_and(|r| r != Role::Admin);
        let disabling = disabled == Some(true);
        if before.role == Role::Admin
            && (demoted || disabling)
            && store::other_active_admins(&mut *tx, id).await? == 0
        {
            return Err(AuthError::Invalid {
                field: if demoted { "role" } else { "disabled" },
                reason: "this is the last enabled admin; promote another user first".into(),
            });
        }
        let changes = UserChanges {
            role,
            disabled,
            password_hash,
        };
        let user = store::update_user(&mut *tx, id, &changes)
            .await?
            .ok_or(AuthError::NotFound { what: "user" })?;
        let role_changed = role.is_some_and(|r| r != before.role);
        let revoked = if role_changed || disabling || changes.password_hash.is_some() {
            store::revoke_user_sessions(&mut *tx, id).await?
        } else {
            0
        };
        let details = json!({
            "role": role.map(|r| json!({"from": before.role, "to": r})),
            "disabled": disabled,
            "password_reset": changes.password_hash.is_some(),
            "sessions_revoked": revoked,
        });
        let event = NewAuditEvent::new(actor, "user.update", format!("user:{}", user.username))
            .details(details);
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Issues an API token for the caller, with a role no higher than theirs.
    pub async fn create_token(
        &self,
        owner: &Principal,
        name: &str,
        role: Option<Role>,
        expires_at: Option<DateTime<Utc>>,
        actor: &Actor,
    ) -> Result<IssuedToken, AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AuthError::Invalid {
                field: "name",
                reason: "must be 1 to 100 characters".into(),
            });
        }
        let role = role.unwrap_or(owner.role);
        if role > owner.role {
            return Err(AuthError::Invalid {
                field: "role",
                reason: format!("cannot exceed your own role ({})", owner.role),
            });
        }
        if expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(AuthError::Invalid {
                field: "expires_at",
                reason: "must be in the future".into(),
            });
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token(30));
        let hash = sha256_hex(token.as_bytes());
        let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 4).collect();
        let mut tx = self.pool.begin().await?;
        let api_token = store::insert_token(
            &mut *tx,
            &NewToken {
                user_id: owner.user_id,
                name,
                token_hash: &hash,
                prefix: &prefix,
                role,
                expires_at,
            },
        )
        .await?;
        let event = NewAuditEvent::new(actor, "token.create", format!("token:{}", api_token.id))
            .details(json!({"name": name, "role": role, "expires_at": expires_at}));
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(IssuedToken {
            token: Secret::new(token),
            api_token,
        })
    }

    pub async fn list_tokens(
        &self,
        who: &Principal,
        all: bool,
        page: &PageRequest<(DateTime<Utc>, Uuid)>,
    ) -> Result<Page<ApiToken>, AuthError> {
        if all {
            who.require(Role::Admin)?;
        }
        store::list_tokens(&self.pool, (!all).then_some(who.user_id), page).await
    }

    /// Revokes a token; owners revoke their own, admins any.
    pub async fn revoke_token(
        &self,
        who: &Principal,
        id: Uuid,
        actor: &Actor,
    ) -> Result<(), AuthError> {
        let token = store::token_by_id(&self.pool, id)
            .await?
            .filter(|t| t.user_id == who.user_id || who.role == Role::Admin)
            .ok_or(AuthError::NotFound { what: "token" })?;
        let mut tx = self.pool.begin().await?;
        store::revoke_token(&mut *tx, id).await?;
        let event = NewAuditEvent::new(actor, "token.revoke", format!("token:{id}"))
            .details(json!({"name": token.name, "owner": token.username}));
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Periodic housekeeping: forget idle rate-limit keys and long-expired sessions.
    pub async fn housekeeping(&self) -> Result<(), AuthError> {
        self.limiter.cleanup();
        store::delete_old_sessions(&self.pool).await?;
        Ok(())
    }
}
