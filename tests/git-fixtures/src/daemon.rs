//! `GitDaemon`: a real `git daemon` on 127.0.0.1 serving fixture repositories over `git://`.
//! Owns the daemon process and the children it forks per connection, and kills them on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::GitRepo;
use crate::command::isolate;
use crate::process::stop;
use crate::root::ServeRoot;
use crate::wait::{READY_TIMEOUT, free_port};

/// How often to retry when another process takes the free port before the daemon binds it.
const PORT_ATTEMPTS: usize = 5;

/// `git daemon --export-all --reuseaddr --informative-errors` on 127.0.0.1 and a free port.
///
/// Protocol v2 works: clients ask for it with `GIT_PROTOCOL` (git ≥ 2.26 does by default).
/// The daemon and its per-connection children are killed when this is dropped.
#[derive(Debug)]
pub struct GitDaemon {
    child: Child,
    port: u16,
    root: ServeRoot,
    log: Arc<Mutex<Vec<String>>>,
}

impl GitDaemon {
    /// Starts a daemon serving `repos` and returns once it accepts connections.
    ///
    /// # Panics
    /// If the daemon does not start within [`READY_TIMEOUT`] after a few ports were tried.
    #[track_caller]
    #[must_use]
    pub fn serve(repos: &[&GitRepo]) -> Self {
        let root = ServeRoot::new(repos);
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            match Started::on(&root, free_port()) {
                Ok(started) => {
                    return Self {
                        child: started.child,
                        port: started.port,
                        root,
                        log: started.log,
                    };
                }
                Err(failure) => failures.push(failure),
            }
        }
        panic!("git daemon did not start:\n{}", failures.join("\n---\n"));
    }

    /// Serves one more repository.
    pub fn add(&self, repo: &GitRepo) {
        self.root.add(repo);
    }

    /// `git://127.0.0.1:PORT/<name>.git` for a served repository.
    #[must_use]
    pub fn url(&self, repo: &GitRepo) -> String {
        self.url_for(repo.name())
    }

    /// The URL a repository called `name` would have, served or not.
    #[must_use]
    pub fn url_for(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }

    /// The daemon's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The daemon's `--verbose` log so far, one line per entry.
    #[must_use]
    pub fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many `upload-pack` (fetch and ls-remote) requests the daemon has logged.
    ///
    /// The log arrives asynchronously: wait for a count with [`crate::wait_until`].
    #[must_use]
    pub fn upload_pack_requests(&self) -> usize {
        self.count_log_lines("Request upload-pack for ")
    }

    /// How many connections asked for protocol v2.
    #[must_use]
    pub fn protocol_v2_requests(&self) -> usize {
        self.count_log_lines("Extended attribute \"protocol\": version=2")
    }

    fn count_log_lines(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A daemon that logged "Ready to rumble", i.e. is listening.
struct Started {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Started {
    fn on(root: &ServeRoot, port: u16) -> Result<Self, String> {
        let mut cmd = Command::new("git");
        isolate(&mut cmd);
        // No directory whitelist: with one, git daemon resolves the symlinks in the served root
        // and refuses repositories outside it.
        cmd.arg("daemon")
            .arg("--verbose")
            .arg("--export-all")
            .arg("--reuseaddr")
            .arg("--informative-errors")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", root.repos().display()))
            .arg("--init-timeout=10")
            .arg("--timeout=60")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start git daemon: {e}"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("Ready to rumble") {
                    let _ = ready_tx.send(true);
                }
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
            let _ = ready_tx.send(false);
        });
        match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(true) => Ok(Self { child, port, log }),
            outcome => {
                stop(&mut child);
                let log = log
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .join("\n");
                Err(format!("port {port}: {outcome:?}\n{log}"))
            }
        }
    }
}
