//! Talking to remotes: ref listing (protocol v2 `ls-refs` filtered to the wanted refs where the
//! server supports it, the v1 advertisement otherwise) and depth-1 fetches of one commit.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use gix::remote::Direction;
use gix::remote::fetch::Shallow;

use super::ssh::{SshFiles, configure_ssh};
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
    let specs = listing_specs(wanted);
    let git_remote = remote_with(repo, remote, &specs)?;
    let (ref_map, handshake) = connect(&git_remote, remote)?
        .ref_map(
            gix::progress::Discard,
            gix::remote::ref_map::Options::default(),
        )
        .map_err(|e| GitError::from_gix("listing refs", &e))?;
    Ok(RefListing {
        refs: wanted_refs(&ref_map, wanted),
        protocol: protocol_of(&handshake),
    })
}

/// What one check of a remote found: the listed refs and what was fetched after them.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub refs: Vec<RemoteRef>,
    /// How the server answered; gix reports it only once a pack was asked for.
    pub protocol: Option<ListingProtocol>,
    /// The commits fetched into the mirror (those the caller picked that it lacked).
    pub fetched: Vec<String>,
    pub stats: FetchStats,
}

/// A check of a remote over one connection: lists `wanted` (as [`list_refs`] does), asks `pick`
/// which listed commits the caller needs, and fetches those the mirror lacks (depth 1) on the
/// same connection, so a check costs exactly one ref listing whether or not anything moved.
/// A picked commit that the server did not send is a `RefNotFound` error.
pub fn check_remote(
    mirror: &Mirror,
    remote: &RemoteSpec,
    wanted: &[String],
    pick: impl FnOnce(&[RemoteRef]) -> Vec<String>,
    interrupt: &AtomicBool,
) -> Result<CheckOutcome, GitError> {
    let mut repo = mirror.open_or_init()?;
    let ssh = configure_ssh(&mut repo, mirror, remote)?;
    check_remote_in(&repo, mirror, remote, wanted, pick, interrupt)
        .map_err(|e| SshFiles::explain(ssh.as_ref(), e))
}

fn check_remote_in(
    repo: &gix::Repository,
    mirror: &Mirror,
    remote: &RemoteSpec,
    wanted: &[String],
    pick: impl FnOnce(&[RemoteRef]) -> Vec<String>,
    interrupt: &AtomicBool,
) -> Result<CheckOutcome, GitError> {
    let started = Instant::now();
    let specs = listing_specs(wanted);
    let git_remote = remote_with(repo, remote, &specs)?;
    let prepared = connect(&git_remote, remote)?
        .prepare_fetch(
            gix::progress::Discard,
            gix::remote::ref_map::Options::default(),
        )
        .map_err(|e| GitError::from_gix("listing refs", &e))?;
    let refs = wanted_refs(prepared.ref_map(), wanted);
    let mut missing = Vec::new();
    for commit in pick(&refs) {
        let id = object_id(&commit)?;
        if repo.find_commit(id).is_err() && !missing.contains(&commit) {
            missing.push(commit);
        }
    }
    if missing.is_empty() {
        // Dropping the prepared fetch ends the conversation without asking for a pack.
        drop(prepared);
        return Ok(CheckOutcome {
            refs,
            protocol: None,
            fetched: Vec::new(),
            stats: FetchStats {
                duration: started.elapsed(),
                ..FetchStats::default()
            },
        });
    }
    let outcome = prepared
        .with_shallow(Shallow::DepthAtRemote(NonZeroU32::MIN))
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| GitError::from_gix("fetching", &e))?;
    let bytes = pack_bytes(&outcome.status);
    let repo = mirror.open()?;
    for commit in &missing {
        if repo.find_commit(object_id(commit)?).is_err() {
            return Err(GitError::new(
                GitErrorKind::RefNotFound,
                format!("commit {commit} was listed but the server did not send it"),
            ));
        }
    }
    Ok(CheckOutcome {
        refs,
        protocol: Some(protocol_of(&outcome.handshake)),
        fetched: missing,
        stats: FetchStats {
            bytes,
            duration: started.elapsed(),
            fetched: true,
        },
    })
}

