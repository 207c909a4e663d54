//! Kube clients per environment, cached by (environment id, credential version) so connections are
//! reused between probes and deployments, and rebuilt when credentials are rotated.
//!
//! Builds clients only from kubeconfigs that passed `kubeconfig::reduce` (no file paths; exec only
//! when the operator allowed it).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use parking_lot::Mutex;
use uuid::Uuid;

use super::EnvError;

/// Connection timeouts of every cluster client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// Builds a client from a reduced, policy-checked kubeconfig.
pub async fn build(kc: Kubeconfig) -> Result<kube::Client, EnvError> {
    let mut config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| EnvError::Verify {
            code: "kubeconfig_invalid",
            field: "kubeconfig".into(),
            message: format!(
                "the kubeconfig cannot be used: {}",
                redact_kube_message(&e.to_string())
            ),
        })?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.write_timeout = Some(READ_TIMEOUT);
    // kube's own retry repeats 429/503/504 up to 15 times with backoff growing towards minutes;
    // the deployment queue retries transient failures itself (bounded, visible, per deployment).
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| EnvError::Verify {
        code: "kubeconfig_invalid",
        field: "kubeconfig".into(),
        message: format!(
            "no client can be built from the kubeconfig: {}",
            redact_kube_message(&e.to_string())
        ),
    })
}

/// kube's messages name files and fields, not values; still keep them short and single-line.
fn redact_kube_message(m: &str) -> String {
    m.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// The cache. Cloning shares it.
#[derive(Clone, Default)]
pub struct ClientCache {
    inner: Arc<Mutex<HashMap<Uuid, (i32, kube::Client)>>>,
}

impl ClientCache {
    /// The cached client for this credential version, or one built from `open()` (which opens the
    /// sealed kubeconfig) and cached.
    pub async fn get<F>(&self, id: Uuid, version: i32, open: F) -> Result<kube::Client, EnvError>
    where
        F: FnOnce() -> Result<Kubeconfig, EnvError>,
    {
        if let Some((v, c)) = self.inner.lock().get(&id)
            && *v == version
        {
            return Ok(c.clone());
        }
        let client = build(open()?).await?;
        let mut map = self.inner.lock();
        match map.get(&id) {
            // A newer version was cached meanwhile: keep it.
            Some((v, c)) if *v > version => Ok(c.clone()),
            _ => {
                map.insert(id, (version, client.clone()));
                Ok(client)
            }
        }
    }

    /// Drops the client of a deleted or rotated environment.
    pub fn forget(&self, id: Uuid) {
        self.inner.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
