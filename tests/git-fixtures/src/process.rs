//! Stopping fixture servers with everything they started: servers that fork per connection
//! (`git daemon`, `sshd`) leave children that a plain kill would orphan.

use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Kills a server and its descendants (per-connection children and the git processes they
/// run). The server is stopped first so it cannot fork while its tree is read.
///
/// Servers stay in the test's process group rather than their own, so a Ctrl-C or a killed
/// test run takes them down too instead of leaking them.
pub(crate) fn stop(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let daemon = Pid::from_raw(pid);
        let _ = kill(daemon, Signal::SIGSTOP);
        for descendant in descendants(pid) {
            let _ = kill(Pid::from_raw(descendant), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every process below `root`, read from `/proc/<pid>/stat` (empty where `/proc` is missing).
fn descendants(root: i32) -> Vec<i32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        next += 1;
    }
    found.remove(0);
    found
}

/// Runs `cmd` to its end with its output captured, killing it after `timeout`.
///
/// # Panics
/// If it cannot start or outlives the timeout (`what` names it in the message).
#[track_caller]
pub(crate) fn run_bounded(mut cmd: Command, what: &str, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not finish within {timeout:?}");
            }
            Err(e) => panic!("cannot wait for {what}: {e}"),
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot read the output of {what}: {e}"))
}
