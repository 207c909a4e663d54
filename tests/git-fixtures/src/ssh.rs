//! `SshGitServer`: fixture repositories over SSH, served by a real OpenSSH `sshd` on 127.0.0.1
//! with its own configuration, a fresh host key and its own authorized keys, never the machine's.
//! Each authorized key may run one thing: a forced command that serves `git-upload-pack` (through
//! `git-shell`) for the served repositories only, and logs the request. `SshKey` makes client key
//! pairs with `ssh-keygen`.
//!
//! `sshd` comes from OpenSSH's server package (`scripts/ensure-sshd.sh` installs it; `make test`
//! runs that). The server logs in as the user running the tests (sshd can only switch users as
//! root), so URLs read `ssh://<that user>@127.0.0.1:PORT/<name>.git`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

use crate::GitRepo;
use crate::process::{run_bounded, stop};
use crate::root::ServeRoot;
use crate::wait::{READY_TIMEOUT, free_port};

/// How often to retry when another process takes the free port before sshd binds it.
const PORT_ATTEMPTS: usize = 5;
/// How long `ssh-keygen` and other helpers may run.
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

/// An unencrypted ed25519 key pair made with `ssh-keygen`.
#[derive(Clone)]
pub struct SshKey {
    private_key: String,
    public_key: String,
}

impl std::fmt::Debug for SshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshKey")
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl SshKey {
    /// A fresh key pair; `comment` ends its public key line.
    ///
    /// # Panics
    /// If `ssh-keygen` is missing or fails.
    #[track_caller]
    #[must_use]
    pub fn generate(comment: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for ssh-keygen");
        let path = dir.path().join("key");
        keygen(&path, comment);
        let read = |p: &Path| {
            std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        };
        Self {
            private_key: read(&path),
            public_key: read(&path.with_extension("pub")).trim().to_owned(),
        }
    }

    /// The private key, OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    #[must_use]
    pub fn private_key(&self) -> &str {
        &self.private_key
    }

    /// The public key line, `ssh-ed25519 AAAA… comment`.
    #[must_use]
    pub fn public_key(&self) -> &str {
        &self.public_key
    }
}

