//! Webhooks: signatures per provider, wrong signatures, answers CI can follow. The storm test has
//! its own binary (`tests/webhook_storm.rs`), so no other test shares the machine while it runs.

use berth::webhooks::sign;
use git_fixtures::{GitDaemon, GitRepo};
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;
use berth_tests::repos::{add_stack, checks_of, create_repo, events, id_of, spawn, wait_check};

/// A GitHub-style push payload naming `url`.
fn payload(url: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"ref": "refs/heads/main", "repository": {"clone_url": url}}))
        .unwrap()
}

#[tokio::test]
async fn a_signed_github_push_checks_now_and_answers_with_the_check_and_its_deployment_events() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let url = daemon.url(&repo);
    let created = create_repo(&app, "app", &url, json!({})).await;
    let id = id_of(&created);
    let secret = created["webhook_secret"].as_str().unwrap().to_owned();
    let stack = add_stack(&app, id, "s", "main", &["a"]).await;
    let body = payload(&url);
    let res = app
        .anon(Method::POST, "/api/v1/webhooks/github?wait=20")
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", sign(secret.as_bytes(), &body)),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["checks"][0]["status"], "done", "{v}");
    assert_eq!(v["checks"][0]["outcome"], "changed", "{v}");
    let event_ids = v["deployment_event_ids"].as_array().unwrap();
    assert_eq!(event_ids.len(), 1, "{v}");
    assert_eq!(events(&app, stack).await[0].1, "webhook");
    // Without waiting, the answer names the queued check, which CI can follow.
    let head = repo.commit_files(&[("a/x", "2")], "change");
    let body = payload(&url);
    let res = app
        .anon(Method::POST, "/api/v1/webhooks/github")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", sign(secret.as_bytes(), &body)),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    let check_id = v["checks"][0]["check_id"].as_str().unwrap().to_owned();
    let check = wait_check(&app, id, &check_id).await;
    assert_eq!(check["deployment_event_ids"].as_array().unwrap().len(), 1);
    assert_eq!(events(&app, stack).await[1].0, head);
}

#[tokio::test]
async fn a_wrong_signature_is_401_and_queues_nothing_for_every_provider() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let url = daemon.url(&repo);
    let created = create_repo(&app, "app", &url, json!({})).await;
    let id = id_of(&created);
    let body = payload(&url);
    let wrong = format!("sha256={}", sign(b"not-the-secret", &body));
    for (provider, header, value) in [
        ("github", "x-hub-signature-256", wrong.as_str()),
        ("gitlab", "x-gitlab-token", "not-the-secret"),
        ("gitea", "x-gitea-signature", &wrong[7..]),
        ("bitbucket", "x-hub-signature", wrong.as_str()),
        ("generic", "x-berth-signature-256", wrong.as_str()),
    ] {
        let res = app
            .anon(Method::POST, &format!("/api/v1/webhooks/{provider}"))
            .header(header, value)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(res, 401).await.0,
            "invalid_signature",
            "{provider}"
        );
    }
    // No signature at all, and a URL nobody registered.
    let res = app
        .anon(Method::POST, "/api/v1/webhooks/github")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    error_of(res, 401).await;
    let res = app
        .anon(Method::POST, "/api/v1/webhooks/nope")
        .body(body)
        .send()
        .await
        .unwrap();
    error_of(res, 404).await;
    assert_eq!(checks_of(&app, id).await, 0);
}

#[tokio::test]
async fn gitlab_gitea_bitbucket_and_generic_deliveries_are_verified_and_matched_by_url() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let url = daemon.url(&repo);
    let created = create_repo(&app, "app", &url, json!({})).await;
    let secret = created["webhook_secret"].as_str().unwrap().to_owned();
    let key = secret.as_bytes();
    let gitlab =
        serde_json::to_vec(&json!({"project": {"git_http_url": format!("{url}/")}})).unwrap();
    let gitea = payload(&url);
    let bitbucket =
        serde_json::to_vec(&json!({"repository": {"links": {"clone": [{"href": url}]}}})).unwrap();
    let generic =
        serde_json::to_vec(&json!({"repository_url": url.trim_end_matches(".git")})).unwrap();
    let deliveries = [
        ("gitlab", "x-gitlab-token", secret.clone(), gitlab),
        (
            "gitea",
            "x-gitea-signature",
            sign(key, &gitea),
            gitea.clone(),
        ),
        ("forgejo", "x-forgejo-signature", sign(key, &gitea), gitea),
        (
            "bitbucket",
            "x-hub-signature",
            format!("sha256={}", sign(key, &bitbucket)),
            bitbucket,
        ),
        (
            "generic",
            "x-berth-signature-256",
            format!("sha256={}", sign(key, &generic)),
            generic,
        ),
    ];
    for (provider, header, value, body) in deliveries {
        let res = app
            .anon(Method::POST, &format!("/api/v1/webhooks/{provider}"))
            .header(header, value)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            202,
            "{provider}: {}",
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn a_github_delivery_sent_as_a_form_is_verified_over_the_raw_body() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let url = daemon.url(&repo);
    let created = create_repo(&app, "app", &url, json!({})).await;
    let secret = created["webhook_secret"].as_str().unwrap().to_owned();
    let json = String::from_utf8(payload(&url)).unwrap();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &json)
        .finish();
    let res = app
        .anon(Method::POST, "/api/v1/webhooks/github")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", sign(secret.as_bytes(), body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
}
