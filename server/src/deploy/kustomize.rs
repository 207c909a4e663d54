//! Kustomize rendering: the stack's paths and watched paths are written into a private temporary
//! directory and `kubectl kustomize DIR` (or `kustomize build DIR`) runs on each path, with a
//! timeout, bounded output, an empty environment and no network (remote bases and URLs fail), so
//! a repository cannot make the server read its own files, reach internal URLs or run plugins.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::documents::parse_file;
use super::errors::one_line;
use super::render::{RenderOptions, Source, shown};
use super::{DeployError, Manifest};

/// The message when neither program is installed.
pub const NO_TOOL: &str =
    "renderer kustomize needs kubectl or kustomize on the Berth server's PATH";

/// Which program renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// `kubectl kustomize DIR`.
    Kubectl(PathBuf),
    /// `kustomize build DIR`.
    Kustomize(PathBuf),
}

impl Tool {
    fn command(&self, dir: &Path) -> Command {
        let (program, args): (&Path, [&std::ffi::OsStr; 2]) = match self {
            Tool::Kubectl(p) => (p, ["kustomize".as_ref(), dir.as_os_str()]),
            Tool::Kustomize(p) => (p, ["build".as_ref(), dir.as_os_str()]),
        };
        let mut c = Command::new(program);
        c.args(args);
        c
    }

    fn name(&self) -> &'static str {
        match self {
            Tool::Kubectl(_) => "kubectl kustomize",
            Tool::Kustomize(_) => "kustomize build",
        }
    }
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Looks for `kubectl`, then `kustomize`, in `search_path` (PATH syntax; `None`: the server's
/// PATH).
pub fn find_tool(search_path: Option<&OsString>) -> Option<Tool> {
    let path = match search_path {
        Some(p) => p.clone(),
        None => std::env::var_os("PATH").unwrap_or_default(),
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| executable(p));
    find("kubectl")
        .map(Tool::Kubectl)
        .or_else(|| find("kustomize").map(Tool::Kustomize))
}

/// Renders each path with Kustomize.
pub fn render(
    source: &dyn Source,
    paths: &[String],
    watched: &[String],
    options: &RenderOptions,
) -> Result<Vec<Manifest>, DeployError> {
    let tool =
        find_tool(options.search_path.as_ref()).ok_or_else(|| DeployError::render(NO_TOOL))?;
    let dir = tempfile::Builder::new()
        .prefix("berth-kustomize-")
        .tempdir()
        .map_err(|e| DeployError::render(format!("creating a directory for kustomize: {e}")))?;
    let root = dir.path().join("repo");
    materialise(source, paths, watched, &root, options.max_total_bytes)?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)
        .map_err(|e| DeployError::render(format!("creating a directory for kustomize: {e}")))?;
    let mut out = Vec::new();
    for path in paths {
        let target = if path.is_empty() {
            root.clone()
        } else {
            root.join(path)
        };
        let mut command = tool.command(&target);
        command
            .current_dir(&root)
            .env_clear()
            .env("HOME", &home)
            // No network: remote bases and URL resources fail fast instead of making the server
            // fetch what a repository names.
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "");
        let started = Instant::now();
        let output = run(command, options.tool_timeout, options.max_total_bytes)
            .map_err(|e| DeployError::render(format!("{} {}: {e}", tool.name(), shown(path))))?;
        tracing::debug!(path = %path, elapsed_ms = started.elapsed().as_millis(), "kustomize rendered");
        out.extend(parse_file(&format!("kustomize:{path}"), &output, false)?);
        if out.len() > options.max_objects {
            return Err(DeployError::render(format!(
                "the stack renders more than {} objects (at {})",
                options.max_objects,
                shown(path)
            )));
        }
    }
    Ok(out)
}

