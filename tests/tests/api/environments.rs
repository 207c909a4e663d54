//! Registering environments: accepted auth kinds, every refusal with its field, hostile uploads.
//! Against `TestCluster`: the Kubernetes test API server, or the real cluster named by
//! `BERTH_TEST_KUBECONFIG` (what a real cluster cannot offer is skipped with the reason printed).

use std::time::{Duration, Instant};

use berth_tests::kubeconfig::{KubeconfigDoc, merge};
use berth_tests::{TestApp, TestCluster};
use kube_test_api::{BadKubeconfig, TestApiServer};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::error_of;

/// `POST /api/v1/environments` as the admin with a JSON body.
pub async fn register(app: &TestApp, body: Value) -> Response {
    app.admin(Method::POST, "/api/v1/environments")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Registers one environment and returns it; panics unless it is created.
pub async fn register_ok(app: &TestApp, name: &str, kubeconfig: &str, tags: Value) -> Value {
    let res = register(
        app,
        json!({"name": name, "kubeconfig": kubeconfig, "tags": tags}),
    )
    .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "register {name}: {body}");
    body["items"][0].clone()
}

/// Says which part of a test does not run on this cluster, and why.
pub fn skipped(what: &str, why: &str) {
    eprintln!("SKIPPED {what}: {why}");
}

/// The cluster's admin-token kubeconfig trusting another CA (so TLS verification fails).
pub async fn wrong_ca_kubeconfig(cluster: &TestCluster) -> String {
    use base64::Engine;
    let other = test_ca::TestCa::new("not the cluster's CA");
    KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await)
        .with_cluster_field(
            "certificate-authority-data",
            json!(base64::engine::general_purpose::STANDARD.encode(other.cert_pem())),
        )
        .to_text()
}

/// The cluster's admin-token kubeconfig without a CA, skipping TLS verification.
async fn insecure_kubeconfig(cluster: &TestCluster) -> String {
    KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await)
        .with_cluster_field("certificate-authority-data", Value::Null)
        .with_cluster_field("insecure-skip-tls-verify", json!(true))
        .to_text()
}

pub async fn get(app: &TestApp, path: &str) -> Value {
    let res = app.admin(Method::GET, path).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn every_accepted_auth_kind_registers_with_its_permissions() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let team = cluster.namespace("team").await;
    let mut cases = vec![
        (
            "admin",
            cluster.admin_token_kubeconfig().await,
            "token",
            "cluster_admin",
        ),
        (
            "view",
            cluster.view_kubeconfig().await,
            "token",
            "read_only",
        ),
        (
            "edit",
            cluster.edit_kubeconfig(&[&team]).await,
            "token",
            "namespaced",
        ),
    ];
    match cluster.client_certificate_kubeconfig() {
        Some(kc) => cases.push(("cert", kc, "client_certificate", "cluster_admin")),
        None => skipped(
            "client-certificate registration",
            "the real cluster's admin kubeconfig holds no client certificate",
        ),
    }
    for (name, kubeconfig, kind, level) in &cases {
        let env = register_ok(&app, name, kubeconfig, json!({})).await;
        let doc = KubeconfigDoc::parse(kubeconfig);
        assert_eq!(env["auth_kind"], *kind, "{name}: {env}");
        assert_eq!(env["permissions"]["level"], *level, "{name}: {env}");
        assert_eq!(env["status"], "up");
        assert_eq!(env["server_url"], cluster.server_url());
        assert!(
            env["kubernetes_version"]
                .as_str()
                .unwrap()
                .starts_with("v1.")
        );
        if doc.cluster().contains_key("certificate-authority-data") {
            assert_eq!(env["ca_fingerprint"].as_str().unwrap().len(), 64);
        }
        assert_eq!(env["insecure_skip_tls_verify"], false);
        assert!(env.get("kubeconfig").is_none());
        assert_eq!(
            env["default_namespace"],
            doc.namespace().unwrap_or_else(|| "default".into())
        );
    }
    let admin = get(&app, "/api/v1/environments/admin").await;
    let nodes = admin["node_count"]
        .as_i64()
        .expect("cluster admins count nodes");
    if cluster.test_api().is_some() {
        assert_eq!(nodes, 2);
    } else {
        assert!(nodes >= 1, "{admin}");
    }
    let edit = get(&app, "/api/v1/environments/edit").await;
    assert_eq!(edit["default_namespace"], team.as_str());
    assert_eq!(edit["permissions"]["namespace"], team.as_str());
    if cases.iter().any(|c| c.0 == "cert") {
        let cert = get(&app, "/api/v1/environments/cert").await;
        assert!(cert["client_certificate_expires_at"].is_string(), "{cert}");
    }

    // insecure-skip-tls-verify is accepted and flagged.
    let insecure = register_ok(
        &app,
        "insecure",
        &insecure_kubeconfig(&cluster).await,
        json!({}),
    )
    .await;
    assert_eq!(insecure["insecure_skip_tls_verify"], true);
    assert!(insecure["ca_fingerprint"].is_null());

    // Basic auth is accepted by Berth; Kubernetes (since 1.19) and the test server refuse it.
    let basic = KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await)
        .with_user(json!({"username": "alice", "password": "alice-password"}));
    let res = register(
        &app,
        json!({"name": "basic", "kubeconfig": basic.to_text()}),
    )
    .await;
    let (code, field, _) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unauthorized");
    assert_eq!(field, Some(basic.user_field()));
    let res = register(
        &app,
        json!({"name": "basic", "kubeconfig": basic.to_text(), "verify": false}),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"][0]["auth_kind"], "basic", "{body}");
    assert_eq!(body["items"][0]["status"], "unauthorized");

    let created = app.audit_actions("environment.create").await;
    assert_eq!(created.len(), cases.len() + 2);
    assert_eq!(
        created[0],
        (Some("admin".into()), Some("environment:admin".into()))
    );
}