/// Refspecs for a listing of `wanted`: each wanted ref (forced, history may be rewritten) into
/// Berth's own namespace of the mirror; `HEAD` as it is.
fn listing_specs(wanted: &[String]) -> Vec<String> {
    let specs: Vec<String> = wanted
        .iter()
        .map(|name| {
            if name == "HEAD" {
                "HEAD".to_owned()
            } else {
                format!(
                    "+{name}:refs/berth/listed/{}",
                    name.trim_start_matches("refs/")
                )
            }
        })
        .collect();
    if specs.is_empty() {
        vec!["HEAD".to_owned()]
    } else {
        specs
    }
}

/// An anonymous remote at the spec's URL with these fetch refspecs and no tag following.
fn remote_with<'repo>(
    repo: &'repo gix::Repository,
    remote: &RemoteSpec,
    specs: &[String],
) -> Result<gix::Remote<'repo>, GitError> {
    Ok(repo
        .remote_at(remote.url.as_str())
        .and_then(|r| r.with_refspecs(specs.iter().map(String::as_str), Direction::Fetch))
        .map_err(|e| GitError::from_gix("preparing the remote", &e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None))
}

/// Connects with the spec's credentials and transport options (nothing from git config).
fn connect<'remote, 'repo>(
    git_remote: &'remote gix::Remote<'repo>,
    remote: &RemoteSpec,
) -> Result<
    gix::remote::Connection<
        'remote,
        'static,
        'repo,
        Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
    >,
    GitError,
> {
    Ok(git_remote
        .connect(Direction::Fetch)
        .map_err(|e| GitError::from_gix("connecting", &e))?
        .with_credentials(credentials(&remote.auth))
        .with_transport_options(transport_options(remote)))
}

/// The wanted refs of a ref map (all of them when nothing in particular is wanted).
fn wanted_refs(ref_map: &gix::remote::fetch::RefMap, wanted: &[String]) -> Vec<RemoteRef> {
    let mut refs = Vec::new();
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
            refs.push(RemoteRef { name, commit });
        }
    }
    refs
}

fn protocol_of(handshake: &gix::protocol::Handshake) -> ListingProtocol {
    match handshake.server_protocol_version {
        gix::protocol::transport::Protocol::V2 => ListingProtocol::V2,
        gix::protocol::transport::Protocol::V0 | gix::protocol::transport::Protocol::V1 => {
            ListingProtocol::V1
        }
    }
}

fn object_id(commit: &str) -> Result<gix::ObjectId, GitError> {
    gix::ObjectId::from_hex(commit.as_bytes())
        .map_err(|e| GitError::new(GitErrorKind::Other, format!("bad commit id {commit}: {e}")))
}

/// Pack bytes a fetch received.
fn pack_bytes(status: &gix::remote::fetch::Status) -> u64 {
    match status {
        gix::remote::fetch::Status::Change {
            write_pack_bundle, ..
        } => write_pack_bundle
            .data_path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len()),
        gix::remote::fetch::Status::NoPackReceived { .. } => 0,
    }
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
    let id = object_id(commit)?;
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
    let git_remote = remote_with(repo, remote, &[spec, narrow.to_owned()])?;
    let outcome = connect(&git_remote, remote)?
        .prepare_fetch(
            gix::progress::Discard,
            gix::remote::ref_map::Options::default(),
        )
        .map_err(|e| GitError::from_gix("fetching", &e))?
        .with_shallow(Shallow::DepthAtRemote(NonZeroU32::MIN))
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| GitError::from_gix("fetching", &e))?;
    Ok(pack_bytes(&outcome.status))
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
