//! Git failures, classified so people are told what to fix: credentials, host name, TLS, the
//! repository's existence, or the network.

use std::fmt;

use serde::Serialize;

/// What kind of failure a Git operation met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitErrorKind {
    /// The server refused the credentials (or asked for credentials that were not configured);
    /// over SSH, the server refused the private key.
    Authentication,
    /// The host name does not resolve, or (SSH) the server's host key is not the one known_hosts
    /// gives for this host and port.
    UnknownHost,
    /// The TLS handshake failed: untrusted or invalid certificate.
    Tls,
    /// The repository does not exist (or is hidden from these credentials).
    NotFound,
    /// The server did not answer in time.
    Timeout,
    /// The connection was refused or dropped.
    Connection,
    /// Another SSH failure (no common algorithm, the connection closed during the handshake).
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
            Self::Ssh => "ssh failed: the SSH handshake with the server did not succeed",
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
        write!(f, "{} ({})", self.explanation(), self.detail)
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

    /// A sentence for people saying what probably went wrong, precise for SSH failures.
    pub fn explanation(&self) -> &'static str {
        match self.kind {
            GitErrorKind::Authentication if self.is_ssh_key_refused() => {
                "authentication failed: the server refused the SSH private key (is its public key \
                 authorized for the user in the URL?)"
            }
            GitErrorKind::UnknownHost if self.is_ssh_host_key() => {
                "unknown host: the server's SSH host key does not match the known_hosts entry for \
                 this host and port (or there is none)"
            }
            kind => kind.explanation(),
        }
    }

    /// SSH refused the private key.
    pub fn is_ssh_key_refused(&self) -> bool {
        let m = self.detail.to_ascii_lowercase();
        m.contains("permission denied (publickey") || m.contains(SSH_KEY_REFUSED)
    }

    /// SSH did not trust the server's host key.
    pub fn is_ssh_host_key(&self) -> bool {
        self.detail.to_ascii_lowercase().contains("host key")
    }

    pub(crate) fn io(what: &str, e: &std::io::Error) -> Self {
        Self::new(GitErrorKind::Other, format!("{what}: {e}"))
    }

    /// Classifies a gix error from its whole cause chain.
    pub(crate) fn from_gix(what: &str, e: &gix::Error) -> Self {
        // Causes often repeat their source's text: keep each piece once.
        let mut detail = String::new();
        for cause in e.iter_errors().map(ToString::to_string) {
            if !detail.contains(&cause) {
                if !detail.is_empty() {
                    detail.push_str(": ");
                }
                detail.push_str(&cause);
            }
        }
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

/// What Berth's credentials callback says when gix asks for credentials over SSH: ssh asks for
/// them only after the server refused the key.
pub(crate) const SSH_KEY_REFUSED: &str = "the ssh server refused the private key";

/// Maps an error message chain to a kind. The order matters: the most specific signal wins.
pub fn classify(chain: &str) -> GitErrorKind {
    let m = chain.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&[
        "host key verification failed",
        "remote host identification has changed",
        "host key is known for",
    ]) {
        GitErrorKind::UnknownHost
    } else if has(&["permission denied (publickey", SSH_KEY_REFUSED]) {
        GitErrorKind::Authentication
    } else if has(&[
        "no matching host key type",
        "no matching key exchange",
        "no matching cipher",
        "kex_exchange_identification",
        "connection closed by remote host",
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
            ("Host key verification failed.", GitErrorKind::UnknownHost),
            (
                "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!",
                GitErrorKind::UnknownHost,
            ),
            (
                "git@127.0.0.1: Permission denied (publickey).",
                GitErrorKind::Authentication,
            ),
            (
                "Unable to negotiate with 127.0.0.1 port 22: no matching host key type found",
                GitErrorKind::Ssh,
            ),
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
