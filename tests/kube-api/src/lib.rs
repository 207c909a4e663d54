//! A kube-apiserver stand-in for Berth's tests: HTTPS on 127.0.0.1 with a generated CA,
//! bearer-token and client-certificate authentication, cluster-admin / edit / view
//! identities, discovery (legacy and aggregated), an in-memory object store with server-side
//! apply and managedFields, workload status simulation, fault injection and request
//! inspection.
//!
//! ```no_run
//! # async fn demo() {
//! use kube_test_api::{Identity, TestApiServer};
//! let server = TestApiServer::start().await;
//! let kubeconfig = server.kubeconfig(&Identity::Admin);
//! // … point a client at it, then inspect:
//! assert!(server.object("v1", "Namespace", None, "default").is_some());
//! # }
//! ```
//!
//! It behaves like a real v1.33 server wherever tests can observe it (Status bodies,
//! messages, resourceVersion and generation rules, apply conflicts), so end-to-end tests pass
//! unchanged against a real cluster. It must never be used outside tests.

mod auth;
mod defaults;
mod discovery;
mod faults;
pub mod fields;
mod http;
mod kubeconfig;
mod net;
mod objects;
mod patch;
mod pods;
mod proto;
mod resources;
mod reviews;
pub mod selector;
mod sim;
mod state;
mod status;
mod store;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng as _;
use serde_json::Value;
use test_ca::{ClientAuth, Issued, TestCa};

pub use crate::auth::{Perms, UserInfo};
pub use crate::faults::Faults;
pub use crate::sim::{FAIL, NEVER_READY, NODES};
pub use crate::state::{Options, RecordedRequest};

use crate::kubeconfig::{ContextSpec, Credential, Trust};
use crate::state::{State, TokenUser};

/// Who a kubeconfig authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// Bearer token, user `admin`, group `system:masters` (cluster-admin).
    Admin,
    /// Client certificate `CN=admin-cert, O=system:masters` (cluster-admin).
    AdminCert,
    /// Bearer token with the `edit` role in each listed namespace (user `edit-<ns>-…`).
    Edit(Vec<String>),
    /// Bearer token, user `viewer`: read-only everywhere except secrets.
    View,
}

/// Deliberately broken kubeconfigs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKubeconfig {
    /// `insecure-skip-tls-verify: true` and no CA (the admin token works if the client allows it).
    InsecureSkipTlsVerify,
    /// A CA that did not sign the serving certificate: TLS verification fails.
    WrongCa,
    /// A token the server knows as expired: `401 Unauthorized`.
    ExpiredToken,
    /// A token the server never issued: `401 Unauthorized`.
    UnknownToken,
    /// Three contexts (`admin`, `edit` in `default`, `view`) with `current-context: admin`.
    MultiContext,
}

/// Paths written by [`TestApiServer::write_kubeconfigs`].
#[derive(Debug, Clone)]
pub struct KubeconfigFiles {
    pub admin: PathBuf,
    pub admin_cert: PathBuf,
    /// Edit in namespace `default`.
    pub edit: PathBuf,
    pub view: PathBuf,
    pub insecure: PathBuf,
    pub wrong_ca: PathBuf,
    pub expired_token: PathBuf,
    pub unknown_token: PathBuf,
    pub multi_context: PathBuf,
}

