//! The API conventions every route follows: one error shape, strict input, pagination, limits,
//! health, metrics, OpenAPI and the dashboard.

use berth_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::GET, "/api/v1/no-such-thing")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 404).await.0, "not_found");
    let res = app
        .admin(Method::DELETE, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 405).await.0, "method_not_allowed");
    let res = app
        .admin(Method::GET, "/api/v1/users/not-a-uuid")
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 400).await;
    assert_eq!(field.as_deref(), Some("id"));
}

#[tokio::test]
async fn malformed_json_wrong_types_and_content_types_are_4xx_never_500() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::POST, "/api/v1/users")
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 400).await.0, "malformed_json");
    let res = app
        .admin(Method::POST, "/api/v1/users")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 415).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("unsupported_media_type", Some("content-type"))
    );
    let res = app
        .admin(Method::POST, "/api/v1/tokens")
        .json(&json!({"name": "x", "expires_at": "next tuesday"}))
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 422).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("validation", Some("expires_at"))
    );
    let res = app
        .admin(Method::POST, "/api/v1/tokens")
        .json(&json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 422).await.0, "validation");
}

#[tokio::test]
async fn bad_query_parameters_name_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("cursor=%%%", "cursor"),
        ("cursor=eyJub3QiOiJhIGN1cnNvciJ9", "cursor"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("limit=ten", "limit"),
        ("role=root", "role"),
        ("disabled=maybe", "disabled"),
        ("unknown=1", "unknown"),
    ] {
        let res = app
            .admin(Method::GET, &format!("/api/v1/users?{query}"))
            .send()
            .await
            .unwrap();
        let (_, f, message) = error_of(res, 400).await;
        assert_eq!(f.as_deref(), Some(field), "{query}: {message}");
    }
    let res = app
        .admin(
            Method::GET,
            "/api/v1/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 400).await.1.as_deref(), Some("until"));
}

#[tokio::test]
async fn an_oversized_body_is_413_and_writes_nothing() {
    let app = TestApp::spawn_with(|c| c.body_limit = 16 * 1024).await;
    let big = "x".repeat(64 * 1024);
    let res = app
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": "big", "password": big, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 413).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("payload_too_large", Some("body"))
    );
    // Chunked, without a content length: stopped while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(4096)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = futures::stream::iter(chunks);
    let res = app
        .admin(Method::POST, "/api/v1/users")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    // The server answers 413 as soon as the limit is crossed and then closes the connection; a
    // client still writing may see that close before it reads the answer. Either way: refused.
    match res {
        Ok(res) => assert_eq!(error_of(res, 413).await.0, "payload_too_large"),
        Err(e) => assert!(e.is_request() || e.is_body(), "unexpected error: {e}"),
    }
    let n: i64 = sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn health_readiness_and_version_need_no_credentials() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let res = app.anon(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
    let v: Value = app
        .anon(Method::GET, "/api/v1/version")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let admin_url = berth_tests::app::admin_database_url();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    let sql = format!(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = '{}' and pid <> pg_backend_pid()",
        app.db_name
    );
    // Forbid new connections, then cut the existing ones.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database {} allow_connections false",
        app.db_name
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let res = app.anon(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(error_of(res, 503).await.0, "database_unavailable");
    assert_eq!(
        app.anon(Method::GET, "/healthz")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database {} allow_connections true",
        app.db_name
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = TestApp::spawn().await;
    app.admin(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    app.admin(Method::GET, "/api/v1/no-such")
        .send()
        .await
        .unwrap();
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("berth_http_requests_total")
                && l.contains("route=\"/api/v1/users\"")
                && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(text.contains("route=\"/api/unmatched\""));
    assert!(text.contains("berth_http_request_duration_seconds_bucket"));
    assert!(text.contains("berth_db_pool_connections"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_browsable_page_loads() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .anon(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/tokens",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let page = app.anon(Method::GET, "/api/docs/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn the_committed_openapi_copy_for_the_dashboard_is_current() {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    let current = serde_json::to_value(berth::api::openapi()).unwrap();
    assert!(
        committed == current,
        "web/openapi.json is stale: run `make openapi` (berth openapi > web/openapi.json)"
    );
}

#[tokio::test]
async fn the_dashboard_is_served_with_spa_fallback_and_cache_headers() {
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><div id=root></div>",
    )
    .unwrap();
    std::fs::write(
        web.path().join("assets/app-1a2b.js"),
        "console.log('berth')",
    )
    .unwrap();
    let dir = web.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.web_dir = dir).await;
    let res = app.anon(Method::GET, "/").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(res.text().await.unwrap().contains("id=root"));
    let res = app
        .anon(Method::GET, "/assets/app-1a2b.js")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let res = app
        .anon(Method::GET, "/environments/prod-eu")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "client-side routes get index.html");
    assert!(res.text().await.unwrap().contains("id=root"));
    let res = app
        .anon(Method::GET, "/assets/missing.js")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "missing assets are not answered with index.html"
    );
    let res = app
        .anon(Method::GET, "/api/v1/missing")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 404).await.0, "not_found");
}

#[tokio::test]
async fn the_built_dashboard_index_and_assets_are_served() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist");
    assert!(
        dist.join("index.html").is_file(),
        "web/dist is not built: `make test` builds it (or run `make web`)"
    );
    let app = TestApp::spawn_with(move |c| c.web_dir = dist).await;
    let res = app.anon(Method::GET, "/").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("index.html references a script under /assets/");
    let res = app.anon(Method::GET, asset).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

#[tokio::test]
async fn a_request_in_flight_when_shutdown_begins_still_completes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let body = format!(
        r#"{{"username":"admin","password":"{}"}}"#,
        berth_tests::app::ADMIN_PASSWORD
    );
    let (head, tail) = body.split_at(10);
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        app.addr,
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    // Let the server accept the connection and start reading the body before shutdown begins.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.begin_shutdown();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    conn.write_all(tail.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.read_to_end(&mut answer),
    )
    .await
    .expect("answered before the grace period ended")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"token\""));
    let addr = app.addr;
    app.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}
