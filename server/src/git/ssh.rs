//! SSH transport set-up: a private key and known_hosts per operation, a pinned ssh command line,
//! and what ssh said when something failed.

use std::io::Write;
use std::path::PathBuf;

use super::{GitAuth, GitError, GitErrorKind, Mirror, RemoteSpec};

/// How the per-operation SSH directories inside a mirror are named.
pub const SSH_DIR_PREFIX: &str = "berth-ssh-";

/// A private directory (0700) holding the SSH key and known_hosts (0600) of one operation, and
/// what ssh wrote to stderr; removed on drop.
pub(super) struct SshFiles {
    dir: tempfile::TempDir,
}

impl SshFiles {
    /// Explains a failed operation with what ssh said: its stderr goes to a file, never to
    /// Berth's own stderr, and names the cause (refused key, unknown host key, …) far better
    /// than the broken pipe gix sees.
    pub(super) fn explain(files: Option<&Self>, e: GitError) -> GitError {
        let Some(said) = files.and_then(Self::stderr) else {
            return e;
        };
        let kind = match super::error::classify(&said) {
            GitErrorKind::Other => e.kind,
            kind => kind,
        };
        GitError::new(kind, format!("{} (ssh: {said})", e.detail))
    }

    /// ssh's stderr, banner lines dropped, on one line; `None` when it said nothing.
    fn stderr(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.path().join("stderr")).ok()?;
        let said: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '@'))
            .collect();
        let said = said.join(" / ");
        (!said.is_empty()).then(|| said.chars().take(800).collect())
    }
}

/// For ssh URLs, points `core.sshCommand` (in memory only) at a key and known_hosts file written
/// to a private temp dir, with strict host key checking and no agent, prompt or user config. The
/// dir lives in the mirror (Berth's data dir, not a shared /tmp) and goes with the operation.
pub(super) fn configure_ssh(
    repo: &mut gix::Repository,
    mirror: &Mirror,
    remote: &RemoteSpec,
) -> Result<Option<SshFiles>, GitError> {
    let GitAuth::Ssh {
        private_key,
        known_hosts,
    } = &remote.auth
    else {
        return Ok(None);
    };
    let dir = tempfile::Builder::new()
        .prefix(SSH_DIR_PREFIX)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(mirror.path())
        .map_err(|e| GitError::io("creating the ssh dir", &e))?;
    let key_path = dir.path().join("id");
    let hosts_path = dir.path().join("known_hosts");
    write_private(&key_path, private_key.expose().as_bytes())?;
    write_private(&hosts_path, known_hosts.as_bytes())?;
    let command = ssh_command(
        &key_path,
        &hosts_path,
        &dir.path().join("stderr"),
        remote.timeout.as_secs().max(1),
    );
    let mut config = repo.config_snapshot_mut();
    config
        .set_raw_value(gix::config::tree::Core::SSH_COMMAND, command.as_str())
        .map_err(|e| GitError::new(GitErrorKind::Other, format!("configuring ssh: {e}")))?;
    // Saves gix a `ssh -G` run to find out which ssh this is.
    config
        .set_value(&gix::config::tree::Ssh::VARIANT, "ssh")
        .map_err(|e| GitError::new(GitErrorKind::Other, format!("configuring ssh: {e}")))?;
    config
        .commit()
        .map_err(|e| GitError::from_gix("configuring ssh", &e))?;
    Ok(Some(SshFiles { dir }))
}

/// The ssh command line: only this key, only these known hosts, no prompts, no agent, no user
/// config, bounded connect and liveness; stderr into `stderr` (gix appends its arguments at
/// `"$@"`, and the shell it runs the command with does the redirection).
pub(crate) fn ssh_command(
    key: &std::path::Path,
    hosts: &std::path::Path,
    stderr: &std::path::Path,
    timeout: u64,
) -> String {
    format!(
        "ssh -F /dev/null -i '{}' -o IdentitiesOnly=yes -o IdentityAgent=none \
         -o UserKnownHostsFile='{}' -o GlobalKnownHostsFile=/dev/null \
         -o StrictHostKeyChecking=yes -o BatchMode=yes -o PreferredAuthentications=publickey \
         -o ConnectTimeout={timeout} -o ServerAliveInterval={timeout} -o ServerAliveCountMax=2 \
         \"$@\" 2>>'{}'",
        key.display(),
        hosts.display(),
        stderr.display()
    )
}

fn write_private(path: &PathBuf, contents: &[u8]) -> Result<(), GitError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| GitError::io("writing ssh material", &e))?;
    f.write_all(contents)
        .and_then(|()| {
            if contents.ends_with(b"\n") {
                Ok(())
            } else {
                f.write_all(b"\n")
            }
        })
        .map_err(|e| GitError::io("writing ssh material", &e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ssh_command_pins_the_key_and_known_hosts_and_never_prompts() {
        let cmd = super::ssh_command(
            std::path::Path::new("/tmp/x/id"),
            std::path::Path::new("/tmp/x/known_hosts"),
            std::path::Path::new("/tmp/x/stderr"),
            20,
        );
        for part in [
            "-F /dev/null",
            "-i '/tmp/x/id'",
            "IdentitiesOnly=yes",
            "UserKnownHostsFile='/tmp/x/known_hosts'",
            "StrictHostKeyChecking=yes",
            "BatchMode=yes",
            "ConnectTimeout=20",
            "IdentityAgent=none",
            "\"$@\" 2>>'/tmp/x/stderr'",
        ] {
            assert!(cmd.contains(part), "{cmd} lacks {part}");
        }
    }
}
