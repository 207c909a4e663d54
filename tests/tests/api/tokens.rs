use berth_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;

async fn create_token(app: &TestApp, session: &str, body: Value) -> (String, Value) {
    let res = app
        .as_token(session, Method::POST, "/api/v1/tokens")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    (token, created["api_token"].clone())
}

#[tokio::test]
async fn an_api_token_is_shown_once_stored_hashed_and_works_as_bearer() {
    let app = TestApp::spawn().await;
    let (token, meta) = create_token(&app, &app.admin_token, json!({"name": "ci"})).await;
    assert!(token.starts_with("berth_"));
    assert!(token.len() > 30);
    assert_eq!(meta["role"], "admin");
    assert!(token.starts_with(meta["prefix"].as_str().unwrap()));
    let stored: Vec<String> = sqlx::query_scalar("select token_hash from api_token")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(&token[6..]));
    let list = app
        .admin(Method::GET, "/api/v1/tokens")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&token), "the token is never listed");
    let res = app
        .as_token(&token, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let used: Value = app
        .admin(Method::GET, "/api/v1/tokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(used["items"][0]["last_used_at"].is_string());
}

#[tokio::test]
async fn a_token_cannot_exceed_its_owners_role_and_never_acts_above_it() {
    let app = TestApp::spawn().await;
    let operator = app.user_with_role("otto", "operator").await;
    let res = app
        .as_token(&operator, Method::POST, "/api/v1/tokens")
        .json(&json!({"name": "too-much", "role": "admin"}))
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("role"));

    // An admin's admin token loses its power when the owner is demoted.
    let ada = app.user_with_role("ada", "admin").await;
    let (token, _) = create_token(&app, &ada, json!({"name": "ops", "role": "admin"})).await;
    let res = app
        .as_token(&token, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ada_id = crate::auth::user_id(&app, "ada").await;
    app.admin(Method::PATCH, &format!("/api/v1/users/{ada_id}"))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    let res = app
        .as_token(&token, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (viewer_token, _) = create_token(
        &app,
        &app.admin_token,
        json!({"name": "ro", "role": "viewer"}),
    )
    .await;
    let res = app
        .as_token(&viewer_token, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn().await;
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let (token, meta) = create_token(
        &app,
        &app.admin_token,
        json!({"name": "short", "expires_at": soon}),
    )
    .await;
    assert!(meta["expires_at"].is_string());
    let res = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sqlx::query("update api_token set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 401).await.0, "unauthorized");

    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let res = app
        .admin(Method::POST, "/api/v1/tokens")
        .json(&json!({"name": "old", "expires_at": past}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 422).await.1.as_deref(), Some("expires_at"));
}

#[tokio::test]
async fn a_revoked_token_is_refused_and_only_owners_or_admins_revoke() {
    let app = TestApp::spawn().await;
    let (token, meta) = create_token(&app, &app.admin_token, json!({"name": "deploy"})).await;
    let id = meta["id"].as_str().unwrap();
    let viewer = app.user_with_role("val", "viewer").await;
    let res = app
        .as_token(&viewer, Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "someone else's token is invisible");
    let res = app
        .admin(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let listed: Value = app
        .admin(Method::GET, "/api/v1/tokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["items"][0]["revoked_at"].is_string());
}

#[tokio::test]
async fn users_see_their_own_tokens_and_admins_may_see_all() {
    let app = TestApp::spawn().await;
    let viewer = app.user_with_role("vera", "viewer").await;
    create_token(&app, &viewer, json!({"name": "mine"})).await;
    create_token(&app, &app.admin_token, json!({"name": "admins"})).await;
    let mine: Value = app
        .as_token(&viewer, Method::GET, "/api/v1/tokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mine"]);
    let all: Value = app
        .admin(Method::GET, "/api/v1/tokens?all=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}
