//! Benchmark (not a timed test): a 200-object stack (the podinfo production overlay — Deployments,
//! a StatefulSet, Services, ConfigMaps, ServiceAccounts, CronJobs, HPAs, a PVC — repeated with
//! distinct names) applied to one environment by Berth's engine and by
//! `kubectl apply --server-side --validate=false -f DIR` on the same files. Several runs each, into
//! fresh namespaces: first apply (everything created, discovery cold for both) and re-apply
//! (everything unchanged, discovery warm for both). Prints a Markdown table with medians, spread,
//! the ratio and the goal (Berth ≤ 0.5× kubectl).
//!
//! Run: `cargo run --release -p berth-tests --bin bench-apply [-- --objects 200 --runs 5
//! --parallelism 16]`; `--smoke` is the tiny configuration the test suite runs; `--json` prints
//! the report the suite driver (`bench-suite`) reads. Uses a fresh
//! in-process test API server, or the real cluster named by `BERTH_TEST_KUBECONFIG`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use berth::deploy::{
    Action, Discoveries, Manifest, MemorySource, Policy, Renderer, StackIdentity, execute, render,
};
use berth_tests::TestCluster;
use berth_tests::bench::{Figure, Goal, Report, ms};
use clap::Parser;
use serde_json::Value;

#[derive(Parser, Debug)]
#[command(about = "Berth's engine against kubectl apply --server-side on the same stack")]
struct Args {
    /// Objects in the stack.
    #[arg(long, default_value_t = 200)]
    objects: usize,
    /// Runs per tool.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Berth's parallel applies within a tier.
    #[arg(long, default_value_t = 16)]
    parallelism: usize,
    /// Tiny run (10 objects, 1 run) for the test suite.
    #[arg(long)]
    smoke: bool,
    /// Print one JSON report line instead of a table.
    #[arg(long)]
    json: bool,
}

/// The podinfo production overlay, rendered once, without its Namespace and namespaces.
fn base_objects() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifests");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let src = MemorySource::from_files(files);
    let rendered = render(
        &src,
        &["podinfo/deploy/overlays/production".to_owned()],
        &["podinfo/deploy/bases".to_owned()],
        Renderer::Kustomize,
    )
    .expect("render the podinfo overlay (needs kubectl or kustomize)");
    rendered
        .into_iter()
        .filter(|m| m.object["kind"] != "Namespace")
        .map(|m| {
            let mut o = m.object;
            o["metadata"].as_object_mut().unwrap().remove("namespace");
            o
        })
        .collect()
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read fixtures") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
}

/// `n` objects cycling through the base set, copy `c` suffixed `-c<c>`; one file per copy.
fn stack_files(n: usize) -> Vec<(String, String)> {
    let base = base_objects();
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..n {
        let copy = i / base.len();
        let mut o = base[i % base.len()].clone();
        let name = o["metadata"]["name"].as_str().unwrap().to_owned();
        o["metadata"]["name"] = Value::String(format!("{name}-c{copy}"));
        let doc = serde_json::to_string(&o).unwrap();
        let file = format!("copy-{copy:02}.yaml");
        match files.last_mut() {
            Some((f, text)) if *f == file => {
                text.push_str("---\n");
                text.push_str(&doc);
                text.push('\n');
            }
            _ => files.push((file, format!("{doc}\n"))),
        }
    }
    files
}

