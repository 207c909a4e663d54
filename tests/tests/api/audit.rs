use berth_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn state_changing_requests_write_audit_rows_with_actor_target_and_address() {
    let app = TestApp::spawn().await;
    app.user_with_role("abby", "operator").await;
    let created: Value = app
        .admin(Method::POST, "/api/v1/tokens")
        .json(&json!({"name": "pipeline"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();
    let id = created["api_token"]["id"].as_str().unwrap();
    // Acting through the API token is audited with the token's name.
    app.as_token(token, Method::POST, "/api/v1/users")
        .json(&json!({"username": "bert", "password": "bert-password", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    app.admin(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    app.admin(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();

    let creates = app.audit_actions("user.create").await;
    assert_eq!(
        creates[0],
        (None, Some("user:admin".into())),
        "first start by Berth itself"
    );
    assert_eq!(creates[1], (Some("admin".into()), Some("user:abby".into())));
    assert_eq!(
        creates[2],
        (
            Some("admin (token pipeline)".into()),
            Some("user:bert".into())
        )
    );
    assert_eq!(app.audit_actions("token.create").await.len(), 1);
    assert_eq!(
        app.audit_actions("token.revoke").await[0].1,
        Some(format!("token:{id}"))
    );
    assert_eq!(app.audit_actions("auth.logout").await.len(), 1);
    let addr: Option<String> =
        sqlx::query_scalar("select client_addr from audit_event where action = 'auth.logout'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(addr.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_refused_request_writes_no_audit_row() {
    let app = TestApp::spawn().await;
    let before: i64 = sqlx::query_scalar("select count(*) from audit_event")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": "x y", "password": "long-enough", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let viewer = app.user_with_role("vlad", "viewer").await;
    app.as_token(&viewer, Method::POST, "/api/v1/users")
        .json(&json!({"username": "nope", "password": "long-enough", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar("select count(*) from audit_event")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // Only vlad's creation and login were recorded.
    assert_eq!(after - before, 2);
}

#[tokio::test]
async fn admins_read_the_audit_log_newest_first_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    for i in 0..4 {
        app.user_with_role(&format!("u{i}"), "viewer").await;
    }
    let page: Value = app
        .admin(Method::GET, "/api/v1/audit?action=user.create&limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let targets: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, vec!["user:u3", "user:u2"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .admin(
            Method::GET,
            &format!("/api/v1/audit?action=user.create&limit=2&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let targets: Vec<&str> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, vec!["user:u1", "user:u0"]);
    let by_prefix: Value = app
        .admin(Method::GET, "/api/v1/audit?action=auth.&actor=u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = by_prefix["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["action"], "auth.login");
    let future: Value = app
        .admin(Method::GET, "/api/v1/audit?since=2999-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());
}
