//! `GitRepo`: a real repository made with the `git` CLI in a temp dir. Changes are made in a
//! working clone and force-published (`git push --mirror`) to a bare repository, which is the only
//! thing servers serve. Knows nothing of servers or of HTTP.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;

use crate::command::{GitCommand, git};

/// Commit and tag dates start here and advance a minute per object, so shas are reproducible and a
/// rewritten commit with the same tree and message still gets a new sha.
const EPOCH: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// A git repository for one test: a working repository where changes are made, and a bare
/// repository (`<name>.git`) that git servers serve.
///
/// Every method that changes refs publishes at once, with force, so the served repository always
/// mirrors the working one: `reset_hard`, `move_branch` and `amend` rewrite served history.
/// Fixtures panic on failure (with git's stderr): a broken fixture is a broken test.
#[derive(Debug)]
pub struct GitRepo {
    name: String,
    _dir: TempDir,
    work: PathBuf,
    bare: PathBuf,
    clock: AtomicU64,
}

impl GitRepo {
    /// Creates an empty repository named `name` (served as `<name>.git`), default branch `main`.
    ///
    /// # Panics
    /// If `name` is not made of ASCII letters, digits, `-`, `_` and `.`, or git fails.
    #[track_caller]
    #[must_use]
    pub fn new(name: &str) -> Self {
        assert!(
            !name.is_empty()
                && !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "invalid fixture repository name {name:?}"
        );
        let dir = tempfile::Builder::new()
            .prefix("git-fixture-")
            .tempdir()
            .expect("create a temp dir for a git fixture");
        let work = dir.path().join("work");
        let bare = dir.path().join("served").join(format!("{name}.git"));
        git(["init", "-q", "-b", "main"]).arg(&work).run_ok();
        let repo = Self {
            name: name.to_owned(),
            _dir: dir,
            work,
            bare,
            clock: AtomicU64::new(0),
        };
        repo.init_bare();
        repo
    }

    /// Creates a repository with one commit on `main` holding `files`.
    #[track_caller]
    #[must_use]
    pub fn with_files(name: &str, files: &[(&str, &str)]) -> Self {
        let repo = Self::new(name);
        repo.commit_files(files, "initial commit");
        repo
    }

    fn init_bare(&self) {
        git(["init", "-q", "--bare", "-b", "main"])
            .arg(&self.bare)
            .run_ok();
        // Let clients fetch any reachable commit (Berth pins deployments to shas), and use filters.
        for (key, value) in [
            ("uploadpack.allowReachableSHA1InWant", "true"),
            ("uploadpack.allowFilter", "true"),
            ("http.receivepack", "false"),
        ] {
            self.bare_git(["config", key, value]).run_ok();
        }
    }

    /// The repository's name, without `.git`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The working repository where changes are made.
    #[must_use]
    pub fn work_path(&self) -> &Path {
        &self.work
    }

    /// The bare repository that servers serve.
    #[must_use]
    pub fn bare_path(&self) -> &Path {
        &self.bare
    }

    /// A `file://` URL of the served repository.
    #[must_use]
    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// An isolated git command running in the working repository, for anything the helpers lack;
    /// call [`GitRepo::publish`] afterwards if it changed refs.
    #[must_use]
    pub fn work_git<I, S>(&self, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let date = format!(
            "{} +0000",
            EPOCH + 60 * self.clock.fetch_add(1, Ordering::Relaxed)
        );
        git(args)
            .current_dir(&self.work)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
    }

    fn bare_git<I, S>(&self, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        git(["--git-dir".as_ref(), self.bare.as_os_str()]).args(args)
    }

