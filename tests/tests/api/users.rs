use berth_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::auth::user_id;
use crate::error_of;

#[tokio::test]
async fn only_admins_reach_user_administration_and_the_audit_log() {
    let app = TestApp::spawn().await;
    let viewer = app.user_with_role("vic", "viewer").await;
    let operator = app.user_with_role("olga", "operator").await;
    let vic_id = user_id(&app, "vic").await;
    let admin_only: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/users".into(), None),
        (Method::GET, format!("/api/v1/users/{vic_id}"), None),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"username": "eve", "password": "eve-password", "role": "admin"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{vic_id}"),
            Some(json!({"role": "admin"})),
        ),
        (Method::GET, "/api/v1/audit".into(), None),
        (Method::GET, "/api/v1/tokens?all=true".into(), None),
    ];
    for token in [&viewer, &operator] {
        for (method, path, body) in &admin_only {
            let mut req = app.as_token(token, method.clone(), path);
            if let Some(b) = body {
                req = req.json(b);
            }
            let (code, _, message) = error_of(req.send().await.unwrap(), 403).await;
            assert_eq!(code, "forbidden", "{method} {path}");
            assert!(message.contains("admin"), "{message}");
        }
        let res = app
            .as_token(token, Method::GET, "/api/v1/auth/me")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Nothing was written by the refused requests.
    let eve: Option<String> =
        sqlx::query_scalar("select username from app_user where username = 'eve'")
            .fetch_optional(&app.pool)
            .await
            .unwrap();
    assert!(eve.is_none());
    let vic: Value = app
        .admin(Method::GET, &format!("/api/v1/users/{vic_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vic["role"], "viewer");
}

#[tokio::test]
async fn a_taken_username_is_a_409_naming_the_field() {
    let app = TestApp::spawn().await;
    app.user_with_role("sam", "viewer").await;
    let res = app
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": "SAM", "password": "another-password", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 409).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("conflict", Some("username"))
    );
}

#[tokio::test]
async fn invalid_users_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"username": "bad name", "password": "long-enough", "role": "viewer"}),
            422,
            "username",
        ),
        (
            json!({"username": "ok", "password": "short", "role": "viewer"}),
            422,
            "password",
        ),
        (
            json!({"username": "ok", "password": "long-enough", "role": "root"}),
            422,
            "role",
        ),
        (
            json!({"username": "ok", "password": "long-enough"}),
            422,
            "role",
        ),
        (
            json!({"username": "ok", "password": "long-enough", "role": "viewer", "extra": 1}),
            422,
            "extra",
        ),
        (
            json!({"username": 7, "password": "long-enough", "role": "viewer"}),
            422,
            "username",
        ),
    ];
    for (body, status, want) in cases {
        let res = app
            .admin(Method::POST, "/api/v1/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (_, field, message) = error_of(res, status).await;
        assert_eq!(field.as_deref(), Some(want), "{body} → {message}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the admin exists");
}

#[tokio::test]
async fn a_role_change_revokes_the_users_sessions_and_takes_effect() {
    let app = TestApp::spawn().await;
    let token = app.user_with_role("rita", "viewer").await;
    let id = user_id(&app, "rita").await;
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .as_token(&token, Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "old session revoked");
    let fresh = app.login("rita", "rita-password").await;
    let res = app
        .as_token(&fresh, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::spawn().await;
    let id = user_id(&app, "admin").await;
    for (body, field) in [
        (json!({"role": "viewer"}), "role"),
        (json!({"disabled": true}), "disabled"),
    ] {
        let res = app
            .admin(Method::PATCH, &format!("/api/v1/users/{id}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (_, f, _) = error_of(res, 422).await;
        assert_eq!(f.as_deref(), Some(field));
    }
}

#[tokio::test]
async fn users_are_listed_in_pages_with_filters() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        let role = if i % 2 == 0 { "viewer" } else { "operator" };
        let res = app
            .admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": format!("user{i}"), "password": "long-enough", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/users?limit=3&search=user".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .admin(Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let want: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
    assert_eq!(seen, want);
    let ops: Value = app
        .admin(Method::GET, "/api/v1/users?role=operator")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ops["items"].as_array().unwrap().len(), 3);
    assert!(ops["next_cursor"].is_null());
}
