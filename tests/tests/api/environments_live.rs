//! Living with environments: probes, status events, updates, rotation, deletion, roles, and
//! credentials that never leak. Against `TestCluster` (test API server or real cluster); what
//! needs the test API server's request log is checked there only, with the reason printed
//! elsewhere.

use std::time::Duration;

use base64::Engine;
use berth_tests::kubeconfig::KubeconfigDoc;
use berth_tests::proxy::TcpProxy;
use berth_tests::{TestApp, TestCluster, captured_logs, wait_for};
use futures::StreamExt;
use kube_test_api::BadKubeconfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::environments::{get, register, register_ok, skipped, wrong_ca_kubeconfig};
use crate::error_of;

async fn spawn_fast_probes() -> TestApp {
    TestApp::spawn_with(|c| c.probe_interval = Duration::from_secs(1)).await
}

#[tokio::test]
async fn a_cluster_that_goes_down_and_comes_back_is_seen_audited_and_streamed() {
    let app = spawn_fast_probes().await;
    let cluster = TestCluster::start().await;
    // The cluster is reached through a relay the test cuts and restores (any cluster can "go down").
    let (relay, kubeconfig) = TcpProxy::in_front_of(&cluster.admin_token_kubeconfig().await).await;
    let env = register_ok(&app, "flaky", &kubeconfig, json!({})).await;
    let path = format!("/api/v1/environments/{}", env["id"].as_str().unwrap());

    let events = app
        .admin(Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = events.bytes_stream();

    relay.cut();
    let down = wait_for("status down", Duration::from_secs(30), || async {
        let e = get(&app, &path).await;
        (e["status"] == "down").then_some(e)
    })
    .await;
    assert!(down["last_error"].is_string(), "{down}");
    let last_seen = down["last_seen_at"].clone();
    assert!(last_seen.is_string());

    relay.restore().await;
    let up = wait_for("status up", Duration::from_secs(30), || async {
        let e = get(&app, &path).await;
        (e["status"] == "up").then_some(e)
    })
    .await;
    assert!(up["last_error"].is_null(), "{up}");
    assert_ne!(up["last_seen_at"], last_seen);
    assert!(up["probe_latency_ms"].is_number());
    assert!(up["node_count"].as_i64().unwrap() >= 1, "{up}");

    let changes = app.audit_actions("environment.status").await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0], (None, Some("environment:flaky".to_owned())));

    // Both changes arrived on the SSE stream.
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while text.matches("event: environment.status").count() < 2 {
            let chunk = stream.next().await.expect("stream open").unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("status events not streamed: {text}"));
    assert!(text.contains("\"status\":\"down\""), "{text}");
    assert!(text.contains("\"status\":\"up\""), "{text}");
}

