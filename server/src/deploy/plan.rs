//! Placing validated objects on one cluster before anything is applied: each kind resolved
//! through discovery (or a CRD declared in the same manifests), namespaces defaulted, the tiers
//! ordered (Namespaces and CRDs, other cluster-scoped objects, namespaced objects, admission
//! webhooks), the stack's label and annotation added, and the namespaces the objects need
//! checked up front. Any problem fails in phase `Plan` with nothing applied.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::future::join_all;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use super::discovery::{EnvDiscovery, Resolved};
use super::documents::describe_source;
use super::namespaces;
use super::validate::split_api_version;
use super::{
    DeployError, Manifest, ObjectRef, Phase, Policy, STACK_ANNOTATION, STACK_LABEL, StackIdentity,
};

/// Ordering tiers, applied in this order and pruned in reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Namespaces and CustomResourceDefinitions.
    Foundation,
    /// Other cluster-scoped objects.
    Cluster,
    Namespaced,
    /// Validating/MutatingWebhookConfigurations: last, so they cannot block the stack's own
    /// objects (their service may not be running yet).
    Webhooks,
}

impl Tier {
    /// The tier of a kind (`group` without version) and scope.
    pub fn of(group: &str, kind: &str, namespaced: bool) -> Tier {
        match (group, kind) {
            ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                Tier::Foundation
            }
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
            ) => Tier::Webhooks,
            _ if namespaced => Tier::Namespaced,
            _ => Tier::Cluster,
        }
    }
}

/// One object ready to apply.
#[derive(Debug, Clone)]
pub struct Planned {
    /// [`Manifest::source`], or `create_namespace` for namespaces Berth adds.
    pub source: String,
    pub reference: ObjectRef,
    pub resource: ApiResource,
    pub tier: Tier,
    /// Served by a CRD in this same stack that the cluster does not serve yet.
    pub pending_crd: bool,
    /// A namespace added because `create_namespace` is on (not part of the inventory).
    pub implicit: bool,
    /// What is applied: namespace set, stack label and annotation added.
    pub object: Value,
}

impl Planned {
    /// `apps/web.yaml document 2 (Deployment web/api)`.
    pub fn describe(&self) -> String {
        if self.implicit {
            return format!("{} (create_namespace)", describe_ref(&self.reference));
        }
        format!(
            "{} ({})",
            describe_source(&self.source),
            describe_ref(&self.reference)
        )
    }
}

/// `Deployment web/api` or `ClusterRole view-all`.
pub fn describe_ref(r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    }
}

/// Identity regardless of version: what prune and duplicate checks compare.
pub fn identity(r: &ObjectRef) -> (&str, &str, Option<&str>, &str) {
    (&r.group, &r.kind, r.namespace.as_deref(), &r.name)
}

/// An API handle for one object.
pub fn api_for(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// The ordered plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sorted by tier; manifest order within a tier.
    pub objects: Vec<Planned>,
}

impl Plan {
    /// The objects of one tier.
    pub fn tier(&self, tier: Tier) -> Vec<&Planned> {
        self.objects.iter().filter(|p| p.tier == tier).collect()
    }
}

/// A kind that a CRD in the manifests defines.
struct CrdKind {
    plural: String,
    namespaced: bool,
}