/// A running test API server. Dropping it stops the listener.
pub struct TestApiServer {
    state: Arc<State>,
    listener: net::Listener,
    ca: TestCa,
    admin_cert: Issued,
    wrong_ca_pem: String,
    admin_token: String,
    expired_token: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TestApiServer {
    /// Starts a server with default [`Options`] on a free port.
    ///
    /// # Panics
    /// When no port can be bound (a broken test environment).
    pub async fn start() -> TestApiServer {
        Self::start_with(Options::default()).await
    }

    /// Starts a server with `options`.
    ///
    /// # Panics
    /// When the port cannot be bound.
    pub async fn start_with(options: Options) -> TestApiServer {
        Self::try_start_with(options)
            .await
            .expect("start the kube test API server")
    }

    /// Starts a server, reporting bind failures.
    ///
    /// # Errors
    /// When the port cannot be bound.
    #[allow(clippy::unused_async)]
    pub async fn try_start_with(options: Options) -> std::io::Result<TestApiServer> {
        let ca = TestCa::new("kube-test-api-ca");
        let serving = ca.server_cert(&["127.0.0.1", "localhost", "kubernetes.default.svc"]);
        let mut tls = ca.server_config(&serving, ClientAuth::Optional);
        if options.http1_only {
            let mut only = (*tls).clone();
            only.alpn_protocols = vec![b"http/1.1".to_vec()];
            tls = Arc::new(only);
        }
        let admin_cert = ca.client_cert("admin-cert", &["system:masters"], None);
        let wrong_ca_pem = TestCa::new("kube-test-api-wrong-ca").cert_pem().to_owned();
        let port = options.port;
        let state = Arc::new(State::new(options));
        sim::seed(&mut state.store.write());
        let admin_token = random_token();
        let expired_token = random_token();
        {
            let mut tokens = state.tokens.write();
            tokens.insert(
                admin_token.clone(),
                TokenUser {
                    user: UserInfo {
                        name: "admin".to_owned(),
                        groups: vec![
                            "system:masters".to_owned(),
                            "system:authenticated".to_owned(),
                        ],
                        perms: Perms::ClusterAdmin,
                    },
                    expired: false,
                },
            );
            tokens.insert(
                expired_token.clone(),
                TokenUser {
                    user: UserInfo {
                        name: "expired".to_owned(),
                        groups: vec![],
                        perms: Perms::ClusterAdmin,
                    },
                    expired: true,
                },
            );
        }
        state
            .cert_users
            .write()
            .insert("admin-cert".to_owned(), Perms::ClusterAdmin);
        let listener = net::Listener::start(&state, port, tls)?;
        Ok(TestApiServer {
            state,
            listener,
            ca,
            admin_cert,
            wrong_ca_pem,
            admin_token,
            expired_token,
        })
    }

    /// `https://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://{}", self.listener.addr())
    }