#[tokio::test]
async fn rotation_keeps_the_old_credentials_when_the_new_ones_fail() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let admin = cluster.admin_token_kubeconfig().await;
    let env = register_ok(&app, "rot", &admin, json!({})).await;
    assert_eq!(env["permissions"]["level"], "cluster_admin");
    let sealed = || async {
        sqlx::query_scalar::<_, Vec<u8>>(
            "select sealed_kubeconfig from environment where name = 'rot'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let sealed_before = sealed().await;
    let rotate = |kubeconfig: String| {
        app.admin(Method::PUT, "/api/v1/environments/rot/kubeconfig")
            .json(&json!({"kubeconfig": kubeconfig}))
            .send()
    };
    for (what, bad) in [
        (
            "expired token",
            cluster.bad_kubeconfig(BadKubeconfig::ExpiredToken),
        ),
        ("wrong CA", wrong_ca_kubeconfig(&cluster).await),
        (
            "token file",
            KubeconfigDoc::parse(&admin)
                .with_user(json!({"tokenFile": "/x"}))
                .to_text(),
        ),
    ] {
        let res = rotate(bad).await.unwrap();
        assert_eq!(res.status(), 422, "{what}");
    }
    let after = get(&app, "/api/v1/environments/rot").await;
    assert_eq!(after["credential_version"], 1);
    assert_eq!(after["auth_kind"], "token");
    assert_eq!(sealed_before, sealed().await);
    // The old credentials still work.
    let probed: Value = app
        .admin(Method::POST, "/api/v1/environments/rot/probe")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(probed["status"], "up", "{probed}");

    // New, working credentials of another identity replace them; the permissions follow.
    let res = rotate(cluster.view_kubeconfig().await).await.unwrap();
    let rotated: Value = res.json().await.unwrap();
    assert_eq!(rotated["credential_version"], 2, "{rotated}");
    assert_eq!(rotated["permissions"]["level"], "read_only", "{rotated}");
    assert_eq!(rotated["id"], env["id"]);
    assert_eq!(
        app.audit_actions("environment.rotate_credentials")
            .await
            .len(),
        1
    );
    let Some(server) = cluster.test_api() else {
        skipped(
            "which identity the next probe uses",
            "a real cluster has no request log to read",
        );
        return;
    };
    // The cached client was rebuilt: the probe now authenticates as the viewer.
    server.clear_requests();
    let probed: Value = app
        .admin(Method::POST, "/api/v1/environments/rot/probe")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(probed["status"], "up");
    let users: Vec<String> = server.requests().into_iter().map(|r| r.user).collect();
    assert!(
        !users.is_empty() && users.iter().all(|u| u == "viewer"),
        "{users:?}"
    );
}

#[tokio::test]
async fn admins_update_and_delete_while_operators_and_viewers_only_read() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let kc = cluster.admin_token_kubeconfig().await;
    register_ok(&app, "shared", &kc, json!({"env": "dev"})).await;
    let viewer = app.user_with_role("vic", "viewer").await;
    let operator = app.user_with_role("olga", "operator").await;
    for token in [&viewer, &operator] {
        let res = app
            .as_token(token, Method::GET, "/api/v1/environments")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = app
            .as_token(token, Method::GET, "/api/v1/environments/shared")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        for (method, path, body) in [
            (
                Method::POST,
                "/api/v1/environments",
                json!({"name": "x", "kubeconfig": kc}),
            ),
            (
                Method::PATCH,
                "/api/v1/environments/shared",
                json!({"name": "y"}),
            ),
            (
                Method::PUT,
                "/api/v1/environments/shared/kubeconfig",
                json!({"kubeconfig": kc}),
            ),
            (Method::DELETE, "/api/v1/environments/shared", json!(null)),
        ] {
            let mut req = app.as_token(token, method.clone(), path);
            if !body.is_null() {
                req = req.json(&body);
            }
            let (code, _, _) = error_of(req.send().await.unwrap(), 403).await;
            assert_eq!(code, "forbidden", "{method} {path}");
        }
    }
    let res = app
        .as_token(&viewer, Method::POST, "/api/v1/environments/shared/probe")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .as_token(&operator, Method::POST, "/api/v1/environments/shared/probe")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = app
        .admin(Method::PATCH, "/api/v1/environments/shared")
        .json(&json!({"name": "renamed", "tags": {"env": "prod"}, "default_namespace": "apps"}))
        .send()
        .await
        .unwrap();
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["name"], "renamed", "{updated}");
    assert_eq!(updated["tags"], json!({"env": "prod"}));
    assert_eq!(updated["default_namespace"], "apps");
    let res = app
        .admin(Method::PATCH, "/api/v1/environments/renamed")
        .json(&json!({"tags": {"env": "bad value"}}))
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("tags.env"));

    let res = app
        .admin(Method::DELETE, "/api/v1/environments/renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .admin(Method::GET, "/api/v1/environments/renamed")
        .send()
        .await
        .unwrap();
    error_of(res, 404).await;
    assert_eq!(app.audit_actions("environment.delete").await.len(), 1);
    assert_eq!(app.audit_actions("environment.update").await.len(), 1);
    // Deleting touched nothing in the cluster.
    match cluster.test_api() {
        Some(server) => assert!(server.requests().iter().all(|r| r.method != "DELETE")),
        None => skipped(
            "no DELETE reached the cluster",
            "a real cluster has no request log to read",
        ),
    }
}

#[tokio::test]
async fn credentials_never_appear_in_responses_the_audit_log_or_the_logs() {
    let app = spawn_fast_probes().await;
    let cluster = TestCluster::start().await;
    let admin = cluster.admin_token_kubeconfig().await;
    let token = KubeconfigDoc::parse(&admin).token().expect("a token");
    let mut kubeconfigs = vec![("tok", admin.clone())];
    // Secrets to look for: (what, text).
    let mut secrets = vec![("token", token.clone())];
    match cluster.client_certificate_kubeconfig() {
        Some(cert) => {
            let key_b64 = KubeconfigDoc::parse(&cert).user()["client-key-data"]
                .as_str()
                .unwrap()
                .to_owned();
            let key_pem = String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(&key_b64)
                    .unwrap(),
            )
            .unwrap();
            let key_body: String = key_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .join("");
            secrets.push(("client-key-data", key_b64));
            secrets.push(("key PEM", key_body[..40].to_owned()));
            kubeconfigs.push(("cert", cert));
        }
        None => skipped(
            "client keys in responses and logs",
            "the real cluster's admin kubeconfig holds no client certificate",
        ),
    }
    let mut bodies = Vec::new();
    for (name, kc) in &kubeconfigs {
        let res = register(&app, json!({"name": name, "kubeconfig": kc})).await;
        bodies.push(res.text().await.unwrap());
    }
    // A refused one (the messages must not quote the file either).
    let mut bad: Value = serde_json::from_str(&KubeconfigDoc::parse(&admin).to_text()).unwrap();
    bad["clusters"] = json!(12);
    let res = register(&app, json!({"name": "bad", "kubeconfig": bad.to_string()})).await;
    bodies.push(res.text().await.unwrap());
    let res = app
        .admin(Method::PUT, "/api/v1/environments/tok/kubeconfig")
        .json(&json!({"kubeconfig": admin}))
        .send()
        .await
        .unwrap();
    bodies.push(res.text().await.unwrap());
    // Let a few probe rounds run so their logs are captured too.
    let last = kubeconfigs.last().unwrap().0;
    wait_for("a probe round", Duration::from_secs(20), || async {
        let e = get(&app, &format!("/api/v1/environments/{last}")).await;
        (e["last_probe_at"] != e["created_at"]).then_some(())
    })
    .await;
    let mut paths = vec![
        "/api/v1/environments".to_owned(),
        "/api/v1/audit?limit=500".to_owned(),
    ];
    paths.extend(
        kubeconfigs
            .iter()
            .map(|(n, _)| format!("/api/v1/environments/{n}")),
    );
    for path in &paths {
        bodies.push(
            app.admin(Method::GET, path)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    let audit: Vec<Value> = sqlx::query_scalar("select details from audit_event")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let logs = captured_logs();
    assert!(
        logs.contains("probe round"),
        "probe rounds are in the captured logs"
    );
    let haystacks = [
        ("responses", bodies.join("\n")),
        ("audit", serde_json::to_string(&audit).unwrap()),
        ("logs", logs),
    ];
    for (what, text) in &haystacks {
        for (secret_name, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {secret_name} appears in the {what}"
            );
        }
    }
    // The sealed column holds no plaintext either.
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar("select sealed_kubeconfig from environment")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for s in sealed {
        assert!(!String::from_utf8_lossy(&s).contains(&token));
    }
}

