//! The effective configuration as logged at start-up, secrets redacted.

use std::fmt;

use super::{Config, format_duration, redact_url};

impl fmt::Display for Config {
    /// The effective configuration with secrets redacted, as logged at start-up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let db = match &self.database_url {
            Some(url) => redact_url(url.expose()),
            None => format!("embedded ({})", self.data_dir.join("postgres").display()),
        };
        let key = match &self.secret_key {
            Some(_) => "[redacted] (BERTH_SECRET_KEY)".to_owned(),
            None => format!("key file {}", self.data_dir.join("secret.key").display()),
        };
        write!(
            f,
            "listen={} database={} database_max_connections={} data_dir={} secret_key={} \
             log_format={:?} log={} web_dir={} session_ttl={} request_timeout={} body_limit={} \
             login_rate_per_minute={} trust_forwarded_for={} shutdown_grace={} \
             allow_kubeconfig_exec={} allow_http_clusters={} probe_interval={} probe_concurrency={} \
             allow_local_repositories={} min_poll_interval={} default_poll_interval={} \
             git_concurrency={} git_timeout={} deploy_concurrency={} deploy_lease={} \
             deploy_max_attempts={} deploy_retry_backoff={} apply_parallelism={}",
            self.listen,
            db,
            self.database_max_connections,
            self.data_dir.display(),
            key,
            self.log_format,
            self.log_filter,
            self.web_dir.display(),
            format_duration(self.session_ttl),
            format_duration(self.request_timeout),
            self.body_limit,
            self.login_rate_per_minute,
            self.trust_forwarded_for,
            format_duration(self.shutdown_grace),
            self.allow_kubeconfig_exec,
            self.allow_http_clusters,
            format_duration(self.probe_interval),
            self.probe_concurrency,
            self.allow_local_repositories,
            format_duration(self.min_poll_interval),
            format_duration(self.default_poll_interval),
            self.git_concurrency,
            format_duration(self.git_timeout),
            self.deploy_concurrency,
            format_duration(self.deploy_lease),
            self.deploy_max_attempts,
            format_duration(self.deploy_retry_backoff),
            self.apply_parallelism,
        )
    }
}
