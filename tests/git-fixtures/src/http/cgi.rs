//! Running `git http-backend` as a CGI for one request: the request body streams into its stdin
//! (sniffed for the upload-pack command on the way), its stdout is parsed for CGI headers and
//! the rest streams back as the response body. Knows nothing of auth or faults.

use std::io;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::channel::{Channel, Sender};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::pkt::{Sniffer, UploadPackCommand, ls_refs_arguments};
use super::state::{Shared, bump};
use super::{Body, HANG_LIMIT};
use crate::command::isolate;

/// Largest CGI header block accepted from `git http-backend`.
const HEAD_LIMIT: usize = 64 * 1024;
/// How long `git http-backend` may take to start answering.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest ls-refs request body kept to read its arguments.
const LS_REFS_LIMIT: usize = 64 * 1024;

/// What the backend needs to know about a request besides the request itself.
pub(crate) struct CgiRequest {
    pub(crate) id: usize,
    pub(crate) user: Option<String>,
    pub(crate) remote: SocketAddr,
    pub(crate) upload_pack_post: bool,
    /// Body chunks already read (to find the command before deciding on a fault).
    pub(crate) peeked: Vec<Bytes>,
}

/// Answers `req` with `git http-backend`.
pub(crate) async fn run(
    req: Request<Incoming>,
    cgi: CgiRequest,
    shared: Arc<Shared>,
) -> io::Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let gzipped = is_gzipped(&parts.headers);

    let mut std_cmd = std::process::Command::new("git");
    isolate(&mut std_cmd);
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &shared.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("REMOTE_ADDR", cgi.remote.ip().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, var) in [
        (CONTENT_TYPE.as_str(), "CONTENT_TYPE"),
        (CONTENT_LENGTH.as_str(), "CONTENT_LENGTH"),
        (CONTENT_ENCODING.as_str(), "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "GIT_PROTOCOL"),
    ] {
        if var == "GIT_PROTOCOL" && shared.protocol_v0_only {
            continue;
        }
        if let Some(value) = header(name) {
            cmd.env(var, value);
        }
    }
    if let Some(user) = &cgi.user {
        cmd.env("REMOTE_USER", user);
    }

    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let sniffer = cgi.upload_pack_post.then(|| Sniffer::new(gzipped));
    let pump = pump_request(
        cgi.peeked,
        body,
        stdin,
        sniffer,
        Arc::clone(&shared),
        cgi.id,
    );
    tokio::spawn(pump);
    tokio::spawn(log_stderr(stderr, Arc::clone(&shared)));

    let (head, rest) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stdout))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "git http-backend is silent"))??;
    let mut response = parse_head(&head)?;
    shared.update(cgi.id, |r| r.status = Some(response.status().as_u16()));

    let (sender, channel) = Channel::<Bytes, io::Error>::new(4);
    *response.body_mut() = channel.boxed();
    tokio::spawn(pump_response(rest, stdout, child, sender, shared));
    Ok(response)
}

/// Streams the request body (after the `peeked` chunks) into the backend, counting the
/// upload-pack command before the backend can see it, so counters are settled by the time the
/// client has its answer.
async fn pump_request(
    peeked: Vec<Bytes>,
    mut body: Incoming,
    mut stdin: ChildStdin,
    mut sniffer: Option<Sniffer>,
    shared: Arc<Shared>,
    id: usize,
) {
    let gzipped = sniffer.as_ref().is_some_and(Sniffer::is_gzipped);
    // An ls-refs body is kept (bounded) until its arguments are complete.
    let mut ls_refs: Option<Vec<u8>> = sniffer.as_ref().map(|_| Vec::new());
    let mut feed = |data: &[u8]| {
        if let Some(body) = ls_refs.as_mut() {
            body.extend_from_slice(
                &data[..data.len().min(LS_REFS_LIMIT.saturating_sub(body.len()))],
            );
        }
        if let Some(command) = sniffer.as_mut().and_then(|s| s.feed(data)) {
            if command != UploadPackCommand::LsRefs {
                ls_refs = None;
            }
            count_command(&shared, id, command);
        }
        if sniffer.as_ref().is_some_and(Sniffer::is_done)
            && let Some(body) = &ls_refs
            && let Some(arguments) = ls_refs_arguments(body, gzipped)
        {
            shared.update(id, |r| r.ls_refs_arguments = arguments);
            ls_refs = None;
        }
    };
    for data in peeked {
        feed(&data);
        if stdin.write_all(&data).await.is_err() {
            return;
        }
    }
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        feed(&data);
        if stdin.write_all(&data).await.is_err() {
            // The backend stopped reading: it has answered or died; its output says which.
            return;
        }
    }
    let _ = stdin.shutdown().await;
}

