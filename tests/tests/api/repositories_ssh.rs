//! Repositories over SSH, end to end: a real `sshd` (git-fixtures' `SshGitServer`) serving
//! through `git-shell`, Berth's gix driving the `ssh` program with the sealed key and the given
//! known_hosts only.

use berth_tests::repos::{add_stack, check_now, create_repo, events, id_of, spawn};
use git_fixtures::{GitRepo, SshGitServer, SshKey};
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;

fn ssh_credentials(key: &SshKey, known_hosts: &str) -> Value {
    json!({"kind": "ssh", "private_key": key.private_key(), "known_hosts": known_hosts})
}

/// The base64 body of a private key, which must never show up anywhere.
fn key_material(key: &SshKey) -> String {
    key.private_key()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

/// SSH dirs (with their key files) left in this Berth's mirrors.
fn leftover_keys(app: &berth_tests::TestApp) -> Vec<std::path::PathBuf> {
    let mut left = Vec::new();
    for mirror in std::fs::read_dir(app.data_dir.path().join("git"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        left.extend(
            std::fs::read_dir(mirror.path())
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(berth::git::SSH_DIR_PREFIX)
                })
                .map(|e| e.path()),
        );
    }
    left
}

#[tokio::test]
async fn an_ssh_repository_is_registered_with_a_sealed_key_and_its_checks_produce_deployment_events()
 {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n"), ("docs/x", "x")]);
    let key = SshKey::generate("berth");
    let server = SshGitServer::serve(&[&repo], &key);
    let created = create_repo(
        &app,
        "over-ssh",
        &server.url(&repo),
        json!({"credentials": ssh_credentials(&key, &server.known_hosts())}),
    )
    .await;
    let r = &created["repository"];
    assert_eq!(r["scheme"], "ssh", "{created}");
    assert_eq!(r["auth_kind"], "ssh");
    assert_eq!(r["has_credential"], true);
    assert_eq!(r["insecure_url"], false);
    assert_eq!(
        r["known_hosts"].as_str().unwrap().trim(),
        server.known_hosts()
    );
    let secret = key_material(&key);
    assert!(!created.to_string().contains(&secret[..40]));
    let sealed: Vec<u8> = sqlx::query_scalar("select sealed_credential from repository")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(&secret[..40]));

    let id = id_of(&created);
    let stack = add_stack(&app, id, "web", "main", &["deploy"]).await;
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed", "{check}");
    assert_eq!(
        events(&app, stack).await,
        vec![(repo.head("main"), "manual".to_owned())]
    );
    // A commit outside the stack's path is seen, not deployed; one inside is deployed.
    repo.commit_files(&[("docs/x", "y")], "docs");
    assert_eq!(check_now(&app, id).await["outcome"], "moved");
    let head = repo.commit_files(&[("deploy/a.yaml", "a: 2\n")], "deploy");
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed", "{check}");
    assert_eq!(events(&app, stack).await.last().unwrap().0, head);

    // Every connection asked for protocol v2, for this repository only; the key never stayed on disk.
    let requests = server.requests();
    assert!(requests.len() >= 4, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.repository == "app.git" && r.git_protocol == "version=2"),
        "{requests:?}"
    );
    assert!(leftover_keys(&app).is_empty(), "{:?}", leftover_keys(&app));
    assert!(!berth_tests::captured_logs().contains(&secret[..40]));
}

#[tokio::test]
async fn a_refused_key_and_an_unknown_host_key_are_explained_and_nothing_is_saved() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let key = SshKey::generate("berth");
    let server = SshGitServer::serve(&[&repo], &key);
    let stranger = SshKey::generate("stranger");
    let impostor = SshKey::generate("impostor");
    let changed = format!("[127.0.0.1]:{} {}", server.port(), impostor.public_key());
    let other_host = format!("[127.0.0.1]:1 {}", server.host_public_key());
    let cases = [
        (
            server.url(&repo),
            ssh_credentials(&stranger, &server.known_hosts()),
            "credentials.private_key",
            &[
                "authentication failed",
                "refused the SSH private key",
                "Permission denied (publickey)",
            ][..],
        ),
        (
            server.url(&repo),
            ssh_credentials(&key, &changed),
            "credentials.known_hosts",
            &[
                "unknown host",
                "host key",
                "REMOTE HOST IDENTIFICATION HAS CHANGED",
            ][..],
        ),
        (
            server.url(&repo),
            ssh_credentials(&key, &other_host),
            "credentials.known_hosts",
            &["unknown host", "Host key verification failed"][..],
        ),
        (
            server.url_for("missing"),
            ssh_credentials(&key, &server.known_hosts()),
            "url",
            &["repository not found"][..],
        ),
    ];
    for (url, credentials, field, words) in cases {
        let res = app
            .admin(Method::POST, "/api/v1/repositories")
            .json(&json!({"name": "r", "url": url, "credentials": credentials}))
            .send()
            .await
            .unwrap();
        let (code, f, message) = error_of(res, 422).await;
        assert_eq!(code, "connection_failed", "{message}");
        assert_eq!(f.as_deref(), Some(field), "{message}");
        for w in words {
            assert!(message.contains(w), "{w:?} missing from: {message}");
        }
        for k in [&key, &stranger] {
            assert!(!message.contains(&key_material(k)[..40]), "{message}");
        }
    }
    // Host keys are always verified: an SSH key without known_hosts is refused before connecting.
    let res = app
        .admin(Method::POST, "/api/v1/repositories")
        .json(&json!({"name": "r", "url": server.url(&repo),
                      "credentials": {"kind": "ssh", "private_key": key.private_key()}}))
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 422).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("validation", Some("credentials.known_hosts"))
    );
    let count: i64 = sqlx::query_scalar("select count(*) from repository")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert!(leftover_keys(&app).is_empty());
}

#[tokio::test]
async fn a_rejected_key_rotation_keeps_the_old_key_and_a_changed_host_key_fails_checks_visibly() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let key = SshKey::generate("berth");
    let server = SshGitServer::serve(&[&repo], &key);
    let id = id_of(
        &create_repo(
            &app,
            "r",
            &server.url(&repo),
            json!({"credentials": ssh_credentials(&key, &server.known_hosts())}),
        )
        .await,
    );
    add_stack(&app, id, "s", "main", &["a"]).await;
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/repositories/{id}"))
        .json(
            &json!({"credentials": ssh_credentials(&SshKey::generate("x"), &server.known_hosts())}),
        )
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("credentials.private_key"));
    assert_eq!(check_now(&app, id).await["outcome"], "changed");

    // A key authorized later is accepted by a rotation.
    let next = SshKey::generate("next");
    server.authorize(&next);
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/repositories/{id}"))
        .json(&json!({"credentials": ssh_credentials(&next, &server.known_hosts())}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // The server's host key no longer matches what was registered (as after a re-install).
    let impostor = SshKey::generate("impostor");
    sqlx::query("update repository set known_hosts = $1")
        .bind(format!(
            "[127.0.0.1]:{} {}\n",
            server.port(),
            impostor.public_key()
        ))
        .execute(&app.pool)
        .await
        .unwrap();
    repo.commit_files(&[("a/x", "2")], "change");
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "failed", "{check}");
    assert_eq!(check["error_kind"], "unknown_host", "{check}");
    let status: Value = app
        .admin(Method::GET, &format!("/api/v1/repositories/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"]["consecutive_failures"], 1, "{status}");
    assert!(
        status["status"]["last_error"]
            .as_str()
            .unwrap()
            .contains("host key"),
        "{status}"
    );
}