#[tokio::test]
async fn refused_kubeconfigs_name_the_field_and_save_nothing() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let good = KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await);
    let user = good.user_field();
    let cl = good.cluster_field();
    let with_user = |u: Value| good.clone().with_user(u).to_text();
    let bad_doc = |bad: BadKubeconfig| KubeconfigDoc::parse(&cluster.bad_kubeconfig(bad));
    let wrong_ca = KubeconfigDoc::parse(&wrong_ca_kubeconfig(&cluster).await);
    let expired = bad_doc(BadKubeconfig::ExpiredToken);
    let unknown = bad_doc(BadKubeconfig::UnknownToken);
    let cases: Vec<(String, &str, String)> = vec![
        (
            with_user(
                json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                       "command": "/bin/sh"}}),
            ),
            "kubeconfig_refused",
            format!("{user}.exec"),
        ),
        (
            with_user(json!({"auth-provider": {"name": "oidc"}})),
            "kubeconfig_refused",
            format!("{user}.auth-provider"),
        ),
        (
            with_user(json!({"tokenFile": "/var/run/secrets/token"})),
            "kubeconfig_refused",
            format!("{user}.tokenFile"),
        ),
        (
            with_user(json!({"client-certificate": "/home/me/cert.pem",
                             "client-key": "/home/me/key.pem"})),
            "kubeconfig_refused",
            format!("{user}.client-certificate"),
        ),
        (
            good.clone()
                .with_cluster_field("certificate-authority-data", Value::Null)
                .with_cluster_field("certificate-authority", json!("/ca.pem"))
                .to_text(),
            "kubeconfig_refused",
            format!("{cl}.certificate-authority"),
        ),
        (
            good.clone()
                .with_cluster_field(
                    "server",
                    json!(good.server().replace("https://", "http://")),
                )
                .to_text(),
            "kubeconfig_refused",
            format!("{cl}.server"),
        ),
        (
            wrong_ca.to_text(),
            "cluster_tls",
            format!("{}.certificate-authority-data", wrong_ca.cluster_field()),
        ),
        (
            good.clone()
                .with_cluster_field("certificate-authority-data", Value::Null)
                .to_text(),
            "cluster_tls",
            format!("{cl}.certificate-authority-data"),
        ),
        (
            expired.to_text(),
            "cluster_unauthorized",
            expired.user_field(),
        ),
        (
            unknown.to_text(),
            "cluster_unauthorized",
            unknown.user_field(),
        ),
        (
            "not: [valid".to_owned(),
            "validation",
            "kubeconfig".to_owned(),
        ),
        (String::new(), "validation", "kubeconfig".to_owned()),
    ];
    for (kubeconfig, want_code, want_field) in cases {
        let res = register(&app, json!({"name": "x", "kubeconfig": kubeconfig})).await;
        let (code, field, message) = error_of(res, 422).await;
        assert_eq!(
            (code.as_str(), field.as_deref()),
            (want_code, Some(want_field.as_str())),
            "{message}"
        );
    }
    // An expired token with verify=false is saved, as unauthorized.
    let res = register(
        &app,
        json!({"name": "expired", "verify": false, "kubeconfig": expired.to_text()}),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"][0]["status"], "unauthorized", "{body}");
    let count: i64 = sqlx::query_scalar("select count(*) from environment")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn the_operator_can_allow_exec_plugins_and_http_servers() {
    let app = TestApp::spawn_with(|c| {
        c.allow_kubeconfig_exec = true;
        c.allow_http_clusters = true;
    })
    .await;
    let cluster = TestCluster::start().await;
    let admin = KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await);
    let token = admin.token().expect("a token");
    let credential = json!({"apiVersion": "client.authentication.k8s.io/v1",
                            "kind": "ExecCredential", "status": {"token": token}});
    let exec = admin.clone().with_user(json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/bin/sh",
        "args": ["-c", format!("echo '{credential}'")],
        "interactiveMode": "Never",
    }}));
    let env = register_ok(&app, "exec", &exec.to_text(), json!({})).await;
    assert_eq!(env["auth_kind"], "exec", "{env}");
    assert_eq!(env["status"], "up");
    // http:// passes the policy (the TLS-only API server then cannot be spoken to).
    let http = admin.clone().with_cluster_field(
        "server",
        json!(admin.server().replace("https://", "http://")),
    );
    let res = register(&app, json!({"name": "plain", "kubeconfig": http.to_text()})).await;
    let (code, _, _) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unreachable");
}

