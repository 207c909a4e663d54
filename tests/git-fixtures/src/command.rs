//! Running the `git` CLI in isolation: never the user's config, credential helpers, `.netrc` or
//! terminal prompts, and never without a timeout. Owns no repository state.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a single git command may run before it is killed and the test fails.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A `HOME` that does not exist, so git and curl find no `~/.gitconfig`, `~/.netrc` or credentials.
const EMPTY_HOME: &str = "/nonexistent/git-fixtures-home";

/// Strips every inherited `GIT_*` variable and points git away from any global or system config.
///
/// Applied to every git process the fixtures start, clients and servers alike.
pub(crate) fn isolate(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("SSH_ASKPASS")
        .env("HOME", EMPTY_HOME)
        .env("XDG_CONFIG_HOME", EMPTY_HOME)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", "Berth Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@berth.test")
        .env("GIT_COMMITTER_NAME", "Berth Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@berth.test");
}

/// Starts an isolated git client command: `git(["ls-remote", &url]).run()`.
///
/// Inherited `GIT_*` variables are removed, global and system config are ignored, prompts are off
/// and the author/committer are fixed, so the result never depends on the machine running the test.
pub fn git<I, S>(args: I) -> GitCommand
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    GitCommand::new().args(args)
}

/// Builder for one isolated `git` invocation; see [`git`].
#[derive(Debug)]
pub struct GitCommand {
    cmd: Command,
    timeout: Duration,
}

impl GitCommand {
    fn new() -> Self {
        let mut cmd = Command::new("git");
        isolate(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self {
            cmd,
            timeout: GIT_TIMEOUT,
        }
    }

    /// Adds one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable, e.g. `GIT_SSL_CAINFO` or `GIT_PROTOCOL`.
    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Runs in `dir` instead of the test's working directory.
    #[must_use]
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Replaces the default [`GIT_TIMEOUT`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `git arg…` as typed in a shell, for failure messages (the fixed environment left out).
    fn describe(&self) -> String {
        let args: Vec<_> = self.cmd.get_args().map(|a| a.to_string_lossy()).collect();
        format!("`git {}`", args.join(" "))
    }

    /// Runs the command to completion and returns its output, whatever its exit status.
    ///
    /// # Panics
    /// If git cannot be started or outlives the timeout (it is killed first).
    #[track_caller]
    pub fn run(mut self) -> GitOutput {
        let described = self.describe();
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {described}: {e}"));
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{described} did not finish within {:?}", self.timeout);
                }
                Err(e) => panic!("cannot wait for {described}: {e}"),
            }
        };
        GitOutput {
            status,
            stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
        }
    }

    /// Runs the command and returns its stdout without the trailing newline.
    ///
    /// # Panics
    /// If the command fails; the message carries git's stderr.
    #[track_caller]
    pub fn run_ok(self) -> String {
        let described = self.describe();
        let output = self.run();
        assert!(
            output.success(),
            "{described} failed ({}):\n{}",
            output.status,
            output.stderr
        );
        output.stdout.trim_end().to_owned()
    }
}

/// Reads a pipe to its end on a helper thread, so a chatty child never blocks on a full pipe.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// What a finished git command printed.
#[derive(Debug, Clone)]
pub struct GitOutput {
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl GitOutput {
    /// Whether git exited with status 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.status.success()
    }
}
