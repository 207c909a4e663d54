//! The namespaces a plan's objects live in: checked up front (missing, or being deleted), and
//! the Namespace objects Berth adds when `create_namespace` is on.

use std::collections::{BTreeMap, HashSet};

use futures::future::join_all;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::json;

use super::plan::{Planned, Tier, prepare};
use super::{DeployError, ObjectRef, Phase, STACK_LABEL, StackIdentity};

/// A Namespace Berth creates because `create_namespace` is on. It carries the stack's
/// annotation but not its label: it is not part of the inventory, so it is never pruned.
pub fn implicit(ns: &str, stack: &StackIdentity) -> Planned {
    let mut object = prepare(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        None,
        stack,
    );
    object["metadata"]["labels"]
        .as_object_mut()
        .map(|l| l.remove(STACK_LABEL));
    Planned {
        source: "create_namespace".into(),
        reference: ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
            name: ns.to_owned(),
        },
        resource: ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
        },
        tier: Tier::Foundation,
        pending_crd: false,
        implicit: true,
        object,
    }
}

/// Namespaces the namespaced objects need that neither exist nor are declared, each with the
/// objects that need it. A namespace being deleted is an error; one this identity may not read
/// is assumed to exist (the apply says otherwise if it does not).
pub async fn missing(
    client: &kube::Client,
    objects: &[Planned],
) -> Result<BTreeMap<String, Vec<String>>, DeployError> {
    let declared: HashSet<&str> = objects
        .iter()
        .filter(|p| p.reference.group.is_empty() && p.reference.kind == "Namespace")
        .map(|p| p.reference.name.as_str())
        .collect();
    let mut needed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in objects {
        if let Some(ns) = &p.reference.namespace
            && !declared.contains(ns.as_str())
        {
            needed.entry(ns.clone()).or_default().push(p.describe());
        }
    }
    let api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
        },
    );
    let checks = needed.keys().map(|ns| {
        let api = api.clone();
        async move { (ns.clone(), api.get_opt(ns).await) }
    });
    let mut missing = BTreeMap::new();
    for (ns, answer) in join_all(checks).await {
        match answer {
            Ok(Some(live)) => {
                if live.data["status"]["phase"] == "Terminating" {
                    return Err(DeployError::plan(format!(
                        "namespace {ns:?} is being deleted; wait until it is gone, then deploy again"
                    )));
                }
            }
            Ok(None) => {
                let users = needed.get(&ns).cloned().unwrap_or_default();
                missing.insert(ns, users);
            }
            Err(kube::Error::Api(s)) if s.code == 403 => {}
            Err(e) => {
                return Err(DeployError::kube(
                    Phase::Plan,
                    &format!("checking namespace {ns}"),
                    &e,
                ));
            }
        }
    }
    Ok(missing)
}
