//! The repository service: validation, sealing, connection tests, audited changes, check requests.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::schedule::{Schedule, ScheduleLimits, ScheduleSpec};
use super::store::{self, RepositoryRow};
use super::url::{self, UrlScheme};
use super::{
    AuthKind, CredentialsInput, GitRunner, Repository, RepositoryCheck, RepositoryError,
    RepositorySummary,
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
    pool: PgPool,
    vault: Vault,
    policy: RepositoryPolicy,
    pub git: GitRunner,
}

fn credential_context(id: Uuid) -> String {
    format!("repository:{id}:credential")
}

fn webhook_context(id: Uuid) -> String {
    format!("repository:{id}:webhook")
}

impl Repositories {
    pub fn new(pool: PgPool, vault: Vault, policy: RepositoryPolicy, git: GitRunner) -> Self {
        Self {
            pool,
            vault,
            policy,
            git,
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

    /// The webhook secret (admins; audited).
    pub async fn webhook_secret(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Secret<String>, RepositoryError> {
        let row = store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let secret = self.open_webhook_secret(&row)?;
        let event = NewAuditEvent::new(
            actor,
            "repository.webhook_secret.read",
            format!("repository:{}", row.name),
        );
        audit::store::insert(&self.pool, &event).await?;
        Ok(secret)
    }

    /// Replaces the webhook secret; the new one is returned (audited).
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Secret<String>, RepositoryError> {
        let mut tx = self.pool.begin().await?;
        let mut row = store::get_for_update(&mut *tx, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let secret = Secret::new(random_token(32));
        row.sealed_webhook_secret = self.vault.seal_str(&secret, &webhook_context(id));
        store::upsert(&mut *tx, &row).await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.webhook_secret.rotate",
            format!("repository:{}", row.name),
        );
        audit::store::insert(&mut *tx, &event).await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub fn open_webhook_secret(
        &self,
        row: &RepositoryRow,
    ) -> Result<Secret<String>, RepositoryError> {
        Ok(self.vault.open_str(
            &row.sealed_webhook_secret,
            &webhook_context(row.repository_id),
        )?)
    }

    /// Repositories whose URL matches `key` (webhook delivery).
    pub async fn by_url_key(&self, key: &str) -> Result<Vec<RepositoryRow>, RepositoryError> {
        store::by_url_key(&self.pool, key).await
    }

    /// Queues a check now (joining an already queued one) and wakes every replica's poller.
    pub async fn request_check(&self, id: Uuid, trigger: &str) -> Result<Uuid, RepositoryError> {
        let mut conn = self.pool.acquire().await?;
        let check = store::request_check(&mut conn, id, trigger)
            .await
            .map_err(|e| match e {
                RepositoryError::Database(sqlx::Error::Database(d))
                    if d.is_foreign_key_violation() =>
                {
                    RepositoryError::NotFound
                }
                other => other,
            })?;
        store::notify(&mut *conn).await?;
        Ok(check)
    }

    /// "Check now" for operators (audited).
    pub async fn check_now(&self, id: Uuid, actor: &Actor) -> Result<Uuid, RepositoryError> {
        let row = store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        let check = self.request_check(id, "manual").await?;
        let event = NewAuditEvent::new(
            actor,
            "repository.check",
            format!("repository:{}", row.name),
        )
        .details(json!({"id": id, "check_id": check}));
        audit::store::insert(&self.pool, &event).await?;
        Ok(check)
    }

    pub async fn get_check(
        &self,
        id: Uuid,
        check_id: Uuid,
    ) -> Result<RepositoryCheck, RepositoryError> {
        store::get_check(&self.pool, check_id)
            .await?
            .filter(|c| c.repository_id == id)
            .ok_or(RepositoryError::NotFoundWhat { what: "check" })
    }

    pub async fn list_checks(
        &self,
        id: Uuid,
        page: &PageRequest<(chrono::DateTime<Utc>, Uuid)>,
    ) -> Result<Page<RepositoryCheck>, RepositoryError> {
        store::get(&self.pool, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        store::list_checks(&self.pool, id, page).await
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

fn set_schedule(row: &mut RepositoryRow, schedule: &Schedule) {
    row.schedule_kind = schedule.kind().to_owned();
    row.interval_seconds = None;
    row.cron = None;
    row.time_zone = "UTC".into();
    match schedule {
        Schedule::Interval(d) => {
            row.interval_seconds = Some(i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
        }
        Schedule::Cron { expr, tz } => {
            row.cron = Some(expr.clone());
            row.time_zone = tz.name().to_owned();
        }
        Schedule::Manual => {}
    }
    row.next_run_at = if row.paused {
        None
    } else {
        schedule.next_after(Utc::now())
    };
}

fn parse_name(name: &str) -> Result<String, RepositoryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RepositoryError::invalid(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(RepositoryError::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn auth_suits(kind: AuthKind, scheme: UrlScheme) -> bool {
    match kind {
        AuthKind::None => true,
        AuthKind::Https => scheme == UrlScheme::Https,
        AuthKind::Ssh => scheme == UrlScheme::Ssh,
    }
}

type ParsedCredentials = (
    AuthKind,
    Option<String>,
    Option<Secret<String>>,
    Option<String>,
);

/// Validates credentials for a URL scheme: (kind, username, secret to seal, known_hosts).
pub fn parse_credentials(
    c: CredentialsInput,
    scheme: UrlScheme,
) -> Result<ParsedCredentials, RepositoryError> {
    let inv = |field: &'static str, m: &str| RepositoryError::invalid(field, m.to_owned());
    match c.kind {
        AuthKind::None => {
            if c.username.is_some()
                || c.token.is_some()
                || c.private_key.is_some()
                || c.known_hosts.is_some()
            {
                return Err(inv(
                    "credentials.kind",
                    "kind none takes no username, token or key",
                ));
            }
            Ok((AuthKind::None, None, None, None))
        }
        AuthKind::Https => {
            if scheme == UrlScheme::Http {
                return Err(inv(
                    "credentials.kind",
                    "credentials are never sent over plain http://; use https://",
                ));
            }
            if scheme != UrlScheme::Https {
                return Err(inv(
                    "credentials.kind",
                    "username + token credentials need an https:// URL",
                ));
            }
            if c.private_key.is_some() || c.known_hosts.is_some() {
                return Err(inv(
                    "credentials.private_key",
                    "https credentials take no SSH key",
                ));
            }
            let username = c
                .username
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .ok_or_else(|| inv("credentials.username", "is required for https credentials"))?;
            if username.contains(':') || username.chars().any(char::is_control) {
                return Err(inv(
                    "credentials.username",
                    "must not contain ':' or control characters",
                ));
            }
            let token = c
                .token
                .filter(|t| !t.expose().is_empty())
                .ok_or_else(|| inv("credentials.token", "is required for https credentials"))?;
            if token.expose().chars().any(char::is_control) {
                return Err(inv(
                    "credentials.token",
                    "must not contain control characters",
                ));
            }
            Ok((AuthKind::Https, Some(username), Some(token), None))
        }
        AuthKind::Ssh => {
            if scheme != UrlScheme::Ssh {
                return Err(inv(
                    "credentials.kind",
                    "SSH credentials need an ssh:// or user@host:path URL",
                ));
            }
            if c.token.is_some() {
                return Err(inv("credentials.token", "ssh credentials take no token"));
            }
            let key = c
                .private_key
                .ok_or_else(|| inv("credentials.private_key", "is required for ssh credentials"))?;
            check_private_key(key.expose()).map_err(|m| inv("credentials.private_key", &m))?;
            let hosts = c.known_hosts.ok_or_else(|| {
                inv(
                    "credentials.known_hosts",
                    "is required for ssh credentials (host keys are always verified)",
                )
            })?;
            check_known_hosts(&hosts).map_err(|m| inv("credentials.known_hosts", &m))?;
            Ok((
                AuthKind::Ssh,
                None,
                Some(key),
                Some(hosts.trim().to_owned() + "\n"),
            ))
        }
    }
}

/// An unencrypted private key in OpenSSH or PEM form.
pub fn check_private_key(key: &str) -> Result<(), String> {
    let key = key.trim();
    let Some(first) = key.lines().next() else {
        return Err("is empty".into());
    };
    if !(first.starts_with("-----BEGIN ") && first.ends_with("PRIVATE KEY-----")) {
        return Err("must be a private key (-----BEGIN … PRIVATE KEY-----)".into());
    }
    if !key
        .lines()
        .last()
        .is_some_and(|l| l.starts_with("-----END "))
    {
        return Err("is truncated (no -----END line)".into());
    }
    if key.contains("ENCRYPTED") {
        return Err("is protected by a passphrase; provide an unencrypted key".into());
    }
    if first == "-----BEGIN OPENSSH PRIVATE KEY-----" {
        let body: String = key
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| "is not valid base64".to_owned())?;
        let magic = b"openssh-key-v1\0";
        if !bytes.starts_with(magic) {
            return Err("is not an OpenSSH private key".into());
        }
        let rest = &bytes[magic.len()..];
        let len = rest
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| "is truncated".to_owned())?;
        let cipher = rest
            .get(4..4 + len)
            .ok_or_else(|| "is truncated".to_owned())?;
        if cipher != b"none" {
            return Err("is protected by a passphrase; provide an unencrypted key".into());
        }
    }
    Ok(())
}

/// known_hosts lines: `[markers] hosts keytype base64key [comment]`.
pub fn check_known_hosts(text: &str) -> Result<(), String> {
    let mut entries = 0;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|f| f.starts_with('@')) {
            fields.remove(0);
        }
        let ok = fields.len() >= 3
            && (fields[1].starts_with("ssh-")
                || fields[1].starts_with("ecdsa-sha2-")
                || fields[1].starts_with("sk-"))
            && base64::engine::general_purpose::STANDARD
                .decode(fields[2])
                .is_ok();
        if !ok {
            return Err(format!(
                "line {} is not a known_hosts entry (hosts keytype key)",
                i + 1
            ));
        }
        entries += 1;
    }
    if entries == 0 {
        return Err("has no entries".into());
    }
    Ok(())
}

fn parse_ca_bundle(ca: Option<String>) -> Result<Option<String>, RepositoryError> {
    let Some(ca) = ca.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let certs = reqwest::Certificate::from_pem_bundle(ca.as_bytes()).map_err(|e| {
        RepositoryError::invalid("ca_bundle", format!("is not a PEM certificate bundle: {e}"))
    })?;
    if certs.is_empty() || !ca.contains("-----BEGIN CERTIFICATE-----") {
        return Err(RepositoryError::invalid(
            "ca_bundle",
            "holds no PEM certificate",
        ));
    }
    Ok(Some(ca + "\n"))
}

fn check_tls_fields(
    scheme: UrlScheme,
    ca: Option<&String>,
    skip: bool,
) -> Result<(), RepositoryError> {
    if scheme != UrlScheme::Https && ca.is_some() {
        return Err(RepositoryError::invalid(
            "ca_bundle",
            "applies only to https:// URLs",
        ));
    }
    if scheme != UrlScheme::Https && skip {
        return Err(RepositoryError::invalid(
            "skip_tls_verify",
            "applies only to https:// URLs",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(kind: AuthKind) -> CredentialsInput {
        CredentialsInput {
            kind,
            username: None,
            token: None,
            private_key: None,
            known_hosts: None,
        }
    }

    /// An unencrypted openssh-key-v1 blob (cipher "none"); enough for the format checks.
    fn key() -> String {
        let mut blob = b"openssh-key-v1\0".to_vec();
        for field in [&b"none"[..], b"none", b""] {
            blob.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            blob.extend_from_slice(field);
        }
        let body = base64::engine::general_purpose::STANDARD.encode(blob);
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n")
    }
    const HOSTS: &str = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

    #[test]
    fn credentials_must_suit_the_url_and_be_complete() {
        let mut https = creds(AuthKind::Https);
        https.username = Some("bot".into());
        https.token = Some(Secret::new("t0k".into()));
        assert!(parse_credentials(https.clone(), UrlScheme::Https).is_ok());
        let cases: Vec<(CredentialsInput, UrlScheme, &str)> = vec![
            (https.clone(), UrlScheme::Http, "credentials.kind"),
            (https.clone(), UrlScheme::Ssh, "credentials.kind"),
            (
                CredentialsInput {
                    token: None,
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.token",
            ),
            (
                CredentialsInput {
                    username: None,
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.username",
            ),
            (
                CredentialsInput {
                    username: Some("a:b".into()),
                    ..https.clone()
                },
                UrlScheme::Https,
                "credentials.username",
            ),
            (
                CredentialsInput {
                    username: Some("x".into()),
                    ..creds(AuthKind::None)
                },
                UrlScheme::Https,
                "credentials.kind",
            ),
            (
                creds(AuthKind::Ssh),
                UrlScheme::Ssh,
                "credentials.private_key",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.known_hosts",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    known_hosts: Some(HOSTS.into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Https,
                "credentials.kind",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new("not a key".into())),
                    known_hosts: Some(HOSTS.into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.private_key",
            ),
            (
                CredentialsInput {
                    private_key: Some(Secret::new(key())),
                    known_hosts: Some("github.com\n".into()),
                    ..creds(AuthKind::Ssh)
                },
                UrlScheme::Ssh,
                "credentials.known_hosts",
            ),
        ];
        for (c, scheme, field) in cases {
            match parse_credentials(c, scheme) {
                Err(RepositoryError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected {field} to be refused, got {other:?}"),
            }
        }
        let ssh = CredentialsInput {
            private_key: Some(Secret::new(key())),
            known_hosts: Some(HOSTS.into()),
            ..creds(AuthKind::Ssh)
        };
        let (kind, _, secret, hosts) = parse_credentials(ssh, UrlScheme::Ssh).unwrap();
        assert_eq!(kind, AuthKind::Ssh);
        assert!(secret.is_some() && hosts.unwrap().ends_with('\n'));
    }

    #[test]
    fn encrypted_or_malformed_private_keys_are_refused() {
        assert!(check_private_key(&key()).is_ok());
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----";
        assert!(check_private_key(pem).is_ok());
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIE\n-----END RSA PRIVATE KEY-----";
        assert!(
            check_private_key(legacy)
                .unwrap_err()
                .contains("passphrase")
        );
        // openssh-key-v1 with cipher aes256-ctr.
        let mut blob = b"openssh-key-v1\0".to_vec();
        blob.extend_from_slice(&10u32.to_be_bytes());
        blob.extend_from_slice(b"aes256-ctr");
        let body = base64::engine::general_purpose::STANDARD.encode(blob);
        let enc = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
        );
        assert!(check_private_key(&enc).unwrap_err().contains("passphrase"));
        assert!(
            check_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(check_private_key("ssh-ed25519 AAAA").is_err());
    }

    #[test]
    fn known_hosts_entries_are_checked_line_by_line() {
        assert!(check_known_hosts(HOSTS).is_ok());
        assert!(
            check_known_hosts(&format!(
                "# comment\n@cert-authority *.example.com {}",
                &HOSTS[11..]
            ))
            .is_ok()
        );
        assert!(check_known_hosts("").is_err());
        assert!(check_known_hosts("host ssh-ed25519").is_err());
        assert!(check_known_hosts("host rsa AAAA").is_err());
    }
}
