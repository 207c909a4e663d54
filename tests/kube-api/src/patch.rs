//! JSON merge patch (RFC 7386, also used for strategic merge patches) and JSON patch
//! (RFC 6902) over `serde_json` values. Pure functions.

use serde_json::{Value, json};

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
