//! The annotated configuration file that `berth default-config` prints.

/// The annotated example printed by `berth default-config`.
pub const DEFAULT_CONFIG_TOML: &str = r#"# Berth configuration. Every key is optional; the values shown are the defaults.
# Precedence: built-in defaults < this file (--config or BERTH_CONFIG) < BERTH_* environment variables
# (each key below maps to BERTH_<KEY IN UPPER CASE>, e.g. listen -> BERTH_LISTEN).

# Address of the HTTP server (API, dashboard, webhooks, /metrics).
listen = "127.0.0.1:8080"

# PostgreSQL URL. Leave unset to run Berth's own embedded PostgreSQL from the machine's
# PostgreSQL server binaries, with its data in <data_dir>/postgres on a private Unix socket.
# database_url = "postgres://berth:password@db.internal:5432/berth"
database_max_connections = 20

# Key file, embedded database and Git mirrors live here.
data_dir = "data"

# 32-byte key (base64 or hex) that seals secrets at rest (AES-256-GCM). Unset: a key file
# <data_dir>/secret.key is created on first start (mode 0600). Every replica needs the same key.
# secret_key = "…"

# Log output: "text" or "json", and a tracing filter.
log_format = "text"
log = "info"

# Built dashboard served at /.
web_dir = "web/dist"

# Lifetime of a login session.
session_ttl = "8h"

# Requests running longer are answered 408; the largest request body in bytes.
request_timeout = "60s"
body_limit = 4194304

# Login attempts per minute, per client address and per username.
login_rate_per_minute = 10

# Take the client address from X-Forwarded-For (only behind a proxy you trust).
trust_forwarded_for = false

# After SIGINT/SIGTERM, in-flight requests get this long to finish.
shutdown_grace = "20s"

# Kubeconfigs whose user runs an exec or auth-provider plugin are refused: the plugin would run
# on the Berth server. Allow them only if you control every kubeconfig that admins upload.
allow_kubeconfig_exec = false

# API servers on plain http:// are refused (credentials would travel in clear).
allow_http_clusters = false

# Every environment is probed (/version, node count) this often, by at most probe_concurrency
# probes at once per replica; replicas share the work.
probe_interval = "1m"
probe_concurrency = 32
# Git repositories. file:// URLs and local paths read the server's own disk: refused unless allowed.
allow_local_repositories = false
# The shortest poll interval (cron schedules included), and the interval of repositories
# registered without a schedule.
min_poll_interval = "30s"
default_poll_interval = "5m"
# Git operations running at once in this replica, and the timeout of one network operation.
git_concurrency = 8
git_timeout = "30s"
# Deployments: how many run at once in this replica (0: none, an API-only replica); the lease a running deployment holds (renewed
# by heartbeats; another replica resumes it once it expires); attempts before a deployment fails
# (transient cluster errors, replica deaths); the first retry delay (doubled each attempt, at most
# 5m); server-side applies at once within one ordering tier of a deployment.
deploy_concurrency = 8
deploy_lease = "30s"
deploy_max_attempts = 5
deploy_retry_backoff = "5s"
apply_parallelism = 8
"#;
