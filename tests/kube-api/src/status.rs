//! Kubernetes `Status` errors: the one error type of the request path, rendered exactly like
//! kube-apiserver renders them (`kind: Status`, `reason`, `code`, `message`, `details`).
//!
//! Messages follow the real server's wording so that tests written against this server also
//! pass against a real cluster; do not invent new phrasing here.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

/// A failed request, answered as a `Status` object.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code (`code` in the body).
    pub code: u16,
    /// Machine-readable `reason`, e.g. `NotFound`.
    pub reason: &'static str,
    /// Human-readable `message`.
    pub message: String,
    /// Optional `details`.
    pub details: Option<Value>,
}

/// One entry of `details.causes`.
#[derive(Debug, Clone)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldManagerConflict`, …
    pub reason: &'static str,
    pub message: String,
    pub field: String,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// `the server could not find the requested resource`
    pub fn unknown_resource() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
        .with_details(json!({}))
    }

    /// `415`: a body in a format this server cannot read (`patch` lists the patch types).
    pub fn unsupported_media_type(content_type: &str, patch: bool) -> Self {
        let accepted = if patch {
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
        } else {
            "application/json, application/yaml"
        };
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {accepted} (got {content_type})"
            ),
        )
    }

    /// `configmaps "x" not found`
    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} {name:?} not found", def.qualified()),
        )
        .with_details(details(def, name))
    }

    /// `namespaces "x" not found`, used for namespaced objects in a missing namespace.
    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(404, "NotFound", format!("namespaces {ns:?} not found"))
            .with_details(json!({"name": ns, "kind": "namespaces"}))
    }

    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} {name:?} already exists", def.qualified()),
        )
        .with_details(details(def, name))
    }

    /// Optimistic-concurrency failure (stale `metadata.resourceVersion`).
    pub fn stale(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
                def.qualified()
            ),
        )
        .with_details(details(def, name))
    }

    /// Server-side apply conflicts: `Apply failed with 1 conflict: conflict with "m": .spec.replicas`.
    pub fn apply_conflict(message: &str, causes: &[Cause]) -> Self {
        let n = causes.len();
        let plural = if n == 1 { "" } else { "s" };
        Self::new(
            409,
            "Conflict",
            format!("Apply failed with {n} conflict{plural}: {message}"),
        )
        .with_details(json!({ "causes": causes_json(causes) }))
    }

    /// `403 Forbidden` from authorization.
    pub fn forbidden(message: String, def_name: Option<(&str, &str, &str)>) -> Self {
        let details = match def_name {
            Some((group, plural, name)) => {
                let mut d = json!({"kind": plural});
                if !name.is_empty() {
                    d["name"] = json!(name);
                }
                if !group.is_empty() {
                    d["group"] = json!(group);
                }
                d
            }
            None => json!({}),
        };
        Self::new(403, "Forbidden", message).with_details(details)
    }

    /// Creation inside a namespace that is being deleted.
    pub fn namespace_terminating(def: &ResourceDef, name: &str, ns: &str) -> Self {
        let mut d = details(def, name);
        d["causes"] = json!([{
            "reason": "NamespaceTerminating",
            "message": format!("namespace {ns} is being terminated"),
            "field": "metadata.namespace"
        }]);
        Self::new(
            403,
            "Forbidden",
            format!(
                "{} {name:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                def.qualified()
            ),
        )
        .with_details(d)
    }

    /// `422 Invalid`: `ConfigMap "x" is invalid: metadata.name: Required value: …`.
    pub fn invalid(def: &ResourceDef, name: &str, causes: &[Cause]) -> Self {
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let summary = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = json!({"name": name, "kind": def.kind, "causes": causes_json(causes)});
        if !def.group.is_empty() {
            d["group"] = json!(def.group);
        }
        Self::new(
            422,
            "Invalid",
            format!("{} {name:?} is invalid: {summary}", def.kind),
        )
        .with_details(d)
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        )
        .with_details(json!({"retryAfterSeconds": 1}))
    }

    pub fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        )
    }

    /// An injected error with an arbitrary status code.
    pub fn injected(code: u16) -> Self {
        match code {
            429 => Self::too_many_requests(),
            503 => Self::service_unavailable(),
            500 => Self::internal(
                "an error on the server (\"injected fault\") has prevented the request from succeeding",
            ),
            504 => Self::new(
                504,
                "Timeout",
                "the server was unable to return a response in the time allotted, but may still be processing the request",
            ),
            other => Self::new(other, "InternalError", format!("injected fault ({other})")),
        }
    }

    /// The `Status` body.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

fn details(def: &ResourceDef, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": def.plural});
    if !def.group.is_empty() {
        d["group"] = json!(def.group);
    }
    d
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    )
}

/// A `Status` of `Success`, as returned by DELETE for most resources.
#[must_use]
pub fn success(def: &ResourceDef, name: &str, uid: &str) -> Value {
    let mut d = details(def, name);
    d["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}
