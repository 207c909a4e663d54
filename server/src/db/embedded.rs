//! Berth's private PostgreSQL, run from the machine's PostgreSQL server binaries when no database URL
//! is configured.
//!
//! Data lives in `<data dir>/postgres`; the server listens only on a Unix socket inside that
//! directory (no TCP), is started with Berth and stopped with it. PostgreSQL refuses to run as root,
//! so a root Berth runs it as the `postgres` account. A lock file (`<data dir>/berth.lock`) proves no
//! other Berth uses the directory, which lets us tell a stale `postmaster.pid` (or a server orphaned
//! by a killed Berth) from a live one.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown, geteuid};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::process::{Child, Command};

const PORT: u16 = 5432;
const DB_USER: &str = "berth";
const DB_NAME: &str = "berth";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries (initdb, postgres) found on PATH or in /usr/lib/postgresql/*/bin. \
         Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql`), or point Berth at an existing server with \
         BERTH_DATABASE_URL=postgres://user:password@host:5432/berth"
    )]
    NoBinaries,
    #[error(
        "PostgreSQL refuses to run as root and this machine has no `postgres` account to run it as. \
         Create one (`useradd --system --home /var/lib/postgresql postgres`), run Berth as an unprivileged \
         user, or set BERTH_DATABASE_URL"
    )]
    NoPostgresAccount,
    #[error(
        "the `postgres` account cannot enter {dir} (mode {mode:o}); the embedded database lives below it. \
         Run `chmod o+x {dir}` or choose another BERTH_DATA_DIR"
    )]
    NotTraversable { dir: String, mode: u32 },
    #[error(
        "the data directory {0} is in use by another running Berth (it holds berth.lock); \
         give each Berth its own BERTH_DATA_DIR or share a PostgreSQL server via BERTH_DATABASE_URL"
    )]
    InUse(String),
    #[error("the socket path {0} is too long for a Unix socket; choose a shorter BERTH_DATA_DIR")]
    SocketPathTooLong(String),
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let what = what.into();
    move |source| EmbeddedError::Io { what, source }
}

/// The PostgreSQL server binaries to use.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
}

impl Binaries {
    /// Looks on PATH, then in the usual install locations, newest version first.
    pub fn find() -> Option<Binaries> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                // initdb on PATH is often a symlink into the versioned bin directory.
                if let Ok(real) = std::fs::canonicalize(dir.join("initdb"))
                    && let Some(parent) = real.parent()
                {
                    dirs.push(parent.to_path_buf());
                }
                dirs.push(dir);
            }
        }
        for pattern_root in [
            "/usr/lib/postgresql",
            "/usr/local/pgsql",
            "/opt/homebrew/opt",
        ] {
            let mut versions: Vec<PathBuf> = std::fs::read_dir(pattern_root)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            versions.sort_by_key(|p| std::cmp::Reverse(version_key(p)));
            dirs.extend(versions.into_iter().map(|v| v.join("bin")));
        }
        dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
        dirs.into_iter().find_map(|dir| {
            let initdb = dir.join("initdb");
            let postgres = dir.join("postgres");
            (is_executable(&initdb) && is_executable(&postgres))
                .then_some(Binaries { initdb, postgres })
        })
    }
}

fn version_key(p: &Path) -> u32 {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Which OS account runs PostgreSQL.
#[derive(Debug, Clone, Copy)]
struct Account {
    uid: u32,
    gid: u32,
    /// True when it differs from Berth's own account (Berth runs as root).
    switched: bool,
}

impl Account {
    fn pick() -> Result<Account, EmbeddedError> {
        let euid = geteuid();
        if !euid.is_root() {
            return Ok(Account {
                uid: euid.as_raw(),
                gid: nix::unistd::getegid().as_raw(),
                switched: false,
            });
        }
        let user = User::from_name("postgres")
            .ok()
            .flatten()
            .ok_or(EmbeddedError::NoPostgresAccount)?;
        Ok(Account {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            switched: true,
        })
    }

    fn command(self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        if self.switched {
            cmd.uid(self.uid).gid(self.gid);
        }
        cmd
    }

    fn own(self, path: &Path) -> Result<(), EmbeddedError> {
        if self.switched {
            chown(
                path,
                Some(nix::unistd::Uid::from_raw(self.uid)),
                Some(nix::unistd::Gid::from_raw(self.gid)),
            )
            .map_err(|e| EmbeddedError::Io {
                what: format!("chown {} to the postgres account", path.display()),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    /// The account must be able to walk from `/` down to `dir`.
    fn check_traversable(self, dir: &Path) -> Result<(), EmbeddedError> {
        if !self.switched {
            return Ok(());
        }
        for ancestor in dir.ancestors() {
            let Ok(meta) = std::fs::metadata(ancestor) else {
                continue;
            };
            let mode = meta.permissions().mode();
            let allowed = if meta.uid() == self.uid {
                mode & 0o100 != 0
            } else if meta.gid() == self.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !allowed {
                return Err(EmbeddedError::NotTraversable {
                    dir: ancestor.display().to_string(),
                    mode: mode & 0o7777,
                });
            }
        }
        Ok(())
    }
}

/// A running embedded PostgreSQL. Stop it with [`EmbeddedPostgres::stop`]; dropping it also asks
/// the server to shut down.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    pgdata: PathBuf,
    child: Option<Child>,
    _lock: Flock<File>,
}

impl EmbeddedPostgres {
    /// Initializes `<data_dir>/postgres` on first use, then starts the server and waits until it
    /// accepts connections and the `berth` database exists.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedPostgres, EmbeddedError> {
        let bins = Binaries::find().ok_or(EmbeddedError::NoBinaries)?;
        let account = Account::pick()?;
        let fresh_dir = !data_dir.exists();
        std::fs::create_dir_all(data_dir).map_err(io(format!("create {}", data_dir.display())))?;
        let data_dir = std::fs::canonicalize(data_dir)
            .map_err(io(format!("resolve {}", data_dir.display())))?;
        if fresh_dir && account.switched {
            // Berth created it: let the postgres account pass through, but not list it.
            std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o711))
                .map_err(io("chmod data directory"))?;
        }
        let lock = take_lock(&data_dir)?;
        let pgdata = data_dir.join("postgres");
        let socket = pgdata.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > 100 {
            return Err(EmbeddedError::SocketPathTooLong(
                socket.display().to_string(),
            ));
        }
        account.check_traversable(&data_dir)?;
        if !pgdata.join("PG_VERSION").exists() {
            initdb(&bins, account, &data_dir, &pgdata).await?;
        }
        clear_stale_pid(&pgdata).await?;

        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(format!("open {}", log_path.display())))?;
        let log_err = log.try_clone().map_err(io("dup log file"))?;
        let child = account
            .command(&bins.postgres)
            .arg("-D")
            .arg(&pgdata)
            .arg("-k")
            .arg(&pgdata)
            .args(["-p", &PORT.to_string(), "-c", "listen_addresses="])
            .args(["-c", "unix_socket_permissions=0700"])
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(false)
            .spawn()
            .map_err(io(format!("start {}", bins.postgres.display())))?;
        let mut pg = EmbeddedPostgres {
            pgdata,
            child: Some(child),
            _lock: lock,
        };
        if let Err(e) = pg.wait_ready(&log_path).await {
            pg.stop_inner().await;
            return Err(e);
        }
        tracing::info!(pgdata = %pg.pgdata.display(), "embedded PostgreSQL is ready");
        Ok(pg)
    }

    /// Connection options for the `berth` database over the private socket.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options(DB_NAME)
    }

    fn options(&self, db: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.pgdata)
            .port(PORT)
            .username(DB_USER)
            .database(db)
    }

    /// Where the server runs, for logs and errors.
    pub fn describe(&self) -> String {
        format!("embedded PostgreSQL (socket in {})", self.pgdata.display())
    }

    /// The process id of the postmaster, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    async fn wait_ready(&mut self, log_path: &Path) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(EmbeddedError::Step {
                    step: "starting the embedded PostgreSQL",
                    detail: format!("postgres exited with {status}; {}", log_tail(log_path)),
                });
            }
            match PgConnection::connect_with(&self.options("postgres")).await {
                Ok(mut conn) => {
                    let exists: Option<i32> =
                        sqlx::query_scalar("select 1 from pg_database where datname = $1")
                            .bind(DB_NAME)
                            .fetch_optional(&mut conn)
                            .await
                            .map_err(|e| step("checking the berth database", &e))?;
                    if exists.is_none() {
                        sqlx::query("create database berth")
                            .execute(&mut conn)
                            .await
                            .map_err(|e| step("creating the berth database", &e))?;
                    }
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(EmbeddedError::Step {
                        step: "waiting for the embedded PostgreSQL",
                        detail: format!("{e}; {}", log_tail(log_path)),
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Fast shutdown (SIGINT): disconnect clients, then stop; SIGKILL if it hangs.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid_i32(pid)), Signal::SIGINT);
        }
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(_) => tracing::info!("embedded PostgreSQL stopped"),
            Err(_) => {
                tracing::warn!("embedded PostgreSQL did not stop in time; killing it");
                let _ = child.kill().await;
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Some(pid) = self.child.as_ref().and_then(Child::id) {
            // Best effort when not stopped explicitly (e.g. a panic): ask for a fast shutdown.
            let _ = kill(Pid::from_raw(pid_i32(pid)), Signal::SIGINT);
        }
    }
}

fn pid_i32(pid: u32) -> i32 {
    i32::try_from(pid).unwrap_or(i32::MAX)
}

fn step(step: &'static str, e: &sqlx::Error) -> EmbeddedError {
    EmbeddedError::Step {
        step,
        detail: e.to_string(),
    }
}

fn take_lock(data_dir: &Path) -> Result<Flock<File>, EmbeddedError> {
    let path = data_dir.join("berth.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("open {}", path.display())))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| EmbeddedError::InUse(data_dir.display().to_string()))
}

async fn initdb(
    bins: &Binaries,
    account: Account,
    data_dir: &Path,
    pgdata: &Path,
) -> Result<(), EmbeddedError> {
    // Initialize beside the final place and rename, so a crash never leaves a half-made cluster.
    let staging = data_dir.join("postgres.init");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io("remove an unfinished initdb"))?;
    }
    if pgdata.exists() {
        // A directory without PG_VERSION is not a cluster; keep it aside rather than delete data.
        let aside = data_dir.join(format!(
            "postgres.broken-{}",
            chrono::Utc::now().timestamp()
        ));
        std::fs::rename(pgdata, &aside).map_err(io("move aside an incomplete data directory"))?;
        tracing::warn!(moved_to = %aside.display(), "found an incomplete PostgreSQL data directory");
    }
    std::fs::create_dir(&staging).map_err(io(format!("create {}", staging.display())))?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))
        .map_err(io("chmod data directory"))?;
    account.own(&staging)?;
    tracing::info!(pgdata = %pgdata.display(), "initializing the embedded PostgreSQL (first start)");
    let out = account
        .command(&bins.initdb)
        .arg("-D")
        .arg(&staging)
        .args([
            "-U",
            DB_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        ])
        .arg("--no-instructions")
        .output()
        .await
        .map_err(io(format!("run {}", bins.initdb.display())))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(EmbeddedError::Step {
            step: "initdb",
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    std::fs::rename(&staging, pgdata).map_err(io("move the new cluster into place"))?;
    Ok(())
}

/// Removes a `postmaster.pid` left by a crash. We hold `berth.lock`, so no other Berth uses this
/// directory: a live postmaster on it is an orphan of a killed Berth and is shut down first.
async fn clear_stale_pid(pgdata: &Path) -> Result<(), EmbeddedError> {
    let pid_file = pgdata.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&pid_file) else {
        return Ok(());
    };
    let pid: Option<i32> = text.lines().next().and_then(|l| l.trim().parse().ok());
    if let Some(pid) = pid.filter(|p| *p > 0)
        && is_postmaster_for(pid, pgdata)
    {
        tracing::warn!(
            pid,
            "stopping a PostgreSQL left running by a previous Berth"
        );
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while is_postmaster_for(pid, pgdata) {
            if Instant::now() > deadline {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        return Ok(());
    }
    tracing::warn!(file = %pid_file.display(), "removing a stale postmaster.pid left by a crash");
    std::fs::remove_file(&pid_file).map_err(io("remove stale postmaster.pid"))?;
    let sock_lock = pgdata.join(format!(".s.PGSQL.{PORT}.lock"));
    let _ = std::fs::remove_file(sock_lock);
    Ok(())
}

/// Whether `pid` is a live postgres process serving `pgdata` (checked through /proc).
fn is_postmaster_for(pid: i32, pgdata: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_postgres = args
        .first()
        .is_some_and(|a| a.ends_with(b"postgres") || a.starts_with(b"postgres"));
    let target = pgdata.as_os_str().as_encoded_bytes();
    is_postgres && args.contains(&target)
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    let tail: Vec<&str> = lines.into_iter().rev().collect();
    format!("last lines of {}:\n{}", path.display(), tail.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_postgres_versions_sort_first() {
        let mut v = [
            PathBuf::from("/usr/lib/postgresql/9"),
            PathBuf::from("/usr/lib/postgresql/16"),
            PathBuf::from("/usr/lib/postgresql/15"),
        ];
        v.sort_by_key(|p| std::cmp::Reverse(version_key(p)));
        assert_eq!(v[0], PathBuf::from("/usr/lib/postgresql/16"));
    }

    #[test]
    fn a_pid_that_is_not_a_postmaster_is_not_mistaken_for_one() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(!is_postmaster_for(me, Path::new("/nonexistent/pgdata")));
        assert!(!is_postmaster_for(i32::MAX - 1, Path::new("/x")));
    }
}