    /// Writes a file in the working tree (parent directories included); commit to publish it.
    #[track_caller]
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let file = self.work.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {parent:?}: {e}"));
        }
        fs::write(&file, contents).unwrap_or_else(|e| panic!("write {file:?}: {e}"));
    }

    /// Removes a file or directory from the working tree; commit to publish the removal.
    #[track_caller]
    pub fn remove(&self, path: &str) {
        let target = self.work.join(path);
        let removed = if target.is_dir() {
            fs::remove_dir_all(&target)
        } else {
            fs::remove_file(&target)
        };
        removed.unwrap_or_else(|e| panic!("remove {target:?}: {e}"));
    }

    /// Commits everything in the working tree (empty commits allowed) on the current branch,
    /// publishes it and returns the full commit sha.
    #[track_caller]
    pub fn commit(&self, message: &str) -> String {
        self.work_git(["add", "-A"]).run_ok();
        self.work_git(["commit", "-q", "--allow-empty", "-m", message])
            .run_ok();
        self.publish();
        self.rev_parse("HEAD")
    }

    /// Writes `files` and commits them: [`GitRepo::write`] then [`GitRepo::commit`].
    #[track_caller]
    pub fn commit_files(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, contents) in files {
            self.write(path, contents);
        }
        self.commit(message)
    }

    /// Replaces the last commit on the current branch (new sha, same parent) and force-publishes.
    #[track_caller]
    pub fn amend(&self, message: &str) -> String {
        self.work_git(["add", "-A"]).run_ok();
        self.work_git(["commit", "-q", "--amend", "--allow-empty", "-m", message])
            .run_ok();
        self.publish();
        self.rev_parse("HEAD")
    }

    /// Creates branch `name` at the current commit, without switching to it.
    #[track_caller]
    pub fn branch(&self, name: &str) {
        self.work_git(["branch", name]).run_ok();
        self.publish();
    }

    /// Switches the working repository to an existing branch, tag or commit.
    #[track_caller]
    pub fn checkout(&self, name: &str) {
        self.work_git(["checkout", "-q", name]).run_ok();
    }

    /// Points branch `name` at `sha` (creating it if needed), fast-forward or not, and publishes.
    #[track_caller]
    pub fn move_branch(&self, name: &str, sha: &str) {
        if self.current_branch().as_deref() == Some(name) {
            self.work_git(["reset", "-q", "--hard", sha]).run_ok();
        } else {
            self.work_git(["branch", "-f", name, sha]).run_ok();
        }
        self.publish();
    }

    /// Resets the current branch and working tree to `sha` and force-publishes: history after
    /// `sha` disappears from the server, as after a `git push --force`.
    #[track_caller]
    pub fn reset_hard(&self, sha: &str) {
        self.work_git(["reset", "-q", "--hard", sha]).run_ok();
        self.publish();
    }

    /// Deletes a branch (switch away from it first) and publishes the deletion.
    #[track_caller]
    pub fn delete_branch(&self, name: &str) {
        self.work_git(["branch", "-q", "-D", name]).run_ok();
        self.publish();
    }

    /// Creates a lightweight tag at the current commit and publishes it.
    #[track_caller]
    pub fn tag(&self, name: &str) {
        self.work_git(["tag", name]).run_ok();
        self.publish();
    }

    /// Creates an annotated tag at the current commit and publishes it; returns the tag object's
    /// sha (what `ls-remote` lists for `refs/tags/<name>`, with the commit under `^{}`).
    #[track_caller]
    pub fn annotated_tag(&self, name: &str, message: &str) -> String {
        self.work_git(["tag", "-a", name, "-m", message]).run_ok();
        self.publish();
        self.rev_parse(&format!("refs/tags/{name}"))
    }

    /// Deletes a tag and publishes the deletion.
    #[track_caller]
    pub fn delete_tag(&self, name: &str) {
        self.work_git(["tag", "-d", name]).run_ok();
        self.publish();
    }

    /// Makes `branch` the served repository's default branch (its `HEAD`).
    #[track_caller]
    pub fn set_default_branch(&self, branch: &str) {
        self.bare_git(["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")])
            .run_ok();
    }

    /// Mirrors every branch and tag of the working repository to the served one, with force and
    /// deletions. The helpers call it; call it yourself after [`GitRepo::work_git`].
    #[track_caller]
    pub fn publish(&self) {
        self.work_git(["push", "-q", "--mirror", "--force"])
            .arg(&self.bare)
            .run_ok();
    }

    /// The sha of `branch` as served (not the working repository's).
    #[track_caller]
    #[must_use]
    pub fn head(&self, branch: &str) -> String {
        self.bare_git([
            "rev-parse",
            "--verify",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])
        .run_ok()
    }

    /// Resolves any revision in the working repository to a full sha.
    #[track_caller]
    #[must_use]
    pub fn rev_parse(&self, rev: &str) -> String {
        self.work_git(["rev-parse", "--verify", rev]).run_ok()
    }

    /// The id of the tree at `path` in `commit` (`""` for the root tree).
    #[track_caller]
    #[must_use]
    pub fn tree_id(&self, commit: &str, path: &str) -> String {
        let path = path.trim_matches('/');
        if path.is_empty() {
            self.rev_parse(&format!("{commit}^{{tree}}"))
        } else {
            self.rev_parse(&format!("{commit}:{path}"))
        }
    }

    /// The branch checked out in the working repository, if any.
    #[must_use]
    pub fn current_branch(&self) -> Option<String> {
        let out = self
            .work_git(["symbolic-ref", "-q", "--short", "HEAD"])
            .run();
        out.success().then(|| out.stdout.trim().to_owned())
    }

    /// Deletes the served repository, as when the upstream is deleted: clients get "not found".
    #[track_caller]
    pub fn delete_repository(&self) {
        fs::remove_dir_all(&self.bare)
            .unwrap_or_else(|e| panic!("delete served repository {:?}: {e}", self.bare));
    }

    /// Brings a deleted served repository back with the working repository's refs.
    #[track_caller]
    pub fn restore_repository(&self) {
        self.init_bare();
        self.publish();
    }

    /// Whether the served repository exists.
    #[must_use]
    pub fn is_served(&self) -> bool {
        self.bare.join("HEAD").exists()
    }
}
