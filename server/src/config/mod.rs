//! Configuration: code defaults, then an optional TOML file, then `BERTH_*` environment variables.
//!
//! Owns parsing and validation of every setting and the redacted form that is logged at start-up.
//! It must not open connections or touch the disk beyond reading the TOML file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::crypto::Secret;

mod display;
mod example;
mod values;

pub use example::DEFAULT_CONFIG_TOML;
pub use values::{format_duration, parse_duration, redact_url};
use values::{parse_bool, parse_bounded};

/// Every environment variable Berth reads, so unknown `BERTH_*` names can be warned about.
pub const KNOWN_ENV: &[&str] = &[
    "BERTH_CONFIG",
    "BERTH_LISTEN",
    "BERTH_DATABASE_URL",
    "BERTH_DATA_DIR",
    "BERTH_SECRET_KEY",
    "BERTH_LOG_FORMAT",
    "BERTH_LOG",
    "BERTH_WEB_DIR",
    "BERTH_SESSION_TTL",
    "BERTH_ADMIN_PASSWORD",
    "BERTH_DATABASE_MAX_CONNECTIONS",
    "BERTH_REQUEST_TIMEOUT",
    "BERTH_BODY_LIMIT",
    "BERTH_LOGIN_RATE_PER_MINUTE",
    "BERTH_TRUST_FORWARDED_FOR",
    "BERTH_SHUTDOWN_GRACE",
    "BERTH_ALLOW_KUBECONFIG_EXEC",
    "BERTH_ALLOW_HTTP_CLUSTERS",
    "BERTH_PROBE_INTERVAL",
    "BERTH_PROBE_CONCURRENCY",
    "BERTH_ALLOW_LOCAL_REPOSITORIES",
    "BERTH_MIN_POLL_INTERVAL",
    "BERTH_DEFAULT_POLL_INTERVAL",
    "BERTH_GIT_CONCURRENCY",
    "BERTH_GIT_TIMEOUT",
    "BERTH_DEPLOY_CONCURRENCY",
    "BERTH_DEPLOY_LEASE",
    "BERTH_DEPLOY_MAX_ATTEMPTS",
    "BERTH_DEPLOY_RETRY_BACKOFF",
    "BERTH_APPLY_PARALLELISM",
    // Used by the CLI client, not by the server.
    "BERTH_URL",
    "BERTH_TOKEN",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The effective configuration of a Berth server.
#[derive(Clone)]
pub struct Config {
    /// Address the HTTP server binds (port 0 picks a free port).
    pub listen: SocketAddr,
    /// PostgreSQL URL; `None` runs the embedded database in `<data_dir>/postgres`.
    pub database_url: Option<Secret<String>>,
    /// Largest number of pooled database connections.
    pub database_max_connections: u32,
    /// Where Berth keeps its key file, the embedded database and Git mirrors.
    pub data_dir: PathBuf,
    /// 32-byte sealing key (base64 or hex); `None` uses `<data_dir>/secret.key`, created on first start.
    pub secret_key: Option<Secret<String>>,
    pub log_format: LogFormat,
    /// `tracing` filter directive, e.g. `info,berth=debug`.
    pub log_filter: String,
    /// Built dashboard to serve at `/`; missing means the API runs without the dashboard.
    pub web_dir: PathBuf,
    /// Lifetime of a login session (JWT).
    pub session_ttl: Duration,
    /// Requests taking longer are answered 408.
    pub request_timeout: Duration,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
    /// Login attempts allowed per minute, per client address and per username.
    pub login_rate_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Accept kubeconfig users with `exec` or `auth-provider` plugins (they run programs on the server).
    pub allow_kubeconfig_exec: bool,
    /// Accept `http://` API servers (credentials travel in clear).
    pub allow_http_clusters: bool,
    /// Time between two health probes of one environment.
    pub probe_interval: Duration,
    /// Environments probed at once by one replica.
    pub probe_concurrency: usize,
    /// Accept `file://` URLs and local paths as repositories (they read the server's own disk).
    pub allow_local_repositories: bool,
    /// The shortest poll interval a repository may have (cron schedules included).
    pub min_poll_interval: Duration,
    /// The poll interval of repositories registered without a schedule.
    pub default_poll_interval: Duration,
    /// Git operations (ref listings, fetches) running at once in this replica.
    pub git_concurrency: usize,
    /// Connect and request timeout of one Git network operation.
    pub git_timeout: Duration,
    /// Deployments running at once in this replica (0: this replica runs none, e.g. an API-only
    /// replica; it still turns deployment events into rollouts).
    pub deploy_concurrency: usize,
    /// Lease of a running deployment (heartbeats renew it; another replica resumes it after).
    pub deploy_lease: Duration,
    /// Attempts of a deployment (transient cluster errors, replica deaths) before it fails.
    pub deploy_max_attempts: u32,
    /// First retry delay of a deployment after a transient error (doubled each attempt).
    pub deploy_retry_backoff: Duration,
    /// Server-side applies running at once within one ordering tier of one deployment.
    pub apply_parallelism: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_max_connections: 20,
            data_dir: PathBuf::from("data"),
            secret_key: None,
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            web_dir: PathBuf::from("web/dist"),
            session_ttl: Duration::from_secs(8 * 3600),
            request_timeout: Duration::from_secs(60),
            body_limit: 4 * 1024 * 1024,
            login_rate_per_minute: 10,
            trust_forwarded_for: false,
            shutdown_grace: Duration::from_secs(20),
            allow_kubeconfig_exec: false,
            allow_http_clusters: false,
            probe_interval: Duration::from_secs(60),
            probe_concurrency: 32,
            allow_local_repositories: false,
            min_poll_interval: Duration::from_secs(30),
            default_poll_interval: Duration::from_secs(300),
            git_concurrency: 8,
            git_timeout: Duration::from_secs(30),
            deploy_concurrency: 8,
            deploy_lease: Duration::from_secs(30),
            deploy_max_attempts: 5,
            deploy_retry_backoff: Duration::from_secs(5),
            apply_parallelism: 8,
        }
    }
}

