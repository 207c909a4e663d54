//! The git module against real servers (git daemon, git http-backend over https with basic auth).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use git_fixtures::{GitDaemon, GitHttpServer, GitRepo, SshGitServer, SshKey};

use super::*;

fn spec(url: String, auth: GitAuth) -> RemoteSpec {
    RemoteSpec {
        url,
        auth,
        ca_bundle: None,
        skip_tls_verify: false,
        timeout: Duration::from_secs(10),
    }
}

fn basic(user: &str, password: &str) -> GitAuth {
    GitAuth::Basic {
        username: user.to_owned(),
        password: Secret::new(password.to_owned()),
    }
}

#[test]
fn refs_are_listed_fetched_and_read_over_git_daemon() {
    let repo = GitRepo::with_files(
        "app",
        &[("deploy/a.yaml", "a: 1\n"), ("other/b.yaml", "b\n")],
    );
    repo.tag("v1");
    let daemon = GitDaemon::serve(&[&repo]);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let remote = spec(daemon.url(&repo), GitAuth::None);
    let refs = list_refs(
        &mirror,
        &remote,
        &[
            "refs/heads/main".into(),
            "refs/tags/v1".into(),
            "refs/heads/nope".into(),
        ],
    )
    .unwrap()
    .refs;
    let head = repo.head("main");
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(refs.iter().all(|r| r.commit == head));
    let stats = fetch_commit(&mirror, &remote, &head, &AtomicBool::new(false)).unwrap();
    assert!(stats.fetched);
    assert_eq!(
        tree_id_at(&mirror, &head, "deploy").unwrap().unwrap(),
        repo.tree_id(&head, "deploy")
    );
    assert_eq!(tree_id_at(&mirror, &head, "missing").unwrap(), None);
    assert_eq!(
        tree_id_at(&mirror, &head, "").unwrap().unwrap(),
        repo.tree_id(&head, "")
    );
    let files = read_tree(&mirror, &head, "deploy").unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, "deploy/a.yaml");
    assert_eq!(
        read_blob(&mirror, &head, "deploy/a.yaml").unwrap(),
        b"a: 1\n"
    );
    // Already there: no network.
    assert!(
        !fetch_commit(&mirror, &remote, &head, &AtomicBool::new(false))
            .unwrap()
            .fetched
    );
    // A non-tip commit after more commits.
    let second = repo.commit_files(&[("other/b.yaml", "c\n")], "two");
    repo.commit_files(&[("other/b.yaml", "d\n")], "three");
    fetch_commit(&mirror, &remote, &second, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        tree_id_at(&mirror, &second, "deploy").unwrap(),
        tree_id_at(&mirror, &head, "deploy").unwrap()
    );
    // The mirror is a cache.
    mirror.delete().unwrap();
    fetch_commit(&mirror, &remote, &second, &AtomicBool::new(false)).unwrap();
    assert!(tree_id_at(&mirror, &second, "other").unwrap().is_some());
}

