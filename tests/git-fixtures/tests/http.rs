//! `GitHttpServer` over plain http: real git clients against `git http-backend`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use git_fixtures::{
    Fault, FaultTarget, GitHttpServer, GitRepo, UploadPackCommand, accepts_connections, git,
};

fn app() -> GitRepo {
    GitRepo::with_files("app", &[("deploy/app.yaml", "kind: ConfigMap\n")])
}

/// Sends one raw HTTP/1.1 request and returns the whole answer, headers lowercased.
fn raw_get(server: &GitHttpServer, path: &str) -> String {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.to_lowercase()
}

#[test]
fn ls_remote_lists_branches_and_tags_anonymously() {
    let repo = app();
    repo.tag("v1");
    let tag = repo.annotated_tag("v2", "release 2");
    let server = GitHttpServer::http().serve(&[&repo]);

    let refs = git(["ls-remote", &server.url(&repo)]).run_ok();

    let head = repo.head("main");
    assert!(refs.contains(&format!("{head}\trefs/heads/main")), "{refs}");
    assert!(refs.contains(&format!("{head}\trefs/tags/v1")), "{refs}");
    assert!(refs.contains(&format!("{tag}\trefs/tags/v2")), "{refs}");
    assert!(
        refs.contains(&format!("{head}\trefs/tags/v2^{{}}")),
        "{refs}"
    );
}

#[test]
fn a_shallow_clone_over_http_is_counted_as_one_ls_refs_and_one_fetch() {
    let repo = app();
    let head = repo.commit_files(&[("deploy/b.yaml", "b")], "second");
    let server = GitHttpServer::http().serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    git([
        "-c",
        "protocol.version=2",
        "clone",
        "-q",
        "--depth",
        "1",
        &server.url(&repo),
    ])
    .arg(dest.path())
    .run_ok();

    assert_eq!(
        git(["-C"])
            .arg(dest.path())
            .args(["rev-parse", "HEAD"])
            .run_ok(),
        head
    );
    let stats = server.stats();
    assert_eq!(stats.ref_advertisements, 1, "{stats:?}");
    assert_eq!(stats.ls_refs, 1, "{stats:?}");
    assert_eq!(stats.fetches, 1, "{stats:?}");
    assert_eq!(stats.upload_pack_posts, 2, "{stats:?}");
    assert!(stats.bytes_sent > 0);
}

#[test]
fn protocol_v2_ls_remote_is_one_advertisement_and_one_ls_refs() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);

    git(["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]).run_ok();

    let stats = server.stats();
    assert_eq!(
        (stats.requests, stats.ref_advertisements),
        (2, 1),
        "{stats:?}"
    );
    assert_eq!((stats.ls_refs, stats.fetches), (1, 0), "{stats:?}");
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.git_protocol.as_deref() == Some("version=2"))
    );
    assert_eq!(requests[1].command, Some(UploadPackCommand::LsRefs));
    assert_eq!(requests[1].status, Some(200));
    assert_eq!(stats.v0_ref_advertisements, 0, "{stats:?}");
}

#[test]
fn ls_refs_arguments_show_which_refs_the_client_asked_for() {
    let repo = app();
    repo.tag("v1");
    let server = GitHttpServer::http().serve(&[&repo]);

    let refs = git([
        "-c",
        "protocol.version=2",
        "ls-remote",
        "--tags",
        &server.url(&repo),
    ])
    .run_ok();

    assert!(!refs.contains("refs/heads/main"), "{refs}");
    let ls_refs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.command == Some(UploadPackCommand::LsRefs))
        .collect();
    assert_eq!(ls_refs.len(), 1);
    assert!(
        ls_refs[0]
            .ls_refs_arguments
            .contains(&"ref-prefix refs/tags/".to_owned()),
        "{:?}",
        ls_refs[0].ls_refs_arguments
    );
}

