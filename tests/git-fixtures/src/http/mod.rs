//! `GitHttpServer`: fixture repositories over smart HTTP(S), answered by `git http-backend` run as
//! a CGI per request, behind basic auth, counters and fault injection. The server runs on its own
//! thread and tokio runtime, so blocking git clients in the test cannot starve it.

mod cgi;
mod pkt;
mod serve;
mod state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use test_ca::{ClientAuth, TestCa};
use tokio_rustls::TlsAcceptor;

use crate::GitRepo;
use crate::root::ServeRoot;

pub use pkt::UploadPackCommand;
use state::Shared;
pub use state::{Auth, Fault, FaultTarget, HttpStats, RecordedRequest};

/// The longest an injected [`Fault::Hang`] or [`Fault::Delay`] lasts, so no fault outlives a test.
pub const HANG_LIMIT: Duration = Duration::from_secs(300);

type Body = BoxBody<Bytes, std::io::Error>;

fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}

/// A smart-HTTP git server on 127.0.0.1 (port chosen by the OS) backed by `git http-backend`.
///
/// Start one with [`GitHttpServer::http`] or [`GitHttpServer::https`], then
/// [`GitHttpServerBuilder::serve`]. Protocol v2 works (the `Git-Protocol` header is passed on,
/// unless [`GitHttpServerBuilder::protocol_v0_only`]),
/// and gzipped request bodies too. Stopped, with its in-flight backends, when dropped.
#[derive(Debug)]
pub struct GitHttpServer {
    addr: SocketAddr,
    tls: Option<Tls>,
    root: ServeRoot,
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

/// The CA an https server's certificate chains to, in memory and as a file for `GIT_SSL_CAINFO`.
#[derive(Debug)]
struct Tls {
    ca_pem: String,
    ca_file: PathBuf,
}

/// Settings for a [`GitHttpServer`] before it starts.
#[derive(Debug)]
#[must_use]
pub struct GitHttpServerBuilder {
    auth: Auth,
    realm: String,
    tls: Option<TlsSetup>,
    http1_only: bool,
    protocol_v0_only: bool,
}

#[derive(Clone)]
struct TlsSetup {
    config: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup").finish_non_exhaustive()
    }
}

impl TlsSetup {
    fn signed_by(ca: &TestCa) -> Self {
        let cert = ca.server_cert(&["127.0.0.1", "localhost"]);
        Self {
            config: ca.server_config(&cert, ClientAuth::None),
            ca_pem: ca.cert_pem().to_owned(),
        }
    }
}

impl GitHttpServer {
    /// A plain `http://` server, anonymous unless [`GitHttpServerBuilder::basic_auth`] is set.
    pub fn http() -> GitHttpServerBuilder {
        GitHttpServerBuilder {
            auth: Auth::Anonymous,
            realm: "berth-git-fixtures".to_owned(),
            tls: None,
            http1_only: false,
            protocol_v0_only: false,
        }
    }

    /// An `https://` server with a certificate for `127.0.0.1` and `localhost` from a fresh
    /// test CA; see [`GitHttpServer::ca_pem`] and [`GitHttpServer::ca_file`].
    pub fn https() -> GitHttpServerBuilder {
        Self::https_signed_by(&TestCa::new("berth git fixtures CA"))
    }

    /// Like [`GitHttpServer::https`], with a certificate from `ca`, for tests that trust one CA
    /// for everything.
    pub fn https_signed_by(ca: &TestCa) -> GitHttpServerBuilder {
        GitHttpServerBuilder {
            tls: Some(TlsSetup::signed_by(ca)),
            ..Self::http()
        }
    }

    /// The URL of a served repository, such as `https://127.0.0.1:PORT/app.git`.
    #[must_use]
    pub fn url(&self, repo: &GitRepo) -> String {
        self.url_for(repo.name())
    }

