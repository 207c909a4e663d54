//! Talking to remotes: ref listing (protocol v2 `ls-refs` filtered to the wanted refs where the
//! server supports it, the v1 advertisement otherwise) and depth-1 fetches of one commit.

use std::io::Write;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use gix::remote::Direction;
use gix::remote::fetch::Shallow;

use super::{GitAuth, GitError, GitErrorKind, Mirror, RemoteSpec};

/// A ref as the server listed it; tags are peeled to the commit they point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// Full name, e.g. `refs/heads/main`.
    pub name: String,
    /// The commit (annotated tags peeled).
    pub commit: String,
}

/// How the server answered a ref listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingProtocol {
    /// The v0/v1 ref advertisement: every ref, filtered here.
    V1,
    /// Protocol v2 `ls-refs`, asked for the wanted refs only.
    V2,
}

impl ListingProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// The refs a listing found, and how the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefListing {
    pub refs: Vec<RemoteRef>,
    pub protocol: ListingProtocol,
}

/// What a fetch cost.
#[derive(Debug, Clone, Default)]
pub struct FetchStats {
    /// Pack bytes received (0 when the commit was already in the mirror).
    pub bytes: u64,
    pub duration: std::time::Duration,
    /// Whether a network fetch happened.
    pub fetched: bool,
}

/// Lists the refs named in `wanted` (full names such as `refs/heads/main`; `HEAD` too). With
/// protocol v2 only those are asked for (`ls-refs` with their prefixes); a server without v2
/// answers with its whole v1 advertisement, filtered here. Refs that do not exist are simply
/// absent from the result.
pub fn list_refs(
    mirror: &Mirror,
    remote: &RemoteSpec,
    wanted: &[String],
) -> Result<RefListing, GitError> {
    let mut repo = mirror.open_or_init()?;
    let ssh = configure_ssh(&mut repo, mirror, remote)?;
    list_refs_in(&repo, remote, wanted).map_err(|e| SshFiles::explain(ssh.as_ref(), e))
}