#[tokio::test]
async fn replicas_probing_at_once_probe_each_environment_once_per_round() {
    use berth::environments::service::ProbeSettings;
    use berth::environments::{Environments, Policy};
    let app = TestApp::spawn_with(|c| c.probe_interval = Duration::from_secs(3600)).await;
    let cluster = TestCluster::start().await;
    let kc = cluster.admin_token_kubeconfig().await;
    for i in 0..20 {
        register_ok(&app, &format!("r{i}"), &kc, json!({})).await;
    }
    let vault = berth::crypto::Vault::load(None, app.data_dir.path()).unwrap();
    let replica = || {
        Environments::new(
            app.pool.clone(),
            vault.clone(),
            Policy::default(),
            ProbeSettings {
                interval: Duration::from_secs(3600),
                concurrency: 3,
            },
        )
    };
    let (a, b) = (replica(), replica());
    if let Some(server) = cluster.test_api() {
        server.clear_requests();
    }
    sqlx::query("update environment set next_probe_at = now(), last_probe_at = null")
        .execute(&app.pool)
        .await
        .unwrap();
    let (ra, rb) = tokio::join!(a.probe_round(), b.probe_round());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // The application's own clock may have taken some: wait until every row was probed.
    wait_for(
        "every environment probed",
        Duration::from_secs(20),
        || async {
            let n: i64 =
                sqlx::query_scalar("select count(*) from environment where last_probe_at is null")
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
            (n == 0).then_some(())
        },
    )
    .await;
    match cluster.test_api() {
        Some(server) => {
            let versions = server
                .requests()
                .iter()
                .filter(|r| r.path == "/version")
                .count();
            assert_eq!(versions, 20, "one /version per environment");
        }
        None => skipped(
            "one /version request per environment",
            "a real cluster has no request log to read",
        ),
    }
    assert!(ra.probed + rb.probed <= 20);
    assert!(a.cached_clients() + b.cached_clients() <= 20);
    // A second round right away finds nothing due.
    assert_eq!(a.probe_round().await.unwrap().probed, 0);
}

#[tokio::test]
async fn an_environment_still_referenced_is_not_deleted() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let env = register_ok(
        &app,
        "held",
        &cluster.admin_token_kubeconfig().await,
        json!({}),
    )
    .await;
    // Stand-in for the stacks' target table.
    sqlx::query(
        "create table stack_target_probe (environment_id uuid not null \
         references environment (environment_id))",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("insert into stack_target_probe values ($1)")
        .bind(uuid::Uuid::parse_str(env["id"].as_str().unwrap()).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .admin(Method::DELETE, "/api/v1/environments/held")
        .send()
        .await
        .unwrap();
    let (code, _, message) = error_of(res, 409).await;
    assert_eq!(code, "in_use", "{message}");
    assert!(app.audit_actions("environment.delete").await.is_empty());
    get(&app, "/api/v1/environments/held").await;
}

#[tokio::test]
async fn events_notified_by_another_replica_reach_this_replicas_stream() {
    let app = TestApp::spawn().await;
    let viewer = app.user_with_role("vic", "viewer").await;
    let res = app
        .as_token(&viewer, Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let payload = json!({"kind": "environment.status", "at": "2026-11-23T00:00:00Z",
                         "data": {"name": "elsewhere", "status": "down"}});
    // Another replica publishes through PostgreSQL; the listener may still be connecting.
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            sqlx::query("select pg_notify('berth_events', $1)")
                .bind(payload.to_string())
                .execute(&app.pool)
                .await
                .unwrap();
            if let Ok(Some(chunk)) =
                tokio::time::timeout(Duration::from_millis(500), stream.next()).await
            {
                text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                if text.contains("elsewhere") {
                    return;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event streamed: {text}"));
    assert!(text.contains("event: environment.status"), "{text}");
    let res = app
        .anon(Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    error_of(res, 401).await;
}
