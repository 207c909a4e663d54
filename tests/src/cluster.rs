//! `TestCluster`: the Kubernetes API an end-to-end test talks to.
//!
//! By default it is the in-process Kubernetes test API server (`kube-test-api`). When
//! `BERTH_TEST_KUBECONFIG` names a kubeconfig file with cluster-admin credentials, the same tests run
//! against that real cluster instead. Each test gets its own namespaces (labelled
//! `berth.dev/test=<run id>`), deleted when the `TestCluster` is cleaned up or dropped, so runs never
//! collide. Identities other than admin are made on a real cluster with a ServiceAccount, a
//! RoleBinding to the built-in `edit`/`view` ClusterRole and a TokenRequest.

use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use kube::config::Kubeconfig;
use kube_test_api::{BadKubeconfig, Identity, TestApiServer};
use serde_json::json;

use crate::kubeconfig::KubeconfigDoc;

/// Environment variable naming a cluster-admin kubeconfig of a real cluster.
pub const REAL_CLUSTER_ENV: &str = "BERTH_TEST_KUBECONFIG";

enum Backend {
    TestApi(Box<TestApiServer>),
    Real { kubeconfig: String },
}

/// The cluster of one test.
pub struct TestCluster {
    backend: Backend,
    admin: kube::Client,
    run_id: String,
    namespaces: Mutex<Vec<String>>,
    cluster_bindings: Mutex<Vec<String>>,
}

impl TestCluster {
    /// The real cluster from `BERTH_TEST_KUBECONFIG`, or a fresh in-process test API server.
    pub async fn start() -> TestCluster {
        let backend = match std::env::var(REAL_CLUSTER_ENV) {
            Ok(path) if !path.is_empty() => {
                let kubeconfig = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{REAL_CLUSTER_ENV}={path}: {e}"));
                Backend::Real { kubeconfig }
            }
            _ => Backend::TestApi(Box::new(TestApiServer::start().await)),
        };
        let admin_yaml = match &backend {
            Backend::TestApi(server) => server.kubeconfig(&Identity::Admin),
            Backend::Real { kubeconfig } => kubeconfig.clone(),
        };
        let admin = client_for(&admin_yaml).await;
        TestCluster {
            backend,
            admin,
            run_id: uuid::Uuid::new_v4().simple().to_string()[..10].to_owned(),
            namespaces: Mutex::new(Vec::new()),
            cluster_bindings: Mutex::new(Vec::new()),
        }
    }

    /// Whether this is a real cluster (then fault injection and request inspection are unavailable).
    pub fn is_real(&self) -> bool {
        matches!(self.backend, Backend::Real { .. })
    }

    /// The in-process test API server, for fault injection and inspection. `None` on a real cluster:
    /// tests that need it say so and return early there.
    pub fn test_api(&self) -> Option<&TestApiServer> {
        match &self.backend {
            Backend::TestApi(server) => Some(server),
            Backend::Real { .. } => None,
        }
    }

    /// A kube client with cluster-admin rights, for setting up and checking a test.
    pub fn admin_client(&self) -> kube::Client {
        self.admin.clone()
    }

    /// The cluster-admin kubeconfig (YAML).
    pub fn admin_kubeconfig(&self) -> String {
        match &self.backend {
            Backend::TestApi(server) => server.kubeconfig(&Identity::Admin),
            Backend::Real { kubeconfig } => kubeconfig.clone(),
        }
    }

