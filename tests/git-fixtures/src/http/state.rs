//! What the HTTP server's connection tasks share with the test: auth settings, counters, the
//! request log and the fault plan. No I/O here.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio_util::sync::CancellationToken;

use super::pkt::UploadPackCommand;

/// Who may fetch from a [`crate::GitHttpServer`].
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// Everyone, without credentials.
    Anonymous,
    /// HTTP basic auth with exactly this user name and password (or token).
    Basic {
        /// The user name; passed to `git http-backend` as `REMOTE_USER`.
        username: String,
        /// The password or token.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl Auth {
    /// The `Authorization` header value that passes this check, if any is needed.
    pub(crate) fn header_value(&self) -> Option<String> {
        match self {
            Self::Anonymous => None,
            Self::Basic { username, password } => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{username}:{password}"))
            )),
        }
    }

    /// The user a request authenticates as: `Ok(None)` when anonymous access is allowed,
    /// `Err(())` when credentials are missing or wrong.
    pub(crate) fn check(&self, authorization: Option<&[u8]>) -> Result<Option<String>, ()> {
        match self {
            Self::Anonymous => Ok(None),
            Self::Basic { username, .. } => {
                let expected = self.header_value().unwrap_or_default();
                if authorization == Some(expected.as_bytes()) {
                    Ok(Some(username.clone()))
                } else {
                    Err(())
                }
            }
        }
    }
}

/// A failure the server injects instead of answering normally, for fault tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status (such as 500 or 503) and a short text body.
    Status(u16),
    /// Never answer: hold the request open until the client gives up or the server stops.
    Hang,
    /// Close the connection without answering (HTTP/2: reset the stream). Clients (curl among
    /// them) retry a request whose reused keep-alive connection closed, so only the first
    /// request of a session, or a persistent [`crate::GitHttpServer::fail_with`], is sure to
    /// fail.
    Close,
    /// Wait this long (at most [`super::HANG_LIMIT`]), then answer normally.
    Delay(Duration),
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FaultTarget {
    /// Every request.
    #[default]
    AnyRequest,
    /// `GET …/info/refs?service=git-upload-pack`.
    RefAdvertisement,
    /// Upload-pack POSTs carrying v2 `command=ls-refs`.
    LsRefs,
    /// Upload-pack POSTs asking for a pack (v2 `command=fetch`, v0/v1 `want`): listing refs
    /// still works, downloading fails.
    Fetch,
}

/// A snapshot of a server's counters; see [`crate::GitHttpServer::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Every HTTP request received, whatever happened to it.
    pub requests: u64,
    /// Requests answered 401 (git first asks without credentials, so expect one per session).
    pub unauthorized: u64,
    /// Requests that got an injected [`Fault`].
    pub faulted: u64,
    /// Authorized `GET …/info/refs?service=git-upload-pack`: the v0/v1 ref advertisement, or
    /// the v2 capability advertisement.
    pub ref_advertisements: u64,
    /// Those of the [`HttpStats::ref_advertisements`] answered with the full v0/v1 ref
    /// advertisement (the client did not ask for v2, or the server speaks v0/v1 only).
    pub v0_ref_advertisements: u64,
    /// Authorized `POST …/git-upload-pack` requests.
    pub upload_pack_posts: u64,
    /// Upload-pack POSTs carrying v2 `command=ls-refs`.
    pub ls_refs: u64,
    /// Upload-pack POSTs asking for a pack: v2 `command=fetch`, or v0/v1 `want` lines.
    pub fetches: u64,
    /// Response body bytes handed to the connection (headers not included).
    pub bytes_sent: u64,
}

