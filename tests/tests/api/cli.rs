//! The `berth` client commands against a running Berth (in-process, through `cli::run_client`),
//! registering a `TestCluster` (test API server or real cluster).

use std::os::unix::fs::PermissionsExt;

use berth::cli::{Cli, run_client};
use berth::client::{Client, Credentials, save_credentials};
use berth_tests::{TestApp, TestCluster};
use clap::Parser;
use serde_json::Value;

async fn berth(args: &[&str]) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run_client(cli, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn the_cli_adds_lists_shows_and_removes_environments() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("berth").join("credentials");
    let creds_arg = creds.to_str().unwrap();

    // `berth login` stores what the library returns, privately.
    let token = Client::new(&app.base, None)
        .unwrap()
        .login("admin", berth_tests::app::ADMIN_PASSWORD)
        .await
        .unwrap();
    save_credentials(
        &creds,
        &Credentials {
            server: app.base.clone(),
            token,
        },
    )
    .unwrap();
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let kubeconfig = dir.path().join("admin.yaml");
    std::fs::write(&kubeconfig, cluster.admin_token_kubeconfig().await).unwrap();
    let out = berth(&[
        "--credentials-file",
        creds_arg,
        "env",
        "add",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--name",
        "prod-eu",
        "--tag",
        "env=prod",
        "--tag",
        "region=eu",
    ])
    .await
    .unwrap();
    assert!(out.starts_with("NAME"), "{out}");
    assert!(
        out.contains("prod-eu") && out.contains("cluster_admin"),
        "{out}"
    );
    berth(&[
        "--credentials-file",
        creds_arg,
        "env",
        "add",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--name",
        "dev",
        "--tag",
        "env=dev",
    ])
    .await
    .unwrap();

    let out = berth(&[
        "--credentials-file",
        creds_arg,
        "env",
        "ls",
        "--selector",
        "env=prod",
    ])
    .await
    .unwrap();
    assert!(out.contains("prod-eu") && !out.contains("dev "), "{out}");
    let out = berth(&["--credentials-file", creds_arg, "-o", "json", "env", "ls"])
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let out = berth(&["--credentials-file", creds_arg, "env", "show", "prod-eu"])
        .await
        .unwrap();
    assert!(out.contains("status:") && out.contains("up"), "{out}");
    assert!(out.contains(&cluster.server_url()), "{out}");

    // Errors carry the server's field and message.
    let err = berth(&[
        "--credentials-file",
        creds_arg,
        "env",
        "add",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--name",
        "dev",
    ])
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("name") && err.contains("409"), "{err}");

    let out = berth(&["--credentials-file", creds_arg, "env", "rm", "dev"])
        .await
        .unwrap();
    assert_eq!(out, "deleted environment dev\n");
    let err = berth(&["--credentials-file", creds_arg, "env", "show", "dev"])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("404"), "{err}");

    // Without a token the server says so.
    let err = berth(&[
        "--credentials-file",
        dir.path().join("none").to_str().unwrap(),
        "--server",
        &app.base,
        "env",
        "ls",
    ])
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("401"), "{err}");
}

#[tokio::test]
async fn the_cli_creates_deploys_previews_rolls_back_and_lists_history_of_stacks() {
    use crate::deploy_support::{Fleet, config_map};
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let server = f.app.base.clone();
    let token = f.app.admin_token.clone();
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    let base = [
        "--server",
        server.as_str(),
        "--token",
        token.as_str(),
        "--credentials-file",
        creds.to_str().unwrap(),
    ];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = base.to_vec();
        all.extend_from_slice(args);
        let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            berth(&refs).await
        }
    };
    let out = run(&[
        "stack",
        "create",
        "--name",
        "cli-web",
        "--repo",
        "app",
        "--path",
        "deploy",
        "--env",
        "one",
        "--no-auto-deploy",
    ])
    .await
    .unwrap();
    assert!(out.contains("created stack cli-web"), "{out}");
    f.check().await;
    let out = run(&["stack", "deploy", "cli-web", "--wait"])
        .await
        .unwrap();
    assert!(out.contains("succeeded"), "{out}");
    assert!(out.contains("one"), "{out}");
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");

    f.commit(&[("deploy/a.yaml", &config_map("a", "2"))], "a=2");
    f.check().await;
    let out = run(&["stack", "preview", "cli-web"]).await.unwrap();
    assert!(out.contains("~ ConfigMap"), "{out}");
    assert!(out.contains("data.value"), "{out}");
    let out = run(&["stack", "ls"]).await.unwrap();
    assert!(
        out.contains("cli-web") && out.contains("out_of_date"),
        "{out}"
    );
    run(&["stack", "deploy", "cli-web", "--wait"])
        .await
        .unwrap();
    assert_eq!(f.config_map("a").await.unwrap()["value"], "2");

    // Roll back to the previous successful deployment (chosen by the CLI).
    let out = run(&["stack", "rollback", "cli-web", "--wait"])
        .await
        .unwrap();
    assert!(out.contains("succeeded"), "{out}");
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");
    let out = run(&["stack", "history", "cli-web"]).await.unwrap();
    assert!(out.contains("rollback") && out.contains("manual"), "{out}");
    let out = run(&["-o", "json", "stack", "show", "cli-web"])
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["targets"][0]["environment_name"], "one");
    assert!(v["stack"]["rollback_hold_commit"].is_string());
    let err = run(&["stack", "show", "nope"]).await.unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}