    /// A fresh namespace for this test, deleted at clean-up. Its name starts with `base`.
    pub async fn namespace(&self, base: &str) -> String {
        let name = format!("{}-{}", base.to_ascii_lowercase(), self.run_id)
            .chars()
            .take(63)
            .collect::<String>();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("berth.dev/test".to_owned(), self.run_id.clone())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(self.admin.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
        self.namespaces.lock().unwrap().push(name.clone());
        name
    }

    /// A kubeconfig for a namespaced editor of `namespaces` (each already made with
    /// [`TestCluster::namespace`]).
    pub async fn edit_kubeconfig(&self, namespaces: &[&str]) -> String {
        match &self.backend {
            Backend::TestApi(server) => server.kubeconfig(&Identity::Edit(
                namespaces.iter().map(|n| (*n).to_owned()).collect(),
            )),
            Backend::Real { .. } => {
                let home = namespaces.first().expect("at least one namespace");
                let sa = self.service_account(home, "berth-edit").await;
                for ns in namespaces {
                    self.bind(ns, "edit", home, &sa).await;
                }
                self.token_kubeconfig(home, &sa).await
            }
        }
    }

    /// A kubeconfig that may read (not write) everything but Secrets.
    pub async fn view_kubeconfig(&self) -> String {
        match &self.backend {
            Backend::TestApi(server) => server.kubeconfig(&Identity::View),
            Backend::Real { .. } => self.cluster_role_kubeconfig("view").await,
        }
    }

    /// The API server URL.
    pub fn server_url(&self) -> String {
        KubeconfigDoc::parse(&self.admin_kubeconfig()).server()
    }

    /// A cluster-admin kubeconfig that authenticates with a bearer token: the admin kubeconfig
    /// when it does, otherwise (a real cluster whose admin uses a certificate or a plugin) a
    /// ServiceAccount bound to `cluster-admin`.
    pub async fn admin_token_kubeconfig(&self) -> String {
        match &self.backend {
            Backend::TestApi(server) => server.kubeconfig(&Identity::Admin),
            Backend::Real { kubeconfig } => {
                if KubeconfigDoc::parse(kubeconfig).token().is_some() {
                    kubeconfig.clone()
                } else {
                    self.cluster_role_kubeconfig("cluster-admin").await
                }
            }
        }
    }

    /// A cluster-admin kubeconfig that authenticates with a client certificate, when the cluster
    /// offers one (a real cluster only if its admin kubeconfig uses one).
    pub fn client_certificate_kubeconfig(&self) -> Option<String> {
        match &self.backend {
            Backend::TestApi(server) => Some(server.kubeconfig(&Identity::AdminCert)),
            Backend::Real { kubeconfig } => KubeconfigDoc::parse(kubeconfig)
                .user()
                .contains_key("client-certificate-data")
                .then(|| kubeconfig.clone()),
        }
    }

    /// A token kubeconfig of a ServiceAccount bound cluster-wide to `cluster_role`.
    async fn cluster_role_kubeconfig(&self, cluster_role: &str) -> String {
        let home = self.namespace(&format!("berth-{cluster_role}")).await;
        let sa = self.service_account(&home, "berth-test").await;
        let binding = format!("berth-test-{cluster_role}-{}", self.run_id);
        let crb: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": binding, "labels": {"berth.dev/test": self.run_id}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": home}]
        }))
        .expect("binding");
        Api::<ClusterRoleBinding>::all(self.admin.clone())
            .create(&PostParams::default(), &crb)
            .await
            .expect("create cluster role binding");
        self.cluster_bindings.lock().unwrap().push(binding);
        self.token_kubeconfig(&home, &sa).await
    }

    /// A deliberately bad kubeconfig (wrong CA, unknown token, …) for this cluster.
    pub fn bad_kubeconfig(&self, bad: BadKubeconfig) -> String {
        match &self.backend {
            Backend::TestApi(server) => server.bad_kubeconfig(bad),
            Backend::Real { kubeconfig } => degrade(kubeconfig, bad),
        }
    }

    async fn service_account(&self, ns: &str, name: &str) -> String {
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        Api::<ServiceAccount>::namespaced(self.admin.clone(), ns)
            .create(&PostParams::default(), &sa)
            .await
            .unwrap_or_else(|e| panic!("create service account {ns}/{name}: {e}"));
        name.to_owned()
    }

    async fn bind(&self, ns: &str, cluster_role: &str, sa_ns: &str, sa: &str) {
        let rb: RoleBinding = serde_json::from_value(json!({
            "metadata": {"name": format!("berth-test-{cluster_role}"), "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": sa_ns}]
        }))
        .expect("role binding");
        Api::<RoleBinding>::namespaced(self.admin.clone(), ns)
            .create(&PostParams::default(), &rb)
            .await
            .unwrap_or_else(|e| panic!("bind {cluster_role} in {ns}: {e}"));
    }

    /// Asks the API server for a short-lived ServiceAccount token and builds a kubeconfig with it.
    async fn token_kubeconfig(&self, ns: &str, sa: &str) -> String {
        let body = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600}
        });
        let req = http::Request::post(format!(
            "/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token"
        ))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
        let answer: serde_json::Value = self.admin.request(req).await.expect("TokenRequest");
        let token = answer["status"]["token"]
            .as_str()
            .expect("token in TokenRequest status");
        with_token(&self.admin_kubeconfig(), token, ns)
    }

    /// Deletes this test's namespaces and bindings and waits (bounded) until they are gone.
    pub async fn cleanup(&self) {
        let namespaces: Vec<String> = self.namespaces.lock().unwrap().drain(..).collect();
        let bindings: Vec<String> = self.cluster_bindings.lock().unwrap().drain(..).collect();
        delete_all(self.admin.clone(), namespaces, bindings).await;
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if !self.is_real() {
            // The in-process server and everything in it go away with it.
            return;
        }
        let namespaces: Vec<String> = self.namespaces.lock().unwrap().drain(..).collect();
        let bindings: Vec<String> = self.cluster_bindings.lock().unwrap().drain(..).collect();
        if namespaces.is_empty() && bindings.is_empty() {
            return;
        }
        let kubeconfig = self.admin_kubeconfig();
        // Drop cannot await and the test's runtime may be blocked: clean up from a fresh one.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let client = client_for(&kubeconfig).await;
                delete_all(client, namespaces, bindings).await;
            });
        })
        .join();
    }
}

