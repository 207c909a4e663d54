//! Shared server state: store, resource table, identities, faults, request log and watch
//! fan-out. Owned by the server behind an `Arc`; handlers borrow it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::auth::{Perms, UserInfo};
use crate::faults::Faults;
use crate::resources::{self, ResourceDef};
use crate::store::Store;

/// Server options for [`crate::TestApiServer::start_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    pub port: u16,
    /// How long workloads take to report ready (Deployments, StatefulSets, DaemonSets, Jobs).
    pub status_delay: Duration,
    /// How long a new CustomResourceDefinition takes to become Established.
    pub crd_establish_delay: Duration,
    /// How long a deleted namespace stays Terminating before it and its objects go away.
    pub namespace_termination_delay: Duration,
    /// How many requests the log keeps (oldest dropped first).
    pub request_log_limit: usize,
    /// Offer only HTTP/1.1 in the TLS handshake and serve only HTTP/1.1, like an API server
    /// behind a proxy that does not speak HTTP/2.
    pub http1_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            status_delay: Duration::from_millis(200),
            crd_establish_delay: Duration::from_millis(100),
            namespace_termination_delay: Duration::from_millis(300),
            request_log_limit: 10_000,
            http1_only: false,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    /// The authenticated user name (`system:anonymous` without credentials, empty on 401).
    pub user: String,
    pub content_type: String,
    pub user_agent: String,
    /// The `fieldManager` query parameter, if any.
    pub field_manager: Option<String>,
    /// The HTTP status answered (0 when the connection was dropped).
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub http_version: String,
}

/// A change to one object, for watches.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub table: String,
    pub namespace: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub object: Arc<Value>,
}

/// A bearer token's owner.
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user: UserInfo,
    pub expired: bool,
}

pub struct State {
    pub store: RwLock<Store>,
    pub defs: RwLock<Vec<ResourceDef>>,
    pub tokens: RwLock<HashMap<String, TokenUser>>,
    pub cert_users: RwLock<HashMap<String, Perms>>,
    pub faults: Faults,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub options: Options,
    pub watch: broadcast::Sender<WatchEvent>,
    /// TLS connections accepted (handshake completed) since the start.
    pub connections: AtomicU64,
}

impl State {
    #[must_use]
    pub fn new(options: Options) -> State {
        let (watch, _) = broadcast::channel(4096);
        State {
            store: RwLock::new(Store::default()),
            defs: RwLock::new(resources::builtins()),
            tokens: RwLock::new(HashMap::new()),
            cert_users: RwLock::new(HashMap::new()),
            faults: Faults::default(),
            log: Mutex::new(Vec::new()),
            options,
            watch,
            connections: AtomicU64::new(0),
        }
    }

    /// The resource served at `group/version/plural`.
    #[must_use]
    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<ResourceDef> {
        self.defs
            .read()
            .iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
            .cloned()
    }

    /// The resource for `apiVersion` + `kind`.
    #[must_use]
    pub fn resolve_kind(&self, api_version: &str, kind: &str) -> Option<ResourceDef> {
        let (group, version) = resources::split_api_version(api_version);
        self.defs
            .read()
            .iter()
            .find(|d| d.group == group && d.version == version && d.kind == kind)
            .cloned()
    }

    pub fn record(&self, req: RecordedRequest) {
        let mut log = self.log.lock();
        if log.len() >= self.options.request_log_limit.max(1) {
            let excess = log.len() + 1 - self.options.request_log_limit.max(1);
            log.drain(..excess);
        }
        log.push(req);
    }

    pub fn notify(&self, table: &str, namespace: &str, kind: &'static str, object: Arc<Value>) {
        let _ = self.watch.send(WatchEvent {
            table: table.to_owned(),
            namespace: namespace.to_owned(),
            kind,
            object,
        });
    }
}