#[tokio::test]
async fn an_unreachable_cluster_is_refused_unless_verify_is_false() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let doc = KubeconfigDoc::parse(&cluster.admin_token_kubeconfig().await);
    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = doc
        .clone()
        .with_cluster_field("server", json!(format!("https://127.0.0.1:{port}")))
        .to_text();
    let res = register(&app, json!({"name": "gone", "kubeconfig": gone})).await;
    let (code, field, message) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unreachable");
    assert_eq!(field, Some(format!("{}.server", doc.cluster_field())));
    assert!(message.contains("verify=false"), "{message}");
    let res = register(
        &app,
        json!({"name": "gone", "kubeconfig": gone, "verify": false}),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    let env = &body["items"][0];
    assert_eq!(env["status"], "down", "{body}");
    assert_eq!(env["permissions"]["level"], "unknown");
    assert!(env["last_error"].is_string());
    assert!(env["last_seen_at"].is_null());
}

#[tokio::test]
async fn a_taken_name_is_a_409_and_several_contexts_need_a_choice() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let admin = cluster.admin_token_kubeconfig().await;
    let view = cluster.view_kubeconfig().await;
    register_ok(&app, "prod", &admin, json!({})).await;
    let res = register(&app, json!({"name": "prod", "kubeconfig": view})).await;
    let (code, field, _) = error_of(res, 409).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("conflict", Some("name"))
    );

    let team = cluster.namespace("team").await;
    let edit = cluster.edit_kubeconfig(&[&team]).await;
    let contexts = [("admin", admin.as_str()), ("edit", &edit), ("view", &view)];
    let multi = merge(&contexts, "admin");
    // current-context picks `admin`
    let env = register_ok(&app, "multi-current", &multi, json!({})).await;
    assert_eq!(env["context"], "admin");
    // without a current context, the choice is required and the contexts are listed
    let no_current = merge(&contexts, "");
    let res = register(&app, json!({"name": "m", "kubeconfig": no_current})).await;
    let (code, field, message) = error_of(res, 422).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("context_required", Some("context"))
    );
    assert!(message.contains("admin, edit, view"), "{message}");
    let res = register(
        &app,
        json!({"name": "m", "kubeconfig": no_current, "context": "nope"}),
    )
    .await;
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("context"));

    // several environments in one request: all or nothing
    let batch = |third: &str| {
        json!({"kubeconfig": multi, "environments": [
            {"name": "a-admin", "context": "admin", "tags": {"env": "prod"}},
            {"name": "a-edit", "context": "edit"},
            {"name": third, "context": "view"},
        ]})
    };
    let res = register(&app, batch("prod")).await;
    error_of(res, 409).await;
    let count: i64 = sqlx::query_scalar("select count(*) from environment")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 2, "nothing of the failed batch was saved");
    let res = register(&app, batch("a-view")).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let levels: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["permissions"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["cluster_admin", "namespaced", "read_only"]);
}