/// `ssh-keygen -t ed25519` without a passphrase, writing `path` and `path.pub`.
#[track_caller]
fn keygen(path: &Path, comment: &str) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path);
    let out = run_bounded(cmd, "ssh-keygen", TOOL_TIMEOUT);
    assert!(
        out.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `git-upload-pack` the forced command served (or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshRequest {
    /// The repository asked for, as sent (`app.git`).
    pub repository: String,
    /// The `GIT_PROTOCOL` the client sent and sshd passed on (`version=2`), empty for v0/v1.
    pub git_protocol: String,
}

/// A real `sshd` serving fixture repositories over `ssh://`. Stopped, with its per-connection
/// children, when dropped.
#[derive(Debug)]
pub struct SshGitServer {
    child: Child,
    port: u16,
    user: String,
    host_key: String,
    root: ServeRoot,
    dir: TempDir,
    log: SharedLog,
}

/// Settings for an [`SshGitServer`] before it starts.
#[derive(Debug, Default)]
#[must_use]
pub struct SshGitServerBuilder {
    protocol_v0_only: bool,
    keys: Vec<SshKey>,
}

impl SshGitServerBuilder {
    /// Speak only protocol v0/v1: sshd does not pass `GIT_PROTOCOL` on, as an old server would.
    pub fn protocol_v0_only(mut self) -> Self {
        self.protocol_v0_only = true;
        self
    }

    /// Lets `key` in from the start (more can be authorized later).
    pub fn authorize(mut self, key: &SshKey) -> Self {
        self.keys.push(key.clone());
        self
    }

    /// Starts sshd serving `repos` and returns once it listens.
    ///
    /// # Panics
    /// If sshd is not installed (run `scripts/ensure-sshd.sh`) or does not start.
    #[track_caller]
    pub fn serve(self, repos: &[&GitRepo]) -> SshGitServer {
        let sshd = SshGitServer::sshd_path().unwrap_or_else(|| {
            panic!(
                "sshd not found: install OpenSSH's server (scripts/ensure-sshd.sh does; `make test` \
                 runs it) to run the SSH tests"
            )
        });
        let root = ServeRoot::new(repos);
        let dir = tempfile::Builder::new()
            .prefix("git-sshd-")
            .tempdir()
            .expect("a temp dir for sshd");
        let host_path = dir.path().join("host_ed25519");
        keygen(&host_path, "git-fixtures-host");
        let host_key = std::fs::read_to_string(host_path.with_extension("pub"))
            .expect("read the host public key")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let user = current_user();
        write_forced_command(dir.path(), &root.repos());
        std::fs::write(dir.path().join("requests.log"), "").expect("create the request log");
        let mut server_keys = String::new();
        for key in &self.keys {
            let _ = writeln!(server_keys, "{}", authorized_line(dir.path(), key));
        }
        std::fs::write(dir.path().join("authorized_keys"), server_keys)
            .expect("write authorized_keys");
        prepare_privilege_separation();
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let config = sshd_config(dir.path(), port, &user, !self.protocol_v0_only);
            let config_path = dir.path().join("sshd_config");
            std::fs::write(&config_path, config).expect("write sshd_config");
            match start(&sshd, &config_path, port) {
                Ok((child, log)) => {
                    return SshGitServer {
                        child,
                        port,
                        user,
                        host_key,
                        root,
                        dir,
                        log,
                    };
                }
                Err(failure) => failures.push(failure),
            }
        }
        panic!("sshd did not start:\n{}", failures.join("\n---\n"));
    }
}

impl SshGitServer {
    /// An sshd speaking protocol v2 when asked, with no key authorized yet.
    pub fn builder() -> SshGitServerBuilder {
        SshGitServerBuilder::default()
    }

    /// Starts an sshd serving `repos` that lets `key` in.
    #[track_caller]
    #[must_use]
    pub fn serve(repos: &[&GitRepo], key: &SshKey) -> Self {
        Self::builder().authorize(key).serve(repos)
    }

    /// Where OpenSSH's `sshd` is installed, if it is.
    #[must_use]
    pub fn sshd_path() -> Option<PathBuf> {
        let on_path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("sshd")).collect())
            .unwrap_or_default();
        on_path
            .into_iter()
            .chain([PathBuf::from("/usr/sbin/sshd"), PathBuf::from("/sbin/sshd")])
            .find(|p| p.is_file())
    }

    /// Lets `key` in from now on.
    pub fn authorize(&self, key: &SshKey) {
        let path = self.dir.path().join("authorized_keys");
        let mut keys = std::fs::read_to_string(&path).expect("read authorized_keys");
        let _ = writeln!(keys, "{}", authorized_line(self.dir.path(), key));
        // Written aside and renamed: sshd never reads a half-written file.
        let next = self.dir.path().join("authorized_keys.next");
        std::fs::write(&next, keys).expect("write authorized_keys");
        std::fs::rename(&next, &path).expect("replace authorized_keys");
    }

    /// Serves one more repository.
    pub fn add(&self, repo: &GitRepo) {
        self.root.add(repo);
    }

    /// `ssh://USER@127.0.0.1:PORT/<name>.git` for a served repository.
    #[must_use]
    pub fn url(&self, repo: &GitRepo) -> String {
        self.url_for(repo.name())
    }

    /// The URL a repository called `name` would have, served or not.
    #[must_use]
    pub fn url_for(&self, name: &str) -> String {
        format!("ssh://{}@127.0.0.1:{}/{name}.git", self.user, self.port)
    }

    /// The known_hosts line that trusts this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    #[must_use]
    pub fn known_hosts(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }

    /// The server's public host key, `ssh-ed25519 AAAA…`.
    #[must_use]
    pub fn host_public_key(&self) -> &str {
        &self.host_key
    }

    /// The port sshd listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user clients log in as.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Every `git-upload-pack` the forced command was asked for, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<SshRequest> {
        let text =
            std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("upload-pack ")?;
                let (repository, protocol) = rest.split_once(" protocol=")?;
                Some(SshRequest {
                    repository: repository.to_owned(),
                    git_protocol: protocol.to_owned(),
                })
            })
            .collect()
    }

    /// sshd's log so far (`LogLevel VERBOSE`: accepted and refused keys, sessions).
    #[must_use]
    pub fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for SshGitServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The login name of the user running the tests.
