//! Server-side defaults a real cluster fills in on write (Service cluster IPs and protocol,
//! Deployment replicas and strategy, Job completions, Namespace finalizers and label), so
//! objects read back look like a real cluster's.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

fn meta(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

/// Server-side defaults a real cluster adds.
pub fn apply_defaults(def: &ResourceDef, obj: &mut Value, old: Option<&Value>) {
    match (def.group.as_str(), def.plural.as_str()) {
        ("", "namespaces") => {
            let name = obj["metadata"]["name"].clone();
            let m = meta(obj);
            let labels = m.entry("labels").or_insert_with(|| json!({}));
            labels["kubernetes.io/metadata.name"] = name;
            if obj["spec"]["finalizers"].is_null() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
        }
        ("", "services") => {
            let spec = &mut obj["spec"];
            if spec["type"].is_null() {
                spec["type"] = json!("ClusterIP");
            }
            if spec["type"] != "ExternalName" && spec["clusterIP"].is_null() {
                let ip = old
                    .map(|o| o["spec"]["clusterIP"].clone())
                    .filter(|v| !v.is_null())
                    .unwrap_or_else(|| {
                        let n = uuid::Uuid::new_v4().as_u128();
                        json!(format!("10.96.{}.{}", (n >> 8) % 250 + 1, n % 250 + 2))
                    });
                spec["clusterIPs"] = json!([ip.clone()]);
                spec["clusterIP"] = ip;
                spec["ipFamilies"] = json!(["IPv4"]);
                spec["ipFamilyPolicy"] = json!("SingleStack");
                spec["internalTrafficPolicy"] = json!("Cluster");
            }
            if spec["sessionAffinity"].is_null() {
                spec["sessionAffinity"] = json!("None");
            }
            if let Some(ports) = spec["ports"].as_array_mut() {
                for p in ports {
                    if p["protocol"].is_null() {
                        p["protocol"] = json!("TCP");
                    }
                    if p["targetPort"].is_null() {
                        p["targetPort"] = p["port"].clone();
                    }
                }
            }
        }
        ("apps", "deployments" | "statefulsets" | "replicasets") => {
            if obj["spec"]["replicas"].is_null() {
                obj["spec"]["replicas"] = json!(1);
            }
            if def.plural == "deployments" {
                let spec = &mut obj["spec"];
                if spec["revisionHistoryLimit"].is_null() {
                    spec["revisionHistoryLimit"] = json!(10);
                }
                if spec["progressDeadlineSeconds"].is_null() {
                    spec["progressDeadlineSeconds"] = json!(600);
                }
                if spec["strategy"].is_null() {
                    spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
                }
            }
        }
        ("batch", "jobs") => {
            let spec = &mut obj["spec"];
            for (k, v) in [("completions", 1), ("parallelism", 1), ("backoffLimit", 6)] {
                if spec[k].is_null() {
                    spec[k] = json!(v);
                }
            }
        }
        _ => {}
    }
}
