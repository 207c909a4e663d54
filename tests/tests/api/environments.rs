//! Registering environments: accepted auth kinds, every refusal with its field, hostile uploads.
//! Against the Kubernetes test API server; the same requests work against a real cluster.

use std::time::{Duration, Instant};

use berth_tests::TestApp;
use kube_test_api::{BadKubeconfig, Identity, TestApiServer};
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

#[tokio::test]
async fn every_accepted_auth_kind_registers_with_its_permissions() {
    let app = TestApp::spawn().await;
    let cluster = TestApiServer::start().await;
    let cases = [
        (Identity::Admin, "token", "cluster_admin"),
        (Identity::AdminCert, "client_certificate", "cluster_admin"),
        (Identity::View, "token", "read_only"),
        (Identity::Edit(vec!["team-a".into()]), "token", "namespaced"),
    ];
    for (i, (identity, kind, level)) in cases.iter().enumerate() {
        let env = register_ok(
            &app,
            &format!("env-{i}"),
            &cluster.kubeconfig(identity),
            json!({}),
        )
        .await;
        assert_eq!(env["auth_kind"], *kind, "{identity:?}: {env}");
        assert_eq!(env["permissions"]["level"], *level, "{identity:?}: {env}");
        assert_eq!(env["status"], "up");
        assert_eq!(env["server_url"], cluster.url());
        assert!(
            env["kubernetes_version"]
                .as_str()
                .unwrap()
                .starts_with("v1.")
        );
        assert_eq!(env["ca_fingerprint"].as_str().unwrap().len(), 64);
        assert_eq!(env["insecure_skip_tls_verify"], false);
        assert!(env.get("kubeconfig").is_none());
    }
    let admin: Value = app
        .admin(Method::GET, "/api/v1/environments/env-0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["node_count"], 2);
    assert_eq!(admin["default_namespace"], "default");
    let cert: Value = app
        .admin(Method::GET, "/api/v1/environments/env-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cert["client_certificate_expires_at"].is_string(), "{cert}");
    let edit: Value = app
        .admin(Method::GET, "/api/v1/environments/env-3")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edit["default_namespace"], "team-a");
    assert_eq!(edit["permissions"]["namespace"], "team-a");

    // insecure-skip-tls-verify is accepted and flagged.
    let insecure = register_ok(
        &app,
        "insecure",
        &cluster.bad_kubeconfig(BadKubeconfig::InsecureSkipTlsVerify),
        json!({}),
    )
    .await;
    assert_eq!(insecure["insecure_skip_tls_verify"], true);
    assert!(insecure["ca_fingerprint"].is_null());

    // Basic auth is accepted by Berth; this server (like Kubernetes since 1.19) refuses it.
    let basic = cluster.kubeconfig(&Identity::Admin).replace(
        &format!("token: {}", cluster.token(&Identity::Admin).unwrap()),
        "username: alice\n    password: alice-password",
    );
    let res = register(&app, json!({"name": "basic", "kubeconfig": basic})).await;
    let (code, field, _) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unauthorized");
    assert_eq!(field.as_deref(), Some("kubeconfig.users[admin].user"));
    let res = register(
        &app,
        json!({"name": "basic", "kubeconfig": basic, "verify": false}),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"][0]["auth_kind"], "basic", "{body}");
    assert_eq!(body["items"][0]["status"], "unauthorized");

    let created = app.audit_actions("environment.create").await;
    assert_eq!(created.len(), 6);
    assert_eq!(
        created[0],
        (Some("admin".into()), Some("environment:env-0".into()))
    );
}

#[tokio::test]
async fn refused_kubeconfigs_name_the_field_and_save_nothing() {
    let app = TestApp::spawn().await;
    let cluster = TestApiServer::start().await;
    let good = cluster.kubeconfig(&Identity::Admin);
    let token_line = format!("token: {}", cluster.token(&Identity::Admin).unwrap());
    let user = "kubeconfig.users[admin].user";
    let cl = "kubeconfig.clusters[kube-test-api].cluster";
    let with_user = |yaml: &str| good.replace(&token_line, yaml);
    let cases: Vec<(String, &str, String)> = vec![
        (
            with_user(
                "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh",
            ),
            "kubeconfig_refused",
            format!("{user}.exec"),
        ),
        (
            with_user("auth-provider:\n      name: oidc"),
            "kubeconfig_refused",
            format!("{user}.auth-provider"),
        ),
        (
            with_user("tokenFile: /var/run/secrets/token"),
            "kubeconfig_refused",
            format!("{user}.tokenFile"),
        ),
        (
            with_user("client-certificate: /home/me/cert.pem\n    client-key: /home/me/key.pem"),
            "kubeconfig_refused",
            format!("{user}.client-certificate"),
        ),
        (
            good.replace(
                "certificate-authority-data:",
                "certificate-authority: /ca.pem\n    x-unused:",
            ),
            "kubeconfig_refused",
            format!("{cl}.certificate-authority"),
        ),
        (
            good.replace("https://", "http://"),
            "kubeconfig_refused",
            format!("{cl}.server"),
        ),
        (
            cluster.bad_kubeconfig(BadKubeconfig::WrongCa),
            "cluster_tls",
            format!("{cl}.certificate-authority-data"),
        ),
        (
            without_ca(&good),
            "cluster_tls",
            format!("{cl}.certificate-authority-data"),
        ),
        (
            cluster.bad_kubeconfig(BadKubeconfig::ExpiredToken),
            "cluster_unauthorized",
            "kubeconfig.users[kube-test-api].user".to_owned(),
        ),
        (
            cluster.bad_kubeconfig(BadKubeconfig::UnknownToken),
            "cluster_unauthorized",
            "kubeconfig.users[kube-test-api].user".to_owned(),
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
        json!({"name": "expired", "verify": false,
               "kubeconfig": cluster.bad_kubeconfig(BadKubeconfig::ExpiredToken)}),
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

fn without_ca(kubeconfig: &str) -> String {
    kubeconfig
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_operator_can_allow_exec_plugins_and_http_servers() {
    let app = TestApp::spawn_with(|c| {
        c.allow_kubeconfig_exec = true;
        c.allow_http_clusters = true;
    })
    .await;
    let cluster = TestApiServer::start().await;
    let token = cluster.token(&Identity::Admin).unwrap();
    let exec = cluster.kubeconfig(&Identity::Admin).replace(
        &format!("token: {token}"),
        &format!(
            "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      \
             args: [\"-c\", \"echo '{{\\\"apiVersion\\\":\\\"client.authentication.k8s.io/v1\\\",\\\"kind\\\":\\\"ExecCredential\\\",\\\"status\\\":{{\\\"token\\\":\\\"{token}\\\"}}}}'\"]\n      \
             interactiveMode: Never"
        ),
    );
    let env = register_ok(&app, "exec", &exec, json!({})).await;
    assert_eq!(env["auth_kind"], "exec", "{env}");
    assert_eq!(env["status"], "up");
    // http:// passes the policy (the TLS-only test server then cannot be reached).
    let http = cluster
        .kubeconfig(&Identity::Admin)
        .replace("https://", "http://");
    let res = register(&app, json!({"name": "plain", "kubeconfig": http})).await;
    let (code, _, _) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unreachable");
}

#[tokio::test]
async fn an_unreachable_cluster_is_refused_unless_verify_is_false() {
    let app = TestApp::spawn().await;
    let cluster = TestApiServer::start().await;
    let kubeconfig = cluster.kubeconfig(&Identity::Admin);
    cluster.go_down().await;
    let res = register(&app, json!({"name": "gone", "kubeconfig": kubeconfig})).await;
    let (code, field, message) = error_of(res, 422).await;
    assert_eq!(code, "cluster_unreachable");
    assert_eq!(
        field.as_deref(),
        Some("kubeconfig.clusters[kube-test-api].cluster.server")
    );
    assert!(message.contains("verify=false"), "{message}");
    let res = register(
        &app,
        json!({"name": "gone", "kubeconfig": kubeconfig, "verify": false}),
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
    let cluster = TestApiServer::start().await;
    register_ok(
        &app,
        "prod",
        &cluster.kubeconfig(&Identity::Admin),
        json!({}),
    )
    .await;
    let res = register(
        &app,
        json!({"name": "prod", "kubeconfig": cluster.kubeconfig(&Identity::View)}),
    )
    .await;
    let (code, field, _) = error_of(res, 409).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("conflict", Some("name"))
    );

    let multi = cluster.bad_kubeconfig(BadKubeconfig::MultiContext);
    // current-context picks `admin`
    let env = register_ok(&app, "multi-current", &multi, json!({})).await;
    assert_eq!(env["context"], "admin");
    // without a current context, the choice is required and the contexts are listed
    let no_current = multi.replace("current-context: admin", "current-context: \"\"");
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
    let cluster = TestApiServer::start().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "kubeconfig",
            reqwest::multipart::Part::text(cluster.kubeconfig(&Identity::Admin))
                .file_name("admin.yaml"),
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
        .text("kubeconfig", cluster.kubeconfig(&Identity::Admin))
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
    cluster
        .kubeconfig(&Identity::AdminCert)
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("client-certificate-data:") {
                format!("    client-certificate-data: {}", b64(&issued.cert_pem))
            } else if l.trim_start().starts_with("client-key-data:") {
                format!("    client-key-data: {}", b64(&issued.key_pem))
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn client_certificates_near_expiry_are_flagged_and_expired_ones_refused() {
    let app = TestApp::spawn().await;
    let cluster = TestApiServer::start().await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let env = register_ok(&app, "soon", &cert_kubeconfig(&cluster, soon), json!({})).await;
    assert_eq!(env["client_certificate_expiring"], true, "{env}");
    assert_eq!(env["status"], "up");
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(300);
    let env = register_ok(&app, "later", &cert_kubeconfig(&cluster, later), json!({})).await;
    assert_eq!(env["client_certificate_expiring"], false, "{env}");
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let res = register(
        &app,
        json!({"name": "expired", "kubeconfig": cert_kubeconfig(&cluster, past)}),
    )
    .await;
    let (_, field, message) = error_of(res, 422).await;
    assert_eq!(
        field.as_deref(),
        Some("kubeconfig.users[admin-cert].user.client-certificate-data")
    );
    assert!(message.contains("expired"), "{message}");
}