#[tokio::test]
async fn a_kubeconfig_file_can_be_uploaded_as_multipart_form_data() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let admin = cluster.admin_token_kubeconfig().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "kubeconfig",
            reqwest::multipart::Part::text(admin.clone()).file_name("admin.yaml"),
        )
        .text("name", "uploaded")
        .text("tag", "env=prod")
        .text("tag", "region=eu")
        .text("default_namespace", "apps");
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let env = &body["items"][0];
    assert_eq!(env["name"], "uploaded", "{body}");
    assert_eq!(env["tags"], json!({"env": "prod", "region": "eu"}));
    assert_eq!(env["default_namespace"], "apps");
    let form = reqwest::multipart::Form::new()
        .text("kubeconfig", admin)
        .text("name", "x")
        .text("colour", "blue");
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("colour"));
}

#[tokio::test]
async fn hostile_yaml_and_huge_uploads_are_refused_quickly() {
    let app = TestApp::spawn().await;
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..40 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let deep = format!("clusters: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let deep_block: String = (0..400)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    for (what, yaml) in [
        ("alias bomb", bomb),
        ("deep flow", deep),
        ("deep block", deep_block),
    ] {
        let start = Instant::now();
        let res = register(&app, json!({"name": "x", "kubeconfig": yaml})).await;
        let (_, field, _) = error_of(res, 422).await;
        assert_eq!(field.as_deref(), Some("kubeconfig"), "{what}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{what} took {:?}",
            start.elapsed()
        );
    }
    // 2 MiB: over the kubeconfig cap (JSON and multipart), under the body limit.
    let big = format!("# {}\n", "x".repeat(2 << 20));
    let start = Instant::now();
    let res = register(&app, json!({"name": "x", "kubeconfig": big})).await;
    let (_, field, _) = error_of(res, 413).await;
    assert_eq!(field.as_deref(), Some("kubeconfig"));
    let form = reqwest::multipart::Form::new().text("name", "x").part(
        "kubeconfig",
        reqwest::multipart::Part::text(big).file_name("big.yaml"),
    );
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 413).await;
    assert_eq!(field.as_deref(), Some("kubeconfig"));
    // 8 MiB: over the body limit.
    let huge = format!("# {}\n", "x".repeat(8 << 20));
    let sent = app
        .admin(Method::POST, "/api/v1/environments")
        .json(&json!({"name": "x", "kubeconfig": huge}))
        .send()
        .await;
    match sent {
        Ok(res) => {
            error_of(res, 413).await;
        }
        // The server answered 413 from the Content-Length and closed the connection before the
        // client finished writing.
        Err(e) => assert!(
            format!("{e:?}").contains("BrokenPipe") || e.is_request(),
            "{e:?}"
        ),
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

/// The admin-cert kubeconfig with a client certificate valid until `not_after`.
fn cert_kubeconfig(cluster: &TestApiServer, not_after: time::OffsetDateTime) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let issued = cluster
        .ca()
        .client_cert("admin-cert", &["system:masters"], Some(not_after));
    KubeconfigDoc::parse(&cluster.kubeconfig(&kube_test_api::Identity::AdminCert))
        .with_user(json!({"client-certificate-data": b64(&issued.cert_pem),
                          "client-key-data": b64(&issued.key_pem)}))
        .to_text()
}

#[tokio::test]
async fn client_certificates_near_expiry_are_flagged_and_expired_ones_refused() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let Some(server) = cluster.test_api() else {
        skipped(
            "client certificate expiry",
            "issuing certificates with chosen lifetimes needs the test API server's CA",
        );
        return;
    };
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let env = register_ok(&app, "soon", &cert_kubeconfig(server, soon), json!({})).await;
    assert_eq!(env["client_certificate_expiring"], true, "{env}");
    assert_eq!(env["status"], "up");
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(300);
    let env = register_ok(&app, "later", &cert_kubeconfig(server, later), json!({})).await;
    assert_eq!(env["client_certificate_expiring"], false, "{env}");
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let res = register(
        &app,
        json!({"name": "expired", "kubeconfig": cert_kubeconfig(server, past)}),
    )
    .await;
    let (_, field, message) = error_of(res, 422).await;
    assert_eq!(
        field.as_deref(),
        Some("kubeconfig.users[admin-cert].user.client-certificate-data")
    );
    assert!(message.contains("expired"), "{message}");
}
