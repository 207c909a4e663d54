//! The environment service: register, rotate, update and delete environments (each change audited
//! in its transaction), and hand out cached kube clients. Probe rounds are in `rounds.rs`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kube::config::Kubeconfig;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::clients::ClientCache;
use super::kubeconfig::{self, KubeconfigError, Reduced};
use super::probe::{self, Failure, Plan, Report};
use super::store::{self, Credentials, Filter, NewRow};
use super::{
    EnvError, Environment, EnvironmentSummary, NewEnvironment, Permissions, Policy, Status,
};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::crypto::{Secret, Vault};
use crate::events::{EventBus, ServerEvent};
use crate::pagination::{Page, PageRequest};

/// Probe settings.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSettings {
    /// Time between two probes of one environment.
    pub interval: Duration,
    /// Environments probed at once by one replica.
    pub concurrency: usize,
}

/// Changes to an environment's metadata; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub default_namespace: Option<String>,
}

/// What one probe round did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundStats {
    pub probed: usize,
    pub changed: usize,
}

#[derive(Clone)]
pub struct Environments {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) pool: PgPool,
    pub(super) vault: Vault,
    pub(super) clients: ClientCache,
    pub(super) policy: Policy,
    pub(super) probes: ProbeSettings,
}

pub(super) fn context_of(id: Uuid) -> String {
    format!("environment:{id}")
}

