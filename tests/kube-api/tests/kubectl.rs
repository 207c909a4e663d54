//! The test server checked against a real client: kubectl. Skipped (with a printed reason)
//! only when kubectl is not installed.
//!
//! kubectl validates manifests with the server's OpenAPI document; this server answers
//! `/openapi/v2` and `/openapi/v3` with 404 like an old server, so `apply` runs with
//! `--validate=false` (which works unchanged against a real cluster too).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use kube_test_api::{BadKubeconfig, Identity, TestApiServer};
use tokio::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubectl")
}

fn kubectl_missing() -> bool {
    let missing = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err();
    if missing {
        eprintln!("skipped: kubectl is not installed");
    }
    missing
}

struct Kubectl {
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new() -> Kubectl {
        Kubectl {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn write(&self, name: &str, kubeconfig: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, kubeconfig).expect("write kubeconfig");
        path
    }

    async fn run(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .kill_on_drop(true);
        tokio::time::timeout(common::WAIT * 3, cmd.output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
            .expect("run kubectl")
    }

    async fn ok(&self, kubeconfig: &Path, args: &[&str]) -> String {
        let out = self.run(kubeconfig, args).await;
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[tokio::test]
async fn kubectl_lists_namespaces_with_every_good_kubeconfig() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    for (name, identity) in [
        ("admin", Identity::Admin),
        ("cert", Identity::AdminCert),
        ("view", Identity::View),
    ] {
        let kc = k.write(name, &server.kubeconfig(&identity));
        let out = k.ok(&kc, &["get", "ns", "-o", "name"]).await;
        assert!(out.contains("namespace/default"), "{name}: {out}");
    }
    let multi = k.write("multi", &server.bad_kubeconfig(BadKubeconfig::MultiContext));
    assert_eq!(
        k.ok(&multi, &["config", "current-context"]).await.trim(),
        "admin"
    );
    k.ok(&multi, &["--context", "view", "get", "nodes"]).await;
    let denied = k.run(&multi, &["--context", "edit", "get", "ns"]).await;
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("cannot list resource \"namespaces\"")
    );
}

#[tokio::test]
async fn kubectl_is_refused_with_an_unknown_or_expired_token_or_the_wrong_ca() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    for bad in [BadKubeconfig::UnknownToken, BadKubeconfig::ExpiredToken] {
        let kc = k.write("bad", &server.bad_kubeconfig(bad));
        let out = k.run(&kc, &["get", "ns"]).await;
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("You must be logged in to the server"),
            "{bad:?}: {err}"
        );
    }
    assert!(server.requests().iter().any(|r| r.status == 401));
    let kc = k.write("wrong-ca", &server.bad_kubeconfig(BadKubeconfig::WrongCa));
    let out = k.run(&kc, &["get", "ns"]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("certificate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kc = k.write(
        "insecure",
        &server.bad_kubeconfig(BadKubeconfig::InsecureSkipTlsVerify),
    );
    k.ok(&kc, &["get", "ns"]).await;
}

#[tokio::test]
async fn kubectl_server_side_applies_a_directory_then_reads_and_deletes_it() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    let kc = k.write("admin", &server.kubeconfig(&Identity::Admin));
    let step1 = fixtures().join("step1");
    let out = k
        .ok(
            &kc,
            &[
                "apply",
                "--server-side",
                "--validate=false",
                "-f",
                step1.to_str().unwrap(),
            ],
        )
        .await;
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    assert!(
        out.contains(
            "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied"
        ),
        "{out}"
    );
    k.ok(
        &kc,
        &[
            "wait",
            "--for",
            "condition=established",
            "--timeout=10s",
            "crd/widgets.example.com",
        ],
    )
    .await;
    let step2 = fixtures().join("step2");
    let out = k
        .ok(
            &kc,
            &[
                "apply",
                "--server-side",
                "--validate=false",
                "-f",
                step2.to_str().unwrap(),
            ],
        )
        .await;
    assert!(
        out.contains("widget.example.com/blue serverside-applied"),
        "{out}"
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.field_manager.as_deref() == Some("kubectl"))
    );

    let yaml = k
        .ok(&kc, &["get", "deploy", "web", "-n", "shop", "-o", "yaml"])
        .await;
    assert!(yaml.contains("image: nginx:1.27"), "{yaml}");
    assert!(yaml.contains("generation: 1"), "{yaml}");
    k.ok(
        &kc,
        &[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "shop",
            "--timeout=10s",
        ],
    )
    .await;
    let widgets = k.ok(&kc, &["get", "wd", "-n", "shop", "-o", "name"]).await;
    assert_eq!(widgets.trim(), "widget.example.com/blue");
    let managed = k
        .ok(
            &kc,
            &[
                "get",
                "cm",
                "settings",
                "-n",
                "shop",
                "-o",
                "yaml",
                "--show-managed-fields",
            ],
        )
        .await;
    assert!(
        managed.contains("manager: kubectl") && managed.contains("operation: Apply"),
        "{managed}"
    );

    let out = k.ok(&kc, &["delete", "-f", step2.to_str().unwrap()]).await;
    assert!(out.contains("deleted"), "{out}");
    k.ok(&kc, &["delete", "configmap", "settings", "-n", "shop"])
        .await;
    assert!(
        server
            .object("v1", "ConfigMap", Some("shop"), "settings")
            .is_none()
    );
    k.ok(&kc, &["delete", "namespace", "shop", "--timeout=10s"])
        .await;
    assert!(server.object("v1", "Namespace", None, "shop").is_none());
}

