//! Real-browser scenarios: runs `node web/e2e/<scenario>.mjs` (playwright-core driving Debian's
//! Chromium) against a running Berth, and fails the test with the scenario's output unless it
//! exits 0.
//!
//! [`Scenario::run`] makes sure the dashboard is built (`npm run build` when `web/dist` is missing
//! or older than `web/src`), that Node and Chromium are there (`scripts/test.sh` installs
//! Chromium), and runs one scenario at a time per test process, since a browser is heavy on a
//! small machine. Screenshots land in `web/e2e/screenshots/` (git-ignored).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use tokio::process::Command;
use tokio::sync::Mutex;

use crate::TestApp;
use crate::app::ADMIN_PASSWORD;

/// One browser at a time in this process.
static BROWSER: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

/// How long a scenario may run before it is killed (the harness bounds each action to 15 s).
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(600);
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// The repository's `web/` directory.
pub fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// Where the built dashboard is, for `TestApp::spawn_with(|c| c.web_dir = …)`.
pub fn dist_dir() -> PathBuf {
    web_dir().join("dist")
}

/// The browser the scenarios drive (`BERTH_CHROMIUM` overrides).
pub fn chromium() -> PathBuf {
    std::env::var_os("BERTH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// A scenario script and the environment it runs with.
pub struct Scenario {
    name: String,
    env: Vec<(String, String)>,
}

impl Scenario {
    /// `web/e2e/<name>.mjs`, against `app` as its admin.
    pub fn new(name: &str, app: &TestApp) -> Self {
        Self {
            name: name.to_owned(),
            env: vec![
                ("BERTH_URL".into(), app.base.clone()),
                ("BERTH_ADMIN_USER".into(), "admin".into()),
                ("BERTH_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ],
        }
    }

    /// An extra environment variable for the script.
    #[must_use]
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Runs the scenario; panics with its output unless it passes.
    pub async fn run(self) {
        let _one_at_a_time = BROWSER.lock().await;
        ensure_tools();
        ensure_dashboard_built().await;
        let script = web_dir().join("e2e").join(format!("{}.mjs", self.name));
        assert!(script.is_file(), "no scenario {}", script.display());
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .current_dir(web_dir())
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .env("BERTH_CHROMIUM", chromium())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(SCENARIO_TIMEOUT, cmd.output())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "scenario {} did not finish within {SCENARIO_TIMEOUT:?}",
                    self.name
                )
            })
            .expect("run node");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "browser scenario {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            self.name,
            output.status
        );
        println!("{stdout}");
    }
}

fn ensure_tools() {
    let browser = chromium();
    assert!(
        browser.is_file(),
        "{} is missing: the dashboard's browser tests drive Debian's Chromium. Install it with \
         `apt-get install -y --no-install-recommends chromium` (scripts/test.sh does), or point \
         BERTH_CHROMIUM at a Chromium binary",
        browser.display()
    );
    assert!(
        web_dir().join("node_modules/playwright-core").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ (make web-deps)"
    );
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// Builds `web/dist` when it is missing or older than the dashboard's sources.
async fn ensure_dashboard_built() {
    let web = web_dir();
    let built = std::fs::metadata(web.join("dist/index.html"))
        .and_then(|m| m.modified())
        .ok();
    let sources = [
        web.join("src"),
        web.join("index.html"),
        web.join("openapi.json"),
    ]
    .iter()
    .map(|p| {
        if p.is_dir() {
            newest_mtime(p)
        } else {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        }
    })
    .max()
    .unwrap_or(SystemTime::UNIX_EPOCH);
    if built.is_some_and(|b| b >= sources) {
        return;
    }
    let mut cmd = Command::new("npm");
    cmd.args(["run", "build"])
        .current_dir(&web)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(BUILD_TIMEOUT, cmd.output())
        .await
        .expect("the dashboard build did not finish in time")
        .expect("run npm");
    assert!(
        output.status.success(),
        "npm run build failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
