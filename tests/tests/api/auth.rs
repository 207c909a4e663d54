use berth_tests::TestApp;
use berth_tests::app::ADMIN_PASSWORD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;

#[tokio::test]
async fn an_admin_logs_in_and_reads_their_own_user() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());
    assert!(me["last_login_at"].is_string());
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_401_without_saying_which() {
    let app = TestApp::spawn().await;
    for (user, pass) in [
        ("admin", "not-the-password"),
        ("ghost", "whatever-password"),
    ] {
        let res = app
            .anon(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": user, "password": pass}))
            .send()
            .await
            .unwrap();
        let (code, _, message) = error_of(res, 401).await;
        assert_eq!(code, "invalid_credentials");
        assert_eq!(message, "invalid username or password");
    }
}

#[tokio::test]
async fn requests_without_or_with_garbage_credentials_are_401() {
    let app = TestApp::spawn().await;
    let res = app
        .anon(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 401).await.0, "unauthorized");
    for token in [
        "garbage",
        "berth_not-a-real-token",
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
    ] {
        let res = app
            .as_token(token, Method::GET, "/api/v1/auth/me")
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res, 401).await.0, "unauthorized");
    }
}

#[tokio::test]
async fn logout_revokes_only_that_session() {
    let app = TestApp::spawn().await;
    let other = app.login("admin", ADMIN_PASSWORD).await;
    let res = app
        .admin(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .admin(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .as_token(&other, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = TestApp::spawn().await;
    sqlx::query("update user_session set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .admin(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 401).await.0, "unauthorized");
}

#[tokio::test]
async fn a_session_signed_with_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let keys = berth::auth::jwt::SessionKeys::from_secret(b"a key that is not the server's key!");
    let me: Value = app
        .admin(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let session_id: uuid::Uuid = sqlx::query_scalar("select session_id from user_session limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let forged = keys
        .sign(user_id, session_id, now, now + chrono::Duration::hours(1))
        .unwrap();
    let res = app
        .as_token(&forged, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn changing_the_password_revokes_older_sessions_and_returns_a_new_one() {
    let app = TestApp::spawn().await;
    let other = app.login("admin", ADMIN_PASSWORD).await;
    let res = app
        .admin(Method::POST, "/api/v1/auth/password")
        .json(&json!({"current_password": "wrong-password", "new_password": "brand-new-password"}))
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("current_password"));

    let res = app
        .admin(Method::POST, "/api/v1/auth/password")
        .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "brand-new-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    let fresh = fresh["token"].as_str().unwrap();
    for old in [&app.admin_token, &other] {
        let res = app
            .as_token(old, Method::GET, "/api/v1/auth/me")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .as_token(fresh, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.login("admin", "brand-new-password").await;
}

#[tokio::test]
async fn sessions_survive_a_restart_because_the_signing_key_is_in_the_database() {
    let app = TestApp::spawn().await;
    let url =
        berth_tests::app::with_database(&berth_tests::app::admin_database_url(), &app.db_name);
    let key_dir = app.data_dir.path().to_path_buf();
    // A second Berth on the same database and key file: a replica, or the same server restarted.
    let config = berth::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(berth::crypto::Secret::new(url)),
        data_dir: key_dir,
        database_max_connections: 5,
        ..berth::config::Config::default()
    };
    let replica = berth::Application::build(config, None).await.unwrap();
    let addr = replica.local_addr();
    let stop = tokio_util::sync::CancellationToken::new();
    let stopped = stop.clone();
    let task = tokio::spawn(replica.run_until(async move { stopped.cancelled().await }));
    let res = app
        .client
        .get(format!("http://{addr}/api/v1/auth/me"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_user_and_per_address() {
    let app = TestApp::spawn_with(|c| c.login_rate_per_minute = 3).await;
    // The harness already used one attempt for admin from this address.
    for _ in 0..2 {
        let res = app
            .anon(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .anon(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(error_of(res, 429).await.0, "rate_limited");
    // The address is exhausted too: another username is refused as well.
    let res = app
        .anon(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "someone-else", "password": "whatever-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn a_disabled_user_can_neither_log_in_nor_use_their_session() {
    let app = TestApp::spawn().await;
    let token = app.user_with_role("dora", "operator").await;
    let id = user_id(&app, "dora").await;
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .anon(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "dora", "password": "dora-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

pub async fn user_id(app: &TestApp, username: &str) -> String {
    let page: Value = app
        .admin(Method::GET, &format!("/api/v1/users?search={username}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
