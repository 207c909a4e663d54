//! SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview (`kubectl auth
//! whoami`): answered from the caller's identity and permissions, never stored.

use serde_json::{Value, json};

use crate::auth::{self, Attributes};
use crate::objects::{Answer, Call};

/// SelfSubjectAccessReview and SelfSubjectRulesReview (`POST`).
pub fn review(call: &Call<'_>) -> Answer {
    let mut obj = call.parse_body(false)?;
    obj["apiVersion"] = json!(call.def.api_version());
    obj["kind"] = json!(call.def.kind);
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    match call.def.plural.as_str() {
        "selfsubjectaccessreviews" => {
            let ra = &obj["spec"]["resourceAttributes"];
            let allowed = if ra.is_object() {
                let s = |k: &str| ra[k].as_str().unwrap_or_default().to_owned();
                let (resource, sub, ns) = (s("resource"), s("subresource"), s("namespace"));
                let resource = if sub.is_empty() {
                    resource
                } else {
                    format!("{resource}/{sub}")
                };
                let (verb, group, name) = (s("verb"), s("group"), s("name"));
                auth::allowed(
                    call.user,
                    &Attributes {
                        verb: &verb,
                        group: &group,
                        resource: &resource,
                        namespace: (!ns.is_empty()).then_some(ns.as_str()),
                        name: &name,
                    },
                )
            } else {
                let path = obj["spec"]["nonResourceAttributes"]["path"]
                    .as_str()
                    .unwrap_or_default();
                auth::path_allowed(call.user, path)
            };
            obj["status"] = if allowed {
                json!({"allowed": true, "reason": "allowed by kube-test-api policy"})
            } else {
                json!({"allowed": false})
            };
        }
        "selfsubjectreviews" => {
            obj["status"] =
                json!({"userInfo": {"username": call.user.name, "groups": call.user.groups}});
        }
        _ => {
            let ns = obj["spec"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            obj["status"] = auth::rules_review_status(call.user, &ns);
        }
    }
    Ok((201, obj))
}
