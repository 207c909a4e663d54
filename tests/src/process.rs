//! A real `berth serve` process on a given database: for benchmarks and for tests that kill an
//! instance outright (SIGKILL), which an in-process `TestApp` cannot simulate.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The admin password every `BerthProcess` starts with.
pub const PROCESS_ADMIN_PASSWORD: &str = "process-admin-password";

/// A running `berth serve`; killed (SIGKILL) on drop.
pub struct BerthProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

/// The `berth` binary: `BERTH_BIN`, else next to the running executable (or its parent, for
/// test binaries under `deps/`).
pub fn berth_binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return Ok(PathBuf::from(p));
    }
    sibling_binary("berth")
}

/// A binary of the workspace built next to the running executable (or its parent, for test
/// binaries under `deps/`).
pub fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("binary directory")?;
    for candidate in [dir.join(name), dir.join("..").join(name)] {
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    bail!(
        "{name} was not found near {}: run `cargo build --workspace --bins` first",
        exe.display()
    )
}

/// A free local port (bound and released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl BerthProcess {
    /// Starts `berth serve` on `db_url` with `env` settings added, and waits until ready.
    pub async fn start(
        db_url: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<BerthProcess> {
        let bin = berth_binary()?;
        let port = free_port()?;
        let mut command = Command::new(&bin);
        command
            .arg("serve")
            .env("BERTH_DATABASE_URL", db_url)
            .env("BERTH_LISTEN", format!("127.0.0.1:{port}"))
            .env("BERTH_DATA_DIR", data_dir)
            .env("BERTH_WEB_DIR", data_dir.join("no-web"))
            .env("BERTH_ADMIN_PASSWORD", PROCESS_ADMIN_PASSWORD)
            .env("BERTH_LOGIN_RATE_PER_MINUTE", "1000")
            .env("BERTH_LOG", "warn")
            .stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut berth = BerthProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", berth.base)).send().await
                && r.status().is_success()
            {
                return Ok(berth);
            }
            if let Ok(Some(status)) = berth.child.try_wait() {
                bail!("berth exited before it was ready: {status}");
            }
            if Instant::now() > deadline {
                bail!("berth did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no lease released; what a crashed node looks like.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BerthProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
