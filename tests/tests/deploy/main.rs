//! The deployment engine (`berth::deploy`) against a cluster: the in-process test API server, or
//! the real cluster named by `BERTH_TEST_KUBECONFIG`. Manifests come from `MemorySource`, real
//! Git repositories (git-fixtures) and the podinfo fixtures; the cluster is checked directly.

mod apply;
mod bench;
mod failures;
mod ownership;
mod preview;
mod render;
mod transport;
mod workloads;

use std::sync::Mutex;
use std::time::Duration;

use berth::deploy::{
    Action, Discoveries, Manifest, MemorySource, ObjectRef, ObjectResult, Outcome, Policy,
    Renderer, StackIdentity, execute, render,
};
use berth_tests::TestCluster;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::Value;
use uuid::Uuid;

/// One test's cluster, client and discovery cache.
pub struct Ctx {
    pub cluster: TestCluster,
    pub client: kube::Client,
    pub discoveries: Discoveries,
    pub env: (Uuid, i32),
}

impl Ctx {
    pub async fn start() -> Ctx {
        let cluster = TestCluster::start().await;
        let client = cluster.admin_client();
        Ctx {
            cluster,
            client,
            discoveries: Discoveries::default(),
            env: (Uuid::new_v4(), 1),
        }
    }

    /// Runs a deployment, collecting what `progress` reported.
    pub async fn deploy(
        &self,
        manifests: &[Manifest],
        previous: &[ObjectRef],
        stack: &StackIdentity,
        policy: &Policy,
    ) -> (Outcome, Vec<ObjectResult>) {
        let seen = Mutex::new(Vec::new());
        let outcome = execute(
            &self.client,
            &self.discoveries,
            self.env,
            manifests,
            previous,
            stack,
            policy,
            &|r| seen.lock().unwrap().push(r.clone()),
        )
        .await;
        (outcome, seen.into_inner().unwrap())
    }

    /// Deploys and insists on success; the new inventory.
    pub async fn deploy_ok(
        &self,
        manifests: &[Manifest],
        previous: &[ObjectRef],
        stack: &StackIdentity,
        policy: &Policy,
    ) -> (Vec<ObjectResult>, Vec<ObjectRef>) {
        let (outcome, _) = self.deploy(manifests, previous, stack, policy).await;
        assert!(
            outcome.error.is_none(),
            "deployment failed: {:?}",
            outcome.error
        );
        (
            outcome.results,
            outcome.inventory.expect("inventory on success"),
        )
    }

    /// A live object, as JSON.
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let resource = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural: plural.into(),
        };
        let api: Api<DynamicObject> = match ns {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        };
        api.get_opt(name)
            .await
            .expect("read the live object")
            .map(|o| serde_json::to_value(o).unwrap())
    }

    pub async fn config_map(&self, ns: &str, name: &str) -> Option<Value> {
        self.get("v1", "ConfigMap", "configmaps", Some(ns), name)
            .await
    }
}

/// A stack identity with a fresh id.
pub fn stack(name: &str, commit: &str) -> StackIdentity {
    StackIdentity {
        id: Uuid::new_v4(),
        name: name.into(),
        commit: commit.into(),
    }
}

/// Prune on, no health wait, no force, 4 in parallel.
pub fn policy() -> Policy {
    Policy {
        default_namespace: None,
        create_namespace: false,
        prune: true,
        wait_for_health: false,
        health_timeout: Duration::from_secs(60),
        force_conflicts: false,
        parallelism: 4,
    }
}

/// Renders plain manifests from in-memory files.
pub fn manifests(files: &[(&str, String)]) -> Vec<Manifest> {
    let src = MemorySource::from_files(files.iter().map(|(p, t)| (*p, t.clone())));
    render(&src, &[String::new()], &[], Renderer::Plain).expect("render")
}

pub fn config_map_yaml(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  key: {value:?}\n"
    )
}

/// (kind, name, action) of each result, for compact assertions.
pub fn actions(results: &[ObjectResult]) -> Vec<(String, String, Action)> {
    results
        .iter()
        .map(|r| (r.object.kind.clone(), r.object.name.clone(), r.action))
        .collect()
}

/// A name no object has yet, for cluster-scoped things a test creates (deleted by the test).
pub fn unique(base: &str) -> String {
    format!("{base}-{}", &Uuid::new_v4().simple().to_string()[..8])
}