#[tokio::test]
async fn kubectl_auth_can_i_follows_each_identity() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    let can = |kc: PathBuf, args: &'static [&'static str]| {
        let k = &k;
        async move {
            let mut full = vec!["auth", "can-i"];
            full.extend_from_slice(args);
            let out = k.run(&kc, &full).await;
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        }
    };
    let admin = k.write("admin", &server.kubeconfig(&Identity::Admin));
    let edit = k.write(
        "edit",
        &server.kubeconfig(&Identity::Edit(vec!["default".into()])),
    );
    let view = k.write("view", &server.kubeconfig(&Identity::View));
    assert_eq!(
        can(
            admin.clone(),
            &["create", "deployments", "-n", "kube-system"]
        )
        .await,
        "yes"
    );
    assert_eq!(can(admin.clone(), &["*", "*"]).await, "yes");
    assert_eq!(
        can(edit.clone(), &["create", "deployments", "-n", "default"]).await,
        "yes"
    );
    assert_eq!(
        can(
            edit.clone(),
            &["create", "deployments", "-n", "kube-system"]
        )
        .await,
        "no"
    );
    assert_eq!(
        can(edit.clone(), &["list", "namespaces", "--all-namespaces"]).await,
        "no"
    );
    assert_eq!(
        can(view.clone(), &["create", "configmaps", "-n", "default"]).await,
        "no"
    );
    assert_eq!(
        can(view.clone(), &["get", "pods", "-n", "default"]).await,
        "yes"
    );
    let listing = k
        .ok(&edit, &["auth", "can-i", "--list", "-n", "default"])
        .await;
    assert!(listing.contains("deployments.apps"), "{listing}");
}

#[tokio::test]
async fn kubectl_create_sends_protobuf_for_namespaces_configmaps_and_secrets() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    let kc = k.write("admin", &server.kubeconfig(&Identity::Admin));
    k.ok(&kc, &["create", "namespace", "team-x"]).await;
    k.ok(
        &kc,
        &[
            "create",
            "configmap",
            "cfg",
            "-n",
            "team-x",
            "--from-literal=a=1",
        ],
    )
    .await;
    k.ok(
        &kc,
        &[
            "create",
            "secret",
            "generic",
            "sec",
            "-n",
            "team-x",
            "--from-literal=password=s3cret",
        ],
    )
    .await;
    assert!(server.requests().iter().any(|r| {
        r.content_type
            .starts_with("application/vnd.kubernetes.protobuf")
    }));
    let cm = server
        .object("v1", "ConfigMap", Some("team-x"), "cfg")
        .expect("configmap");
    assert_eq!(cm["data"]["a"], "1");
    let secret = server
        .object("v1", "Secret", Some("team-x"), "sec")
        .expect("secret");
    assert_eq!(secret["data"]["password"], "czNjcmV0");
    let refused = k
        .run(&kc, &["create", "deployment", "web", "--image=nginx"])
        .await;
    assert!(
        !refused.status.success(),
        "other kinds need JSON (kubectl create -f / apply)"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown format"));
}

#[tokio::test]
async fn kubectl_auth_whoami_names_the_token_and_certificate_users() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    let admin = k.write("admin", &server.kubeconfig(&Identity::Admin));
    let out = k
        .ok(
            &admin,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
        )
        .await;
    assert_eq!(out, "admin");
    let cert = k.write("cert", &server.kubeconfig(&Identity::AdminCert));
    let out = k
        .ok(
            &cert,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
            ],
        )
        .await;
    assert!(
        out.starts_with("admin-cert ") && out.contains("system:masters"),
        "{out}"
    );
}

#[tokio::test]
async fn kubectl_set_image_and_rollout_restart_use_strategic_merge() {
    if kubectl_missing() {
        return;
    }
    let server = TestApiServer::start().await;
    let k = Kubectl::new();
    let kc = k.write("admin", &server.kubeconfig(&Identity::Admin));
    let step1 = fixtures().join("step1");
    k.ok(
        &kc,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            step1.to_str().unwrap(),
        ],
    )
    .await;
    k.ok(
        &kc,
        &[
            "set",
            "image",
            "-n",
            "shop",
            "deployment/web",
            "web=nginx:1.28",
        ],
    )
    .await;
    let deploy = server
        .object("apps/v1", "Deployment", Some("shop"), "web")
        .expect("deployment");
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.28");
    assert_eq!(
        container["ports"][0]["containerPort"], 80,
        "the rest of the container is kept"
    );
    assert_eq!(deploy["metadata"]["generation"], 2);
    k.ok(&kc, &["rollout", "restart", "-n", "shop", "deployment/web"])
        .await;
    k.ok(
        &kc,
        &[
            "rollout",
            "status",
            "-n",
            "shop",
            "deployment/web",
            "--timeout=10s",
        ],
    )
    .await;
    let pods = k
        .ok(
            &kc,
            &["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"],
        )
        .await;
    assert_eq!(pods.lines().count(), 2, "{pods}");
}