fn kubectl_apply(kubeconfig: &Path, cache: &Path, dir: &Path, ns: &str) -> Duration {
    let started = Instant::now();
    let out = Command::new("kubectl")
        .args(["apply", "--server-side", "--validate=false", "-n", ns, "-f"])
        .arg(dir)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("run kubectl");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.objects = 10;
        args.runs = 1;
    }
    let cluster = TestCluster::start().await;
    let client = cluster.admin_client();
    let files = stack_files(args.objects);
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let private = tempfile::tempdir().unwrap();
    let kubeconfig: PathBuf = private.path().join("admin.kubeconfig");
    std::fs::write(&kubeconfig, cluster.admin_kubeconfig()).unwrap();
    let kubectl = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();

    let (mut berth_first, mut berth_again, mut kubectl_first, mut kubectl_again) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..args.runs {
        let ns = cluster.namespace(&format!("bench-berth-{run}")).await;
        let stack = StackIdentity {
            id: uuid::Uuid::new_v4(),
            name: "bench".into(),
            commit: "0".repeat(40),
        };
        let policy = Policy {
            default_namespace: Some(ns.clone()),
            create_namespace: false,
            prune: true,
            wait_for_health: false,
            health_timeout: Duration::from_secs(60),
            force_conflicts: false,
            parallelism: args.parallelism,
        };
        // Cold discovery, like a kubectl with an empty cache directory.
        let discoveries = Discoveries::default();
        let env = (uuid::Uuid::new_v4(), 1);
        let deploy = |previous: Vec<berth::deploy::ObjectRef>| {
            let (files, client, discoveries, stack, policy) =
                (&files, &client, &discoveries, &stack, &policy);
            async move {
                let started = Instant::now();
                let src =
                    MemorySource::from_files(files.iter().map(|(p, t)| (p.clone(), t.clone())));
                let manifests: Vec<Manifest> = tokio::task::spawn_blocking(move || {
                    render(&src, &[String::new()], &[], Renderer::Plain)
                })
                .await
                .unwrap()
                .expect("render");
                let outcome = execute(
                    client,
                    discoveries,
                    env,
                    &manifests,
                    &previous,
                    stack,
                    policy,
                    &|_| {},
                )
                .await;
                (started.elapsed(), outcome)
            }
        };
        let (t, first) = deploy(Vec::new()).await;
        assert!(first.error.is_none(), "{:?}", first.error);
        assert!(first.results.iter().all(|r| r.action == Action::Created));
        assert_eq!(first.results.len(), args.objects);
        berth_first.push(t);
        let (t, again) = deploy(first.inventory.unwrap()).await;
        assert!(again.error.is_none(), "{:?}", again.error);
        assert!(
            again.results.iter().all(|r| r.action == Action::Unchanged),
            "re-apply changes nothing"
        );
        berth_again.push(t);

        if kubectl {
            let ns = cluster.namespace(&format!("bench-kubectl-{run}")).await;
            let cache = tempfile::tempdir().unwrap();
            let (k, c, d) = (
                kubeconfig.clone(),
                cache.path().to_owned(),
                dir.path().to_owned(),
            );
            let ns2 = ns.clone();
            let t = tokio::task::spawn_blocking(move || kubectl_apply(&k, &c, &d, &ns2))
                .await
                .unwrap();
            kubectl_first.push(t);
            let (k, c, d) = (
                kubeconfig.clone(),
                cache.path().to_owned(),
                dir.path().to_owned(),
            );
            let t = tokio::task::spawn_blocking(move || kubectl_apply(&k, &c, &d, &ns))
                .await
                .unwrap();
            kubectl_again.push(t);
        }
    }
    cluster.cleanup().await;

    let target = if cluster.is_real() {
        "real cluster (BERTH_TEST_KUBECONFIG)"
    } else {
        "in-process test API server"
    };
    let mut report = Report::new(
        "bench-apply",
        format!(
            "{} objects (podinfo overlay), {} runs each, Berth parallelism {}, {target}",
            args.objects, args.runs, args.parallelism
        ),
    );
    let samples = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<f64>>();
    let peer = "kubectl apply --server-side";
    report.push(
        Figure::new(
            "apply.first",
            &format!(
                "apply of a {}-object stack, first (all created)",
                args.objects
            ),
            "ms",
            samples(&berth_first),
        )
        .peer(peer, samples(&kubectl_first))
        .goal(Goal::RatioAtMost(0.5)),
    );
    report.push(
        Figure::new(
            "apply.again",
            &format!(
                "apply of a {}-object stack, again (all unchanged)",
                args.objects
            ),
            "ms",
            samples(&berth_again),
        )
        .peer(peer, samples(&kubectl_again))
        .goal(Goal::RatioAtMost(0.5)),
    );
    report.emit(args.json);
}
