//! Checks every rendered object before anything touches a cluster: apiVersion, kind, name and
//! namespace well-formed, labels and annotations strings of valid form, sizes within limits, and
//! no object declared twice. Knows Kubernetes' naming rules, not the cluster's kinds (that is the
//! plan's job).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::documents::{describe_source, type_name};
use super::{DeployError, Manifest};

/// Largest object the API server accepts in one request (its request body limit is 3 MiB).
pub const MAX_OBJECT_BYTES: usize = 3 * 1024 * 1024;
/// Kubernetes' limit on the total size of an object's annotations.
const MAX_ANNOTATION_BYTES: usize = 256 * 1024;
/// How many problems one error message lists.
const MAX_LISTED: usize = 10;

/// Validates every object and looks for duplicates; the error lists the first problems found.
pub fn validate(manifests: &[Manifest]) -> Result<(), DeployError> {
    let mut problems: Vec<String> = Vec::new();
    let mut seen: HashMap<(String, String, String, String), &str> = HashMap::new();
    for m in manifests {
        match check_object(&m.object) {
            Err(why) => problems.push(format!("{}: {why}", describe_source(&m.source))),
            Ok(()) => {
                let key = identity(&m.object);
                if let Some(first) = seen.get(&key) {
                    problems.push(format!(
                        "{} is declared twice: {} and {}",
                        display(&key),
                        describe_source(first),
                        describe_source(&m.source)
                    ));
                } else {
                    seen.insert(key, &m.source);
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let more = problems.len().saturating_sub(MAX_LISTED);
    let mut message = problems
        .into_iter()
        .take(MAX_LISTED)
        .collect::<Vec<_>>()
        .join("; ");
    if more > 0 {
        message.push_str(&format!("; and {more} more problems"));
    }
    Err(DeployError::render(message))
}

/// (group, kind, namespace as written, name): what makes two declarations the same object
/// whatever their version.
fn identity(o: &Value) -> (String, String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let (group, _) = split_api_version(o["apiVersion"].as_str().unwrap_or_default());
    (
        group.to_owned(),
        s(&o["kind"]),
        s(&o["metadata"]["namespace"]),
        s(&o["metadata"]["name"]),
    )
}

fn display(key: &(String, String, String, String)) -> String {
    let (_, kind, ns, name) = key;
    if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

/// Splits `apps/v1` into `("apps", "v1")`, `v1` into `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn string_field<'a>(o: &'a Map<String, Value>, field: &str, path: &str) -> Result<&'a str, String> {
    match o.get(field) {
        None | Some(Value::Null) => Err(format!("{path} is missing")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("{path} is empty")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "{path} must be a string, found {}",
            type_name(other)
        )),
    }
}

/// One object's checks; the message names the field and the reason.
pub fn check_object(o: &Value) -> Result<(), String> {
    let Some(obj) = o.as_object() else {
        return Err("expected a mapping".into());
    };
    let api_version = string_field(obj, "apiVersion", "apiVersion")?;
    check_api_version(api_version)?;
    let kind = string_field(obj, "kind", "kind")?;
    if !is_kind(kind) {
        return Err(format!(
            "kind {kind:?} is not a valid kind (letters and digits, starting with a letter)"
        ));
    }
    let meta = match obj.get("metadata") {
        None | Some(Value::Null) => return Err("metadata is missing".into()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "metadata must be a mapping, found {}",
                type_name(other)
            ));
        }
    };
    if meta.get("name").is_none_or(Value::is_null) && meta.contains_key("generateName") {
        return Err(
            "metadata.name is missing (metadata.generateName is not supported: objects Berth \
             applies need a fixed name)"
                .into(),
        );
    }
    let name = string_field(meta, "name", "metadata.name")?;
    check_name(api_version, kind, name)?;
    match meta.get("namespace") {
        None | Some(Value::Null) => {}
        Some(Value::String(ns)) if ns.is_empty() => {}
        Some(Value::String(ns)) => {
            if let Some(why) = dns_label(ns) {
                return Err(format!(
                    "metadata.namespace {ns:?} is not a valid namespace name: {why}"
                ));
            }
        }
        Some(other) => {
            return Err(format!(
                "metadata.namespace must be a string, found {}",
                type_name(other)
            ));
        }
    }
    check_string_map(meta, "labels", |key, value| {
        qualified_name(key)
            .map(|why| format!("label key {key:?} is invalid: {why}"))
            .or_else(|| label_value(value).map(|why| format!("label {key:?}: value {why}")))
    })?;
    check_string_map(meta, "annotations", |key, _| {
        qualified_name(key).map(|why| format!("annotation key {key:?} is invalid: {why}"))
    })?;
    if let Some(Value::Object(annotations)) = meta.get("annotations") {
        let size: usize = annotations
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if size > MAX_ANNOTATION_BYTES {
            return Err(format!(
                "metadata.annotations total {size} bytes, over Kubernetes' limit of {MAX_ANNOTATION_BYTES}"
            ));
        }
    }
    let size = serde_json::to_vec(o).map_or(0, |b| b.len());
    if size > MAX_OBJECT_BYTES {
        return Err(format!(
            "the object is {size} bytes, over the API server's limit of {MAX_OBJECT_BYTES}"
        ));
    }
    Ok(())
}

fn check_string_map(
    meta: &Map<String, Value>,
    field: &str,
    check: impl Fn(&str, &str) -> Option<String>,
) -> Result<(), String> {
    match meta.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Some(value) = v.as_str() else {
                    return Err(format!(
                        "metadata.{field}.{k} must be a string, found {} (quote it)",
                        type_name(v)
                    ));
                };
                if let Some(why) = check(k, value) {
                    return Err(format!("metadata.{field}: {why}"));
                }
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "metadata.{field} must be a mapping, found {}",
            type_name(other)
        )),
    }
}

