//! JSON merge patch (RFC 7386), strategic merge patch (lists merged by the same keys as
//! server-side apply, `$patch: delete|replace` honoured) and JSON patch (RFC 6902) over
//! `serde_json` values. Pure functions.

use serde_json::{Value, json};

use crate::fields::{ListKind, item_key, list_kind};

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn pointer_parts(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// RFC 6902 JSON patch (`add`, `remove`, `replace`, `test`, `copy`, `move`).
///
/// # Errors
/// A message when an operation does not apply.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("missing path")?;
        let kind = op["op"].as_str().ok_or("missing op")?;
        let value = match kind {
            "copy" | "move" => {
                let from = op["from"].as_str().ok_or("missing from")?;
                let v = target
                    .pointer(from)
                    .cloned()
                    .ok_or(format!("missing value at {from}"))?;
                if kind == "move" {
                    remove_pointer(target, from)?;
                }
                Some(v)
            }
            "test" => {
                if target.pointer(path) != Some(&op["value"]) {
                    return Err(format!("testing value {path} failed"));
                }
                None
            }
            "remove" => {
                remove_pointer(target, path)?;
                None
            }
            "add" | "replace" => Some(op["value"].clone()),
            other => return Err(format!("unexpected op {other}")),
        };
        if let Some(v) = value {
            let parts = pointer_parts(path);
            let Some((last, parent)) = parts.split_last() else {
                *target = v;
                continue;
            };
            let parent_ptr: String = parent
                .iter()
                .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
                .collect();
            let container = target
                .pointer_mut(&parent_ptr)
                .ok_or(format!("missing path {parent_ptr}"))?;
            match container {
                Value::Object(m) => {
                    if kind == "replace" && !m.contains_key(last) {
                        return Err(format!(
                            "replace operation does not apply: doc is missing key: {path}"
                        ));
                    }
                    m.insert(last.clone(), v);
                }
                Value::Array(a) => {
                    if last == "-" {
                        a.push(v);
                    } else {
                        let i: usize = last.parse().map_err(|_| format!("invalid index {last}"))?;
                        if kind == "replace" {
                            *a.get_mut(i).ok_or("index out of range")? = v;
                        } else if i <= a.len() {
                            a.insert(i, v);
                        } else {
                            return Err("index out of range".into());
                        }
                    }
                }
                _ => return Err(format!("cannot add to {parent_ptr}")),
            }
        }
    }
    Ok(())
}

fn remove_pointer(target: &mut Value, path: &str) -> Result<(), String> {
    let parts = pointer_parts(path);
    let (last, parent) = parts.split_last().ok_or("cannot remove the root")?;
    let parent_ptr: String = parent
        .iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect();
    match target.pointer_mut(&parent_ptr) {
        Some(Value::Object(m)) => m
            .remove(last)
            .map(|_| ())
            .ok_or(format!("missing key {path}")),
        Some(Value::Array(a)) => {
            let i: usize = last.parse().map_err(|_| format!("invalid index {last}"))?;
            if i < a.len() {
                a.remove(i);
                Ok(())
            } else {
                Err("index out of range".into())
            }
        }
        _ => Err(format!("missing path {path}")),
    }
}

/// Strategic merge patch: like a merge patch, but lists Kubernetes merges by key
/// (containers by name, ports by containerPort, env by name, …) are merged item by item,
/// sets are unioned, and `$patch: delete` / `$patch: replace` directives are applied.
/// Lists without a known merge key are replaced, as their schemas declare.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value, field: &str) {
    match (target, patch) {
        (t @ Value::Object(_), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut replaced = patch.clone();
                if let Some(m) = replaced.as_object_mut() {
                    m.remove("$patch");
                }
                *t = replaced;
                return;
            }
            let t = t.as_object_mut().expect("object");
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                } else if let Some(existing) = t.get_mut(k) {
                    strategic_merge_patch(existing, v, k);
                } else {
                    let mut fresh = Value::Null;
                    strategic_merge_patch(&mut fresh, v, k);
                    t.insert(k.clone(), fresh);
                }
            }
        }
        (Value::Array(t), Value::Array(p)) => {
            let all: Vec<Value> = t
                .iter()
                .chain(p.iter())
                .filter(|i| i.get("$patch").is_none())
                .cloned()
                .collect();
            match list_kind(field, &all) {
                ListKind::Map(keys) => {
                    for item in p {
                        let key = item_key(item, keys);
                        let pos = t.iter().position(|x| item_key(x, keys) == key);
                        match (item.get("$patch").and_then(Value::as_str), pos) {
                            (Some("delete"), Some(i)) => {
                                t.remove(i);
                            }
                            (Some("delete"), None) => {}
                            (_, Some(i)) => strategic_merge_patch(&mut t[i], item, ""),
                            (_, None) => {
                                let mut fresh = Value::Null;
                                strategic_merge_patch(&mut fresh, item, "");
                                t.push(fresh);
                            }
                        }
                    }
                }
                ListKind::Set => {
                    for item in p {
                        if !t.contains(item) {
                            t.push(item.clone());
                        }
                    }
                }
                ListKind::Atomic => *t = p.clone(),
            }
        }
        (t, Value::Object(p)) => {
            *t = json!({});
            let obj = Value::Object(p.clone());
            strategic_merge_patch(t, &obj, field);
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategic_merge_merges_containers_by_name_and_keeps_other_fields() {
        let mut deploy = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
        strategic_merge_patch(&mut deploy, &patch, "");
        let containers = &deploy["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "nginx:2");
        assert_eq!(containers[0]["ports"][0]["containerPort"], 80);
        assert_eq!(containers[1]["name"], "sidecar");
    }

    #[test]
    fn strategic_merge_honours_delete_directives_and_nulls() {
        let mut obj =
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "x": 1});
        strategic_merge_patch(
            &mut obj,
            &json!({"env": [{"name": "A", "$patch": "delete"}], "x": null}),
            "",
        );
        assert_eq!(obj, json!({"env": [{"name": "B", "value": "2"}]}));
    }

    #[test]
    fn merge_patch_replaces_lists_and_removes_nulls() {
        let mut obj = json!({"a": [1, 2], "b": {"c": 1, "d": 2}});
        merge_patch(&mut obj, &json!({"a": [3], "b": {"c": null}}));
        assert_eq!(obj, json!({"a": [3], "b": {"d": 2}}));
    }

    #[test]
    fn json_patch_adds_replaces_and_removes() {
        let mut obj = json!({"data": {"a": "1"}, "list": [1]});
        json_patch(
            &mut obj,
            &json!([
                {"op": "add", "path": "/data/b", "value": "2"},
                {"op": "replace", "path": "/data/a", "value": "0"},
                {"op": "add", "path": "/list/-", "value": 2},
                {"op": "remove", "path": "/list/0"}
            ]),
        )
        .unwrap();
        assert_eq!(obj, json!({"data": {"a": "0", "b": "2"}, "list": [2]}));
        assert!(
            json_patch(
                &mut obj,
                &json!([{"op": "replace", "path": "/data/zz", "value": 1}])
            )
            .is_err()
        );
    }
}
