//! `GitDaemon`: real `git://` clients against a real `git daemon`.

use git_fixtures::{GitDaemon, GitRepo, READY_TIMEOUT, accepts_connections, git, wait_until};
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[test]
fn ls_remote_lists_the_branches_and_tags() {
    let repo = GitRepo::with_files("app", &[("a.yaml", "a")]);
    repo.tag("v1");
    let daemon = GitDaemon::serve(&[&repo]);

    let refs = git(["ls-remote", &daemon.url(&repo)]).run_ok();

    let head = repo.head("main");
    assert!(refs.contains(&format!("{head}\trefs/heads/main")), "{refs}");
    assert!(refs.contains(&format!("{head}\trefs/tags/v1")), "{refs}");
}

#[test]
fn a_shallow_clone_checks_out_the_head_commit() {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "kind: A\n")]);
    let head = repo.commit_files(&[("deploy/b.yaml", "kind: B\n")], "second");
    let daemon = GitDaemon::serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    git(["clone", "-q", "--depth", "1", &daemon.url(&repo)])
        .arg(dest.path().join("clone"))
        .run_ok();

    let clone = dest.path().join("clone");
    assert_eq!(
        git(["-C"]).arg(&clone).args(["rev-parse", "HEAD"]).run_ok(),
        head
    );
    assert_eq!(
        git(["-C"])
            .arg(&clone)
            .args(["rev-list", "--count", "HEAD"])
            .run_ok(),
        "1"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("deploy/b.yaml")).unwrap(),
        "kind: B\n"
    );
}

#[test]
fn protocol_v2_is_spoken_when_the_client_asks() {
    let repo = GitRepo::with_files("app", &[("a.yaml", "a")]);
    let daemon = GitDaemon::serve(&[&repo]);

    git(["-c", "protocol.version=2", "ls-remote", &daemon.url(&repo)]).run_ok();

    wait_until("the daemon to log a v2 request", READY_TIMEOUT, || {
        daemon.protocol_v2_requests() == 1 && daemon.upload_pack_requests() == 1
    });
}

#[test]
fn one_daemon_serves_several_repositories() {
    let first = GitRepo::with_files("first", &[("a", "1")]);
    let second = GitRepo::with_files("second", &[("b", "2")]);
    let daemon = GitDaemon::serve(&[&first]);
    daemon.add(&second);

    for repo in [&first, &second] {
        let refs = git(["ls-remote", &daemon.url(repo), "refs/heads/main"]).run_ok();
        assert!(refs.starts_with(&repo.head("main")), "{refs}");
    }
}

#[test]
fn a_force_push_is_visible_to_the_next_ls_remote() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let base = repo.head("main");
    repo.commit("will be rewritten");
    let daemon = GitDaemon::serve(&[&repo]);

    repo.reset_hard(&base);
    let rewritten = repo.commit("rewritten");

    let refs = git(["ls-remote", &daemon.url(&repo), "refs/heads/main"]).run_ok();
    assert_eq!(refs, format!("{rewritten}\trefs/heads/main"));
}

#[test]
fn a_deleted_repository_is_reported_as_missing() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    repo.delete_repository();

    let out = git(["ls-remote", &daemon.url(&repo)]).run();

    assert!(!out.success());
    assert!(out.stderr.contains("no such repository"), "{}", out.stderr);
}

#[test]
fn the_daemon_stops_listening_when_dropped() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let addr = SocketAddr::from(([127, 0, 0, 1], daemon.port()));
    assert!(accepts_connections(addr));

    drop(daemon);

    assert!(!accepts_connections(addr));
}

#[test]
fn dropping_the_daemon_kills_connections_in_flight() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    // A client that connects and sends nothing keeps a `git daemon --serve` child waiting.
    let mut idle = TcpStream::connect(("127.0.0.1", daemon.port())).unwrap();
    wait_until("the daemon to log the connection", READY_TIMEOUT, || {
        daemon.log().iter().any(|l| l.contains("Connection from"))
    });

    drop(daemon);

    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let read = idle.read(&mut [0_u8; 1]);
    let closed = match &read {
        Ok(n) => *n == 0,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    };
    assert!(
        closed,
        "the connection should be closed at once, got {read:?}"
    );
}
