//! Kube clients per environment, cached by (environment id, credential version) so connections are
//! reused between probes and deployments, and rebuilt when credentials are rotated.
//!
//! Builds clients only from kubeconfigs that passed `kubeconfig::reduce` (no file paths; exec only
//! when the operator allowed it).
//!
//! The HTTP stack is kube's own (base URI, credentials, impersonation headers, connect/read/write
//! timeouts, the kubeconfig's TLS settings), with one difference: the TLS handshake offers HTTP/2
//! as well as HTTP/1.1. kube-client offers only HTTP/1.1, so a deployment that applies eight objects
//! at once opens eight TLS connections to the cluster, and a rollout to a thousand clusters keeps
//! thousands of them (each with its TLS and HTTP buffers) until they idle out. API servers speak
//! HTTP/2, so every request to a cluster shares one connection; a server that only speaks HTTP/1.1
//! still works as before. We never upgrade connections (no exec, attach or port-forward), which is
//! what keeps kube on HTTP/1.1.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::ConfigExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use parking_lot::Mutex;
use tower::{BoxError, ServiceBuilder};
use uuid::Uuid;

use super::EnvError;

/// Connection timeouts of every cluster client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);
/// How long an unused connection to a cluster is kept for the next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/1.1 only: at most this many unused connections are kept per cluster.
const MAX_IDLE_PER_CLUSTER: usize = 2;

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
    client(&config).map_err(|e| EnvError::Verify {
        code: "kubeconfig_invalid",
        field: "kubeconfig".into(),
        message: format!(
            "no client can be built from the kubeconfig: {}",
            redact_kube_message(&e.to_string())
        ),
    })
}

/// kube's client stack (`ClientBuilder::try_from(Config)` without a proxy, which `reduce` refuses),
/// over a connector that offers HTTP/2. No retry layer: kube's own repeats 429/503/504 up to 15 times
/// with backoff growing towards minutes, and the deployment queue retries transient failures itself
/// (bounded, visible, per deployment).
fn client(config: &kube::Config) -> Result<kube::Client, BoxError> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let mut tls_config = config.rustls_client_config()?;
    // Each client talks to one server: a session cache for one name, not rustls' default of 256
    // (whose table is allocated up front, for each of thousands of clients).
    tls_config.resumption = rustls::client::Resumption::in_memory_sessions(1);
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config)
        .https_or_http();
    let tls = match &config.tls_server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| format!("tls-server-name {name:?} is not a valid server name: {e}"))?;
            tls.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => tls,
    };
    let mut connector = TimeoutConnector::new(tls.enable_all_versions().wrap_connector(tcp));
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE_PER_CLUSTER)
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
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