#[test]
fn a_v0_only_server_answers_a_v2_client_with_the_full_advertisement() {
    let repo = app();
    let server = GitHttpServer::http().protocol_v0_only().serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    let refs = git(["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]).run_ok();
    git([
        "-c",
        "protocol.version=2",
        "clone",
        "-q",
        &server.url(&repo),
    ])
    .arg(dest.path())
    .run_ok();

    assert!(refs.contains("refs/heads/main"));
    let stats = server.stats();
    assert_eq!(
        (
            stats.ref_advertisements,
            stats.v0_ref_advertisements,
            stats.ls_refs,
            stats.fetches
        ),
        (2, 2, 0, 1),
        "{stats:?}"
    );
    // The client asked for v2 in each advertisement request; the server did not pass it on.
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .all(|r| r.git_protocol.as_deref() == Some("version=2"))
    );
}

#[test]
fn protocol_v0_advertises_refs_without_ls_refs() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    let refs = git(["-c", "protocol.version=0", "ls-remote", &server.url(&repo)]).run_ok();
    git([
        "-c",
        "protocol.version=0",
        "clone",
        "-q",
        &server.url(&repo),
    ])
    .arg(dest.path())
    .run_ok();

    assert!(refs.contains("refs/heads/main"));
    let stats = server.stats();
    assert_eq!(
        (stats.ref_advertisements, stats.ls_refs, stats.fetches),
        (2, 0, 1),
        "{stats:?}"
    );
    assert!(server.requests().iter().all(|r| r.git_protocol.is_none()));
    assert_eq!(stats.v0_ref_advertisements, 2, "{stats:?}");
}

#[test]
fn gzipped_fetch_requests_are_inflated_and_counted() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();
    git(["clone", "-q", &server.url(&repo)])
        .arg(dest.path())
        .run_ok();
    // Local commits the server lacks: the next fetch sends their `have` lines, over 1 KiB, which
    // git gzips.
    for i in 0..40 {
        git(["-C"])
            .arg(dest.path())
            .args(["commit", "-q", "--allow-empty", "-m", &format!("local {i}")])
            .run_ok();
    }
    let upstream = repo.commit("upstream moved");
    server.reset_stats();

    git(["-C"])
        .arg(dest.path())
        .args(["fetch", "-q", "origin"])
        .run_ok();

    let fetched = git(["-C"])
        .arg(dest.path())
        .args(["rev-parse", "origin/main"])
        .run_ok();
    assert_eq!(fetched, upstream);
    let requests = server.requests();
    let gzipped: Vec<_> = requests
        .iter()
        .filter(|r| r.content_encoding.as_deref() == Some("gzip"))
        .collect();
    assert!(!gzipped.is_empty(), "{requests:#?}");
    assert!(
        gzipped
            .iter()
            .all(|r| r.command == Some(UploadPackCommand::Fetch)),
        "{requests:#?}"
    );
    assert!(server.stats().fetches >= 1);
}

#[test]
fn credentials_in_the_url_pass_basic_auth() {
    let repo = app();
    let server = GitHttpServer::http()
        .basic_auth("berth", "t0ken/with:specials")
        .serve(&[&repo]);

    let refs = git(["ls-remote", &server.url_with_credentials(&repo)]).run_ok();

    assert!(refs.contains("refs/heads/main"));
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.user.as_deref() == Some("berth")),
        "{requests:#?}"
    );
}

#[test]
fn a_wrong_password_is_refused() {
    let repo = app();
    let server = GitHttpServer::http()
        .basic_auth("berth", "right")
        .serve(&[&repo]);
    let url = server.url(&repo).replace("http://", "http://berth:wrong@");

    let out = git(["ls-remote", &url]).run();

    assert!(!out.success());
    assert!(
        out.stderr.contains("Authentication failed"),
        "{}",
        out.stderr
    );
    let stats = server.stats();
    assert_eq!(stats.unauthorized, stats.requests, "{stats:?}");
    assert_eq!(stats.ls_refs, 0);
}

#[test]
fn missing_credentials_get_a_basic_challenge() {
    let repo = app();
    let server = GitHttpServer::http()
        .basic_auth("berth", "right")
        .realm("fixtures")
        .serve(&[&repo]);

    let answer = raw_get(&server, "/app.git/info/refs?service=git-upload-pack");

    assert!(answer.starts_with("http/1.1 401"), "{answer}");
    assert!(
        answer.contains("www-authenticate: basic realm=\"fixtures\""),
        "{answer}"
    );
    let out = git(["ls-remote", &server.url(&repo)]).run();
    assert!(!out.success());
}

#[test]
fn a_force_push_is_visible_to_the_next_ls_remote() {
    let repo = app();
    let base = repo.head("main");
    let old = repo.commit("soon gone");
    let server = GitHttpServer::http().serve(&[&repo]);
    assert!(
        git(["ls-remote", &server.url(&repo)])
            .run_ok()
            .contains(&old)
    );

    repo.reset_hard(&base);
    let new = repo.commit("replacement");

    let refs = git(["ls-remote", &server.url(&repo), "refs/heads/main"]).run_ok();
    assert_eq!(refs, format!("{new}\trefs/heads/main"));
}