    /// The URL a repository called `name` would have, served or not.
    #[must_use]
    pub fn url_for(&self, name: &str) -> String {
        format!("{}/{name}.git", self.base_url())
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The URL of a served repository with the server's basic-auth credentials in it
    /// (percent-encoded); the plain URL for an anonymous server.
    #[must_use]
    pub fn url_with_credentials(&self, repo: &GitRepo) -> String {
        let url = self.url(repo);
        match &self.shared.auth {
            Auth::Anonymous => url,
            Auth::Basic { username, password } => {
                let (scheme, rest) = url.split_once("://").expect("the URL has a scheme");
                format!(
                    "{scheme}://{}:{}@{rest}",
                    encode(username),
                    encode(password)
                )
            }
        }
    }

    /// The `Authorization: Basic …` header line that passes auth (for `http.extraHeader`);
    /// `None` for an anonymous server.
    #[must_use]
    pub fn authorization_header(&self) -> Option<String> {
        self.shared
            .auth
            .header_value()
            .map(|value| format!("Authorization: {value}"))
    }

    /// The auth the server demands.
    #[must_use]
    pub fn auth(&self) -> &Auth {
        &self.shared.auth
    }

    /// The address the server listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA that signed the https certificate; `None` for plain http.
    #[must_use]
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.ca_pem.as_str())
    }

    /// A file holding [`GitHttpServer::ca_pem`], for `GIT_SSL_CAINFO`; `None` for plain http.
    #[must_use]
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|tls| tls.ca_file.as_path())
    }

    /// Serves one more repository.
    pub fn add(&self, repo: &GitRepo) {
        self.root.add(repo);
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> HttpStats {
        self.shared.stats()
    }

    /// Every request so far (since the last reset), in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Zeroes the counters and clears the request log.
    pub fn reset_stats(&self) {
        self.shared.reset();
    }

    /// What `git http-backend` wrote to stderr, for debugging failed tests.
    #[must_use]
    pub fn backend_log(&self) -> Vec<String> {
        self.shared.backend_log()
    }

    /// Answers every request from now on with `fault`, until [`GitHttpServer::heal`].
    pub fn fail_with(&self, fault: Fault) {
        self.fail_matching(FaultTarget::AnyRequest, fault);
    }

    /// Answers the next `requests` requests with `fault`, then serves normally again.
    pub fn fail_next(&self, requests: u64, fault: Fault) {
        self.fail_next_matching(FaultTarget::AnyRequest, requests, fault);
    }

    /// Answers every request of kind `target` with `fault`, until [`GitHttpServer::heal`].
    pub fn fail_matching(&self, target: FaultTarget, fault: Fault) {
        self.shared.set_fault(target, Some(fault), None);
    }

    /// Answers the next `requests` requests of kind `target` with `fault`.
    pub fn fail_next_matching(&self, target: FaultTarget, requests: u64, fault: Fault) {
        self.shared.set_fault(target, Some(fault), Some(requests));
    }

    /// Stops injecting faults (a new `fail_*` call also replaces the previous one).
    pub fn heal(&self) {
        self.shared.set_fault(FaultTarget::AnyRequest, None, None);
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl GitHttpServerBuilder {
    /// Demands HTTP basic auth with this user name and password (or token); other requests get
    /// 401 with `WWW-Authenticate: Basic realm="…"`.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.auth = Auth::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        self
    }

    /// The realm named in `WWW-Authenticate` (default `berth-git-fixtures`).
    pub fn realm(mut self, realm: &str) -> Self {
        realm.clone_into(&mut self.realm);
        self
    }

    /// Speaks HTTP/1.1 only: no h2 in TLS ALPN, no h2c. By default both are offered, and git
    /// (curl) picks h2 over https.
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// Speaks protocol v0/v1 only, as git servers before 2.18 (or with v2 disabled) do: the
    /// client's `Git-Protocol` header is not passed on, so every ref advertisement is the full v0
    /// one and there are no `ls-refs` (see [`HttpStats::v0_ref_advertisements`]).
    pub fn protocol_v0_only(mut self) -> Self {
        self.protocol_v0_only = true;
        self
    }

    /// Starts serving `repos` (more can be added later) and returns once the port is bound.
    ///
    /// # Panics
    /// If no local port can be bound or the server thread cannot start.
    #[track_caller]
    pub fn serve(self, repos: &[&GitRepo]) -> GitHttpServer {
        let root = ServeRoot::new(repos);
        let http1_only = self.http1_only;
        let tls = self.tls.map(|mut setup| {
            if http1_only {
                let mut config = (*setup.config).clone();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                setup.config = Arc::new(config);
            }
            let ca_file = root.private().join("ca.pem");
            std::fs::write(&ca_file, &setup.ca_pem).expect("write the CA file");
            (
                TlsAcceptor::from(setup.config),
                Tls {
                    ca_pem: setup.ca_pem,
                    ca_file,
                },
            )
        });
        let (acceptor, tls) = tls.unzip();
        let shared = Arc::new(Shared::new(
            self.auth,
            self.realm,
            root.repos(),
            self.protocol_v0_only,
        ));

        // Bound here, before the thread starts: the port accepts connections from now on.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let addr = listener.local_addr().expect("the listener has an address");

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build the git http server's runtime");
        let serving = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("git-http-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(serve::accept_loop(listener, acceptor, http1_only, serving));
                // Drops connection tasks, whose backends are killed on drop.
                runtime.shutdown_timeout(Duration::from_secs(5));
            })
            .expect("start the git http server thread");

        GitHttpServer {
            addr,
            tls,
            root,
            shared,
            thread: Some(thread),
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
