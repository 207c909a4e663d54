//! `TestApp`: the real Berth application on port 0 against a fresh database, with an admin session.
//!
//! The database is created on the PostgreSQL server named by `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when the `TestApp` is dropped.

use std::net::SocketAddr;
use std::time::Duration;

use berth::config::Config;
use berth::crypto::Secret;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

/// Password of the `admin` user every `TestApp` starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The server-level URL of the test PostgreSQL.
pub fn admin_database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running Berth for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    /// A session token of the `admin` user.
    pub admin_token: String,
    /// A pool on the test database, to inspect or age rows.
    pub pool: PgPool,
    pub db_name: String,
    pub data_dir: tempfile::TempDir,
    stop: CancellationToken,
    server: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Berth with default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Berth with settings adjusted by `configure` (after the test defaults).
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let db_name = format!("berth_test_{}", uuid::Uuid::new_v4().simple());
        let server_url = admin_database_url();
        let mut conn = PgConnection::connect(&server_url)
            .await
            .expect("connect to the test PostgreSQL (set DATABASE_URL)");
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {db_name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let db_url = with_database(&server_url, &db_name);

        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: Some(Secret::new(db_url.clone())),
            database_max_connections: 5,
            data_dir: data_dir.path().to_path_buf(),
            web_dir: data_dir.path().join("no-web"),
            login_rate_per_minute: 1000,
            shutdown_grace: Duration::from_secs(5),
            ..Config::default()
        };
        configure(&mut config);
        init_test_logging();
        let stop = CancellationToken::new();
        let (addr, server) = run_in_own_runtime(config, stop.clone()).await;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&db_url)
            .await
            .expect("connect to the test database");
        let mut app = TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            admin_token: String::new(),
            pool,
            db_name,
            data_dir,
            stop,
            server: Some(server),
        };
        app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// The URL of this test's database (for a second Berth on it).
    pub fn database_url(&self) -> String {
        with_database(&admin_database_url(), &self.db_name)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with no credentials.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request as `token`.
    pub fn as_token(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(token)
    }

    /// A request as the admin.
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_token(&self.admin_token, method, path)
    }

    /// Logs in and returns the session token; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .anon(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login as {username}");
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a user with `role` (password `<name>-password`) and returns a session token.
    pub async fn user_with_role(&self, username: &str, role: &str) -> String {
        let password = format!("{username}-password");
        let res = self
            .admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": username, "password": password, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "create {username}");
        self.login(username, &password).await
    }

    /// Audit rows with this action, oldest first.
    pub async fn audit_actions(&self, action: &str) -> Vec<(Option<String>, Option<String>)> {
        sqlx::query_as(
            "select actor, target from audit_event where action = $1 order by audit_event_id",
        )
        .bind(action)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// Starts a graceful shutdown, as SIGTERM would, without waiting for it.
    pub fn begin_shutdown(&self) {
        self.stop.cancel();
    }

    /// Stops Berth and waits for it to finish (graceful shutdown).
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            tokio::task::spawn_blocking(move || server.join())
                .await
                .expect("join task")
                .expect("server thread")
                .expect("server result");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        let db_name = self.db_name.clone();
        // Drop the database from a separate thread and runtime: Drop cannot await, and the test's
        // runtime is blocked while we join. `with (force)` ends the pools' connections.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_database_url()).await {
                    let sql = format!("drop database if exists {db_name} with (force)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Runs Berth on its own thread and multi-threaded runtime, as in production, whatever runtime
/// flavor the test uses; returns its address once it is listening.
async fn run_in_own_runtime(
    config: Config,
    stop: CancellationToken,
) -> (SocketAddr, std::thread::JoinHandle<anyhow::Result<()>>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("berth-under-test".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let built =
                    berth::Application::build(config, Some(Secret::new(ADMIN_PASSWORD.to_owned())))
                        .await;
                let app = match built {
                    Ok(app) => app,
                    Err(e) => {
                        let message = format!("{e:#}");
                        let _ = tx.send(Err(e));
                        anyhow::bail!("build failed: {message}");
                    }
                };
                let _ = tx.send(Ok(app.local_addr()));
                app.run_until(async move { stop.cancelled().await }).await
            })
        })
        .expect("spawn the Berth thread");
    match rx.await {
        Ok(Ok(addr)) => (addr, thread),
        Ok(Err(e)) => panic!("Berth failed to start: {e:#}"),
        Err(_) => panic!("Berth's thread ended before listening: {:?}", thread.join()),
    }
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Logs from the app under test go to the test's captured output (`BERTH_TEST_LOG` to filter),
/// and (info, debug for Berth and kube) into an in-memory buffer that tests can search ([`captured_logs`]).
fn init_test_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    let filter = std::env::var("BERTH_TEST_LOG").unwrap_or_else(|_| "warn".to_owned());
    let shown = tracing_subscriber::fmt::layer()
        .with_test_writer()
        .with_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("warn")));
    let captured = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(|| LogBuffer)
        .with_filter(EnvFilter::new(
            "info,berth=debug,kube=debug,kube_client=debug,tokio_cron_scheduler=warn",
        ));
    let _ = tracing_subscriber::registry()
        .with(shown)
        .with(captured)
        .try_init();
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogBuffer;

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut logs = LOGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded: keep the last 64 MiB.
        if logs.len() > 64 << 20 {
            logs.drain(..32 << 20);
        }
        logs.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged (debug level and up) by every Berth started in this test process.
pub fn captured_logs() -> String {
    let logs = LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    String::from_utf8_lossy(&logs).into_owned()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
