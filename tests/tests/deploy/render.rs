//! Rendering real manifests (podinfo) with Kustomize and plain files, and deploying them.

use std::path::Path;

use berth::deploy::{
    Action, KUSTOMIZE_MISSING, MemorySource, RenderOptions, Renderer, render, render_with,
};

use crate::{Ctx, policy, stack};

/// Every file under `tests/fixtures/manifests`, keyed by its path below it.
fn fixtures() -> MemorySource {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifests");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    MemorySource::from_files(files)
}

fn kinds(m: &[berth::deploy::Manifest]) -> Vec<String> {
    let mut k: Vec<String> = m
        .iter()
        .map(|m| m.object["kind"].as_str().unwrap().to_owned())
        .collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kustomization_renders_with_kubectl_and_deploys() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-kustomize").await;
    let src = fixtures();
    let m = tokio::task::block_in_place(|| {
        render(
            &src,
            &["podinfo/kustomize".to_owned()],
            &[],
            Renderer::Kustomize,
        )
    })
    .expect("kustomize render");
    assert_eq!(
        kinds(&m),
        ["Deployment", "HorizontalPodAutoscaler", "Service"]
    );
    assert!(
        m.iter()
            .all(|x| x.source.starts_with("kustomize:podinfo/kustomize#")),
        "{m:?}"
    );
    let p = berth::deploy::Policy {
        default_namespace: Some(ns.clone()),
        ..policy()
    };
    let (results, inventory) = ctx.deploy_ok(&m, &[], &stack("podinfo", "1"), &p).await;
    assert!(
        results.iter().all(|r| r.action == Action::Created),
        "{results:?}"
    );
    assert!(
        inventory
            .iter()
            .all(|r| r.namespace.as_deref() == Some(ns.as_str()))
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlay_renders_with_its_bases_from_watched_paths_only() {
    let src = fixtures();
    let overlay = vec!["podinfo/deploy/overlays/production".to_owned()];
    let m = tokio::task::block_in_place(|| {
        render(
            &src,
            &overlay,
            &["podinfo/deploy/bases".to_owned()],
            Renderer::Kustomize,
        )
    })
    .expect("overlay with its bases");
    assert_eq!(m.len(), 25);
    assert!(m.iter().any(|x| x.object["kind"] == "StatefulSet"));
    assert!(
        m.iter()
            .filter(|x| x.object["kind"] != "Namespace")
            .all(|x| x.object["metadata"]["namespace"] == "production"),
        "the overlay's namespace applies to every object"
    );
    // Without the bases the overlay cannot render, and Kustomize's own message says why.
    let e = tokio::task::block_in_place(|| render(&src, &overlay, &[], Renderer::Kustomize))
        .unwrap_err();
    assert_eq!(e.phase, berth::deploy::Phase::Render);
    assert!(
        e.message
            .starts_with("kubectl kustomize podinfo/deploy/overlays/production: failed"),
        "{}",
        e.message
    );
}

#[test]
fn kustomize_without_kubectl_or_kustomize_says_what_to_install() {
    let empty = tempfile::tempdir().unwrap();
    let options = RenderOptions {
        search_path: Some(empty.path().as_os_str().to_owned()),
        ..RenderOptions::default()
    };
    let e = render_with(
        &fixtures(),
        &["podinfo/kustomize".to_owned()],
        &[],
        Renderer::Kustomize,
        &options,
    )
    .unwrap_err();
    assert_eq!(e.message, KUSTOMIZE_MISSING);
    assert_eq!(
        e.message,
        "renderer kustomize needs kubectl or kustomize on the Berth server's PATH"
    );
    assert!(!e.transient);
}

#[test]
fn plain_rendering_of_a_real_directory_tree_reads_every_manifest_in_path_order() {
    let m = render(
        &fixtures(),
        &["podinfo/deploy/webapp".to_owned()],
        &[],
        Renderer::Plain,
    )
    .expect("plain render");
    let sources: Vec<&str> = m.iter().map(|x| x.source.as_str()).collect();
    let mut sorted = sources.clone();
    sorted.sort();
    assert_eq!(sources, sorted);
    assert!(
        sources.contains(&"podinfo/deploy/webapp/common/namespace.yaml#1"),
        "{sources:?}"
    );
    assert!(kinds(&m).contains(&"Deployment".to_owned()));
}