/// Whether the request body is gzipped (git gzips upload-pack requests over 1 KiB).
pub(crate) fn is_gzipped(headers: &hyper::HeaderMap) -> bool {
    headers
        .get(CONTENT_ENCODING)
        .is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(b"gzip"))
}

/// Reads request body chunks until the upload-pack command is known (or the body ends).
pub(crate) async fn peek_command(
    body: &mut Incoming,
    gzipped: bool,
) -> (Vec<Bytes>, Option<UploadPackCommand>) {
    let mut sniffer = Sniffer::new(gzipped);
    let mut chunks = Vec::new();
    while !sniffer.is_done() {
        let Some(Ok(frame)) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame.into_data() {
            let command = sniffer.feed(&data);
            chunks.push(data);
            if command.is_some() {
                return (chunks, command);
            }
        }
    }
    (chunks, None)
}

fn count_command(shared: &Shared, id: usize, command: UploadPackCommand) {
    match command {
        UploadPackCommand::LsRefs => bump(&shared.counters.ls_refs, 1),
        UploadPackCommand::Fetch => bump(&shared.counters.fetches, 1),
        UploadPackCommand::Other(_) => {}
    }
    shared.update(id, |r| r.command = Some(command));
}

async fn log_stderr(stderr: impl AsyncRead + Unpin, shared: Arc<Shared>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        shared.log_backend(line);
    }
}

/// Reads up to the blank line ending the CGI headers; returns the headers and any body bytes
/// read past them.
async fn read_head(stdout: &mut ChildStdout) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some((end, separator)) = find_head_end(&buf) {
            let rest = buf.split_off(end + separator);
            buf.truncate(end);
            return Ok((buf, rest));
        }
        if buf.len() > HEAD_LIMIT {
            return Err(io::Error::other("git http-backend sent oversized headers"));
        }
        let n = stdout.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "git http-backend exited before sending headers",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Where the header block ends and how long its terminating blank line is.
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Turns CGI headers into a response: `Status: 404 Not Found` sets the status (200 without one).
fn parse_head(head: &[u8]) -> io::Result<Response<Body>> {
    let mut response = Response::new(super::empty());
    let text = String::from_utf8_lossy(head);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(io::Error::other(format!("bad CGI header line {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or_default();
            *response.status_mut() = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| io::Error::other(format!("bad CGI status {value:?}")))?;
        } else if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// Streams the backend's output to the client, counting bytes, then reaps the backend.
async fn pump_response(
    rest: Vec<u8>,
    mut stdout: ChildStdout,
    mut child: Child,
    mut sender: Sender<Bytes, io::Error>,
    shared: Arc<Shared>,
) {
    let mut next = Bytes::from(rest);
    let mut chunk = vec![0_u8; 32 * 1024];
    loop {
        if !next.is_empty() {
            bump(&shared.counters.bytes_sent, next.len() as u64);
            if sender.send_data(next).await.is_err() {
                // The client went away; dropping `child` kills the backend.
                return;
            }
        }
        match stdout.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => next = Bytes::copy_from_slice(&chunk[..n]),
            Err(e) => {
                sender.abort(e);
                return;
            }
        }
    }
    drop(sender);
    let _ = tokio::time::timeout(HANG_LIMIT, child.wait()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_headers_set_the_status_and_headers() {
        let response =
            parse_head(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: 0").unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.headers()["expires"], "0");

        let ok = parse_head(b"Content-Type: application/x-git-upload-pack-advertisement").unwrap();
        assert_eq!(ok.status(), StatusCode::OK);

        assert!(parse_head(b"Status: banana").is_err());
        assert!(parse_head(b"no colon here").is_err());
    }

    #[test]
    fn the_head_ends_at_the_first_blank_line_of_either_style() {
        assert_eq!(find_head_end(b"A: b\r\n\r\nbody\n\n"), Some((4, 4)));
        assert_eq!(find_head_end(b"A: b\n\nbody\r\n\r\n"), Some((4, 2)));
        assert_eq!(find_head_end(b"A: b\r\n"), None);
    }
}
