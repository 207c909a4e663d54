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