fn current_user() -> String {
    let out = run_bounded(
        {
            let mut cmd = Command::new("id");
            cmd.arg("-un");
            cmd
        },
        "id -un",
        TOOL_TIMEOUT,
    );
    let user = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success() && !user.is_empty(),
        "cannot tell the current user"
    );
    user
}

/// As root, sshd needs its privilege separation directory (the package's service would make it).
fn prepare_privilege_separation() {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let dir = Path::new("/run/sshd");
    if root && !dir.exists() && std::fs::create_dir_all(dir).is_ok() {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
}

/// An authorized_keys line that lets `key` run the forced command only.
fn authorized_line(dir: &Path, key: &SshKey) -> String {
    format!(
        "command=\"{}\",restrict {}",
        dir.join("serve-git").display(),
        key.public_key()
    )
}

/// The forced command: parses `SSH_ORIGINAL_COMMAND`, allows `git-upload-pack` of a served
/// repository only (no path separators, nothing outside the served directory), logs it, and runs
/// it through `git-shell` with the machine's git config out of the way.
fn write_forced_command(dir: &Path, repos: &Path) {
    let git_dir = git_exec_dir();
    let script = format!(
        r#"#!/bin/sh
# git-fixtures: the only thing an authorized key may run.
set -f
root='{root}'
log='{log}'
cmd=$SSH_ORIGINAL_COMMAND
case $cmd in
  "git-upload-pack '"*"'") path=${{cmd#"git-upload-pack '"}}; path=${{path%"'"}} ;;
  "git-upload-pack "*) path=${{cmd#"git-upload-pack "}} ;;
  *) echo "git-fixtures: only git-upload-pack is served" >&2; exit 1 ;;
esac
path=${{path#/}}
printf 'upload-pack %s protocol=%s\n' "$path" "${{GIT_PROTOCOL:-}}" >> "$log"
case $path in
  ""|*/*|.*|*"'"*|*\\*) echo "fatal: '$path' does not appear to be a git repository" >&2; exit 128 ;;
esac
export HOME=/nonexistent/git-fixtures-home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export PATH='{git_dir}':"$PATH"
exec '{git_dir}/git-shell' -c "git-upload-pack '$root/$path'"
"#,
        root = repos.display(),
        log = dir.join("requests.log").display(),
        git_dir = git_dir.display(),
    );
    let path = dir.join("serve-git");
    std::fs::write(&path, script).expect("write the forced command");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the forced command executable");
}

/// Where git keeps `git-shell` and `git-upload-pack` (`git --exec-path`).
fn git_exec_dir() -> PathBuf {
    let out = crate::git(["--exec-path"]).run();
    assert!(out.success(), "git --exec-path: {}", out.stderr);
    let dir = PathBuf::from(out.stdout.trim());
    assert!(
        dir.join("git-shell").is_file(),
        "git-shell not found in {}",
        dir.display()
    );
    dir
}

fn sshd_config(dir: &Path, port: u16, user: &str, protocol_v2: bool) -> String {
    let d = dir.display();
    let accept_env = if protocol_v2 {
        "AcceptEnv GIT_PROTOCOL\n"
    } else {
        ""
    };
    format!(
        "# git-fixtures: one test's sshd; nothing from the machine's configuration.
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {d}/host_ed25519
PidFile none
UsePAM no
PermitRootLogin prohibit-password
AllowUsers {user}
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {d}/authorized_keys
AuthorizedPrincipalsFile none
StrictModes no
DisableForwarding yes
PermitTTY no
PermitUserRC no
PrintMotd no
MaxStartups 64:30:128
LoginGraceTime 20
LogLevel VERBOSE
{accept_env}"
    )
}

/// Starts sshd in the foreground (`-D`, logging to stderr with `-e`) and waits until it listens.
type SharedLog = Arc<Mutex<Vec<String>>>;

fn start(sshd: &Path, config: &Path, port: u16) -> Result<(Child, SharedLog), String> {
    let mut child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", sshd.display()))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready_rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr is piped");
    let sink = Arc::clone(&log);
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("Server listening on") {
                let _ = ready_tx.send(true);
            }
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
        let _ = ready_tx.send(false);
    });
    match ready_rx.recv_timeout(READY_TIMEOUT) {
        Ok(true) => Ok((child, log)),
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