/// Kinds defined by CRDs among the manifests: (apiVersion, kind) → plural and scope.
fn crd_kinds(manifests: &[Manifest]) -> HashMap<(String, String), CrdKind> {
    let mut out = HashMap::new();
    for m in manifests {
        let o = &m.object;
        if o["kind"] != "CustomResourceDefinition"
            || !o["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
        {
            continue;
        }
        let spec = &o["spec"];
        let (Some(group), Some(kind), Some(plural)) = (
            spec["group"].as_str(),
            spec["names"]["kind"].as_str(),
            spec["names"]["plural"].as_str(),
        ) else {
            continue;
        };
        let namespaced = spec["scope"].as_str() != Some("Cluster");
        for v in spec["versions"].as_array().into_iter().flatten() {
            if v["served"].as_bool() == Some(false) {
                continue;
            }
            if let Some(version) = v["name"].as_str() {
                out.insert(
                    (format!("{group}/{version}"), kind.to_owned()),
                    CrdKind {
                        plural: plural.to_owned(),
                        namespaced,
                    },
                );
            }
        }
    }
    out
}

/// The object as applied: server-owned metadata dropped, namespace set or removed, the stack's
/// label and annotation added.
pub fn prepare(object: &Value, namespace: Option<&str>, stack: &StackIdentity) -> Value {
    let mut o = object.clone();
    let meta = o["metadata"].as_object_mut().expect("validated metadata");
    for k in [
        "resourceVersion",
        "uid",
        "managedFields",
        "creationTimestamp",
        "generation",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(k);
    }
    match namespace {
        Some(ns) => {
            meta.insert("namespace".into(), json!(ns));
        }
        None => {
            meta.remove("namespace");
        }
    }
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[STACK_LABEL] = json!(stack.id.to_string());
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    // The stack name only: a commit here would rewrite every object on every commit (and
    // report untouched objects as configured).
    annotations[STACK_ANNOTATION] = json!(stack.name);
    o
}

/// Plans `manifests` for one cluster.
pub async fn plan(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    manifests: &[Manifest],
    stack: &StackIdentity,
    policy: &Policy,
) -> Result<Plan, DeployError> {
    let resolved = resolve_kinds(client, discovery, manifests).await?;
    let defined = crd_kinds(manifests);
    let default_ns = policy
        .default_namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    let mut unknown = Vec::new();
    let mut objects = Vec::new();
    for m in manifests {
        let api_version = m.object["apiVersion"].as_str().unwrap_or_default();
        let kind = m.object["kind"].as_str().unwrap_or_default();
        let key = (api_version.to_owned(), kind.to_owned());
        let (resource, namespaced, pending_crd) = match (resolved.get(&key), defined.get(&key)) {
            (Some(Some(r)), _) => (r.resource.clone(), r.namespaced, false),
            (_, Some(c)) => {
                let (group, version) = split_api_version(api_version);
                let resource = ApiResource {
                    group: group.to_owned(),
                    version: version.to_owned(),
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                    plural: c.plural.clone(),
                };
                (resource, c.namespaced, true)
            }
            _ => {
                unknown.push(format!(
                    "{}: kind {kind} ({api_version}) is not served by the cluster and no \
                     CustomResourceDefinition in this stack defines it",
                    describe_source(&m.source)
                ));
                continue;
            }
        };
        let namespace = namespaced.then(|| {
            m.object["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(default_ns)
                .to_owned()
        });
        let reference = ObjectRef {
            group: resource.group.clone(),
            version: resource.version.clone(),
            kind: kind.to_owned(),
            namespace: namespace.clone(),
            name: m.object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        };
        objects.push(Planned {
            source: m.source.clone(),
            tier: Tier::of(&resource.group, kind, namespaced),
            object: prepare(&m.object, namespace.as_deref(), stack),
            reference,
            resource,
            pending_crd,
            implicit: false,
        });
    }
    if !unknown.is_empty() {
        return Err(DeployError::plan(join_listed(unknown)));
    }
    check_duplicates(&objects)?;
    let missing = namespaces::missing(client, &objects).await?;
    if !missing.is_empty() {
        if !policy.create_namespace {
            let list: Vec<String> = missing
                .iter()
                .map(|(ns, users)| {
                    let more = if users.len() > 1 {
                        format!(" and {} more objects", users.len() - 1)
                    } else {
                        String::new()
                    };
                    format!(
                        "namespace {ns:?} does not exist (needed by {}{more})",
                        users[0]
                    )
                })
                .collect();
            return Err(DeployError::plan(format!(
                "{}; declare it in the stack, create it, or turn on create_namespace",
                list.join("; ")
            )));
        }
        for ns in missing.keys() {
            objects.push(namespaces::implicit(ns, stack));
        }
    }
    objects.sort_by_key(|p| p.tier);
    Ok(Plan { objects })
}

fn join_listed(mut problems: Vec<String>) -> String {
    const MAX: usize = 10;
    let more = problems.len().saturating_sub(MAX);
    problems.truncate(MAX);
    let mut s = problems.join("; ");
    if more > 0 {
        s.push_str(&format!("; and {more} more"));
    }
    s
}

/// Resolves every distinct (apiVersion, kind) concurrently. `None`: not served.
async fn resolve_kinds(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    manifests: &[Manifest],
) -> Result<HashMap<(String, String), Option<Resolved>>, DeployError> {
    let kinds: HashSet<(String, String)> = manifests
        .iter()
        .map(|m| {
            (
                m.object["apiVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                m.object["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // One request per group version at most: resolve one kind per group version first.
    let mut by_gv: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (v, k) in &kinds {
        by_gv.entry(v.as_str()).or_default().push(k.as_str());
    }
    let lookups = by_gv.into_iter().map(|(gv, ks)| async move {
        let mut out = Vec::new();
        for k in ks {
            let r = discovery
                .resolve(client, gv, k)
                .await
                .map_err(|e| DeployError::kube(Phase::Plan, &format!("discovering {gv}"), &e))?;
            out.push(((gv.to_owned(), k.to_owned()), r));
        }
        Ok::<_, DeployError>(out)
    });
    let mut map = HashMap::new();
    for result in join_all(lookups).await {
        map.extend(result?);
    }
    Ok(map)
}

fn check_duplicates(objects: &[Planned]) -> Result<(), DeployError> {
    let mut seen: HashMap<(&str, &str, Option<&str>, &str), &Planned> = HashMap::new();
    let mut problems = Vec::new();
    for p in objects {
        if let Some(first) = seen.insert(identity(&p.reference), p) {
            problems.push(format!(
                "{} is declared twice: {} and {}",
                describe_ref(&p.reference),
                describe_source(&first.source),
                describe_source(&p.source)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DeployError::plan(join_listed(problems)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn tiers_put_foundations_first_and_webhooks_last() {
        let cases = [
            ("", "Namespace", false, Tier::Foundation),
            (
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                false,
                Tier::Foundation,
            ),
            (
                "rbac.authorization.k8s.io",
                "ClusterRole",
                false,
                Tier::Cluster,
            ),
            ("", "ConfigMap", true, Tier::Namespaced),
            ("example.com", "Widget", true, Tier::Namespaced),
            ("example.com", "ClusterWidget", false, Tier::Cluster),
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                false,
                Tier::Webhooks,
            ),
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
                false,
                Tier::Webhooks,
            ),
            (
                "admissionregistration.k8s.io",
                "ValidatingAdmissionPolicy",
                false,
                Tier::Cluster,
            ),
        ];
        for (group, kind, namespaced, want) in cases {
            assert_eq!(Tier::of(group, kind, namespaced), want, "{group} {kind}");
        }
        assert!(
            Tier::Foundation < Tier::Cluster
                && Tier::Cluster < Tier::Namespaced
                && Tier::Namespaced < Tier::Webhooks
        );
    }

    #[test]
    fn prepare_sets_the_namespace_label_and_annotation_and_drops_server_fields() {
        let stack = StackIdentity {
            id: Uuid::nil(),
            name: "web".into(),
            commit: "abc".into(),
        };
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x", "resourceVersion": "5", "uid": "u", "labels": {"app": "a"}}});
        let p = prepare(&o, Some("prod"), &stack);
        assert_eq!(p["metadata"]["namespace"], "prod");
        assert_eq!(
            p["metadata"]["labels"],
            json!({"app": "a", STACK_LABEL: Uuid::nil().to_string()})
        );
        assert_eq!(
            p["metadata"]["annotations"],
            json!({STACK_ANNOTATION: "web"})
        );
        assert!(
            p["metadata"].get("resourceVersion").is_none() && p["metadata"].get("uid").is_none()
        );
        let cluster = prepare(&o, None, &stack);
        assert!(cluster["metadata"].get("namespace").is_none());
    }

    #[test]
    fn kinds_defined_by_crds_in_the_manifests_are_known_for_their_served_versions() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"},
                     "versions": [{"name": "v1", "served": true}, {"name": "v0", "served": false}]}});
        let kinds = crd_kinds(&[Manifest {
            source: "crd.yaml#1".into(),
            object: crd,
        }]);
        let v1 = kinds
            .get(&("example.com/v1".to_owned(), "Widget".to_owned()))
            .unwrap();
        assert_eq!(v1.plural, "widgets");
        assert!(!v1.namespaced);
        assert!(!kinds.contains_key(&("example.com/v0".to_owned(), "Widget".to_owned())));
    }
}