fn list_refs_in(
    repo: &gix::Repository,
    remote: &RemoteSpec,
    wanted: &[String],
) -> Result<RefListing, GitError> {
    let specs: Vec<String> = wanted
        .iter()
        .map(|name| {
            if name == "HEAD" {
                "HEAD".to_owned()
            } else {
                format!(
                    "{name}:refs/berth/listed/{}",
                    name.trim_start_matches("refs/")
                )
            }
        })
        .collect();
    let specs = if specs.is_empty() {
        vec!["HEAD".to_owned()]
    } else {
        specs
    };
    let git_remote = repo
        .remote_at(remote.url.as_str())
        .and_then(|r| r.with_refspecs(specs.iter().map(String::as_str), Direction::Fetch))
        .map_err(|e| GitError::from_gix("preparing the remote", &e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let connection = git_remote
        .connect(Direction::Fetch)
        .map_err(|e| GitError::from_gix("connecting", &e))?;
    let connection = connection
        .with_credentials(credentials(&remote.auth))
        .with_transport_options(transport_options(remote));
    let (ref_map, handshake) = connection
        .ref_map(
            gix::progress::Discard,
            gix::remote::ref_map::Options::default(),
        )
        .map_err(|e| GitError::from_gix("listing refs", &e))?;
    let mut out = Vec::new();
    for r in &ref_map.remote_refs {
        let (name, commit) = match r {
            gix::protocol::handshake::Ref::Peeled {
                full_ref_name,
                object,
                ..
            }
            | gix::protocol::handshake::Ref::Direct {
                full_ref_name,
                object,
            }
            | gix::protocol::handshake::Ref::Symbolic {
                full_ref_name,
                object,
                ..
            } => (full_ref_name.to_string(), object.to_string()),
            gix::protocol::handshake::Ref::Unborn { .. } => continue,
        };
        if wanted.is_empty() || wanted.contains(&name) {
            out.push(RemoteRef { name, commit });
        }
    }
    let protocol = match handshake.server_protocol_version {
        gix::protocol::transport::Protocol::V2 => ListingProtocol::V2,
        gix::protocol::transport::Protocol::V0 | gix::protocol::transport::Protocol::V1 => {
            ListingProtocol::V1
        }
    };
    Ok(RefListing {
        refs: out,
        protocol,
    })
}

/// Fetches exactly `commit` with depth 1 into the mirror (nothing when it is already there).
pub fn fetch_commit(
    mirror: &Mirror,
    remote: &RemoteSpec,
    commit: &str,
    interrupt: &AtomicBool,
) -> Result<FetchStats, GitError> {
    let started = Instant::now();
    let mut repo = mirror.open_or_init()?;
    let id = gix::ObjectId::from_hex(commit.as_bytes())
        .map_err(|e| GitError::new(GitErrorKind::Other, format!("bad commit id {commit}: {e}")))?;
    if repo.find_commit(id).is_ok() {
        return Ok(FetchStats {
            duration: started.elapsed(),
            ..FetchStats::default()
        });
    }
    let ssh = configure_ssh(&mut repo, mirror, remote)?;
    let bytes = receive_commit(&repo, remote, commit, interrupt)
        .map_err(|e| SshFiles::explain(ssh.as_ref(), e))?;
    drop(ssh);
    // The ref only kept the commit during the fetch; the mirror is a cache of objects.
    let repo = mirror.open()?;
    if repo.find_commit(id).is_err() {
        return Err(GitError::new(
            GitErrorKind::RefNotFound,
            format!("commit {commit} is not on the server"),
        ));
    }
    Ok(FetchStats {
        bytes,
        duration: started.elapsed(),
        fetched: true,
    })
}

/// One depth-1 fetch of `commit`; returns the pack bytes received.
fn receive_commit(
    repo: &gix::Repository,
    remote: &RemoteSpec,
    commit: &str,
    interrupt: &AtomicBool,
) -> Result<u64, GitError> {
    let spec = format!("{commit}:refs/berth/commits/{commit}");
    // gix lists refs before every fetch; an object id yields no `ref-prefix`, so the listing
    // would hold every ref. This glob matches nothing and narrows that listing to nothing: the
    // commit comes from the check's own listing, never from this one.
    let narrow = "refs/berth-none/*:refs/berth-none/*";
    let git_remote = repo
        .remote_at(remote.url.as_str())
        .and_then(|r| r.with_refspecs([spec.as_str(), narrow], Direction::Fetch))
        .map_err(|e| GitError::from_gix("preparing the remote", &e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let connection = git_remote
        .connect(Direction::Fetch)
        .map_err(|e| GitError::from_gix("connecting", &e))?
        .with_credentials(credentials(&remote.auth))
        .with_transport_options(transport_options(remote));
    let outcome = connection
        .prepare_fetch(
            gix::progress::Discard,
            gix::remote::ref_map::Options::default(),
        )
        .map_err(|e| GitError::from_gix("fetching", &e))?
        .with_shallow(Shallow::DepthAtRemote(NonZeroU32::MIN))
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| GitError::from_gix("fetching", &e))?;
    Ok(match &outcome.status {
        gix::remote::fetch::Status::Change {
            write_pack_bundle, ..
        } => write_pack_bundle
            .data_path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len()),
        gix::remote::fetch::Status::NoPackReceived { .. } => 0,
    })
}

/// The credentials callback: the configured account, or a refusal (never the server's helpers).
fn credentials(
    auth: &GitAuth,
) -> impl FnMut(
    gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
+ use<> {
    let account = match auth {
        GitAuth::Basic { username, password } => Some((username.clone(), password.clone())),
        _ => None,
    };
    let ssh = matches!(auth, GitAuth::Ssh { .. });
    let mut asked = false;
    move |action| match action {
        gix::credentials::helper::Action::Get(ctx) => match &account {
            // Asked twice means the first answer was refused.
            Some((user, password)) if !asked => {
                asked = true;
                Ok(Some(gix::credentials::protocol::Outcome {
                    identity: gix::sec::identity::Account {
                        username: user.clone(),
                        password: password.expose().clone(),
                        oauth_refresh_token: None,
                    },
                    next: ctx.into(),
                }))
            }
            Some(_) => Err(gix::Error::from_error(std::io::Error::other(
                "authentication failed: the server refused the credentials",
            ))),
            // ssh authenticates with the key; gix asks here only once the server refused it.
            None if ssh => Err(gix::Error::from_error(std::io::Error::other(
                super::error::SSH_KEY_REFUSED,
            ))),
            None => Err(gix::Error::from_error(std::io::Error::other(
                "authentication required but the repository has no credentials",
            ))),
        },
        _ => Ok(None),
    }
}

/// HTTP options: reqwest ignores git-config TLS settings, so CA bundles, skip-verify and timeouts
/// are set on the client builder.
fn transport_options(remote: &RemoteSpec) -> Box<dyn std::any::Any> {
    use gix::protocol::transport::client::blocking_io::http;
    let ca = remote.ca_bundle.clone();
    let skip = remote.skip_tls_verify;
    let timeout = remote.timeout;
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(
            move |mut builder: reqwest::blocking::ClientBuilder| {
                builder = builder
                    .connect_timeout(timeout)
                    .timeout(timeout)
                    .danger_accept_invalid_certs(skip);
                if let Some(pem) = &ca {
                    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                        .map_err(gix::Error::from_error)?;
                    for cert in certs {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                Ok(builder)
            },
        )),
        configure_request: None,
    };
    let backend: Arc<std::sync::Mutex<dyn std::any::Any + Send + Sync>> =
        Arc::new(std::sync::Mutex::new(backend));
    Box::new(http::Options {
        backend: Some(backend),
        ..http::Options::default()
    })
}

/// How the per-operation SSH directories inside a mirror are named.
pub const SSH_DIR_PREFIX: &str = "berth-ssh-";

/// A private directory (0700) holding the SSH key and known_hosts (0600) of one operation, and
/// what ssh wrote to stderr; removed on drop.
struct SshFiles {
    dir: tempfile::TempDir,
}

impl SshFiles {
    /// Explains a failed operation with what ssh said: its stderr goes to a file, never to
    /// Berth's own stderr, and names the cause (refused key, unknown host key, …) far better
    /// than the broken pipe gix sees.
    fn explain(files: Option<&Self>, e: GitError) -> GitError {
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
fn configure_ssh(
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
