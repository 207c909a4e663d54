//! How `berth stack …` prints API answers: short commits, relative times, preview text.

use std::fmt::Write as _;

use serde_json::Value;

use crate::client::ago;

pub(super) fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

pub(super) fn short(v: &Value) -> String {
    v.as_str()
        .map_or_else(|| "-".into(), |c| c.chars().take(12).collect())
}

pub(super) fn time(v: &Value) -> String {
    v.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(|| "-".into(), |t| ago(Some(t.with_timezone(&chrono::Utc))))
}

fn object_name(o: &Value) -> String {
    let ns = o["namespace"]
        .as_str()
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
    format!("{} {ns}{}", s(&o["kind"]), s(&o["name"]))
}

/// A preview as readable text: per environment, created / changed (with field diffs) / pruned.
pub(super) fn preview_text(p: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "commit {}", s(&p["commit"]));
    for env in p["environments"].as_array().cloned().unwrap_or_default() {
        let _ = writeln!(out, "\n== {}", s(&env["environment_name"]));
        if let Some(e) = env["error"].as_str() {
            let _ = writeln!(out, "  error: {e}");
            continue;
        }
        let pv = &env["preview"];
        for o in pv["create"].as_array().cloned().unwrap_or_default() {
            let _ = writeln!(out, "  + {}", object_name(&o));
        }
        for c in pv["change"].as_array().cloned().unwrap_or_default() {
            let _ = writeln!(out, "  ~ {}", object_name(&c["object"]));
            for f in c["diff"].as_array().cloned().unwrap_or_default() {
                let _ = writeln!(
                    out,
                    "      {}: {} -> {}",
                    s(&f["path"]),
                    s(&f["before"]),
                    s(&f["after"])
                );
            }
        }
        for o in pv["prune"].as_array().cloned().unwrap_or_default() {
            let _ = writeln!(out, "  - {}", object_name(&o));
        }
        let unchanged = pv["unchanged"].as_array().map_or(0, Vec::len);
        let _ = writeln!(out, "  ({unchanged} unchanged)");
    }
    out
}
