//! Git failures, classified so people are told what to fix: credentials, host name, TLS, the
//! repository's existence, or the network.

use std::fmt;

use serde::Serialize;

/// What kind of failure a Git operation met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitErrorKind {
    /// The server refused the credentials (or asked for credentials that were not configured).
    Authentication,
    /// The host name does not resolve.
    UnknownHost,
    /// The TLS handshake failed: untrusted or invalid certificate.
    Tls,
    /// The repository does not exist (or is hidden from these credentials).
    NotFound,
    /// The server did not answer in time.
    Timeout,
    /// The connection was refused or dropped.
    Connection,
    /// SSH host key not trusted or the key was refused.
    Ssh,
    /// A ref or commit the check needs is not on the server.
    RefNotFound,
    /// A commit or path is not in the mirror.
    ObjectMissing,
    /// Anything else (protocol errors, server errors, disk).
    Other,
}

impl GitErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::UnknownHost => "unknown_host",
            Self::Tls => "tls",
            Self::NotFound => "not_found",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Ssh => "ssh",
            Self::RefNotFound => "ref_not_found",
            Self::ObjectMissing => "object_missing",
            Self::Other => "other",
        }
    }

    /// A sentence for people saying what probably went wrong.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Authentication => "authentication failed: check the username and token",
            Self::UnknownHost => "unknown host: the host name does not resolve",
            Self::Tls => {
                "TLS verification failed: the server's certificate is not trusted (add its CA bundle)"
            }
            Self::NotFound => "repository not found: check the URL (or the credentials' access)",
            Self::Timeout => "timed out waiting for the git server",
            Self::Connection => "could not connect to the git server",
            Self::Ssh => "ssh failed: check the private key and the known_hosts entry",
            Self::RefNotFound => "ref not found on the server",
            Self::ObjectMissing => "object missing from the mirror",
            Self::Other => "git operation failed",
        }
    }
}

/// A failed Git operation: its kind and the underlying message chain (never credentials).
#[derive(Debug, Clone)]
pub struct GitError {
    pub kind: GitErrorKind,
    pub detail: String,
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind.explanation(), self.detail)
    }
}

impl std::error::Error for GitError {}

impl GitError {
    pub fn new(kind: GitErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    pub(crate) fn io(what: &str, e: &std::io::Error) -> Self {
        Self::new(GitErrorKind::Other, format!("{what}: {e}"))
    }

    /// Classifies a gix error from its whole cause chain.
    pub(crate) fn from_gix(what: &str, e: &gix::Error) -> Self {
        let chain: Vec<String> = e.iter_errors().map(ToString::to_string).collect();
        let mut detail = chain.join(": ");
        if detail.is_empty() {
            detail = e.to_string();
        }
        Self::new(classify(&detail), format!("{what}: {}", scrub(&detail)))
    }
}

/// Removes anything that looks like credentials in URLs (`user:secret@`).
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '/')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***@");
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Maps an error message chain to a kind. The order matters: the most specific signal wins.
pub fn classify(chain: &str) -> GitErrorKind {
    let m = chain.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&[
        "host key verification failed",
        "permission denied (publickey",
        "no matching host key",
        "remote host identification has changed",
    ]) {
        GitErrorKind::Ssh
    } else if has(&[
        "failed to lookup address",
        "name or service not known",
        "nodename nor servname",
        "no such host",
        "dns error",
        "temporary failure in name resolution",
        "could not resolve host",
    ]) {
        GitErrorKind::UnknownHost
    } else if has(&[
        "certificate",
        "unknownissuer",
        "invalid peer",
        "tls handshake",
        "invalid_certificate",
        "invalidcertificate",
        "ssl routines",
        "ssl error",
    ]) {
        GitErrorKind::Tls
    } else if has(&[
        "authentication",
        "status 401",
        "status 403",
        "unauthorized",
        "credentials",
        "forbidden",
    ]) {
        GitErrorKind::Authentication
    } else if has(&[
        "timed out",
        "timeout",
        "deadline has elapsed",
        "operation was interrupted",
    ]) {
        GitErrorKind::Timeout
    } else if has(&[
        "status 404",
        "not found",
        "does not appear to be a git repository",
        "no such repository",
        "repository not exported",
        "access denied or repository not exported",
        "not a git repository",
    ]) {
        GitErrorKind::NotFound
    } else if has(&[
        "connection refused",
        "connection reset",
        "broken pipe",
        "unexpected eof",
        "failed to connect",
        "error sending request",
        "could not connect",
    ]) {
        GitErrorKind::Connection
    } else {
        GitErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified_by_their_most_specific_signal() {
        let cases = [
            (
                "An IO error occurred when talking to the server: Received HTTP status 401",
                GitErrorKind::Authentication,
            ),
            (
                "error sending request: client error (Connect): dns error: failed to lookup address information",
                GitErrorKind::UnknownHost,
            ),
            (
                "error sending request: invalid peer certificate: UnknownIssuer",
                GitErrorKind::Tls,
            ),
            (
                "Received HTTP status 404 from server",
                GitErrorKind::NotFound,
            ),
            (
                "remote: access denied or repository not exported: /x.git",
                GitErrorKind::NotFound,
            ),
            ("operation timed out", GitErrorKind::Timeout),
            (
                "Connection refused (os error 111)",
                GitErrorKind::Connection,
            ),
            ("Host key verification failed.", GitErrorKind::Ssh),
            ("something odd", GitErrorKind::Other),
            // Numbers inside ports or hosts are not status codes.
            (
                "ssh: connect to host 127.0.0.1 port 40109: Connection refused",
                GitErrorKind::Connection,
            ),
            (
                "error sending request for url (https://ssl.example.com:4040/x.git): connection refused",
                GitErrorKind::Connection,
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(classify(text), kind, "{text}");
        }
    }

    #[test]
    fn credentials_in_urls_are_scrubbed_from_details() {
        assert_eq!(
            scrub("failed https://bob:s3cret@example.com/x.git and git://h/y"),
            "failed https://***@example.com/x.git and git://h/y"
        );
    }
}
