//! Helpers for repository and webhook tests: a Berth tuned for Git tests, registering
//! repositories, adding stacks through the store (stack creation through the API is another
//! issue), running checks and reading deployment events.

use std::time::Duration;

use crate::{TestApp, wait_for};
use berth::stacks::store::NewStack;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// Berth with short Git timeouts and a 1 s minimum poll interval.
pub async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| {
        c.min_poll_interval = Duration::from_secs(1);
        c.git_timeout = Duration::from_secs(3);
        c.database_max_connections = 20;
    })
    .await
}

/// Registers a repository (manual schedule unless `extra` says otherwise); returns the body.
pub async fn create_repo(app: &TestApp, name: &str, url: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "url": url, "schedule": {"kind": "manual"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app
        .admin(Method::POST, "/api/v1/repositories")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

pub fn id_of(created: &Value) -> Uuid {
    created["repository"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub async fn add_stack(
    app: &TestApp,
    repo: Uuid,
    name: &str,
    git_ref: &str,
    paths: &[&str],
) -> Uuid {
    berth::stacks::store::insert(
        &app.pool,
        &NewStack {
            name: name.into(),
            repository_id: repo,
            git_ref: git_ref.into(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            watched_paths: Vec::new(),
            auto_deploy: true,
        },
    )
    .await
    .unwrap()
    .id
}

/// "Check now", then waits for that check to finish; returns the check.
pub async fn check_now(app: &TestApp, repo: Uuid) -> Value {
    let res = app
        .admin(Method::POST, &format!("/api/v1/repositories/{repo}/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let check_id = res.json::<Value>().await.unwrap()["check_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_check(app, repo, &check_id).await
}

pub async fn wait_check(app: &TestApp, repo: Uuid, check_id: &str) -> Value {
    wait_for("the check to finish", Duration::from_secs(30), || async {
        let v: Value = app
            .admin(
                Method::GET,
                &format!("/api/v1/repositories/{repo}/checks/{check_id}"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (v["status"] == "done").then_some(v)
    })
    .await
}

/// Deployment events of a stack, oldest first: (commit, trigger).
pub async fn events(app: &TestApp, stack: Uuid) -> Vec<(String, String)> {
    sqlx::query_as(
        "select commit, trigger from deployment_event where stack_id = $1 order by created_at",
    )
    .bind(stack)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

pub async fn last_seen(app: &TestApp, stack: Uuid) -> Option<String> {
    sqlx::query_scalar("select last_seen_commit from stack where stack_id = $1")
        .bind(stack)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub async fn checks_of(app: &TestApp, repo: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from repository_check where repository_id = $1")
        .bind(repo)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}
