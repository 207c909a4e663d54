//! Probe rounds: claim due environments in PostgreSQL (so replicas share the work), probe them
//! with bounded concurrency, record the results, and audit and publish status changes.

use std::time::Instant;

use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::probe::{self, Failure, Plan, Report};
use super::service::{RoundStats, status_event};
use super::{AccessLevel, EnvError, Environment, Environments, Status, store};
use crate::audit::{self, Actor, NewAuditEvent};
use crate::events::EventBus;

impl Environments {
    /// Probes one environment now (operators' "check now") and records the result.
    pub async fn probe_now(&self, id: Uuid) -> Result<Environment, EnvError> {
        let env = store::get(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)?;
        let (sealed, version) = store::sealed(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)?;
        let target = store::ProbeTarget {
            environment_id: id,
            name: env.name,
            default_namespace: env.default_namespace,
            credential_version: version,
            sealed_kubeconfig: sealed,
            permissions: sqlx::types::Json(env.permissions),
            status: env.status.as_str().to_owned(),
            client_cert_expires_at: env.client_certificate_expires_at,
        };
        self.probe_one(target).await?;
        store::get(&self.inner.pool, id)
            .await?
            .ok_or(EnvError::NotFound)
    }

    /// Claims and probes every due environment (in batches, bounded concurrency), until none is
    /// due. Safe to run on every replica at once.
    pub async fn probe_round(&self) -> Result<RoundStats, EnvError> {
        let settings = self.inner.probes;
        let batch = i64::try_from(settings.concurrency.saturating_mul(4)).unwrap_or(i64::MAX);
        let mut stats = RoundStats::default();
        loop {
            let due = store::claim_due(&self.inner.pool, batch, settings.interval).await?;
            if due.is_empty() {
                return Ok(stats);
            }
            stats.probed += due.len();
            let changed: Vec<bool> = futures::stream::iter(due)
                .map(|t| async move {
                    let name = t.name.clone();
                    self.probe_one(t).await.unwrap_or_else(|e| {
                        tracing::warn!(environment = %name, error = %e, "recording a probe failed");
                        false
                    })
                })
                .buffer_unordered(settings.concurrency.max(1))
                .collect()
                .await;
            stats.changed += changed.into_iter().filter(|c| *c).count();
        }
    }

    /// Probes and records; returns whether the status changed.
    async fn probe_one(&self, t: store::ProbeTarget) -> Result<bool, EnvError> {
        let started = Instant::now();
        let report = match self
            .client_for(t.environment_id, t.credential_version, &t.sealed_kubeconfig)
            .await
        {
            Ok(client) => {
                let perms = &t.permissions.0;
                let plan = Plan {
                    namespace: t.default_namespace.clone(),
                    check_permissions: perms.level == AccessLevel::Unknown,
                    can_list_nodes: perms.can_list_nodes,
                };
                probe::probe(&client, &plan).await
            }
            Err(e) => Report {
                status: Status::Down,
                kubernetes_version: None,
                node_count: None,
                latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
                failure: Some(Failure::Unreachable),
                error: Some(e.to_string()),
                permissions: None,
                seen: false,
            },
        };
        let mut report = report;
        if let Some(expired) = t.client_cert_expires_at.filter(|t| *t < chrono::Utc::now())
            && report.status != Status::Up
        {
            // The server refuses an expired client certificate during the handshake.
            report.status = Status::Unauthorized;
            report.error = Some(format!(
                "the client certificate expired at {expired}; rotate the credentials"
            ));
        }
        metrics::counter!("berth_environment_probes_total", "status" => report.status.as_str())
            .increment(1);
        metrics::histogram!("berth_environment_probe_seconds")
            .record(started.elapsed().as_secs_f64());
        let mut tx = self.inner.pool.begin().await?;
        let Some(old) =
            store::record_probe(&mut *tx, t.environment_id, t.credential_version, &report).await?
        else {
            // Deleted or rotated meanwhile: this probe is stale.
            return Ok(false);
        };
        let changed = old != report.status.as_str();
        if changed {
            let actor = Actor::system();
            let event = NewAuditEvent::new(
                &actor,
                "environment.status",
                format!("environment:{}", t.name),
            )
            .details(json!({
                "environment_id": t.environment_id,
                "from": old,
                "to": report.status,
                "error": report.error,
            }));
            audit::store::insert(&mut *tx, &event).await?;
            if let Some(env) = store::get(&mut *tx, t.environment_id).await? {
                EventBus::publish(
                    &mut *tx,
                    &status_event("environment.status", &env, Some(&old)),
                )
                .await?;
            }
            tracing::info!(environment = %t.name, from = %old, to = %report.status, "environment status changed");
        }
        tx.commit().await?;
        Ok(changed)
    }
}
