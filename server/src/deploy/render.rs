//! A stack's files at a commit to validated objects: plain manifests (`.yaml`/`.yml`/`.json`,
//! directories recursively, in path order) or Kustomize output (see [`super::kustomize`]).
//!
//! Blocking (reads Git objects, may run a program): callers use `spawn_blocking`. Nothing here
//! touches a cluster; every error is phase `Render`, final, and names the file and document.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::time::Duration;

use super::documents::parse_file;
use super::validate::validate;
use super::{DeployError, Manifest, Renderer};
use crate::git::Mirror;

/// Where a stack's files come from.
pub trait Source: Send + Sync {
    /// Every file under `path` (a directory, recursively, or the file itself), relative to the
    /// repository root and sorted; empty when nothing is there. `""` is the root.
    fn files(&self, path: &str) -> Result<Vec<String>, DeployError>;
    /// A file's contents.
    fn read(&self, path: &str) -> Result<Vec<u8>, DeployError>;
}

/// A commit in a repository's local mirror.
#[derive(Debug, Clone)]
pub struct GitSource {
    pub mirror: Mirror,
    pub commit: String,
}

impl Source for GitSource {
    fn files(&self, path: &str) -> Result<Vec<String>, DeployError> {
        crate::git::read_tree(&self.mirror, &self.commit, path)
            .map(|entries| entries.into_iter().map(|e| e.path).collect())
            .map_err(|e| {
                DeployError::render(format!(
                    "reading {} at {}: {e}",
                    shown(path),
                    short(&self.commit)
                ))
            })
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, DeployError> {
        crate::git::read_blob(&self.mirror, &self.commit, path).map_err(|e| {
            DeployError::render(format!("reading {path} at {}: {e}", short(&self.commit)))
        })
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Files held in memory (tests, previews of uncommitted content).
#[derive(Debug, Clone, Default)]
pub struct MemorySource(pub BTreeMap<String, Vec<u8>>);

impl MemorySource {
    /// From `(path, text)` pairs.
    pub fn from_files<P: Into<String>, T: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Self {
        MemorySource(
            files
                .into_iter()
                .map(|(p, t)| (p.into(), t.into()))
                .collect(),
        )
    }
}

impl Source for MemorySource {
    fn files(&self, path: &str) -> Result<Vec<String>, DeployError> {
        let path = path.trim_matches('/');
        Ok(self
            .0
            .keys()
            .filter(|k| {
                path.is_empty()
                    || k.as_str() == path
                    || k.strip_prefix(path)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .cloned()
            .collect())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, DeployError> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| DeployError::render(format!("{path}: no such file")))
    }
}

/// Limits and the program lookup of one render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Directories searched for `kubectl`/`kustomize` (PATH syntax); `None`: the server's PATH.
    pub search_path: Option<OsString>,
    /// How long one Kustomize run may take.
    pub tool_timeout: Duration,
    /// Bytes of files read (and of Kustomize output) per render.
    pub max_total_bytes: usize,
    /// Objects per render.
    pub max_objects: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            search_path: None,
            tool_timeout: Duration::from_secs(60),
            max_total_bytes: 64 * 1024 * 1024,
            max_objects: 10_000,
        }
    }
}

/// Renders and validates a stack's objects with the default [`RenderOptions`].
pub fn render(
    source: &dyn Source,
    paths: &[String],
    watched: &[String],
    renderer: Renderer,
) -> Result<Vec<Manifest>, DeployError> {
    render_with(source, paths, watched, renderer, &RenderOptions::default())
}

/// Renders and validates a stack's objects. `watched` paths matter only to Kustomize (bases
/// outside the stack's paths); plain rendering reads `paths` alone.
pub fn render_with(
    source: &dyn Source,
    paths: &[String],
    watched: &[String],
    renderer: Renderer,
    options: &RenderOptions,
) -> Result<Vec<Manifest>, DeployError> {
    let mut paths = normalize_all(paths)?;
    if paths.is_empty() {
        paths.push(String::new());
    }
    let manifests = match renderer {
        Renderer::Plain => plain(source, &paths, options)?,
        Renderer::Kustomize => {
            let watched = normalize_all(watched)?;
            super::kustomize::render(source, &paths, &watched, options)?
        }
    };
    if manifests.len() > options.max_objects {
        return Err(DeployError::render(format!(
            "the stack renders {} objects, over the limit of {}",
            manifests.len(),
            options.max_objects
        )));
    }
    validate(&manifests)?;
    Ok(manifests)
}

/// `""` (or `.`) for the root; a leading `/` means the repository root too; no `..`.
pub fn normalize(path: &str) -> Result<String, DeployError> {
    let p = path.trim().trim_matches('/');
    let p = if p == "." { "" } else { p };
    if p.split('/')
        .any(|c| c == ".." || c.is_empty() && !p.is_empty())
    {
        return Err(DeployError::render(format!(
            "path {path:?} must stay inside the repository (no '..' or empty parts)"
        )));
    }
    Ok(p.split('/')
        .filter(|c| *c != ".")
        .collect::<Vec<_>>()
        .join("/"))
}

/// Normalized, each once, in order (empty stays empty).
fn normalize_all(paths: &[String]) -> Result<Vec<String>, DeployError> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let n = normalize(p)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// How a path is shown in messages.
pub fn shown(path: &str) -> String {
    if path.is_empty() {
        "the repository root".to_owned()
    } else {
        path.to_owned()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

fn format_of(file: &str) -> Option<Format> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else if lower.ends_with(".json") {
        Some(Format::Json)
    } else {
        None
    }
}

/// Whether a file inside a directory is hidden (`.github/workflows/ci.yml`): skipped.
fn hidden_below(dir: &str, file: &str) -> bool {
    let rest = if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .unwrap_or(file)
            .trim_start_matches('/')
    };
    rest.split('/').any(|c| c.starts_with('.'))
}

fn is_kustomization(file: &str) -> bool {
    matches!(
        file.rsplit('/').next().unwrap_or(file),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// The manifest files of each path, in order, each once.
fn plain_files(
    source: &dyn Source,
    paths: &[String],
) -> Result<Vec<(String, Format)>, DeployError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for path in paths {
        let files = source.files(path)?;
        if files.is_empty() {
            return Err(DeployError::render(format!(
                "{}: no such file or directory at this commit",
                shown(path)
            )));
        }
        let named_file = files.len() == 1 && files[0] == *path;
        if named_file {
            let format = format_of(path).ok_or_else(|| {
                DeployError::render(format!("{path}: not a .yaml, .yml or .json file"))
            })?;
            if seen.insert(path.clone()) {
                out.push((path.clone(), format));
            }
            continue;
        }
        let before = out.len();
        for f in files {
            if hidden_below(path, &f) {
                continue;
            }
            let Some(format) = format_of(&f) else {
                continue;
            };
            if seen.insert(f.clone()) {
                out.push((f, format));
            }
        }
        let under = |f: &String| path.is_empty() || f.starts_with(&format!("{path}/"));
        if out.len() == before && !seen.iter().any(under) {
            return Err(DeployError::render(format!(
                "{}: no .yaml, .yml or .json files",
                shown(path)
            )));
        }
    }
    Ok(out)
}

fn plain(
    source: &dyn Source,
    paths: &[String],
    options: &RenderOptions,
) -> Result<Vec<Manifest>, DeployError> {
    let files = plain_files(source, paths)?;
    if let Some((k, _)) = files.iter().find(|(f, _)| is_kustomization(f)) {
        return Err(DeployError::render(format!(
            "{k} is a Kustomization: choose the kustomize renderer for this stack, or point its \
             paths at plain manifests"
        )));
    }
    let mut total = 0usize;
    let mut out = Vec::new();
    for (file, format) in files {
        let bytes = source.read(&file)?;
        total += bytes.len();
        if total > options.max_total_bytes {
            return Err(DeployError::render(format!(
                "the stack's files exceed {} MiB (at {file})",
                options.max_total_bytes / (1024 * 1024)
            )));
        }
        out.extend(parse_file(&file, &bytes, format == Format::Json)?);
        if out.len() > options.max_objects {
            return Err(DeployError::render(format!(
                "the stack renders more than {} objects (at {file})",
                options.max_objects
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n";

    fn cm(name: &str) -> String {
        CM.replace("NAME", name)
    }

    fn sources(result: Result<Vec<Manifest>, DeployError>) -> Vec<String> {
        result.unwrap().into_iter().map(|m| m.source).collect()
    }

    fn plain_render(src: &MemorySource, paths: &[&str]) -> Result<Vec<Manifest>, DeployError> {
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        render(src, &paths, &[], Renderer::Plain)
    }

    #[test]
    fn directories_are_read_recursively_in_path_order_and_other_files_ignored() {
        let src = MemorySource::from_files([
            ("apps/b.yaml", cm("b")),
            ("apps/a.yml", cm("a")),
            (
                "apps/sub/c.json",
                r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#.to_owned(),
            ),
            ("apps/README.md", "# not yaml".to_owned()),
            ("apps/.hidden/d.yaml", "not: an object".to_owned()),
            ("other/e.yaml", cm("e")),
        ]);
        assert_eq!(
            sources(plain_render(&src, &["apps"])),
            ["apps/a.yml#1", "apps/b.yaml#1", "apps/sub/c.json#1"]
        );
        assert_eq!(sources(plain_render(&src, &[""])).len(), 4);
        assert_eq!(
            sources(plain_render(&src, &["/other/", "./apps/a.yml", "other"])),
            ["other/e.yaml#1", "apps/a.yml#1"]
        );
    }

    #[test]
    fn overlapping_paths_read_each_file_once() {
        let src =
            MemorySource::from_files([("apps/a.yaml", cm("a")), ("apps/web/b.yaml", cm("b"))]);
        assert_eq!(
            sources(plain_render(&src, &["apps", "apps/web"])),
            ["apps/a.yaml#1", "apps/web/b.yaml#1"]
        );
    }

    #[test]
    fn missing_or_empty_paths_and_escapes_are_refused() {
        let src =
            MemorySource::from_files([("apps/a.yaml", cm("a")), ("docs/x.md", "x".to_owned())]);
        let cases = [
            ("nope", "nope: no such file or directory at this commit"),
            ("docs", "docs: no .yaml, .yml or .json files"),
            ("docs/x.md", "docs/x.md: not a .yaml, .yml or .json file"),
            (
                "../etc",
                "path \"../etc\" must stay inside the repository (no '..' or empty parts)",
            ),
            (
                "/a/../b",
                "path \"/a/../b\" must stay inside the repository (no '..' or empty parts)",
            ),
        ];
        for (path, want) in cases {
            let e = plain_render(&src, &[path]).unwrap_err();
            assert_eq!(e.message, want);
            assert_eq!(e.phase, super::super::Phase::Render);
        }
    }

    #[test]
    fn a_kustomization_in_a_plain_stack_says_which_renderer_to_use() {
        let src = MemorySource::from_files([
            ("k/kustomization.yaml", "resources: [a.yaml]\n".to_owned()),
            ("k/a.yaml", cm("a")),
        ]);
        let e = plain_render(&src, &["k"]).unwrap_err();
        assert!(
            e.message
                .starts_with("k/kustomization.yaml is a Kustomization"),
            "{}",
            e.message
        );
    }

    #[test]
    fn limits_on_size_and_count_are_enforced() {
        let many: String = (0..20)
            .map(|i| format!("---\n{}", cm(&format!("c{i}"))))
            .collect();
        let src = MemorySource::from_files([("a.yaml", many)]);
        let options = RenderOptions {
            max_objects: 10,
            ..RenderOptions::default()
        };
        let e = render_with(&src, &[String::new()], &[], Renderer::Plain, &options).unwrap_err();
        assert_eq!(
            e.message,
            "the stack renders more than 10 objects (at a.yaml)"
        );
        let options = RenderOptions {
            max_total_bytes: 100,
            ..RenderOptions::default()
        };
        let e = render_with(&src, &[String::new()], &[], Renderer::Plain, &options).unwrap_err();
        assert!(
            e.message.starts_with("the stack's files exceed"),
            "{}",
            e.message
        );
    }

    #[test]
    fn validation_errors_name_the_file_and_document() {
        let src = MemorySource::from_files([(
            "apps/web.yaml",
            format!(
                "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{}}\n",
                cm("a")
            ),
        )]);
        let e = plain_render(&src, &["apps"]).unwrap_err();
        assert_eq!(
            e.message,
            "apps/web.yaml document 2: metadata.name is missing"
        );
    }
}
