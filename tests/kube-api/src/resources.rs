//! The resource table: which groups, versions and resources the server serves, with the
//! metadata discovery reports (scope, kind, shortNames, verbs, subresources) and the storage
//! behaviours that differ per kind (status subresource, `metadata.generation`).
//!
//! Built-in resources are a fixed table; custom resources are added when a
//! CustomResourceDefinition becomes Established. Nothing here touches stored objects.

use serde_json::Value;

/// The standard verbs of a normal resource, in discovery order.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One resource served at `/api[s]/{group}/{version}/…/{plural}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    /// Has a `/status` subresource: the main resource ignores `status` on writes.
    pub status: bool,
    /// Has a `/scale` subresource.
    pub scale: bool,
    /// Keeps `metadata.generation`.
    pub generation: bool,
    /// Defined by a CustomResourceDefinition.
    pub custom: bool,
}

impl ResourceDef {
    /// `plural` for the core group, `plural.group` otherwise (as in error messages).
    #[must_use]
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `v1` or `apps/v1`.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The storage key shared by all versions of this resource.
    #[must_use]
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    #[must_use]
    pub fn is_review(&self) -> bool {
        self.group == "authorization.k8s.io" || self.group == "authentication.k8s.io"
    }
}

struct Builtin {
    gv: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    generation: bool,
    all: bool,
}

#[allow(clippy::too_many_arguments)]
const fn b(
    gv: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    generation: bool,
    all: bool,
) -> Builtin {
    Builtin {
        gv,
        kind,
        plural,
        namespaced,
        short,
        status,
        generation,
        all,
    }
}

const NS: bool = true;
const CLUSTER: bool = false;

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    b("v1", "Namespace", "namespaces", CLUSTER, &["ns"], true, false, false),
    b("v1", "Node", "nodes", CLUSTER, &["no"], true, false, false),
    b("v1", "ConfigMap", "configmaps", NS, &["cm"], false, false, false),
    b("v1", "Secret", "secrets", NS, &[], false, false, false),
    b("v1", "Service", "services", NS, &["svc"], true, false, true),
    b("v1", "ServiceAccount", "serviceaccounts", NS, &["sa"], false, false, false),
    b("v1", "Pod", "pods", NS, &["po"], true, false, true),
    b("v1", "PersistentVolumeClaim", "persistentvolumeclaims", NS, &["pvc"], true, false, false),
    b("v1", "PersistentVolume", "persistentvolumes", CLUSTER, &["pv"], true, false, false),
    b("v1", "Event", "events", NS, &["ev"], false, false, false),
    b("v1", "Endpoints", "endpoints", NS, &["ep"], false, false, false),
    b("v1", "ResourceQuota", "resourcequotas", NS, &["quota"], true, false, false),
    b("v1", "LimitRange", "limitranges", NS, &["limits"], false, false, false),
    b("apps/v1", "Deployment", "deployments", NS, &["deploy"], true, true, true),
    b("apps/v1", "StatefulSet", "statefulsets", NS, &["sts"], true, true, true),
    b("apps/v1", "DaemonSet", "daemonsets", NS, &["ds"], true, true, true),
    b("apps/v1", "ReplicaSet", "replicasets", NS, &["rs"], true, true, true),
    b("apps/v1", "ControllerRevision", "controllerrevisions", NS, &[], false, false, false),
    b("batch/v1", "Job", "jobs", NS, &[], true, true, true),
    b("batch/v1", "CronJob", "cronjobs", NS, &["cj"], true, true, true),
    b("networking.k8s.io/v1", "Ingress", "ingresses", NS, &["ing"], true, true, false),
    b("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", NS, &["netpol"], false, true, false),
    b("networking.k8s.io/v1", "IngressClass", "ingressclasses", CLUSTER, &[], false, true, false),
    b("rbac.authorization.k8s.io/v1", "Role", "roles", NS, &[], false, false, false),
    b("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", NS, &[], false, false, false),
    b("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", CLUSTER, &[], false, false, false),
    b("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", CLUSTER, &[], false, false, false),
    b("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", CLUSTER, &["crd", "crds"], true, true, false),
    b("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", CLUSTER, &[], false, true, false),
    b("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", CLUSTER, &[], false, true, false),
    b("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", NS, &["hpa"], true, true, true),
    b("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", NS, &["pdb"], true, true, false),
    b("storage.k8s.io/v1", "StorageClass", "storageclasses", CLUSTER, &["sc"], false, false, false),
    b("authorization.k8s.io/v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", CLUSTER, &[], false, false, false),
    b("authorization.k8s.io/v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", CLUSTER, &[], false, false, false),
    b("authentication.k8s.io/v1", "SelfSubjectReview", "selfsubjectreviews", CLUSTER, &[], false, false, false),
];

/// Resources with a `/scale` subresource.
const SCALABLE: &[&str] = &["deployments", "statefulsets", "replicasets"];

/// The built-in resource table, in discovery order.
#[must_use]
pub fn builtins() -> Vec<ResourceDef> {
    BUILTINS
        .iter()
        .map(|r| {
            let (group, version) = split_api_version(r.gv);
            let verbs: Vec<String> =
                if group == "authorization.k8s.io" || group == "authentication.k8s.io" {
                    vec!["create".to_owned()]
                } else {
                    ALL_VERBS.iter().map(|v| (*v).to_owned()).collect()
                };
            ResourceDef {
                group: group.to_owned(),
                version: version.to_owned(),
                kind: r.kind.to_owned(),
                plural: r.plural.to_owned(),
                singular: r.kind.to_lowercase(),
                namespaced: r.namespaced,
                short_names: r.short.iter().map(|s| (*s).to_owned()).collect(),
                categories: if r.all {
                    vec!["all".to_owned()]
                } else {
                    vec![]
                },
                verbs,
                status: r.status,
                scale: SCALABLE.contains(&r.plural),
                generation: r.generation,
                custom: false,
            }
        })
        .collect()
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
#[must_use]
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The resources a CustomResourceDefinition serves (one per served version).
#[must_use]
pub fn from_crd(crd: &Value) -> Vec<ResourceDef> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let plural = s(&names["plural"]);
    let kind = s(&names["kind"]);
    let singular = match names["singular"].as_str() {
        Some(x) if !x.is_empty() => x.to_owned(),
        _ => kind.to_lowercase(),
    };
    spec["versions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .map(|v| ResourceDef {
            group: s(&spec["group"]),
            version: s(&v["name"]),
            kind: kind.clone(),
            plural: plural.clone(),
            singular: singular.clone(),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            short_names: list(&names["shortNames"]),
            categories: list(&names["categories"]),
            verbs: ALL_VERBS.iter().map(|v| (*v).to_owned()).collect(),
            status: v["subresources"]["status"].is_object(),
            scale: v["subresources"]["scale"].is_object(),
            generation: true,
            custom: true,
        })
        .collect()
}