/// One request as the server saw it, in arrival order; see [`crate::GitHttpServer::requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// `HTTP/1.1` or `HTTP/2.0` (git negotiates h2 over https unless the server is
    /// [`crate::GitHttpServerBuilder::http1_only`]).
    pub http_version: String,
    /// The path, such as `/app.git/info/refs`.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// The `Git-Protocol` header, such as `version=2`.
    pub git_protocol: Option<String>,
    /// The `Content-Encoding` of the request body, such as `gzip`.
    pub content_encoding: Option<String>,
    /// For upload-pack POSTs, what the body asked for.
    pub command: Option<UploadPackCommand>,
    /// For v2 `command=ls-refs`, its arguments as sent (`peel`, `symrefs`,
    /// `ref-prefix refs/heads/main`, …): which refs the client asked for.
    pub ls_refs_arguments: Vec<String>,
    /// The status answered; `None` while in flight or when the connection was closed instead.
    pub status: Option<u16>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) faulted: AtomicU64,
    pub(crate) ref_advertisements: AtomicU64,
    pub(crate) v0_ref_advertisements: AtomicU64,
    pub(crate) upload_pack_posts: AtomicU64,
    pub(crate) ls_refs: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> HttpStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HttpStats {
            requests: read(&self.requests),
            unauthorized: read(&self.unauthorized),
            faulted: read(&self.faulted),
            ref_advertisements: read(&self.ref_advertisements),
            v0_ref_advertisements: read(&self.v0_ref_advertisements),
            upload_pack_posts: read(&self.upload_pack_posts),
            ls_refs: read(&self.ls_refs),
            fetches: read(&self.fetches),
            bytes_sent: read(&self.bytes_sent),
        }
    }

    fn reset(&self) {
        for counter in [
            &self.requests,
            &self.unauthorized,
            &self.faulted,
            &self.ref_advertisements,
            &self.v0_ref_advertisements,
            &self.upload_pack_posts,
            &self.ls_refs,
            &self.fetches,
            &self.bytes_sent,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// The active fault, which requests get it, and how many more (`None`: all of them).
#[derive(Debug, Default)]
struct FaultPlan {
    fault: Option<Fault>,
    target: FaultTarget,
    remaining: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) auth: Auth,
    pub(crate) realm: String,
    pub(crate) project_root: PathBuf,
    /// Do not pass the client's `Git-Protocol` on: answer as a server without protocol v2.
    pub(crate) protocol_v0_only: bool,
    pub(crate) counters: Counters,
    pub(crate) shutdown: CancellationToken,
    faults: Mutex<FaultPlan>,
    /// The log, and how many requests were logged before it was last cleared.
    records: Mutex<(usize, Vec<RecordedRequest>)>,
    backend_log: Mutex<Vec<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(
        auth: Auth,
        realm: String,
        project_root: PathBuf,
        protocol_v0_only: bool,
    ) -> Self {
        Self {
            auth,
            realm,
            project_root,
            protocol_v0_only,
            counters: Counters::default(),
            shutdown: CancellationToken::new(),
            faults: Mutex::default(),
            records: Mutex::default(),
            backend_log: Mutex::default(),
        }
    }

    pub(crate) fn stats(&self) -> HttpStats {
        self.counters.snapshot()
    }

    pub(crate) fn reset(&self) {
        self.counters.reset();
        let mut records = lock(&self.records);
        records.0 += records.1.len();
        records.1.clear();
    }

    pub(crate) fn set_fault(&self, target: FaultTarget, fault: Option<Fault>, times: Option<u64>) {
        *lock(&self.faults) = FaultPlan {
            fault,
            target,
            remaining: times,
        };
    }

    /// Whether the active fault targets an upload-pack command, which is only known once the
    /// request body's first pkt-line has been read.
    pub(crate) fn fault_needs_command(&self) -> bool {
        let plan = lock(&self.faults);
        plan.fault.is_some() && matches!(plan.target, FaultTarget::LsRefs | FaultTarget::Fetch)
    }

    /// The fault for a request of kind `kind` (`None`: not one of the targets), if any, using up
    /// one of a limited plan.
    pub(crate) fn take_fault(&self, kind: Option<FaultTarget>) -> Option<Fault> {
        let mut plan = lock(&self.faults);
        let fault = plan.fault?;
        if plan.target != FaultTarget::AnyRequest && Some(plan.target) != kind {
            return None;
        }
        match plan.remaining {
            Some(0) => {
                *plan = FaultPlan::default();
                None
            }
            Some(n) => {
                plan.remaining = Some(n - 1);
                if n == 1 {
                    plan.fault = None;
                }
                Some(fault)
            }
            None => Some(fault),
        }
    }

    /// Logs a new request; the returned id updates it later.
    pub(crate) fn record(&self, request: RecordedRequest) -> usize {
        let mut records = lock(&self.records);
        records.1.push(request);
        records.0 + records.1.len() - 1
    }

    /// Updates a logged request, unless the log was cleared since.
    pub(crate) fn update(&self, id: usize, change: impl FnOnce(&mut RecordedRequest)) {
        let mut records = lock(&self.records);
        let Some(position) = id.checked_sub(records.0) else {
            return;
        };
        if let Some(record) = records.1.get_mut(position) {
            change(record);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.records).1.clone()
    }

    pub(crate) fn log_backend(&self, line: String) {
        lock(&self.backend_log).push(line);
    }

    pub(crate) fn backend_log(&self) -> Vec<String> {
        lock(&self.backend_log).clone()
    }
}