async fn delete_all(client: kube::Client, namespaces: Vec<String>, bindings: Vec<String>) {
    let ns_api = Api::<Namespace>::all(client.clone());
    for name in &namespaces {
        let _ = ns_api.delete(name, &DeleteParams::background()).await;
    }
    let crb_api = Api::<ClusterRoleBinding>::all(client);
    for name in &bindings {
        let _ = crb_api.delete(name, &DeleteParams::default()).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for name in &namespaces {
        while tokio::time::Instant::now() < deadline {
            match ns_api.get_opt(name).await {
                Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => break,
            }
        }
    }
}

/// A kube client from kubeconfig text (its current context), built as Berth builds its clients.
pub async fn client_for(kubeconfig: &str) -> kube::Client {
    let kc = Kubeconfig::from_yaml(kubeconfig).expect("parse kubeconfig");
    berth::environments::clients::build(kc)
        .await
        .unwrap_or_else(|e| panic!("a client from the kubeconfig: {e}"))
}

/// The admin kubeconfig of a real cluster with its user replaced by a bearer token and the
/// context's namespace set.
fn with_token(admin: &str, token: &str, namespace: &str) -> String {
    let mut kc = Kubeconfig::from_yaml(admin).expect("parse kubeconfig");
    for named in &mut kc.auth_infos {
        named.auth_info = Some(kube::config::AuthInfo {
            token: Some(token.to_owned().into()),
            ..kube::config::AuthInfo::default()
        });
    }
    for ctx in &mut kc.contexts {
        if let Some(c) = ctx.context.as_mut() {
            c.namespace = Some(namespace.to_owned());
        }
    }
    to_yaml(&kc)
}

/// Derives a deliberately broken kubeconfig from a working one (for real clusters).
fn degrade(admin: &str, bad: BadKubeconfig) -> String {
    let mut kc = Kubeconfig::from_yaml(admin).expect("parse kubeconfig");
    match bad {
        BadKubeconfig::InsecureSkipTlsVerify => {
            for c in kc.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
                c.certificate_authority_data = None;
                c.insecure_skip_tls_verify = Some(true);
            }
        }
        BadKubeconfig::WrongCa => {
            let other = test_ca::TestCa::new("not the cluster's CA");
            let data = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                other.cert_pem(),
            );
            for c in kc.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
                c.certificate_authority_data = Some(data.clone());
                c.insecure_skip_tls_verify = None;
            }
        }
        BadKubeconfig::ExpiredToken | BadKubeconfig::UnknownToken => {
            // A real cluster cannot mint an expired token on demand; both are tokens it never issued.
            let token = if matches!(bad, BadKubeconfig::ExpiredToken) {
                "berth-test-expired-token"
            } else {
                "berth-test-unknown-token"
            };
            for named in &mut kc.auth_infos {
                named.auth_info = Some(kube::config::AuthInfo {
                    token: Some(token.to_owned().into()),
                    ..kube::config::AuthInfo::default()
                });
            }
        }
        BadKubeconfig::MultiContext => {
            let Some(first) = kc.contexts.first().cloned() else {
                return admin.to_owned();
            };
            for suffix in ["second", "third"] {
                let mut extra = first.clone();
                extra.name = format!("{}-{suffix}", first.name);
                kc.contexts.push(extra);
            }
        }
    }
    to_yaml(&kc)
}

/// Kubeconfig as text; JSON is valid YAML and every kubeconfig reader accepts it.
fn to_yaml(kc: &Kubeconfig) -> String {
    serde_json::to_string_pretty(kc).expect("serialize kubeconfig")
}