fn check_api_version(api_version: &str) -> Result<(), String> {
    let bad = |why: String| Err(format!("apiVersion {api_version:?} is not valid: {why}"));
    let (group, version) = split_api_version(api_version);
    if api_version.contains('/')
        && let Some(why) = dns_subdomain(group)
    {
        return bad(format!("group {why}"));
    }
    if version.is_empty() {
        return bad("the version is empty".into());
    }
    if let Some(why) = dns_label(version) {
        return bad(format!("version {why}"));
    }
    Ok(())
}

fn is_kind(kind: &str) -> bool {
    kind.len() <= 253
        && kind.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Names follow the kind's rule: DNS labels for Namespaces and Services, path segments for RBAC
/// objects (`system:aggregate-to-edit`) and custom resources, DNS subdomains for the rest.
fn check_name(api_version: &str, kind: &str, name: &str) -> Result<(), String> {
    let (group, _) = split_api_version(api_version);
    let builtin = !group.contains('.') || group.ends_with(".k8s.io");
    let why = match (group, kind) {
        ("", "Namespace" | "Service") => dns_label(name),
        ("rbac.authorization.k8s.io", _) => path_segment(name),
        _ if builtin => dns_subdomain(name),
        _ => path_segment(name),
    };
    match why {
        Some(why) => Err(format!(
            "metadata.name {name:?} is not a valid {kind} name: {why}"
        )),
        None => Ok(()),
    }
}

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 label: lowercase alphanumerics and '-', alphanumeric at both ends, ≤ 63.
pub fn dns_label(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 63 {
        return Some("must be at most 63 characters".into());
    }
    if !s.chars().all(|c| alnum_lower(c) || c == '-') {
        return Some("must consist of lowercase letters, digits and '-'".into());
    }
    if !s.starts_with(alnum_lower) || !s.ends_with(alnum_lower) {
        return Some("must start and end with a lowercase letter or digit".into());
    }
    None
}

/// RFC 1123 subdomain: dot-separated labels, ≤ 253.
pub fn dns_subdomain(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 253 {
        return Some("must be at most 253 characters".into());
    }
    if !s.chars().all(|c| alnum_lower(c) || c == '-' || c == '.') {
        return Some("must consist of lowercase letters, digits, '-' and '.'".into());
    }
    if s.split('.').any(|part| {
        part.is_empty() || !part.starts_with(alnum_lower) || !part.ends_with(alnum_lower)
    }) {
        return Some(
            "each dot-separated part must start and end with a lowercase letter or digit".into(),
        );
    }
    None
}

fn path_segment(s: &str) -> Option<String> {
    if s == "." || s == ".." {
        return Some("must not be '.' or '..'".into());
    }
    if s.contains('/') || s.contains('%') {
        return Some("must not contain '/' or '%'".into());
    }
    if s.len() > 253 {
        return Some("must be at most 253 characters".into());
    }
    None
}

/// `[prefix/]name` label and annotation keys.
fn qualified_name(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && let Some(why) = dns_subdomain(p)
    {
        return Some(format!("the prefix {why}"));
    }
    if name.is_empty() {
        return Some("the name part must not be empty".into());
    }
    if name.len() > 63 {
        return Some("the name part must be at most 63 characters".into());
    }
    label_chars(name)
}

fn label_chars(s: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_alphanumeric();
    if !s.chars().all(|c| ok(c) || c == '-' || c == '_' || c == '.') {
        return Some("must consist of letters, digits, '-', '_' and '.'".into());
    }
    if !s.starts_with(ok) || !s.ends_with(ok) {
        return Some("must start and end with a letter or digit".into());
    }
    None
}

fn label_value(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    if v.len() > 63 {
        return Some("must be at most 63 characters".into());
    }
    label_chars(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(source: &str, object: Value) -> Manifest {
        Manifest {
            source: source.into(),
            object,
        }
    }

    #[test]
    fn well_formed_objects_pass() {
        let ok = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web.config", "namespace": "web", "labels": {"app.kubernetes.io/name": "web"}}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:aggregate-to-edit"}}),
            json!({"apiVersion": "example.com/v1alpha1", "kind": "Widget", "metadata": {"name": "Mixed_Case"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "namespace": ""}}),
        ];
        for o in ok {
            assert_eq!(check_object(&o), Ok(()), "{o}");
        }
    }

    #[test]
    fn malformed_objects_are_refused_naming_the_field() {
        let cases = [
            (
                json!({"kind": "ConfigMap", "metadata": {"name": "a"}}),
                "apiVersion is missing",
            ),
            (
                json!({"apiVersion": 1, "kind": "ConfigMap", "metadata": {"name": "a"}}),
                "apiVersion must be a string, found a number",
            ),
            (
                json!({"apiVersion": "Apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
                "apiVersion \"Apps/v1\" is not valid: group must consist of lowercase letters, digits, '-' and '.'",
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
                "kind is missing",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Config-Map", "metadata": {"name": "a"}}),
                "kind \"Config-Map\" is not a valid kind (letters and digits, starting with a letter)",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                "metadata is missing",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
                "metadata.name is missing",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "a-"}}),
                "metadata.name is missing (metadata.generateName is not supported: objects Berth applies need a fixed name)",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Web"}}),
                "metadata.name \"Web\" is not a valid ConfigMap name: must consist of lowercase letters, digits, '-' and '.'",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}}),
                "metadata.name \"a.b\" is not a valid Service name: must consist of lowercase letters, digits and '-'",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "My_NS"}}),
                "metadata.namespace \"My_NS\" is not a valid namespace name: must consist of lowercase letters, digits and '-'",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"enabled": true}}}),
                "metadata.labels.enabled must be a string, found a boolean (quote it)",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"a": "has space"}}}),
                "metadata.labels: label \"a\": value must consist of letters, digits, '-', '_' and '.'",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": {"Bad Key": "x"}}}),
                "metadata.annotations: annotation key \"Bad Key\" is invalid: must consist of letters, digits, '-', '_' and '.'",
            ),
        ];
        for (o, want) in cases {
            assert_eq!(check_object(&o), Err(want.to_owned()), "{o}");
        }
    }

    #[test]
    fn an_object_over_the_size_limit_is_refused() {
        let big = "x".repeat(MAX_OBJECT_BYTES);
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": big}});
        assert!(
            check_object(&o)
                .unwrap_err()
                .contains("over the API server's limit")
        );
    }

    #[test]
    fn a_duplicate_names_both_sources_whatever_the_version() {
        let a = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "prod"}});
        let mut b = a.clone();
        b["apiVersion"] = json!("autoscaling/v1");
        let e = validate(&[m("a.yaml#1", a), m("dir/b.yaml#3", b)]).unwrap_err();
        assert_eq!(
            e.message,
            "HorizontalPodAutoscaler prod/web is declared twice: a.yaml document 1 and dir/b.yaml document 3"
        );
        assert_eq!(e.phase, super::super::Phase::Render);
        assert!(!e.transient);
    }

    #[test]
    fn every_problem_is_listed_up_to_a_limit() {
        let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
        let many: Vec<Manifest> = (1..=12)
            .map(|i| m(&format!("f.yaml#{i}"), bad.clone()))
            .collect();
        let e = validate(&many).unwrap_err().message;
        assert!(
            e.starts_with("f.yaml document 1: metadata.name is missing; f.yaml document 2:"),
            "{e}"
        );
        assert!(e.ends_with("; and 2 more problems"), "{e}");
    }
}