    /// The port (stays the same across [`go_down`](Self::go_down) / [`come_back`](Self::come_back)).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener.addr().port()
    }

    /// The CA certificate (PEM) that signed the serving certificate.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// The CA itself, to issue more client certificates in tests.
    #[must_use]
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// The bearer token of a token identity (`None` for [`Identity::AdminCert`]).
    #[must_use]
    pub fn token(&self, identity: &Identity) -> Option<String> {
        match identity {
            Identity::Admin => Some(self.admin_token.clone()),
            Identity::AdminCert => None,
            Identity::View => Some(self.register("viewer", Perms::View)),
            Identity::Edit(namespaces) => {
                let name = format!("edit-{}", namespaces.join("-"));
                Some(self.register(&name, Perms::Edit(namespaces.clone())))
            }
        }
    }

    /// Registers a token user once, with a stable token per user name.
    fn register(&self, user: &str, perms: Perms) -> String {
        let mut tokens = self.state.tokens.write();
        if let Some((t, _)) = tokens
            .iter()
            .find(|(_, u)| u.user.name == user && !u.expired)
        {
            return t.clone();
        }
        let token = random_token();
        tokens.insert(
            token.clone(),
            TokenUser {
                user: UserInfo {
                    name: user.to_owned(),
                    groups: vec!["system:authenticated".to_owned()],
                    perms,
                },
                expired: false,
            },
        );
        token
    }

    /// Registers an extra bearer token for `user` with `perms`, returning it.
    pub fn add_token_user(&self, user: &str, perms: Perms) -> String {
        self.register(user, perms)
    }

    /// A kubeconfig for `identity`, with the CA and credentials embedded. For
    /// [`Identity::Edit`] the context namespace is the first listed namespace.
    #[must_use]
    pub fn kubeconfig(&self, identity: &Identity) -> String {
        let url = self.url();
        let trust = Trust::Ca(self.ca.cert_pem());
        let name = context_name(identity);
        match identity {
            Identity::AdminCert => kubeconfig::render(
                &url,
                &trust,
                &[ContextSpec {
                    name: &name,
                    credential: Credential::Cert {
                        cert_pem: &self.admin_cert.cert_pem,
                        key_pem: &self.admin_cert.key_pem,
                    },
                    namespace: None,
                }],
            ),
            _ => {
                let token = self.token(identity).unwrap_or_default();
                let namespace = match identity {
                    Identity::Edit(ns) => ns.first().map(String::as_str),
                    _ => None,
                };
                kubeconfig::render(
                    &url,
                    &trust,
                    &[ContextSpec {
                        name: &name,
                        credential: Credential::Token(&token),
                        namespace,
                    }],
                )
            }
        }
    }

    /// A deliberately broken kubeconfig.
    #[must_use]
    pub fn bad_kubeconfig(&self, bad: BadKubeconfig) -> String {
        let url = self.url();
        let ca = Trust::Ca(self.ca.cert_pem());
        let single = |trust: &Trust<'_>, token: &str| {
            kubeconfig::render(
                &url,
                trust,
                &[ContextSpec {
                    name: "kube-test-api",
                    credential: Credential::Token(token),
                    namespace: None,
                }],
            )
        };
        match bad {
            BadKubeconfig::InsecureSkipTlsVerify => single(&Trust::Insecure, &self.admin_token),
            BadKubeconfig::WrongCa => single(&Trust::Ca(&self.wrong_ca_pem), &self.admin_token),
            BadKubeconfig::ExpiredToken => single(&ca, &self.expired_token),
            BadKubeconfig::UnknownToken => single(&ca, &random_token()),
            BadKubeconfig::MultiContext => {
                let edit = self
                    .token(&Identity::Edit(vec!["default".to_owned()]))
                    .unwrap_or_default();
                let view = self.token(&Identity::View).unwrap_or_default();
                kubeconfig::render(
                    &url,
                    &ca,
                    &[
                        ContextSpec {
                            name: "admin",
                            credential: Credential::Token(&self.admin_token),
                            namespace: None,
                        },
                        ContextSpec {
                            name: "edit",
                            credential: Credential::Token(&edit),
                            namespace: Some("default"),
                        },
                        ContextSpec {
                            name: "view",
                            credential: Credential::Token(&view),
                            namespace: None,
                        },
                    ],
                )
            }
        }
    }

    /// Writes every kubeconfig into `dir` (`admin.yaml`, `admin-cert.yaml`, `edit.yaml` for
    /// namespace `default`, `view.yaml`, and the bad variants).
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_kubeconfigs(&self, dir: &Path) -> std::io::Result<KubeconfigFiles> {
        std::fs::create_dir_all(dir)?;
        let write = |name: &str, text: String| -> std::io::Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, text)?;
            Ok(path)
        };
        Ok(KubeconfigFiles {
            admin: write("admin.yaml", self.kubeconfig(&Identity::Admin))?,
            admin_cert: write("admin-cert.yaml", self.kubeconfig(&Identity::AdminCert))?,
            edit: write(
                "edit.yaml",
                self.kubeconfig(&Identity::Edit(vec!["default".to_owned()])),
            )?,
            view: write("view.yaml", self.kubeconfig(&Identity::View))?,
            insecure: write(
                "insecure-skip-tls-verify.yaml",
                self.bad_kubeconfig(BadKubeconfig::InsecureSkipTlsVerify),
            )?,
            wrong_ca: write("wrong-ca.yaml", self.bad_kubeconfig(BadKubeconfig::WrongCa))?,
            expired_token: write(
                "expired-token.yaml",
                self.bad_kubeconfig(BadKubeconfig::ExpiredToken),
            )?,
            unknown_token: write(
                "unknown-token.yaml",
                self.bad_kubeconfig(BadKubeconfig::UnknownToken),
            )?,
            multi_context: write(
                "multi-context.yaml",
                self.bad_kubeconfig(BadKubeconfig::MultiContext),
            )?,
        })
    }

    /// An HTTP client that trusts this server's CA and authenticates as `identity` (bearer
    /// token header, or the client certificate for [`Identity::AdminCert`]).
    ///
    /// # Panics
    /// When the client cannot be built (a broken TLS setup).
    #[must_use]
    pub fn client(&self, identity: &Identity) -> reqwest::Client {
        let ca =
            reqwest::Certificate::from_pem(self.ca.cert_pem().as_bytes()).expect("parse the CA");
        let mut builder = reqwest::Client::builder().tls_certs_only([ca]);
        match self.token(identity) {
            Some(token) => {
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    format!("Bearer {token}").parse().expect("valid header"),
                );
                builder = builder.default_headers(headers);
            }
            None => {
                let pem = format!("{}{}", self.admin_cert.cert_pem, self.admin_cert.key_pem);
                builder = builder.identity(
                    reqwest::Identity::from_pem(pem.as_bytes()).expect("parse the client identity"),
                );
            }
        }
        builder.build().expect("build the HTTP client")
    }

    /// An HTTP client that trusts this server's CA and sends no credentials.
    ///
    /// # Panics
    /// When the client cannot be built.
    #[must_use]
    pub fn anonymous_client(&self) -> reqwest::Client {
        let ca =
            reqwest::Certificate::from_pem(self.ca.cert_pem().as_bytes()).expect("parse the CA");
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .expect("build the HTTP client")
    }

    /// The fault switches.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// TLS connections accepted since the start (a client that shares one HTTP/2 connection opens
    /// one; an HTTP/1.1 client one per request in flight).
    #[must_use]
    pub fn connections(&self) -> u64 {
        self.state
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every request received since start or the last [`clear_requests`](Self::clear_requests).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.lock().clone()
    }

    pub fn clear_requests(&self) {
        self.state.log.lock().clear();
    }

    /// A stored object by `apiVersion`, `kind`, namespace (`None` for cluster-scoped) and name.
    #[must_use]
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let def = self.state.resolve_kind(api_version, kind)?;
        let obj =
            self.state
                .store
                .read()
                .get(&def.storage_key(), namespace.unwrap_or_default(), name)?;
        Some((*obj).clone())
    }

    /// Every stored object, sorted by apiVersion, kind, namespace, name.
    #[must_use]
    pub fn objects(&self) -> Vec<Value> {
        let all = self.state.store.read().all();
        let mut sorted: BTreeMap<(String, String, String, String), Value> = BTreeMap::new();
        for o in all {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            sorted.insert(
                (
                    s(&o["apiVersion"]),
                    s(&o["kind"]),
                    s(&o["metadata"]["namespace"]),
                    s(&o["metadata"]["name"]),
                ),
                (*o).clone(),
            );
        }
        sorted.into_values().collect()
    }

    /// Stops accepting connections and closes every open one; the port stays reserved for
    /// [`come_back`](Self::come_back) only in the sense that nothing else is told about it.
    pub async fn go_down(&self) {
        self.listener.go_down().await;
    }

    /// Listens again on the same port.
    ///
    /// # Panics
    /// When another process took the port meanwhile.
    pub async fn come_back(&self) {
        self.listener
            .come_back(&self.state)
            .await
            .expect("listen again on the same port");
    }

    /// Whether the server is accepting connections.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.listener.is_up()
    }

    /// Stops the server (also done on drop).
    pub fn shutdown(self) {
        self.listener.stop_now();
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        self.listener.stop_now();
    }
}

fn context_name(identity: &Identity) -> String {
    match identity {
        Identity::Admin => "admin".to_owned(),
        Identity::AdminCert => "admin-cert".to_owned(),
        Identity::View => "view".to_owned(),
        Identity::Edit(ns) => format!("edit-{}", ns.join("-")),
    }
}

#[cfg(test)]
mod tests {
    use super::TestApiServer;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_server_handle_can_be_shared_between_tasks() {
        assert_send_sync::<TestApiServer>();
    }
}
