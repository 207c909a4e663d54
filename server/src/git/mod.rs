//! Git with gix: ref listing without cloning, depth-1 fetch of one commit into a per-repository
//! bare mirror, and reading trees at a path with no working tree.
//!
//! Everything here is blocking (gix's network client is): call it from `spawn_blocking`. This
//! module knows nothing of HTTP handlers or SQL. It never consults the server's git config,
//! credential helpers or environment: repositories are opened isolated and a credentials
//! callback is always installed.

mod error;
mod remote;
mod ssh;
mod tree;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{GitError, GitErrorKind};
pub use remote::{
    CheckOutcome, FetchStats, ListingProtocol, RefListing, RemoteRef, check_remote, fetch_commit,
    list_refs,
};
pub use ssh::SSH_DIR_PREFIX;
pub use tree::{TreeEntry, read_blob, read_tree, tree_id_at};

use crate::crypto::Secret;

/// How to reach a remote repository.
#[derive(Clone, Debug)]
pub struct RemoteSpec {
    pub url: String,
    pub auth: GitAuth,
    /// Extra PEM certificates to trust (https).
    pub ca_bundle: Option<String>,
    pub skip_tls_verify: bool,
    /// Connect and whole-request timeout (https, ssh connect).
    pub timeout: Duration,
}

/// Credentials for a remote.
#[derive(Clone, Debug)]
pub enum GitAuth {
    None,
    /// HTTPS basic auth with a username and a token or password.
    Basic {
        username: String,
        password: Secret<String>,
    },
    /// SSH with a private key (OpenSSH PEM) and the server's known_hosts line(s).
    Ssh {
        private_key: Secret<String>,
        known_hosts: String,
    },
}

/// A per-repository bare mirror: a cache that can be deleted at any time and is rebuilt.
#[derive(Clone, Debug)]
pub struct Mirror {
    path: PathBuf,
}

impl Mirror {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the mirror, creating (or recreating, if it is damaged) an empty bare repository.
    pub(crate) fn open_or_init(&self) -> Result<gix::Repository, GitError> {
        if self.path.join("HEAD").exists() {
            match gix::open_opts(&self.path, open_options()) {
                Ok(repo) => return Ok(repo),
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "mirror damaged; rebuilding");
                    let _ = std::fs::remove_dir_all(&self.path);
                }
            }
        }
        std::fs::create_dir_all(&self.path).map_err(|e| GitError::io("creating the mirror", &e))?;
        gix::init_bare(&self.path).map_err(|e| GitError::from_gix("creating the mirror", &e))?;
        gix::open_opts(&self.path, open_options())
            .map_err(|e| GitError::from_gix("opening the mirror", &e))
    }

    /// Opens an existing mirror for reading; a missing mirror is `NotFound`.
    pub(crate) fn open(&self) -> Result<gix::Repository, GitError> {
        if !self.path.join("HEAD").exists() {
            return Err(GitError::new(
                GitErrorKind::ObjectMissing,
                "the mirror does not exist yet",
            ));
        }
        gix::open_opts(&self.path, open_options())
            .map_err(|e| GitError::from_gix("opening the mirror", &e))
    }

    /// Deletes the mirror; the next fetch rebuilds it.
    pub fn delete(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn open_options() -> gix::open::Options {
    gix::open::Options::isolated().strict_config(false)
}

/// A full 40-hex commit id (sha1), lowercase.
pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;
