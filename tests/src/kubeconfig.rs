//! Editing kubeconfigs in tests, whatever cluster they came from: parse (YAML or JSON), change the
//! current context's user or cluster, and write the result back as text (JSON, which is YAML and
//! which every kubeconfig reader accepts). Field paths come out the way Berth names them in its
//! errors (`kubeconfig.users[NAME].user`), so tests need not know the names a cluster uses.

use kube::config::Kubeconfig;
use serde_json::{Map, Value, json};

/// A kubeconfig being edited.
#[derive(Debug, Clone)]
pub struct KubeconfigDoc {
    doc: Value,
}

impl KubeconfigDoc {
    /// Parses kubeconfig text.
    ///
    /// # Panics
    /// If it is not a kubeconfig.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let kc = Kubeconfig::from_yaml(text).expect("parse kubeconfig");
        Self {
            doc: serde_json::to_value(&kc).expect("kubeconfig as JSON"),
        }
    }

    fn current_context(&self) -> &Value {
        let current = self.doc["current-context"].as_str().unwrap_or_default();
        let contexts = self.doc["contexts"].as_array().expect("contexts");
        contexts
            .iter()
            .find(|c| c["name"] == current)
            .or_else(|| contexts.first())
            .expect("a context")
    }

    /// The name of the current context.
    #[must_use]
    pub fn context_name(&self) -> String {
        self.current_context()["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The namespace of the current context, if it names one.
    #[must_use]
    pub fn namespace(&self) -> Option<String> {
        self.current_context()["context"]["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    }

    /// The name of the current context's user.
    #[must_use]
    pub fn user_name(&self) -> String {
        self.current_context()["context"]["user"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The name of the current context's cluster.
    #[must_use]
    pub fn cluster_name(&self) -> String {
        self.current_context()["context"]["cluster"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `kubeconfig.users[NAME].user`, as Berth names the user in its errors.
    #[must_use]
    pub fn user_field(&self) -> String {
        format!("kubeconfig.users[{}].user", self.user_name())
    }

    /// `kubeconfig.clusters[NAME].cluster`, as Berth names the cluster in its errors.
    #[must_use]
    pub fn cluster_field(&self) -> String {
        format!("kubeconfig.clusters[{}].cluster", self.cluster_name())
    }

    /// The current context's user entry.
    pub fn user_mut(&mut self) -> &mut Map<String, Value> {
        let name = self.user_name();
        let users = self.doc["users"].as_array_mut().expect("users");
        let entry = users
            .iter_mut()
            .find(|u| u["name"] == name.as_str())
            .expect("the context's user");
        if !entry["user"].is_object() {
            entry["user"] = json!({});
        }
        entry["user"].as_object_mut().expect("user object")
    }

    /// The current context's cluster entry.
    pub fn cluster_mut(&mut self) -> &mut Map<String, Value> {
        let name = self.cluster_name();
        let clusters = self.doc["clusters"].as_array_mut().expect("clusters");
        let entry = clusters
            .iter_mut()
            .find(|c| c["name"] == name.as_str())
            .expect("the context's cluster");
        entry["cluster"].as_object_mut().expect("cluster object")
    }

    /// The current context's user, read-only.
    #[must_use]
    pub fn user(&self) -> Map<String, Value> {
        self.clone().user_mut().clone()
    }

    /// The current context's cluster, read-only.
    #[must_use]
    pub fn cluster(&self) -> Map<String, Value> {
        self.clone().cluster_mut().clone()
    }

    /// Replaces the current context's user credentials with `user`.
    #[must_use]
    pub fn with_user(mut self, user: Value) -> Self {
        let Value::Object(user) = user else {
            panic!("a user object, not {user}");
        };
        *self.user_mut() = user;
        self
    }

    /// Sets (or with `null`, removes) one field of the current context's cluster.
    #[must_use]
    pub fn with_cluster_field(mut self, key: &str, value: Value) -> Self {
        let cluster = self.cluster_mut();
        if value.is_null() {
            cluster.remove(key);
        } else {
            cluster.insert(key.to_owned(), value);
        }
        self
    }

    /// The API server URL.
    #[must_use]
    pub fn server(&self) -> String {
        self.cluster()["server"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The bearer token of the current user, if it has one.
    #[must_use]
    pub fn token(&self) -> Option<String> {
        self.user()
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The kubeconfig as text.
    #[must_use]
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(&self.doc).expect("serialize kubeconfig")
    }
}

/// One kubeconfig holding the current context of each of `named` kubeconfigs, as contexts (and
/// users and clusters) named as given; `current` is the current context (empty for none).
#[must_use]
pub fn merge(named: &[(&str, &str)], current: &str) -> String {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    for (name, text) in named {
        let kc = KubeconfigDoc::parse(text);
        let mut context = kc.current_context()["context"].clone();
        context["cluster"] = json!(name);
        context["user"] = json!(name);
        clusters.push(json!({"name": name, "cluster": kc.cluster()}));
        users.push(json!({"name": name, "user": kc.user()}));
        contexts.push(json!({"name": name, "context": context}));
    }
    serde_json::to_string_pretty(&json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current,
    }))
    .expect("serialize kubeconfig")
}