/// Writes every file under `paths` and `watched` into `root`. Missing stack paths are errors;
/// missing watched paths are not (Kustomize names what it cannot find).
fn materialise(
    source: &dyn Source,
    paths: &[String],
    watched: &[String],
    root: &Path,
    max_bytes: usize,
) -> Result<(), DeployError> {
    let mut seen = BTreeSet::new();
    let mut total = 0usize;
    let write_error =
        |f: &str, e: std::io::Error| DeployError::render(format!("writing {f} for kustomize: {e}"));
    for (path, required) in paths
        .iter()
        .map(|p| (p, true))
        .chain(watched.iter().map(|p| (p, false)))
    {
        let files = source.files(path)?;
        if files.is_empty() && required {
            return Err(DeployError::render(format!(
                "{}: no such file or directory at this commit",
                shown(path)
            )));
        }
        for f in files {
            if !seen.insert(f.clone()) {
                continue;
            }
            let rel = super::render::normalize(&f)?;
            if rel.is_empty() {
                continue;
            }
            let bytes = source.read(&f)?;
            total += bytes.len();
            if total > max_bytes {
                return Err(DeployError::render(format!(
                    "the stack's files exceed {} MiB (at {f})",
                    max_bytes / (1024 * 1024)
                )));
            }
            let target = root.join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| write_error(&f, e))?;
            }
            std::fs::write(&target, bytes).map_err(|e| write_error(&f, e))?;
        }
    }
    Ok(())
}

/// Reads a pipe into memory, up to `limit` bytes; past it, raises `overflow` and stops.
fn bounded_reader(
    mut pipe: impl Read + Send + 'static,
    limit: usize,
    overflow: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if buf.len() + n > limit {
                        overflow.store(true, Ordering::SeqCst);
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        buf
    })
}

/// Runs a command to completion: its stdout, or why it failed (exit status with the end of
/// stderr, timeout, output over `limit`).
pub fn run(mut command: Command, timeout: Duration, limit: usize) -> Result<Vec<u8>, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let overflow = Arc::new(AtomicBool::new(false));
    let stdout = bounded_reader(
        child.stdout.take().expect("piped stdout"),
        limit,
        overflow.clone(),
    );
    let stderr = bounded_reader(
        child.stderr.take().expect("piped stderr"),
        64 * 1024,
        Arc::new(AtomicBool::new(false)),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if overflow.load(Ordering::SeqCst) => {
                break Err(format!("output exceeds {} MiB", limit / (1024 * 1024)));
            }
            Ok(None) if Instant::now() >= deadline => {
                break Err(format!("did not finish within {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("waiting for it failed: {e}")),
        }
    };
    if status.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let status = status?;
    if overflow.load(Ordering::SeqCst) {
        return Err(format!("output exceeds {} MiB", limit / (1024 * 1024)));
    }
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let text = text.trim();
        let tail: String = if text.chars().count() > 2_000 {
            text.chars().skip(text.chars().count() - 2_000).collect()
        } else {
            text.to_owned()
        };
        return Err(format!(
            "failed ({status}): {}",
            one_line(
                if tail.is_empty() {
                    "no error output"
                } else {
                    &tail
                },
                2_000
            )
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tool_on_the_search_path_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let options = RenderOptions {
            search_path: Some(empty.path().as_os_str().to_owned()),
            ..RenderOptions::default()
        };
        let src =
            super::super::MemorySource::from_files([("k/kustomization.yaml", "resources: []\n")]);
        let e = render(&src, &["k".to_owned()], &[], &options).unwrap_err();
        assert_eq!(e.message, NO_TOOL);
        assert!(!e.transient);
    }

    #[test]
    fn kubectl_is_preferred_to_kustomize() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["kubectl", "kustomize"] {
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            let mut perms = std::fs::metadata(&p).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&p, perms).unwrap();
        }
        let search = dir.path().as_os_str().to_owned();
        assert_eq!(
            find_tool(Some(&search)),
            Some(Tool::Kubectl(dir.path().join("kubectl")))
        );
        std::fs::remove_file(dir.path().join("kubectl")).unwrap();
        assert_eq!(
            find_tool(Some(&search)),
            Some(Tool::Kustomize(dir.path().join("kustomize")))
        );
    }

    #[test]
    fn a_command_that_runs_too_long_is_stopped() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let started = Instant::now();
        let e = run(c, Duration::from_millis(200), 1024).unwrap_err();
        assert_eq!(e, "did not finish within 200ms");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_over_the_limit_is_refused() {
        let mut c = Command::new("sh");
        c.args(["-c", "yes | head -c 100000"]);
        let e = run(c, Duration::from_secs(10), 1024 * 1024 / 100).unwrap_err();
        assert!(e.starts_with("output exceeds"), "{e}");
    }

    #[test]
    fn a_failing_command_reports_its_error_output() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo 'Error: accumulating resources' >&2; exit 1"]);
        let e = run(c, Duration::from_secs(10), 1024).unwrap_err();
        assert_eq!(e, "failed (exit status: 1): Error: accumulating resources");
    }
}
