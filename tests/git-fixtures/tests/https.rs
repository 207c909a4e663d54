//! `GitHttpServer` over https with a certificate from `test-ca`: real git clients trusting the
//! test CA through `GIT_SSL_CAINFO`.

use git_fixtures::{GitCommand, GitHttpServer, GitRepo, git};
use test_ca::TestCa;

fn app() -> GitRepo {
    GitRepo::with_files("app", &[("deploy/app.yaml", "kind: ConfigMap\n")])
}

/// A git command that trusts the server's CA and nothing else.
fn trusting(server: &GitHttpServer, args: &[&str]) -> GitCommand {
    git(args).env("GIT_SSL_CAINFO", server.ca_file().expect("an https server"))
}

#[test]
fn ls_remote_over_https_trusts_the_test_ca() {
    let repo = app();
    let server = GitHttpServer::https().serve(&[&repo]);
    let url = server.url(&repo);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let refs = trusting(&server, &["ls-remote", &url]).run_ok();

    assert!(
        refs.contains(&format!("{}\trefs/heads/main", repo.head("main"))),
        "{refs}"
    );
    assert_eq!(server.stats().ls_refs, 1);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.http_version == "HTTP/2.0")
    );
}

#[test]
fn an_http1_only_server_is_fetched_over_http_1_1() {
    let repo = app();
    let server = GitHttpServer::https().http1_only().serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    trusting(
        &server,
        &["clone", "-q", "--depth", "1", &server.url(&repo)],
    )
    .arg(dest.path())
    .run_ok();

    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.http_version == "HTTP/1.1"),
        "{requests:#?}"
    );
    assert_eq!(server.stats().fetches, 1);
}

#[test]
fn a_client_without_the_ca_refuses_the_certificate() {
    let repo = app();
    let server = GitHttpServer::https().serve(&[&repo]);
    let empty_bundle = tempfile::NamedTempFile::new().unwrap();

    let out = git(["ls-remote", &server.url(&repo)])
        .env("GIT_SSL_CAINFO", empty_bundle.path())
        .run();

    assert!(!out.success());
    assert!(
        out.stderr.contains("SSL") || out.stderr.contains("certificate"),
        "{}",
        out.stderr
    );
    assert_eq!(server.stats().requests, 0);
}

#[test]
fn a_shallow_clone_over_https_with_credentials_in_the_url() {
    let repo = app();
    let head = repo.commit_files(&[("deploy/b.yaml", "b")], "second");
    let server = GitHttpServer::https()
        .basic_auth("berth", "s3cret")
        .serve(&[&repo]);
    let dest = tempfile::tempdir().unwrap();

    trusting(
        &server,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &server.url_with_credentials(&repo),
        ],
    )
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
    assert_eq!(stats.fetches, 1, "{stats:?}");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.user.as_deref() == Some("berth"))
    );
}

#[test]
fn credentials_in_an_extra_header_pass_basic_auth() {
    let repo = app();
    let server = GitHttpServer::https()
        .basic_auth("berth", "s3cret")
        .serve(&[&repo]);
    let header = server.authorization_header().unwrap();

    let refs = trusting(&server, &["-c", &format!("http.extraHeader={header}")])
        .args(["ls-remote", &server.url(&repo)])
        .run_ok();

    assert!(refs.contains("refs/heads/main"));
    assert_eq!(
        server.stats().unauthorized,
        0,
        "the header goes with the first request"
    );
}

#[test]
fn a_wrong_token_over_https_is_refused() {
    let repo = app();
    let server = GitHttpServer::https()
        .basic_auth("berth", "s3cret")
        .serve(&[&repo]);
    let url = server.url(&repo).replace("https://", "https://berth:nope@");

    let out = trusting(&server, &["ls-remote", &url]).run();

    assert!(!out.success());
    assert!(
        out.stderr.contains("Authentication failed"),
        "{}",
        out.stderr
    );
    assert_eq!(server.stats().ls_refs, 0);
}

#[test]
fn servers_signed_by_one_ca_are_trusted_with_its_pem() {
    let ca = TestCa::new("shared test CA");
    let first = app();
    let second = GitRepo::with_files("second", &[("x", "y")]);
    let one = GitHttpServer::https_signed_by(&ca).serve(&[&first]);
    let two = GitHttpServer::https_signed_by(&ca).serve(&[&second]);
    let bundle = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bundle.path(), ca.cert_pem()).unwrap();

    for (server, repo) in [(&one, &first), (&two, &second)] {
        assert_eq!(server.ca_pem(), Some(ca.cert_pem()));
        git(["ls-remote", &server.url(repo)])
            .env("GIT_SSL_CAINFO", bundle.path())
            .run_ok();
    }
}

#[test]
fn a_tag_and_a_force_push_are_visible_over_https() {
    let repo = app();
    let base = repo.head("main");
    repo.commit("soon gone");
    let server = GitHttpServer::https().serve(&[&repo]);

    repo.reset_hard(&base);
    repo.tag("v1.0.0");
    let new = repo.commit("replacement");

    let refs = trusting(&server, &["ls-remote", &server.url(&repo)]).run_ok();
    assert!(refs.contains(&format!("{new}\trefs/heads/main")), "{refs}");
    assert!(
        refs.contains(&format!("{base}\trefs/tags/v1.0.0")),
        "{refs}"
    );
}

#[test]
fn a_deleted_repository_over_https_is_not_found() {
    let repo = app();
    let server = GitHttpServer::https()
        .basic_auth("berth", "s3cret")
        .serve(&[&repo]);
    repo.delete_repository();

    let out = trusting(&server, &["ls-remote", &server.url_with_credentials(&repo)]).run();

    assert!(!out.success());
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
}
