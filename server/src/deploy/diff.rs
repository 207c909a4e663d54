//! Field-level differences between a live object and what applying would make of it (the
//! server's dry-run answer), with server-populated noise ignored and Secret values hidden.
//!
//! Paths read like Kubernetes field paths: `spec.template.spec.containers[name=web].image`,
//! `metadata.labels["app.kubernetes.io/name"]`, `spec.ports[0].port`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::STACK_ANNOTATION;

/// What a Secret's values are shown as.
pub const HIDDEN: &str = "(secret value hidden)";
/// Changes listed per object at most (the rest are summarised in one entry).
const MAX_CHANGES: usize = 200;

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// e.g. `spec.template.spec.containers[name=web].image`.
    pub path: String,
    /// `None`: the field is added.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// `None`: the field is removed.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// The object without what the server fills in or bumps on every write, and with Berth's
/// annotation reduced to the stack name (its commit part changes with every deployment).
pub fn normalize(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
            && let Some(Value::String(source)) = a.get_mut(STACK_ANNOTATION)
            && let Some((name, _)) = source.rsplit_once('@')
        {
            *source = name.to_owned();
        }
    }
    o
}

/// The changes from `before` to `after`, both normalized first.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let secret = after["kind"] == "Secret" && after["apiVersion"] == "v1";
    let mut out = Vec::new();
    walk(
        &normalize(before),
        &normalize(after),
        String::new(),
        &mut out,
    );
    if secret {
        for c in &mut out {
            if c.path.starts_with("data") || c.path.starts_with("stringData") {
                c.before = c.before.as_ref().map(|_| Value::String(HIDDEN.into()));
                c.after = c.after.as_ref().map(|_| Value::String(HIDDEN.into()));
            }
        }
    }
    if out.len() > MAX_CHANGES {
        let rest = out.len() - MAX_CHANGES;
        out.truncate(MAX_CHANGES);
        out.push(FieldChange {
            path: format!("… and {rest} more changed fields"),
            before: None,
            after: None,
        });
    }
    out
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Value::String(key.to_owned())),
    }
}

fn change(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    out.push(FieldChange {
        path,
        before: before.cloned(),
        after: after.cloned(),
    });
}

fn walk(before: &Value, after: &Value, path: String, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => walk_maps(b, a, &path, out),
        (Value::Array(b), Value::Array(a)) => {
            if let (Some(bk), Some(ak)) = (named(b), named(a)) {
                for (name, bv) in &bk {
                    let p = format!("{path}[name={name}]");
                    match ak.iter().find(|(n, _)| n == name) {
                        Some((_, av)) => walk(bv, av, p, out),
                        None => change(p, Some(bv), None, out),
                    }
                }
                for (name, av) in &ak {
                    if !bk.iter().any(|(n, _)| n == name) {
                        change(format!("{path}[name={name}]"), None, Some(av), out);
                    }
                }
            } else if a.len() == b.len() {
                for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                    walk(bv, av, format!("{path}[{i}]"), out);
                }
            } else {
                change(path, Some(before), Some(after), out);
            }
        }
        _ => change(path, Some(before), Some(after), out),
    }
}

fn walk_maps(
    b: &Map<String, Value>,
    a: &Map<String, Value>,
    path: &str,
    out: &mut Vec<FieldChange>,
) {
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let p = key_path(path, k);
        match (b.get(k), a.get(k)) {
            (Some(bv), Some(av)) => walk(bv, av, p, out),
            (bv, av) => change(p, bv, av, out),
        }
    }
}

/// The elements keyed by their `name` when every element is a mapping with a distinct string
/// name (containers, env, volumes, ports with names…).
fn named(items: &[Value]) -> Option<Vec<(String, &Value)>> {
    let mut out: Vec<(String, &Value)> = Vec::with_capacity(items.len());
    for item in items {
        let name = item.get("name")?.as_str()?;
        if out.iter().any(|(n, _)| n == name) {
            return None;
        }
        out.push((name.to_owned(), item));
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(before: &Value, after: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
        diff(before, after)
            .into_iter()
            .map(|c| (c.path, c.before, c.after))
            .collect()
    }

    #[test]
    fn changes_are_named_by_field_path() {
        let before = json!({"kind": "Deployment", "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "a"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}, {"name": "side", "image": "s:1"}]}}}});
        let after = json!({"kind": "Deployment", "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "b"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}, {"name": "new", "image": "n:1"}]}}}});
        assert_eq!(
            paths(&before, &after),
            vec![
                (
                    "metadata.labels[\"app.kubernetes.io/name\"]".into(),
                    Some(json!("a")),
                    Some(json!("b"))
                ),
                ("spec.replicas".into(), Some(json!(1)), Some(json!(3))),
                (
                    "spec.template.spec.containers[name=web].image".into(),
                    Some(json!("web:1")),
                    Some(json!("web:2"))
                ),
                (
                    "spec.template.spec.containers[name=side]".into(),
                    Some(json!({"name": "side", "image": "s:1"})),
                    None
                ),
                (
                    "spec.template.spec.containers[name=new]".into(),
                    None,
                    Some(json!({"name": "new", "image": "n:1"}))
                ),
            ]
        );
    }

    #[test]
    fn lists_without_names_compare_by_index_or_as_a_whole() {
        assert_eq!(
            paths(
                &json!({"ports": [{"port": 80}, {"port": 443}]}),
                &json!({"ports": [{"port": 80}, {"port": 8443}]})
            ),
            vec![("ports[1].port".into(), Some(json!(443)), Some(json!(8443)))]
        );
        assert_eq!(
            paths(&json!({"args": ["a"]}), &json!({"args": ["a", "b"]})),
            vec![("args".into(), Some(json!(["a"])), Some(json!(["a", "b"])))]
        );
    }

    #[test]
    fn server_noise_and_the_commit_are_ignored() {
        let before = json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1", "uid": "u", "generation": 1,
            "creationTimestamp": "t", "managedFields": [{"manager": "berth"}], "annotations": {STACK_ANNOTATION: "web@abc"}}, "status": {"x": 1}, "data": {"k": "v"}});
        let after = json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "2", "uid": "u", "generation": 2,
            "creationTimestamp": "t", "managedFields": [{"manager": "berth", "time": "now"}], "annotations": {STACK_ANNOTATION: "web@def"}}, "status": {"x": 2}, "data": {"k": "v"}});
        assert!(diff(&before, &after).is_empty());
    }

    #[test]
    fn secret_values_are_never_shown() {
        let before = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "b2xk"}});
        let after = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "bmV3", "token": "dA=="}});
        assert_eq!(
            paths(&before, &after),
            vec![
                (
                    "data.password".into(),
                    Some(json!(HIDDEN)),
                    Some(json!(HIDDEN))
                ),
                ("data.token".into(), None, Some(json!(HIDDEN))),
            ]
        );
    }
}