impl Environments {
    pub fn new(pool: PgPool, vault: Vault, policy: Policy, probes: ProbeSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                vault,
                clients: ClientCache::default(),
                policy,
                probes,
            }),
        }
    }

    /// Parses a kubeconfig off the async runtime (large documents take a few milliseconds).
    async fn parse(text: Secret<String>) -> Result<Kubeconfig, EnvError> {
        if text.expose().len() > kubeconfig::MAX_KUBECONFIG_BYTES {
            return Err(KubeconfigError::TooLarge.into());
        }
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| kubeconfig::parse(text.expose())))
            .await
            .map_err(|e| EnvError::Internal(format!("kubeconfig parser task: {e}")))?
            .map_err(EnvError::from)
    }

    /// Connects with the reduced kubeconfig and reports what it found; with `verify`, failures
    /// become errors naming the kubeconfig field to fix.
    async fn check(r: &Reduced, namespace: &str, verify: bool) -> Result<Report, EnvError> {
        if let Some(expired) = r.client_cert_expires_at.filter(|t| *t < chrono::Utc::now()) {
            return Err(EnvError::invalid(
                format!(
                    "kubeconfig.users[{}].user.client-certificate-data",
                    r.kubeconfig
                        .auth_infos
                        .first()
                        .map_or("", |a| a.name.as_str())
                ),
                format!("the client certificate expired at {expired}"),
            ));
        }
        let client = crate::environments::clients::build(r.kubeconfig.clone()).await?;
        let plan = Plan {
            namespace: namespace.to_owned(),
            check_permissions: true,
            can_list_nodes: false,
        };
        let report = probe::probe(&client, &plan).await;
        if !verify {
            return Ok(report);
        }
        let error = report.error.clone().unwrap_or_default();
        let cluster_field = format!(
            "kubeconfig.clusters[{}].cluster",
            r.kubeconfig.clusters[0].name
        );
        match (report.status, report.failure) {
            (Status::Up, _) => Ok(report),
            (_, Some(Failure::Tls))
                if r.ca_fingerprint.is_none() && !r.insecure_skip_tls_verify =>
            {
                Err(EnvError::Verify {
                    code: "cluster_tls",
                    field: format!("{cluster_field}.certificate-authority-data"),
                    message: format!(
                        "the server's certificate is not publicly trusted and the kubeconfig has no \
                         certificate-authority-data: add the cluster's CA ({error})"
                    ),
                })
            }
            (_, Some(Failure::Tls)) => Err(EnvError::Verify {
                code: "cluster_tls",
                field: format!("{cluster_field}.certificate-authority-data"),
                message: format!(
                    "the server's certificate does not verify with the kubeconfig's CA ({error})"
                ),
            }),
            (Status::Unauthorized, _) => Err(EnvError::Verify {
                code: "cluster_unauthorized",
                field: format!(
                    "kubeconfig.users[{}].user",
                    r.kubeconfig
                        .auth_infos
                        .first()
                        .map_or("", |a| a.name.as_str())
                ),
                message: format!("the API server refused the credentials: {error}"),
            }),
            _ => Err(EnvError::Verify {
                code: "cluster_unreachable",
                field: format!("{cluster_field}.server"),
                message: format!(
                    "cannot reach the API server at {}: {error} (register with verify=false to save \
                     it anyway, with status down)",
                    r.server_url
                ),
            }),
        }
    }

    /// Registers one or more environments from one kubeconfig: all or nothing.
    #[tracing::instrument(skip_all, fields(count = items.len()), err(Display))]
    pub async fn register(
        &self,
        kubeconfig_text: Secret<String>,
        items: Vec<NewEnvironment>,
        verify: bool,
        actor: &Actor,
    ) -> Result<Vec<Environment>, EnvError> {
        let kc = Self::parse(kubeconfig_text).await?;
        let mut names = HashSet::new();
        let mut contexts = HashSet::new();
        let mut reduced = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let prefix = if items.len() > 1 {
                format!("environments[{i}].")
            } else {
                String::new()
            };
            if !names.insert(item.name.clone()) {
                return Err(EnvError::invalid(
                    format!("{prefix}name"),
                    "the same name is used twice in this request",
                ));
            }
            let r = kubeconfig::reduce(&kc, item.context.as_deref(), self.inner.policy)?;
            if items.len() > 1 && !contexts.insert(r.context.clone()) {
                return Err(EnvError::invalid(
                    format!("{prefix}context"),
                    "each environment of one request needs its own context",
                ));
            }
            reduced.push(r);
        }
        let checks = items.iter().zip(&reduced).map(|(item, r)| {
            let ns = item
                .namespace
                .clone()
                .or_else(|| r.namespace.clone())
                .unwrap_or_else(|| "default".to_owned());
            async move {
                let report = Self::check(r, &ns, verify).await?;
                Ok::<_, EnvError>((ns, report))
            }
        });
        let checked = futures::future::try_join_all(checks).await?;

        let mut tx = self.inner.pool.begin().await?;
        let mut created = Vec::with_capacity(items.len());
        for ((item, r), (ns, report)) in items.iter().zip(&reduced).zip(&checked) {
            let id = Uuid::new_v4();
            let sealed = self.inner.vault.seal(&r.to_sealable(), &context_of(id));
            let permissions = report.permissions.clone().unwrap_or_default();
            let env = store::insert(
                &mut *tx,
                &NewRow {
                    id,
                    name: &item.name,
                    tags: &item.tags,
                    default_namespace: ns,
                    credentials: credentials(r, &sealed, &permissions, report),
                    next_probe_in: self.inner.probes.interval,
                },
            )
            .await?;
            let event = NewAuditEvent::new(
                actor,
                "environment.create",
                format!("environment:{}", env.name),
            )
            .details(json!({
                "environment_id": env.id,
                "server_url": env.server_url,
                "context": env.context,
                "auth_kind": env.auth_kind,
                "tags": env.tags,
                "status": env.status,
                "verified": verify,
            }));
            audit::store::insert(&mut *tx, &event).await?;
            EventBus::publish(&mut *tx, &status_event("environment.created", &env, None)).await?;
            created.push(env);
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Replaces the credentials after validating the new kubeconfig like a new registration; on
    /// any failure the old credentials stay.
    #[tracing::instrument(skip_all, fields(environment = %id), err(Display))]
    pub async fn rotate(
        &self,
        id: Uuid,
        kubeconfig_text: Secret<String>,
        context: Option<String>,
        verify: bool,
        actor: &Actor,
    ) -> Result<Environment, EnvError> {
        let current = store::get(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)?;
        let kc = Self::parse(kubeconfig_text).await?;
        let context = context.or_else(|| {
            // A file without current-context that still has the environment's context keeps it.
            (kc.current_context.as_deref().is_none_or(str::is_empty)
                && kc.contexts.iter().any(|c| c.name == current.context))
            .then(|| current.context.clone())
        });
        let r = kubeconfig::reduce(&kc, context.as_deref(), self.inner.policy)?;
        let report = Self::check(&r, &current.default_namespace, verify).await?;
        let sealed = self.inner.vault.seal(&r.to_sealable(), &context_of(id));
        let permissions = report.permissions.clone().unwrap_or_default();
        let mut tx = self.inner.pool.begin().await?;
        let env = store::rotate(
            &mut *tx,
            id,
            &credentials(&r, &sealed, &permissions, &report),
        )
        .await?
        .ok_or(EnvError::NotFound)?;
        let event = NewAuditEvent::new(
            actor,
            "environment.rotate_credentials",
            format!("environment:{}", env.name),
        )
        .details(json!({
            "environment_id": env.id,
            "server_url": env.server_url,
            "context": env.context,
            "auth_kind": env.auth_kind,
            "credential_version": env.credential_version,
            "status": env.status,
        }));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(&mut *tx, &status_event("environment.updated", &env, None)).await?;
        tx.commit().await?;
        self.inner.clients.forget(id);
        Ok(env)
    }

    /// Finds an environment by id or by name.
    pub async fn find(&self, id_or_name: &str) -> Result<Environment, EnvError> {
        let found = match Uuid::parse_str(id_or_name) {
            Ok(id) => store::get(&self.inner.pool, id).await?,
            Err(_) => store::get_by_name(&self.inner.pool, id_or_name).await?,
        };
        found.ok_or(EnvError::NotFound)
    }

    pub async fn list(
        &self,
        filter: &Filter,
        page: &PageRequest<String>,
    ) -> Result<Page<Environment>, EnvError> {
        store::list(&self.inner.pool, filter, page).await
    }

    /// The fleet counted by status.
    pub async fn summary(&self) -> Result<EnvironmentSummary, EnvError> {
        store::summary(&self.inner.pool).await
    }

    #[tracing::instrument(skip_all, fields(environment = %id), err(Display))]
    pub async fn update(
        &self,
        id: Uuid,
        changes: &Changes,
        actor: &Actor,
    ) -> Result<Environment, EnvError> {
        let mut tx = self.inner.pool.begin().await?;
        let before = store::get(&mut *tx, id).await?.ok_or(EnvError::NotFound)?;
        let env = store::update(
            &mut *tx,
            id,
            changes.name.as_deref(),
            changes.tags.as_ref(),
            changes.default_namespace.as_deref(),
        )
        .await?
        .ok_or(EnvError::NotFound)?;
        let mut details = serde_json::Map::new();
        details.insert("environment_id".into(), json!(id));
        if before.name != env.name {
            details.insert("name".into(), json!({"from": before.name, "to": env.name}));
        }
        if before.tags != env.tags {
            details.insert("tags".into(), json!({"from": before.tags, "to": env.tags}));
        }
        if before.default_namespace != env.default_namespace {
            details.insert(
                "default_namespace".into(),
                json!({"from": before.default_namespace, "to": env.default_namespace}),
            );
        }
        let event = NewAuditEvent::new(
            actor,
            "environment.update",
            format!("environment:{}", env.name),
        )
        .details(serde_json::Value::Object(details));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(&mut *tx, &status_event("environment.updated", &env, None)).await?;
        tx.commit().await?;
        Ok(env)
    }

    /// Deletes the environment's record and credentials. Nothing in the cluster is touched.
    /// A row still referenced by a foreign key is refused (409 `in_use`); `force` is where the
    /// stacks module removes its targets in this transaction (no stacks exist yet).
    #[tracing::instrument(skip_all, fields(environment = %id), err(Display))]
    pub async fn delete(&self, id: Uuid, force: bool, actor: &Actor) -> Result<(), EnvError> {
        let mut tx = self.inner.pool.begin().await?;
        let env = store::get(&mut *tx, id).await?.ok_or(EnvError::NotFound)?;
        let stacks = crate::stacks::store::count_targets_of_environment(&mut *tx, id).await?;
        if stacks > 0 && !force {
            return Err(EnvError::InUse {
                message: format!(
                    "{stacks} stack(s) target this environment; change their targets or pass \
                     force=true (the stacks stop targeting it; its objects stay in the cluster)"
                ),
            });
        }
        if !store::delete(&mut *tx, id).await? {
            return Err(EnvError::NotFound);
        }
        let event = NewAuditEvent::new(
            actor,
            "environment.delete",
            format!("environment:{}", env.name),
        )
        .details(json!({"environment_id": id, "server_url": env.server_url, "force": force}));
        audit::store::insert(&mut *tx, &event).await?;
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new("environment.deleted", json!({"id": id, "name": env.name})),
        )
        .await?;
        tx.commit().await?;
        self.inner.clients.forget(id);
        Ok(())
    }

    /// A (cached) kube client for the environment, for probes and deployments.
    pub async fn client(&self, id: Uuid) -> Result<kube::Client, EnvError> {
        let (sealed, version) = store::sealed(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)?;
        self.client_for(id, version, &sealed).await
    }

    /// A (cached) kube client and the credential version it was built from (deployments key
    /// their discovery caches by it).
    pub async fn client_with_version(&self, id: Uuid) -> Result<(kube::Client, i32), EnvError> {
        let (sealed, version) = store::sealed(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)?;
        Ok((self.client_for(id, version, &sealed).await?, version))
    }

    pub(super) async fn client_for(
        &self,
        id: Uuid,
        version: i32,
        sealed: &[u8],
    ) -> Result<kube::Client, EnvError> {
        let vault = self.inner.vault.clone();
        self.inner
            .clients
            .get(id, version, || {
                let plain = vault.open(sealed, &context_of(id))?;
                serde_json::from_slice::<Kubeconfig>(&plain)
                    .map_err(|_| EnvError::Internal("a stored kubeconfig does not parse".into()))
            })
            .await
    }

    /// Number of cached clients (for tests and metrics).
    pub fn cached_clients(&self) -> usize {
        self.inner.clients.len()
    }
}

fn credentials<'a>(
    r: &'a Reduced,
    sealed: &'a [u8],
    permissions: &'a Permissions,
    report: &'a Report,
) -> Credentials<'a> {
    Credentials {
        server_url: &r.server_url,
        context: &r.context,
        auth_kind: r.auth_kind,
        ca_fingerprint: r.ca_fingerprint.as_deref(),
        client_cert_expires_at: r.client_cert_expires_at,
        insecure_skip_tls_verify: r.insecure_skip_tls_verify,
        sealed_kubeconfig: sealed,
        permissions,
        report,
    }
}

pub(super) fn status_event(kind: &str, env: &Environment, from: Option<&str>) -> ServerEvent {
    ServerEvent::new(
        kind,
        json!({
            "id": env.id,
            "name": env.name,
            "status": env.status,
            "from": from,
            "kubernetes_version": env.kubernetes_version,
            "node_count": env.node_count,
            "last_error": env.last_error,
        }),
    )
}