/// A configuration error names the setting, where it came from and why it was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{source_name}: invalid value for {key}: {reason}")]
    Invalid {
        source_name: String,
        key: String,
        reason: String,
    },
}

/// The TOML file's shape: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    data_dir: Option<PathBuf>,
    secret_key: Option<String>,
    log_format: Option<String>,
    log: Option<String>,
    web_dir: Option<PathBuf>,
    session_ttl: Option<String>,
    request_timeout: Option<String>,
    body_limit: Option<u64>,
    login_rate_per_minute: Option<u32>,
    trust_forwarded_for: Option<bool>,
    shutdown_grace: Option<String>,
    allow_kubeconfig_exec: Option<bool>,
    allow_http_clusters: Option<bool>,
    probe_interval: Option<String>,
    probe_concurrency: Option<u32>,
    allow_local_repositories: Option<bool>,
    min_poll_interval: Option<String>,
    default_poll_interval: Option<String>,
    git_concurrency: Option<u32>,
    git_timeout: Option<String>,
    deploy_concurrency: Option<u32>,
    deploy_lease: Option<String>,
    deploy_max_attempts: Option<u32>,
    deploy_retry_backoff: Option<String>,
    apply_parallelism: Option<u32>,
}

/// What loading produced: the configuration plus warnings to log once logging is up.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads defaults, then `file` (or `BERTH_CONFIG`), then the given environment.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Loaded, ConfigError> {
        let mut config = Config::default();
        let mut warnings = Vec::new();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("BERTH_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let parsed: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Toml {
                path: path.clone(),
                message: e.to_string(),
            })?;
            config.apply_file(parsed, &path.display().to_string())?;
        }
        for (key, value) in env.iter().filter(|(k, _)| k.starts_with("BERTH_")) {
            if !KNOWN_ENV.contains(&key.as_str()) {
                warnings.push(format!("unknown environment variable {key} is ignored"));
                continue;
            }
            config.apply_env(key, value)?;
        }
        config.check_poll_intervals("configuration")?;
        Ok(Loaded { config, warnings })
    }

    /// Loads from the process environment.
    pub fn from_process(file: Option<&Path>) -> Result<Loaded, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::load(file, &env)
    }

    fn apply_file(&mut self, f: FileConfig, source: &str) -> Result<(), ConfigError> {
        let set = |key: &str, value: Option<String>, cfg: &mut Config| -> Result<(), ConfigError> {
            match value {
                Some(v) => cfg.set(key, &v, source),
                None => Ok(()),
            }
        };
        set("listen", f.listen, self)?;
        set("database_url", f.database_url, self)?;
        set(
            "database_max_connections",
            f.database_max_connections.map(|v| v.to_string()),
            self,
        )?;
        set(
            "data_dir",
            f.data_dir.map(|p| p.display().to_string()),
            self,
        )?;
        set("secret_key", f.secret_key, self)?;
        set("log_format", f.log_format, self)?;
        set("log", f.log, self)?;
        set("web_dir", f.web_dir.map(|p| p.display().to_string()), self)?;
        set("session_ttl", f.session_ttl, self)?;
        set("request_timeout", f.request_timeout, self)?;
        set("body_limit", f.body_limit.map(|v| v.to_string()), self)?;
        set(
            "login_rate_per_minute",
            f.login_rate_per_minute.map(|v| v.to_string()),
            self,
        )?;
        set(
            "trust_forwarded_for",
            f.trust_forwarded_for.map(|v| v.to_string()),
            self,
        )?;
        set("shutdown_grace", f.shutdown_grace, self)?;
        set(
            "allow_kubeconfig_exec",
            f.allow_kubeconfig_exec.map(|v| v.to_string()),
            self,
        )?;
        set(
            "allow_http_clusters",
            f.allow_http_clusters.map(|v| v.to_string()),
            self,
        )?;
        set("probe_interval", f.probe_interval, self)?;
        set(
            "probe_concurrency",
            f.probe_concurrency.map(|v| v.to_string()),
            self,
        )?;
        set(
            "allow_local_repositories",
            f.allow_local_repositories.map(|v| v.to_string()),
            self,
        )?;
        set("min_poll_interval", f.min_poll_interval, self)?;
        set("default_poll_interval", f.default_poll_interval, self)?;
        set(
            "git_concurrency",
            f.git_concurrency.map(|v| v.to_string()),
            self,
        )?;
        set("git_timeout", f.git_timeout, self)?;
        set(
            "deploy_concurrency",
            f.deploy_concurrency.map(|v| v.to_string()),
            self,
        )?;
        set("deploy_lease", f.deploy_lease, self)?;
        set(
            "deploy_max_attempts",
            f.deploy_max_attempts.map(|v| v.to_string()),
            self,
        )?;
        set("deploy_retry_backoff", f.deploy_retry_backoff, self)?;
        set(
            "apply_parallelism",
            f.apply_parallelism.map(|v| v.to_string()),
            self,
        )?;
        Ok(())
    }

    fn apply_env(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let name = key.trim_start_matches("BERTH_").to_ascii_lowercase();
        match name.as_str() {
            // Read elsewhere (CLI client, first-start bootstrap, config path).
            "config" | "admin_password" | "url" | "token" => Ok(()),
            _ => self.set(&name, value, key),
        }
    }

    fn set(&mut self, key: &str, value: &str, source: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            source_name: source.to_owned(),
            key: key.to_owned(),
            reason,
        };
        match key {
            "listen" => {
                self.listen = value
                    .parse()
                    .map_err(|e| invalid(format!("expected host:port ({e})")))?;
            }
            "database_url" => {
                let v = value.trim();
                self.database_url = if v.is_empty() {
                    None
                } else if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                    Some(Secret::new(v.to_owned()))
                } else {
                    return Err(invalid(
                        "expected a postgres:// or postgresql:// URL".into(),
                    ));
                };
            }
            "database_max_connections" => {
                // Two connections are held for LISTEN (events, repository poller); leave room for requests.
                self.database_max_connections = parse_bounded(value, 4, 1000).map_err(invalid)?;
            }
            "data_dir" => self.data_dir = PathBuf::from(value),
            "secret_key" => {
                let v = value.trim();
                self.secret_key = if v.is_empty() {
                    None
                } else {
                    crate::crypto::decode_key(v).map_err(|e| invalid(e.to_string()))?;
                    Some(Secret::new(v.to_owned()))
                };
            }
            "log_format" => {
                self.log_format = match value.to_ascii_lowercase().as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => return Err(invalid(format!("expected text or json, got {other:?}"))),
                };
            }
            "log" => self.log_filter = value.to_owned(),
            "web_dir" => self.web_dir = PathBuf::from(value),
            "session_ttl" => {
                self.session_ttl = parse_duration(value).map_err(invalid)?;
                if self.session_ttl < Duration::from_secs(60) {
                    return Err(invalid("must be at least 1m".into()));
                }
            }
            "request_timeout" => self.request_timeout = parse_duration(value).map_err(invalid)?,
            "shutdown_grace" => self.shutdown_grace = parse_duration(value).map_err(invalid)?,
            "body_limit" => {
                self.body_limit = parse_bounded(value, 1024, 1 << 30).map_err(invalid)?;
            }
            "login_rate_per_minute" => {
                self.login_rate_per_minute = parse_bounded(value, 1, 100_000).map_err(invalid)?;
            }
            "trust_forwarded_for" => {
                self.trust_forwarded_for = parse_bool(value).map_err(invalid)?;
            }
            "allow_kubeconfig_exec" => {
                self.allow_kubeconfig_exec = parse_bool(value).map_err(invalid)?;
            }
            "allow_http_clusters" => {
                self.allow_http_clusters = parse_bool(value).map_err(invalid)?;
            }
            "probe_interval" => {
                self.probe_interval = parse_duration(value).map_err(invalid)?;
                if self.probe_interval < Duration::from_secs(1) {
                    return Err(invalid("must be at least 1s".into()));
                }
            }
            "probe_concurrency" => {
                self.probe_concurrency = parse_bounded(value, 1, 1000).map_err(invalid)?;
            }
            "allow_local_repositories" => {
                self.allow_local_repositories = parse_bool(value).map_err(invalid)?;
            }
            "min_poll_interval" => {
                self.min_poll_interval = parse_duration(value).map_err(invalid)?;
                if self.min_poll_interval < Duration::from_secs(1) {
                    return Err(invalid("must be at least 1s".into()));
                }
            }
            "default_poll_interval" => {
                self.default_poll_interval = parse_duration(value).map_err(invalid)?;
            }
            "git_concurrency" => {
                self.git_concurrency = parse_bounded(value, 1, 1024).map_err(invalid)?;
            }
            "git_timeout" => {
                self.git_timeout = parse_duration(value).map_err(invalid)?;
                if self.git_timeout < Duration::from_secs(1) {
                    return Err(invalid("must be at least 1s".into()));
                }
            }
            "deploy_concurrency" => {
                self.deploy_concurrency = parse_bounded(value, 0, 1024).map_err(invalid)?;
            }
            "deploy_lease" => {
                self.deploy_lease = parse_duration(value).map_err(invalid)?;
                if self.deploy_lease < Duration::from_secs(1) {
                    return Err(invalid("must be at least 1s".into()));
                }
            }
            "deploy_max_attempts" => {
                self.deploy_max_attempts = parse_bounded(value, 1, 100).map_err(invalid)?;
            }
            "deploy_retry_backoff" => {
                self.deploy_retry_backoff = parse_duration(value).map_err(invalid)?;
            }
            "apply_parallelism" => {
                self.apply_parallelism = parse_bounded(value, 1, 256).map_err(invalid)?;
            }
            other => return Err(invalid(format!("unknown setting {other}"))),
        }
        Ok(())
    }

    /// The default poll interval must respect the minimum.
    fn check_poll_intervals(&self, source: &str) -> Result<(), ConfigError> {
        if self.default_poll_interval < self.min_poll_interval {
            return Err(ConfigError::Invalid {
                source_name: source.to_owned(),
                key: "default_poll_interval".into(),
                reason: format!(
                    "must be at least min_poll_interval ({})",
                    format_duration(self.min_poll_interval)
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
