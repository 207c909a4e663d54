//! The directory a server serves: one symlink per served repository, so one server can serve
//! repositories that live in different fixtures' temp dirs. Deleting a repository leaves a dangling
//! link, which servers report as "not found".

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::GitRepo;

/// A temp dir holding `repos/<name>.git -> <fixture>/served/<name>.git` links, plus room for
/// server files such as a CA bundle.
#[derive(Debug)]
pub(crate) struct ServeRoot {
    dir: TempDir,
}

impl ServeRoot {
    pub(crate) fn new(repos: &[&GitRepo]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("git-serve-")
            .tempdir()
            .expect("create a temp dir for a git server");
        std::fs::create_dir(dir.path().join("repos")).expect("create the served repos dir");
        let root = Self { dir };
        for repo in repos {
            root.add(repo);
        }
        root
    }

    /// The directory given to the server as its base path / project root.
    pub(crate) fn repos(&self) -> PathBuf {
        self.dir.path().join("repos")
    }

    /// A directory for the server's own files, outside the served tree.
    pub(crate) fn private(&self) -> &Path {
        self.dir.path()
    }

    #[track_caller]
    pub(crate) fn add(&self, repo: &GitRepo) {
        let link = self.repos().join(format!("{}.git", repo.name()));
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link).unwrap_or_else(|e| panic!("replace {link:?}: {e}"));
        }
        std::os::unix::fs::symlink(repo.bare_path(), &link)
            .unwrap_or_else(|e| panic!("link {link:?} to {:?}: {e}", repo.bare_path()));
    }
}
