//! Building [`DeployError`]s and deciding which cluster failures are worth retrying.
//!
//! Transient: the cluster could not be reached or answered that it is overloaded or broken
//! (connection refused/reset, timeouts, 408, 429, 5xx). Everything the API rejected on purpose (4xx),
//! every render/plan problem and every health timeout is final: retrying cannot change it.
//! kube's client already retries 429/503/504 a few times itself before we see them.

use std::error::Error as _;

use super::{DeployError, Phase};

impl DeployError {
    /// A final (not transient) error.
    pub fn new(phase: Phase, message: impl Into<String>) -> Self {
        DeployError {
            phase,
            message: message.into(),
            transient: false,
        }
    }

    /// A render error: the stack's files cannot become objects.
    pub fn render(message: impl Into<String>) -> Self {
        Self::new(Phase::Render, message)
    }

    /// A plan error: the objects cannot be placed on this cluster.
    pub fn plan(message: impl Into<String>) -> Self {
        Self::new(Phase::Plan, message)
    }

    /// A cluster call failed: `context` says which call ("applying ConfigMap web/config").
    pub fn kube(phase: Phase, context: &str, error: &kube::Error) -> Self {
        DeployError {
            phase,
            message: format!("{context}: {}", describe(error)),
            transient: is_transient(error),
        }
    }
}

/// Whether retrying the call later may succeed.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        // 408: the server gave up waiting (for etcd, a webhook); asking again may work.
        kube::Error::Api(status) => matches!(status.code, 408 | 429) || status.code >= 500,
        // Connection refused/reset, TLS handshakes cut short, timeouts, bodies cut off.
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => true,
        _ => false,
    }
}

/// The HTTP status code of an API answer, if the error is one.
pub fn status_code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// A short, single-line description: the API's own message for API answers, the root cause
/// (without kube's wrapper noise) for transport failures.
pub fn describe(error: &kube::Error) -> String {
    let text = match error {
        kube::Error::Api(status) => {
            if status.message.is_empty() {
                format!("{} ({})", status.reason, status.code)
            } else {
                status.message.clone()
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => transport(error),
        other => other.to_string(),
    };
    one_line(&text, 1_000)
}

/// Walks a transport error's chain: "cannot reach the cluster: connection refused".
fn transport(error: &kube::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    let chain = if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    };
    let lower = chain.to_ascii_lowercase();
    let reason = if lower.contains("timed out") || lower.contains("timeout") {
        "the cluster did not answer in time"
    } else {
        "cannot reach the cluster"
    };
    format!("{reason}: {chain}")
}

/// Collapses whitespace runs and cuts to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut cut: String = joined.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: format!("answer {code}"),
            reason: "Reason".into(),
            ..kube::core::Status::default()
        }))
    }

    #[test]
    fn overload_and_server_errors_are_transient_and_rejections_are_not() {
        let cases = [
            (408, true),
            (429, true),
            (500, true),
            (503, true),
            (504, true),
            (400, false),
            (403, false),
            (404, false),
            (409, false),
            (422, false),
        ];
        for (code, transient) in cases {
            assert_eq!(is_transient(&api(code)), transient, "status {code}");
        }
    }

    #[test]
    fn a_connection_failure_is_transient() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = kube::Error::Service(Box::new(io));
        assert!(is_transient(&error));
        let d = DeployError::kube(Phase::Apply, "applying ConfigMap a/b", &error);
        assert!(d.transient);
        assert_eq!(
            d.message,
            "applying ConfigMap a/b: cannot reach the cluster: connection refused"
        );
    }

    #[test]
    fn an_api_rejection_keeps_the_api_message() {
        let d = DeployError::kube(Phase::Apply, "applying Service x/y", &api(422));
        assert!(!d.transient);
        assert_eq!(d.message, "applying Service x/y: answer 422");
        assert_eq!(d.phase, Phase::Apply);
    }

    #[test]
    fn long_messages_are_cut_to_one_line() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
