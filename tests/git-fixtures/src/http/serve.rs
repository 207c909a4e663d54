//! The HTTP(S) side of [`crate::GitHttpServer`]: accepting connections, TLS, and deciding per
//! request between an injected fault, a 401 and `git http-backend`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::cgi::{self, CgiRequest};
use super::pkt::UploadPackCommand;
use super::state::{Fault, FaultTarget, RecordedRequest, Shared, bump};
use super::{Body, HANG_LIMIT};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves connections until the server's shutdown token is cancelled.
pub(crate) async fn accept_loop(
    listener: std::net::TcpListener,
    tls: Option<TlsAcceptor>,
    http1_only: bool,
    shared: Arc<Shared>,
) {
    let listener = TcpListener::from_std(listener).expect("register the listener with tokio");
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        // Accept errors (such as running out of file descriptors) are transient: keep serving.
        if let Ok((stream, remote)) = accepted {
            tokio::spawn(serve_connection(
                stream,
                remote,
                tls.clone(),
                http1_only,
                Arc::clone(&shared),
            ));
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    tls: Option<TlsAcceptor>,
    http1_only: bool,
    shared: Arc<Shared>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_io(stream, remote, http1_only, shared).await,
        Some(acceptor) => {
            if let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            {
                serve_io(stream, remote, http1_only, shared).await;
            }
        }
    }
}

async fn serve_io<I>(io: I, remote: SocketAddr, http1_only: bool, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shutdown = shared.shutdown.clone();
    let service = service_fn(move |req| handle(req, remote, Arc::clone(&shared)));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if http1_only {
        builder = builder.http1_only();
    }
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = connection => {}
        () = shutdown.cancelled() => {}
    }
}

/// One request: fault, then auth, then the backend. An `Err` makes hyper drop the connection.
async fn handle(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: Arc<Shared>,
) -> io::Result<Response<Body>> {
    bump(&shared.counters.requests, 1);
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let id = shared.record(RecordedRequest {
        method: req.method().to_string(),
        http_version: format!("{:?}", req.version()),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        user: None,
        git_protocol: header("git-protocol").map(str::to_owned),
        content_encoding: header("content-encoding").map(str::to_owned),
        command: None,
        ls_refs_arguments: Vec::new(),
        status: None,
    });

    let path = req.uri().path();
    let ref_advertisement = req.method() == Method::GET
        && path.ends_with("/info/refs")
        && req.uri().query() == Some("service=git-upload-pack");
    let upload_pack_post = req.method() == Method::POST && path.ends_with("/git-upload-pack");
    let (req, peeked, command) = if upload_pack_post && shared.fault_needs_command() {
        let gzipped = cgi::is_gzipped(req.headers());
        let (parts, mut body) = req.into_parts();
        let (peeked, command) = cgi::peek_command(&mut body, gzipped).await;
        (Request::from_parts(parts, body), peeked, command)
    } else {
        (req, Vec::new(), None)
    };
    let kind = if ref_advertisement {
        Some(FaultTarget::RefAdvertisement)
    } else {
        match command {
            Some(UploadPackCommand::LsRefs) => Some(FaultTarget::LsRefs),
            Some(UploadPackCommand::Fetch) => Some(FaultTarget::Fetch),
            _ => None,
        }
    };
    if let Some(fault) = shared.take_fault(kind) {
        shared.update(id, |r| r.command = command);
        if let Some(answer) = inject(fault, &shared, id).await {
            return answer;
        }
    }

    let authorization = req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes);
    let Ok(user) = shared.auth.check(authorization) else {
        bump(&shared.counters.unauthorized, 1);
        let mut response = answer(
            &shared,
            id,
            StatusCode::UNAUTHORIZED,
            "authentication required\n",
        );
        let challenge = format!("Basic realm=\"{}\"", shared.realm);
        if let Ok(challenge) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        return Ok(response);
    };
    shared.update(id, |r| r.user.clone_from(&user));

    if ref_advertisement {
        bump(&shared.counters.ref_advertisements, 1);
        let asks_v2 = req
            .headers()
            .get("git-protocol")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(':').any(|p| p == "version=2"));
        if shared.protocol_v0_only || !asks_v2 {
            bump(&shared.counters.v0_ref_advertisements, 1);
        }
    }
    if upload_pack_post {
        bump(&shared.counters.upload_pack_posts, 1);
    }
    let cgi = CgiRequest {
        id,
        user,
        remote,
        upload_pack_post,
        peeked,
    };
    cgi::run(req, cgi, shared).await
}

/// Applies an injected fault: the answer to give, or `None` to go on serving after a delay.
async fn inject(fault: Fault, shared: &Shared, id: usize) -> Option<io::Result<Response<Body>>> {
    bump(&shared.counters.faulted, 1);
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(Ok(answer(shared, id, status, "injected fault\n")))
        }
        Fault::Close => Some(Err(io::Error::other("injected fault: close"))),
        Fault::Hang => {
            tokio::select! {
                () = shared.shutdown.cancelled() => {}
                () = tokio::time::sleep(HANG_LIMIT) => {}
            }
            Some(Err(io::Error::other("injected fault: hang")))
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay.min(HANG_LIMIT)).await;
            None
        }
    }
}

/// A short text answer, counted and logged.
fn answer(shared: &Shared, id: usize, status: StatusCode, text: &'static str) -> Response<Body> {
    bump(&shared.counters.bytes_sent, text.len() as u64);
    shared.update(id, |r| r.status = Some(status.as_u16()));
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}