#[test]
fn https_with_basic_auth_and_a_ca_bundle_works_and_failures_are_explained() {
    let repo = GitRepo::with_files("app", &[("x", "1")]);
    let https = GitHttpServer::https()
        .basic_auth("berth", "tok")
        .serve(&[&repo]);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let mut remote = spec(https.url(&repo), basic("berth", "tok"));
    remote.ca_bundle = Some(https.ca_pem().unwrap().to_owned());
    let wanted = vec!["refs/heads/main".to_owned()];
    let listing = list_refs(&mirror, &remote, &wanted).unwrap();
    let refs = listing.refs;
    assert_eq!(refs[0].commit, repo.head("main"));
    assert_eq!(listing.protocol, ListingProtocol::V2);
    assert_eq!(https.stats().ls_refs, 1, "protocol v2 ls-refs");
    fetch_commit(&mirror, &remote, &refs[0].commit, &AtomicBool::new(false)).unwrap();
    assert_eq!(https.stats().fetches, 1);

    let wrong = RemoteSpec {
        auth: basic("berth", "nope"),
        ..remote.clone()
    };
    let err = list_refs(&mirror, &wrong, &wanted).unwrap_err();
    assert_eq!(err.kind, GitErrorKind::Authentication, "{err}");
    let none = RemoteSpec {
        auth: GitAuth::None,
        ..remote.clone()
    };
    assert_eq!(
        list_refs(&mirror, &none, &wanted).unwrap_err().kind,
        GitErrorKind::Authentication
    );
    let untrusted = RemoteSpec {
        ca_bundle: None,
        ..remote.clone()
    };
    let err = list_refs(&mirror, &untrusted, &wanted).unwrap_err();
    assert_eq!(err.kind, GitErrorKind::Tls, "{err}");
    let skip = RemoteSpec {
        ca_bundle: None,
        skip_tls_verify: true,
        ..remote.clone()
    };
    list_refs(&mirror, &skip, &wanted).unwrap();
    let missing = RemoteSpec {
        url: https.url_for("nope"),
        ..remote.clone()
    };
    let err = list_refs(&mirror, &missing, &wanted).unwrap_err();
    assert_eq!(err.kind, GitErrorKind::NotFound, "{err}");
    let unknown = RemoteSpec {
        url: "https://no-such-host.invalid/x.git".into(),
        ..remote.clone()
    };
    let err = list_refs(&mirror, &unknown, &wanted).unwrap_err();
    assert_eq!(err.kind, GitErrorKind::UnknownHost, "{err}");
    https.fail_with(git_fixtures::Fault::Hang);
    let slow = RemoteSpec {
        timeout: Duration::from_secs(1),
        ..remote.clone()
    };
    let err = list_refs(&mirror, &slow, &wanted).unwrap_err();
    assert_eq!(err.kind, GitErrorKind::Timeout, "{err}");
}

#[test]
fn a_check_lists_once_and_fetches_what_moved_on_the_same_connection() {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    let server = GitHttpServer::http().serve(&[&repo]);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let remote = spec(server.url(&repo), GitAuth::None);
    let wanted = vec!["refs/heads/main".to_owned()];
    let all =
        |refs: &[RemoteRef]| -> Vec<String> { refs.iter().map(|r| r.commit.clone()).collect() };
    let check = |pick: &dyn Fn(&[RemoteRef]) -> Vec<String>| {
        check_remote(&mirror, &remote, &wanted, pick, &AtomicBool::new(false)).unwrap()
    };
    let first = repo.head("main");

    // Nothing wanted by the caller: one listing, no pack asked for.
    let out = check(&|_| Vec::new());
    assert_eq!(out.refs.len(), 1);
    assert_eq!(out.refs[0].commit, first);
    assert!(out.fetched.is_empty() && !out.stats.fetched);
    assert_eq!((server.stats().ls_refs, server.stats().fetches), (1, 0));

    // The caller wants the listed commit: fetched on the listing's connection, no second listing.
    let out = check(&all);
    assert_eq!(out.fetched, vec![first.clone()]);
    assert_eq!(out.protocol, Some(ListingProtocol::V2));
    assert_eq!((server.stats().ls_refs, server.stats().fetches), (2, 1));
    assert_eq!(
        tree_id_at(&mirror, &first, "deploy").unwrap().unwrap(),
        repo.tree_id(&first, "deploy")
    );

    // Already in the mirror: nothing fetched.
    let out = check(&all);
    assert!(out.fetched.is_empty());
    assert_eq!((server.stats().ls_refs, server.stats().fetches), (3, 1));

    // A force-pushed branch: the rewritten commit is fetched (the mirror's ref is forced too).
    repo.write("deploy/a.yaml", "a: 2\n");
    let rewritten = repo.amend("rewritten");
    let out = check(&all);
    assert_eq!(out.fetched, vec![rewritten.clone()]);
    assert_eq!((server.stats().ls_refs, server.stats().fetches), (4, 2));
    assert_ne!(
        tree_id_at(&mirror, &rewritten, "deploy").unwrap(),
        tree_id_at(&mirror, &first, "deploy").unwrap()
    );

    // The mirror is a cache: deleted, the next check rebuilds what it needs in one listing.
    mirror.delete().unwrap();
    let out = check(&all);
    assert_eq!(out.fetched, vec![rewritten.clone()]);
    assert_eq!(server.stats().ls_refs, 5);
}

