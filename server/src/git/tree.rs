//! Reading a commit's tree in the mirror: the id at a path, the files under a path, a blob.

use super::{GitError, GitErrorKind, Mirror};

/// A file under a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path relative to the repository root.
    pub path: String,
    pub blob_id: String,
}

fn normalize(path: &str) -> &str {
    let p = path.trim_matches('/');
    if p == "." { "" } else { p }
}

fn commit_tree<'r>(repo: &'r gix::Repository, commit: &str) -> Result<gix::Tree<'r>, GitError> {
    let id = gix::ObjectId::from_hex(commit.as_bytes())
        .map_err(|e| GitError::new(GitErrorKind::Other, format!("bad commit id {commit}: {e}")))?;
    repo.find_commit(id)
        .map_err(|_| {
            GitError::new(
                GitErrorKind::ObjectMissing,
                format!("commit {commit} is not in the mirror"),
            )
        })?
        .tree()
        .map_err(|e| GitError::from_gix("reading the commit's tree", &e))
}

/// The id of the tree (or blob) at `path` in `commit`; `None` when the path does not exist.
/// `""` or `"."` is the root tree.
pub fn tree_id_at(mirror: &Mirror, commit: &str, path: &str) -> Result<Option<String>, GitError> {
    let repo = mirror.open()?;
    let tree = commit_tree(&repo, commit)?;
    let path = normalize(path);
    if path.is_empty() {
        return Ok(Some(tree.id.to_string()));
    }
    let entry = tree
        .lookup_entry_by_path(path)
        .map_err(|e| GitError::from_gix("reading the tree", &e))?;
    Ok(entry.map(|e| e.object_id().to_string()))
}

/// Every file under `path` in `commit`, sorted by path (empty when the path does not exist).
pub fn read_tree(mirror: &Mirror, commit: &str, path: &str) -> Result<Vec<TreeEntry>, GitError> {
    let repo = mirror.open()?;
    let root = commit_tree(&repo, commit)?;
    let path = normalize(path);
    let (tree, prefix) = if path.is_empty() {
        (root, String::new())
    } else {
        let Some(entry) = root
            .lookup_entry_by_path(path)
            .map_err(|e| GitError::from_gix("reading the tree", &e))?
        else {
            return Ok(Vec::new());
        };
        if entry.mode().is_blob() {
            return Ok(vec![TreeEntry {
                path: path.to_owned(),
                blob_id: entry.object_id().to_string(),
            }]);
        }
        let tree = entry
            .object()
            .map_err(|e| GitError::from_gix("reading the tree", &e))?
            .into_tree();
        (tree, format!("{path}/"))
    };
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .map_err(|e| GitError::from_gix("walking the tree", &e))?;
    let mut files: Vec<TreeEntry> = recorder
        .records
        .into_iter()
        .filter(|r| r.mode.is_blob())
        .map(|r| TreeEntry {
            path: format!("{prefix}{}", r.filepath),
            blob_id: r.oid.to_string(),
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The contents of the file at `path` in `commit`.
pub fn read_blob(mirror: &Mirror, commit: &str, path: &str) -> Result<Vec<u8>, GitError> {
    let repo = mirror.open()?;
    let tree = commit_tree(&repo, commit)?;
    let entry = tree
        .lookup_entry_by_path(normalize(path))
        .map_err(|e| GitError::from_gix("reading the tree", &e))?
        .ok_or_else(|| GitError::new(GitErrorKind::ObjectMissing, format!("no file {path}")))?;
    let object = entry
        .object()
        .map_err(|e| GitError::from_gix("reading the blob", &e))?;
    Ok(object.detach().data)
}