#[test]
fn a_deleted_repository_is_not_found() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    repo.delete_repository();

    let out = git(["ls-remote", &server.url(&repo)]).run();

    assert!(!out.success());
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
    assert_eq!(server.requests()[0].status, Some(404));
}

#[test]
fn an_injected_500_fails_one_request_then_the_server_recovers() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_next(1, Fault::Status(500));

    let failed = git(["ls-remote", &server.url(&repo)]).run();
    let recovered = git(["ls-remote", &server.url(&repo)]).run();

    assert!(!failed.success());
    assert!(failed.stderr.contains("500"), "{}", failed.stderr);
    assert!(recovered.success(), "{}", recovered.stderr);
    assert_eq!(server.stats().faulted, 1);
}

#[test]
fn a_closed_connection_fails_the_client_until_healed() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_with(Fault::Close);

    assert!(!git(["ls-remote", &server.url(&repo)]).run().success());
    assert_eq!(server.requests()[0].status, None);

    server.heal();
    assert!(git(["ls-remote", &server.url(&repo)]).run().success());
}

#[test]
fn a_hanging_server_trips_the_client_timeout() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_with(Fault::Hang);

    let out = git(["-c", "http.lowSpeedLimit=1", "-c", "http.lowSpeedTime=1"])
        .args(["ls-remote", &server.url(&repo)])
        .timeout(Duration::from_secs(30))
        .run();

    assert!(!out.success());
    assert!(
        out.stderr.to_lowercase().contains("timed out") || out.stderr.contains("slow"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_delayed_answer_still_succeeds() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_next(1, Fault::Delay(Duration::from_millis(200)));

    assert!(git(["ls-remote", &server.url(&repo)]).run().success());
    assert_eq!(server.stats().faulted, 1);
}

#[test]
fn one_server_serves_repositories_added_later() {
    let first = app();
    let second = GitRepo::with_files("second", &[("x", "y")]);
    let server = GitHttpServer::http().serve(&[&first]);
    server.add(&second);

    let refs = git(["ls-remote", &server.url(&second), "refs/heads/main"]).run_ok();
    assert!(refs.starts_with(&second.head("main")), "{refs}");
    assert!(
        !git(["ls-remote", &server.url_for("absent")])
            .run()
            .success()
    );
}

#[test]
fn the_server_stops_listening_when_dropped() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    let addr = server.addr();
    assert!(accepts_connections(addr));

    drop(server);

    assert!(!accepts_connections(addr));
}

#[test]
fn a_fault_on_fetches_lets_ref_listing_through() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_matching(FaultTarget::Fetch, Fault::Status(503));
    let dest = tempfile::tempdir().unwrap();

    let listed = git(["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]).run();
    let cloned = git([
        "-c",
        "protocol.version=2",
        "clone",
        "-q",
        &server.url(&repo),
    ])
    .arg(dest.path().join("clone"))
    .run();

    assert!(listed.success(), "{}", listed.stderr);
    assert!(!cloned.success());
    assert!(cloned.stderr.contains("503"), "{}", cloned.stderr);
    let stats = server.stats();
    assert_eq!(
        (stats.ls_refs, stats.fetches, stats.faulted),
        (2, 0, 1),
        "{stats:?}"
    );
    let faulted = server
        .requests()
        .into_iter()
        .find(|r| r.status == Some(503))
        .unwrap();
    assert_eq!(faulted.command, Some(UploadPackCommand::Fetch));
}

#[test]
fn a_fault_on_the_next_ls_refs_fails_one_listing() {
    let repo = app();
    let server = GitHttpServer::http().serve(&[&repo]);
    server.fail_next_matching(FaultTarget::LsRefs, 1, Fault::Status(502));

    let first = git(["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]).run();
    let second = git(["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]).run();

    assert!(!first.success());
    assert!(first.stderr.contains("502"), "{}", first.stderr);
    assert!(second.success(), "{}", second.stderr);
    let stats = server.stats();
    assert_eq!(
        (stats.ref_advertisements, stats.faulted, stats.ls_refs),
        (2, 1, 1),
        "{stats:?}"
    );
}