#[test]
fn a_repository_deleted_upstream_is_not_found_over_git_daemon() {
    let repo = GitRepo::with_files("gone", &[("x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    repo.delete_repository();
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let err = list_refs(
        &mirror,
        &spec(daemon.url(&repo), GitAuth::None),
        &["refs/heads/main".into()],
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::NotFound, "{err}");
}

fn ssh(key: &SshKey, known_hosts: String) -> GitAuth {
    GitAuth::Ssh {
        private_key: Secret::new(key.private_key().to_owned()),
        known_hosts,
    }
}

/// SSH dirs left in the mirror (where each operation writes its key).
fn leftover_keys(mirror: &Mirror) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(mirror.path())
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(SSH_DIR_PREFIX))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn refs_are_listed_and_fetched_over_ssh_with_the_given_key_and_known_hosts_only() {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    let key = SshKey::generate("berth");
    let server = SshGitServer::serve(&[&repo], &key);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let remote = spec(server.url(&repo), ssh(&key, server.known_hosts()));
    let wanted = vec!["refs/heads/main".to_owned()];
    let listing = list_refs(&mirror, &remote, &wanted).unwrap();
    assert_eq!(listing.protocol, ListingProtocol::V2);
    let refs = listing.refs;
    let head = repo.head("main");
    assert_eq!(
        refs,
        vec![RemoteRef {
            name: wanted[0].clone(),
            commit: head.clone()
        }]
    );
    let stats = fetch_commit(&mirror, &remote, &head, &AtomicBool::new(false)).unwrap();
    assert!(stats.fetched && stats.bytes > 0, "{stats:?}");
    assert_eq!(
        read_blob(&mirror, &head, "deploy/a.yaml").unwrap(),
        b"a: 1\n"
    );
    // gix asked for protocol v2 and sshd passed it on.
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests.iter().all(|r| r.git_protocol == "version=2"),
        "{requests:?}"
    );
    assert!(
        leftover_keys(&mirror).is_empty(),
        "the key files are removed after each operation"
    );
}

#[test]
fn ssh_failures_say_whether_the_key_or_the_host_key_is_wrong() {
    let repo = GitRepo::with_files("app", &[("x", "1")]);
    let key = SshKey::generate("berth");
    let server = SshGitServer::serve(&[&repo], &key);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let wanted = vec!["refs/heads/main".to_owned()];

    let stranger = SshKey::generate("stranger");
    let err = list_refs(
        &mirror,
        &spec(server.url(&repo), ssh(&stranger, server.known_hosts())),
        &wanted,
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::Authentication, "{err}");
    assert!(err.to_string().contains("private key"), "{err}");

    let impostor = SshKey::generate("impostor");
    let changed = format!("[127.0.0.1]:{} {}", server.port(), impostor.public_key());
    let err = list_refs(
        &mirror,
        &spec(server.url(&repo), ssh(&key, changed)),
        &wanted,
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::UnknownHost, "{err}");
    assert!(err.to_string().contains("known_hosts"), "{err}");

    // known_hosts names other hosts only: the host is unknown.
    let elsewhere = format!("[127.0.0.1]:1 {}", server.host_public_key());
    let err = list_refs(
        &mirror,
        &spec(server.url(&repo), ssh(&key, elsewhere)),
        &wanted,
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::UnknownHost, "{err}");

    let err = list_refs(
        &mirror,
        &spec(server.url_for("missing"), ssh(&key, server.known_hosts())),
        &wanted,
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::NotFound, "{err}");

    // Nothing listens: refused, and said so.
    let port = git_fixtures::free_port();
    let err = list_refs(
        &mirror,
        &spec(
            format!("ssh://git@127.0.0.1:{port}/app.git"),
            ssh(
                &key,
                format!("[127.0.0.1]:{port} {}", server.host_public_key()),
            ),
        ),
        &wanted,
    )
    .unwrap_err();
    assert_eq!(err.kind, GitErrorKind::Connection, "{err}");
    assert!(leftover_keys(&mirror).is_empty());
}
