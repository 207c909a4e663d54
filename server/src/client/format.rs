//! How the CLI prints: aligned tables, `key: value` details, relative times.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::environments::Environment;

/// Rows under a header, each column padded to its widest cell, two spaces apart.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut all = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    all.extend(rows);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in all {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

fn tags_text(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn ago(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    let Some(t) = t else { return "never".into() };
    let secs = (chrono::Utc::now() - t).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

fn json_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Environments as an aligned table.
pub fn environments_table(envs: &[Environment]) -> String {
    let header = [
        "NAME",
        "STATUS",
        "VERSION",
        "NODES",
        "AUTH",
        "ACCESS",
        "SERVER",
        "TAGS",
        "LAST SEEN",
    ];
    let mut rows = Vec::new();
    for e in envs {
        let mut status = e.status.to_string();
        if e.client_certificate_expiring {
            status.push_str(" (cert expiring)");
        }
        if e.insecure_skip_tls_verify {
            status.push_str(" (insecure)");
        }
        rows.push(vec![
            e.name.clone(),
            status,
            e.kubernetes_version.clone().unwrap_or_else(|| "-".into()),
            e.node_count.map_or_else(|| "-".into(), |n| n.to_string()),
            json_str(&e.auth_kind),
            json_str(&e.permissions.level),
            e.server_url.clone(),
            tags_text(&e.tags),
            ago(e.last_seen_at),
        ]);
    }
    table(&header, rows)
}

/// One environment as `key: value` lines.
pub fn environment_details(e: &Environment) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let fields = [
        ("name", e.name.clone()),
        ("id", e.id.to_string()),
        ("status", e.status.to_string()),
        ("server", e.server_url.clone()),
        ("context", e.context.clone()),
        ("default namespace", e.default_namespace.clone()),
        ("tags", tags_text(&e.tags)),
        ("auth", json_str(&e.auth_kind)),
        (
            "access",
            match &e.permissions.namespace {
                Some(ns) => format!("{} (namespace {ns})", json_str(&e.permissions.level)),
                None => json_str(&e.permissions.level),
            },
        ),
        ("ca fingerprint", opt(e.ca_fingerprint.clone())),
        (
            "tls verification",
            if e.insecure_skip_tls_verify {
                "SKIPPED (insecure)".into()
            } else {
                "on".into()
            },
        ),
        (
            "client certificate expires",
            match e.client_certificate_expires_at {
                Some(t) if e.client_certificate_expiring => format!("{t} (expiring soon)"),
                Some(t) => t.to_string(),
                None => "-".into(),
            },
        ),
        ("kubernetes version", opt(e.kubernetes_version.clone())),
        ("nodes", opt(e.node_count.map(|n| n.to_string()))),
        (
            "probe latency",
            opt(e.probe_latency_ms.map(|n| format!("{n} ms"))),
        ),
        ("last seen", ago(e.last_seen_at)),
        ("last probe", ago(e.last_probe_at)),
        ("last error", opt(e.last_error.clone())),
        ("credential version", e.credential_version.to_string()),
    ];
    let mut out = String::new();
    for (k, v) in fields {
        let _ = writeln!(out, "{:<28}{v}", format!("{k}:"));
    }
    out
}
