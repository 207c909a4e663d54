//! The resource verbs: create, get, list, update, patch (merge, strategic-as-merge, JSON
//! patch, server-side apply), delete, deletecollection, the `status` and `scale`
//! subresources, and the self-review resources. Each verb validates like kube-apiserver,
//! then reads and writes the store under its lock; nothing here knows about sockets.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::auth::UserInfo;
use crate::fields::{self, Applier};
use crate::resources::ResourceDef;
use crate::selector::{FieldSelector, LabelSelector};
use crate::sim;
use crate::state::State;
use crate::status::{ApiError, Cause, success};
use crate::store::Store;
use crate::validate::{NameRule, check_name};

/// One resource request, already authenticated, authorized and routed.
pub struct Call<'a> {
    pub state: &'a Arc<State>,
    pub user: &'a UserInfo,
    pub def: &'a ResourceDef,
    pub ns: Option<&'a str>,
    pub name: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub query: &'a HashMap<String, String>,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub user_agent: &'a str,
}

/// An HTTP status and JSON body.
pub type Answer = Result<(u16, Value), ApiError>;

/// RFC 3339 UTC time with second precision, as Kubernetes writes timestamps.
#[must_use]
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Call<'_> {
    fn ns_str(&self) -> &str {
        self.ns.unwrap_or_default()
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn manager(&self) -> String {
        match self.query.get("fieldManager") {
            Some(m) if !m.is_empty() => m.clone(),
            _ => self
                .user_agent
                .split('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("unknown")
                .to_owned(),
        }
    }

    pub(crate) fn parse_body(&self, yaml: bool) -> Result<Value, ApiError> {
        if self
            .content_type
            .starts_with("application/vnd.kubernetes.protobuf")
        {
            return crate::proto::decode(self.body)
                .ok_or_else(|| ApiError::unsupported_media_type(self.content_type, false));
        }
        let parsed: Result<Value, String> = serde_json::from_slice(self.body).or_else(|e| {
            if yaml {
                let text = std::str::from_utf8(self.body).map_err(|e| e.to_string())?;
                serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
            } else {
                Err(e.to_string())
            }
        });
        match parsed {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err(ApiError::bad_request(
                "the body of the request must be an object",
            )),
            Err(e) => Err(ApiError::bad_request(format!(
                "error decoding request body: {e}"
            ))),
        }
    }
}

fn meta(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

fn invalid_name(def: &ResourceDef, name: &str) -> Option<ApiError> {
    let errors = check_name(name, NameRule::for_resource(&def.plural));
    if errors.is_empty() {
        return None;
    }
    let causes: Vec<Cause> = errors
        .into_iter()
        .map(|e| Cause {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {name:?}: {e}"),
            field: "metadata.name".to_owned(),
        })
        .collect();
    Some(ApiError::invalid(def, name, &causes))
}

/// `422 Invalid` for a body whose kind is not the URL's, worded like kube-apiserver:
/// `Widget2.example.com "x" is invalid: kind: Invalid value: "Widget2": must be Widget`.
fn wrong_kind(def: &ResourceDef, kind: &str, name: &str) -> ApiError {
    let message = format!("Invalid value: {kind:?}: must be {}", def.kind);
    let mut e = ApiError::invalid(
        def,
        name,
        &[Cause {
            reason: "FieldValueInvalid",
            message: message.clone(),
            field: "kind".to_owned(),
        }],
    );
    let qualified = if def.group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{}", def.group)
    };
    e.message = format!("{qualified} {name:?} is invalid: kind: {message}");
    e
}

/// Checks `apiVersion`, `kind`, namespace and name of a request body against the URL and
/// fills what is missing. Returns the object's name.
fn prepare(call: &Call<'_>, obj: &mut Value, generate: bool) -> Result<String, ApiError> {
    let def = call.def;
    let expected = def.api_version();
    match obj["apiVersion"].as_str() {
        None | Some("") => obj["apiVersion"] = json!(expected),
        Some(v) if v != expected => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({expected})"
            )));
        }
        Some(_) => {}
    }
    match obj["kind"].as_str() {
        None | Some("") => obj["kind"] = json!(def.kind),
        Some(k) if k != def.kind => {
            let name = obj["metadata"]["name"].as_str().unwrap_or_default();
            return Err(wrong_kind(def, k, name));
        }
        Some(_) => {}
    }
    let m = meta(obj);
    if def.namespaced {
        match (m.get("namespace").and_then(Value::as_str), call.ns) {
            (Some(b), Some(u)) if !b.is_empty() && b != u => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (_, Some(u)) => {
                m.insert("namespace".into(), json!(u));
            }
            (_, None) => return Err(ApiError::unknown_resource()),
        }
    } else {
        m.remove("namespace");
    }
    let body_name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let name = match (body_name.as_str(), call.name) {
        ("", Some(u)) => {
            m.insert("name".into(), json!(u));
            u.to_owned()
        }
        (b, Some(u)) if b != u => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({b}) does not match the name on the URL ({u})"
            )));
        }
        ("", None) => {
            let prefix = m
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if generate && !prefix.is_empty() {
                let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..5].to_owned();
                let generated = format!("{prefix}{suffix}");
                m.insert("name".into(), json!(generated));
                generated
            } else {
                return Err(ApiError::invalid(
                    def,
                    "",
                    &[Cause {
                        reason: "FieldValueRequired",
                        message: "Required value: name or generateName is required".to_owned(),
                        field: "metadata.name".to_owned(),
                    }],
                ));
            }
        }
        (b, _) => b.to_owned(),
    };
    if let Some(err) = invalid_name(def, &name) {
        return Err(err);
    }
    if def.plural == "customresourcedefinitions" {
        check_crd(def, obj, &name)?;
    }
    Ok(name)
}

fn check_crd(def: &ResourceDef, obj: &Value, name: &str) -> Result<(), ApiError> {
    let plural = obj["spec"]["names"]["plural"].as_str().unwrap_or_default();
    let group = obj["spec"]["group"].as_str().unwrap_or_default();
    let mut causes = Vec::new();
    if name != format!("{plural}.{group}") {
        causes.push(Cause {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
            field: "metadata.name".to_owned(),
        });
    }
    if obj["spec"]["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        causes.push(Cause {
            reason: "FieldValueRequired",
            message: "Required value".to_owned(),
            field: "spec.names.kind".to_owned(),
        });
    }
    if obj["spec"]["versions"].as_array().is_none_or(Vec::is_empty) {
        causes.push(Cause {
            reason: "FieldValueRequired",
            message: "Required value: must have exactly one version marked as storage version"
                .to_owned(),
            field: "spec.versions".to_owned(),
        });
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(def, name, &causes))
    }
}

/// Fails unless the request's namespace exists (and, when creating, is not terminating).
fn check_namespace(
    store: &Store,
    call: &Call<'_>,
    name: &str,
    creating: bool,
) -> Result<(), ApiError> {
    if !call.def.namespaced {
        return Ok(());
    }
    let ns = call.ns_str();
    match store.namespace_phase(ns) {
        None => Err(ApiError::namespace_not_found(ns)),
        Some(phase) if creating && phase == "Terminating" => {
            Err(ApiError::namespace_terminating(call.def, name, ns))
        }
        Some(_) => Ok(()),
    }
}

/// Server-set metadata that clients may echo back but never set.
fn strip_server_metadata(obj: &mut Value) {
    let m = meta(obj);
    for k in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        m.remove(k);
    }
}

/// The parts of an object whose change bumps `metadata.generation`.
fn spec_part(def: &ResourceDef, obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        if def.status {
            m.remove("status");
        }
    }
    v
}

/// The object with volatile parts removed, to detect no-op writes.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    let m = meta(&mut v);
    m.remove("resourceVersion");
    if let Some(Value::Array(entries)) = m.get_mut("managedFields") {
        for e in entries {
            if let Some(e) = e.as_object_mut() {
                e.remove("time");
            }
        }
    }
    v
}

/// Where a write's `status` comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StatusFrom {
    /// Main resource write: the stored status is kept (or reset on create).
    Stored,
    /// Status subresource write: the new status is taken.
    Body,
}

/// Finishes a write: server metadata, status rules, defaults, generation, managedFields,
/// resourceVersion. Stores the result unless it is a dry run or a no-op.
#[allow(clippy::too_many_arguments)]
fn commit(
    state: &Arc<State>,
    store: &mut Store,
    def: &ResourceDef,
    old: Option<&Value>,
    mut obj: Value,
    entries: &[fields::Entry],
    status_from: StatusFrom,
    dry_run: bool,
) -> Value {
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    strip_server_metadata(&mut obj);
    {
        let m = meta(&mut obj);
        match old {
            Some(o) => {
                for k in [
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                ] {
                    if let Some(v) = o["metadata"].get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
            }
            None => {
                m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
                m.insert("creationTimestamp".into(), json!(now()));
                if def.generation {
                    m.insert("generation".into(), json!(1));
                }
            }
        }
    }
    if def.status && status_from == StatusFrom::Stored {
        let status = match old {
            Some(o) => o.get("status").cloned(),
            None if def.plural == "namespaces" => Some(json!({"phase": "Active"})),
            None => Some(json!({})),
        };
        match status {
            Some(s) => obj["status"] = s,
            None => {
                obj.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    crate::defaults::apply_defaults(def, &mut obj, old);
    if def.generation
        && let Some(o) = old
        && spec_part(def, o) != spec_part(def, &obj)
    {
        let g = o["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        obj["metadata"]["generation"] = json!(g);
    }
    obj["metadata"]["managedFields"] = fields::entries_json(entries);
    if let Some(o) = old {
        obj["metadata"]["resourceVersion"] = o["metadata"]["resourceVersion"].clone();
        if comparable(o) == comparable(&obj) {
            return o.clone();
        }
    }
    if dry_run {
        return obj;
    }
    obj["metadata"]["resourceVersion"] = json!(store.bump());
    let stored = store.put(&def.storage_key(), &ns, &name, obj.clone());
    state.notify(
        &def.storage_key(),
        &ns,
        if old.is_some() { "MODIFIED" } else { "ADDED" },
        stored,
    );
    sim::after_write(state, def, &ns, &name);
    obj
}

fn without_managed(obj: &Value) -> Value {
    let mut v = obj.clone();
    meta(&mut v).remove("managedFields");
    v
}

/// `POST` on a collection.
pub fn create(call: &Call<'_>) -> Answer {
    if call.def.is_review() {
        return crate::reviews::review(call);
    }
    let mut obj = call.parse_body(false)?;
    let name = prepare(call, &mut obj, true)?;
    strip_server_metadata(&mut obj);
    let mut store = call.state.store.write();
    check_namespace(&store, call, &name, true)?;
    if store
        .get(&call.def.storage_key(), call.ns_str(), &name)
        .is_some()
    {
        return Err(ApiError::already_exists(call.def, &name));
    }
    let entries = fields::record_update(
        None,
        &obj,
        &[],
        &call.manager(),
        &call.def.api_version(),
        &now(),
        "",
        call.def.status,
    );
    let out = commit(
        call.state,
        &mut store,
        call.def,
        None,
        obj,
        &entries,
        StatusFrom::Stored,
        call.dry_run(),
    );
    Ok((201, out))
}

/// `GET` on an object (or its `status`/`scale` subresource).
pub fn get(call: &Call<'_>) -> Answer {
    let name = call.name.unwrap_or_default();
    let obj = call
        .state
        .store
        .read()
        .get(&call.def.storage_key(), call.ns_str(), name)
        .ok_or_else(|| ApiError::not_found(call.def, name))?;
    if call.sub == Some("scale") {
        return Ok((200, scale_of(&obj)));
    }
    Ok((200, (*obj).clone()))
}

/// `GET pods/{name}/log`: a few plain-text lines naming the simulated container
/// (`?container=` selects one; the first container otherwise).
///
/// # Errors
/// `404` for a missing pod; `400` for a container the pod does not have.
pub fn pod_log(call: &Call<'_>) -> Result<String, ApiError> {
    let name = call.name.unwrap_or_default();
    let pod = call
        .state
        .store
        .read()
        .get(&call.def.storage_key(), call.ns_str(), name)
        .ok_or_else(|| ApiError::not_found(call.def, name))?;
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let container = match call.query.get("container") {
        Some(c) if containers.contains(&c.as_str()) => c.clone(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None => containers
            .first()
            .map(|c| (*c).to_owned())
            .unwrap_or_default(),
    };
    let started = pod["status"]["startTime"].as_str().unwrap_or_default();
    Ok(format!(
        "{started} kube-test-api: simulated container {container} of pod {name} started\n{started} kube-test-api: no real workload runs here\n"
    ))
}

fn scale_of(obj: &Value) -> Value {
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"]},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

/// Parsed list filters.
pub struct ListFilter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl ListFilter {
    /// # Errors
    /// `400 BadRequest` for malformed selectors.
    pub fn from_query(query: &HashMap<String, String>) -> Result<ListFilter, ApiError> {
        let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))
            .map_err(ApiError::bad_request)?;
        Ok(ListFilter { labels, fields })
    }

    #[must_use]
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches_object(obj)
    }
}

/// `GET` on a collection: `kind: XList` with `metadata.resourceVersion`, supporting
/// `labelSelector`, `fieldSelector`, `limit` and `continue`. Returns the serialized body:
/// items are written straight from the store's shared objects, without copies.
///
/// # Errors
/// Malformed selectors or continue tokens.
pub fn list(call: &Call<'_>) -> Result<Vec<u8>, ApiError> {
    let filter = ListFilter::from_query(call.query)?;
    let limit: usize = call
        .query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let after = match call.query.get("continue") {
        Some(token) if !token.is_empty() => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| serde_json::from_slice::<(String, String)>(&b).ok())
                .ok_or_else(|| {
                    ApiError::bad_request("continue key is not valid: illegal base64 data")
                })?,
        ),
        _ => None,
    };
    let mut items: Vec<Arc<Value>> = Vec::new();
    let mut last_key = None;
    let mut remaining = 0usize;
    let rv = {
        let store = call.state.store.read();
        for (key, obj) in store.iter(&call.def.storage_key(), call.ns, after.as_ref()) {
            if !filter.matches(obj) {
                continue;
            }
            if items.len() < limit {
                items.push(obj.clone());
                last_key = Some(key);
            } else {
                remaining += 1;
            }
        }
        let last_key = last_key.cloned();
        (store.resource_version(), last_key)
    };
    let (rv, last_key) = rv;
    let mut metadata = json!({"resourceVersion": rv});
    if remaining > 0
        && let Some(key) = last_key
    {
        metadata["continue"] =
            json!(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&key).unwrap_or_default()));
        metadata["remainingItemCount"] = json!(remaining);
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ListBody<'a> {
        kind: String,
        api_version: String,
        metadata: Value,
        items: Vec<&'a Value>,
    }
    let body = ListBody {
        kind: format!("{}List", call.def.kind),
        api_version: call.def.api_version(),
        metadata,
        items: items.iter().map(|o| &**o).collect(),
    };
    serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))
}

/// `PUT` on an object or its `status`/`scale` subresource.
pub fn update(call: &Call<'_>) -> Answer {
    let body = call.parse_body(false)?;
    if call.sub == Some("scale") {
        let replicas = body["spec"]["replicas"].clone();
        return patch_with(call, |obj| {
            obj["spec"]["replicas"] = replicas.clone();
            Ok(())
        });
    }
    let mut obj = body;
    let name = prepare(call, &mut obj, false)?;
    let mut store = call.state.store.write();
    check_namespace(&store, call, &name, false)?;
    let old = store
        .get(&call.def.storage_key(), call.ns_str(), &name)
        .ok_or_else(|| ApiError::not_found(call.def, &name))?;
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
        && Some(rv) != old["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::stale(call.def, &name));
    }
    write_over(call, &mut store, &old, obj)
}

/// Stores `obj` over `old` for update-like verbs (PUT, non-apply PATCH).
fn write_over(call: &Call<'_>, store: &mut Store, old: &Arc<Value>, mut obj: Value) -> Answer {
    let status_write = call.sub == Some("status");
    if status_write {
        let status = obj.get("status").cloned();
        obj = (**old).clone();
        match status {
            Some(s) => obj["status"] = s,
            None => {
                obj.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    let entries = fields::record_update(
        Some(&without_managed(old)),
        &obj,
        &fields::read_entries(old),
        &call.manager(),
        &call.def.api_version(),
        &now(),
        if status_write { "status" } else { "" },
        call.def.status,
    );
    let from = if status_write {
        StatusFrom::Body
    } else {
        StatusFrom::Stored
    };
    let out = commit(
        call.state,
        store,
        call.def,
        Some(old),
        obj,
        &entries,
        from,
        call.dry_run(),
    );
    finish_if_finalized(call, store, &out);
    Ok((200, out))
}

/// Removes an object whose deletion was waiting for finalizers once they are all gone.
fn finish_if_finalized(call: &Call<'_>, store: &mut Store, obj: &Value) {
    let deleting = !obj["metadata"]["deletionTimestamp"].is_null();
    let finalizers = obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if deleting && !finalizers && !call.dry_run() && call.def.plural != "namespaces" {
        let ns = call.ns_str();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        if let Some(gone) = store.remove(&call.def.storage_key(), ns, name) {
            call.state
                .notify(&call.def.storage_key(), ns, "DELETED", gone);
        }
    }
}

fn patch_with(call: &Call<'_>, change: impl Fn(&mut Value) -> Result<(), ApiError>) -> Answer {
    let name = call.name.unwrap_or_default().to_owned();
    let mut store = call.state.store.write();
    check_namespace(&store, call, &name, false)?;
    let old = store
        .get(&call.def.storage_key(), call.ns_str(), &name)
        .ok_or_else(|| ApiError::not_found(call.def, &name))?;
    let mut obj = without_managed(&old);
    change(&mut obj)?;
    let wanted_rv = obj["metadata"]["resourceVersion"].clone();
    if wanted_rv.is_string() && wanted_rv != old["metadata"]["resourceVersion"] {
        return Err(ApiError::stale(call.def, &name));
    }
    prepare(call, &mut obj, false)?;
    let (code, out) = write_over(call, &mut store, &old, obj)?;
    if call.sub == Some("scale") {
        return Ok((code, scale_of(&out)));
    }
    Ok((code, out))
}

/// `PATCH`: merge, strategic merge (treated as merge), JSON patch, or server-side apply.
pub fn patch(call: &Call<'_>) -> Answer {
    let media = call
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let is_apply =
        media == "application/apply-patch+yaml" || media == "application/apply-patch+cbor";
    if !is_apply && call.query.contains_key("force") {
        return Err(patch_options_invalid(
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
            "force",
        ));
    }
    match media {
        "application/apply-patch+yaml" => apply(call),
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let p = call.parse_body(false)?;
            let p = if call.sub == Some("scale") {
                json!({"spec": {"replicas": p["spec"]["replicas"]}})
            } else {
                p
            };
            let strategic = media == "application/strategic-merge-patch+json" && !call.def.custom;
            patch_with(call, |obj| {
                if strategic {
                    crate::patch::strategic_merge_patch(obj, &p, "");
                } else {
                    crate::patch::merge_patch(obj, &p);
                }
                Ok(())
            })
        }
        "application/json-patch+json" => {
            let ops: Value = serde_json::from_slice(call.body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            patch_with(call, |obj| {
                crate::patch::json_patch(obj, &ops).map_err(ApiError::internal)
            })
        }
        other => Err(ApiError::unsupported_media_type(other, true)),
    }
}

fn patch_options_invalid(reason: &'static str, message: &str, field: &str) -> ApiError {
    let mut e = ApiError::bad_request(format!(
        "PatchOptions.meta.k8s.io \"\" is invalid: {field}: {message}"
    ));
    e.code = 422;
    e.reason = "Invalid";
    e.details = Some(json!({
        "group": "meta.k8s.io",
        "kind": "PatchOptions",
        "causes": [{"reason": reason, "message": message, "field": field}],
    }));
    e
}

/// Server-side apply (`PATCH` with `application/apply-patch+yaml`).
fn apply(call: &Call<'_>) -> Answer {
    let manager = match call.query.get("fieldManager") {
        Some(m) if !m.is_empty() => m.clone(),
        _ => {
            return Err(patch_options_invalid(
                "FieldValueRequired",
                "Required value: is required for apply patch",
                "fieldManager",
            ));
        }
    };
    if call.sub.is_some() {
        return Err(ApiError::method_not_allowed("PATCH"));
    }
    let force = call
        .query
        .get("force")
        .is_some_and(|f| f == "true" || f == "1");
    let mut applied = call.parse_body(true)?;
    let name = prepare(call, &mut applied, false)?;
    if !applied["metadata"]["managedFields"].is_null() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let precondition = applied["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_owned);
    strip_server_metadata(&mut applied);
    let mut store = call.state.store.write();
    let old = store.get(&call.def.storage_key(), call.ns_str(), &name);
    if let (Some(wanted), Some(o)) = (&precondition, &old)
        && o["metadata"]["resourceVersion"].as_str() != Some(wanted.as_str())
    {
        return Err(ApiError::stale(call.def, &name));
    }
    check_namespace(&store, call, &name, old.is_none())?;
    let live = old.as_deref().map(without_managed);
    let entries = old.as_deref().map(fields::read_entries).unwrap_or_default();
    let api_version = call.def.api_version();
    let time = now();
    let who = Applier {
        manager: &manager,
        api_version: &api_version,
        time: &time,
        force,
        skip_status: call.def.status,
    };
    let (obj, entries) =
        fields::apply(live.as_ref(), &applied, &entries, &who).map_err(|conflicts| {
            let causes: Vec<Cause> = conflicts
                .iter()
                .map(|c| Cause {
                    reason: "FieldManagerConflict",
                    message: format!("conflict with {}", c.manager),
                    field: fields::display_path(&c.path),
                })
                .collect();
            ApiError::apply_conflict(&fields::conflict_message(&conflicts), &causes)
        })?;
    let out = commit(
        call.state,
        &mut store,
        call.def,
        old.as_deref(),
        obj,
        &entries,
        StatusFrom::Stored,
        call.dry_run(),
    );
    Ok((if old.is_some() { 200 } else { 201 }, out))
}

/// `DELETE` on an object. Objects with finalizers (and namespaces) go through a
/// `deletionTimestamp` phase; others are removed at once.
pub fn delete(call: &Call<'_>) -> Answer {
    let name = call.name.unwrap_or_default();
    let mut store = call.state.store.write();
    let old = store
        .get(&call.def.storage_key(), call.ns_str(), name)
        .ok_or_else(|| ApiError::not_found(call.def, name))?;
    delete_one(call, &mut store, &old)
}

fn delete_one(call: &Call<'_>, store: &mut Store, old: &Arc<Value>) -> Answer {
    let def = call.def;
    let ns = old["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = old["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let has_finalizers = old["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if def.plural == "namespaces" || has_finalizers {
        let mut obj = (**old).clone();
        if obj["metadata"]["deletionTimestamp"].is_null() {
            obj["metadata"]["deletionTimestamp"] = json!(now());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        if def.plural == "namespaces" {
            obj["status"]["phase"] = json!("Terminating");
        }
        if call.dry_run() {
            return Ok((200, obj));
        }
        if comparable(&obj) != comparable(old) {
            obj["metadata"]["resourceVersion"] = json!(store.bump());
            let stored = store.put(&def.storage_key(), &ns, &name, obj.clone());
            call.state
                .notify(&def.storage_key(), &ns, "MODIFIED", stored);
            if def.plural == "namespaces" {
                sim::terminate_namespace(call.state, &name);
            }
        }
        return Ok((200, obj));
    }
    let uid = old["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !call.dry_run() {
        if let Some(gone) = store.remove(&def.storage_key(), &ns, &name) {
            call.state.notify(&def.storage_key(), &ns, "DELETED", gone);
        }
        let orphan = call
            .query
            .get("propagationPolicy")
            .is_some_and(|p| p == "Orphan")
            || serde_json::from_slice::<Value>(call.body)
                .is_ok_and(|b| b["propagationPolicy"] == "Orphan");
        if def.namespaced && !orphan {
            crate::pods::collect_garbage(call.state, store, &ns, &old["metadata"]["uid"]);
        }
        if def.plural == "customresourcedefinitions" {
            sim::remove_crd(call.state, store, old);
        }
    }
    if def.plural == "pods" {
        return Ok((200, (**old).clone()));
    }
    Ok((200, success(def, &name, &uid)))
}

/// `DELETE` on a collection: deletes every matching object and returns them as a list.
pub fn delete_collection(call: &Call<'_>) -> Answer {
    let filter = ListFilter::from_query(call.query)?;
    let mut store = call.state.store.write();
    let victims: Vec<Arc<Value>> = store
        .list(&call.def.storage_key(), call.ns, None)
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| filter.matches(o))
        .collect();
    let mut items = Vec::new();
    for v in &victims {
        delete_one(call, &mut store, v)?;
        items.push((**v).clone());
    }
    Ok((
        200,
        json!({
            "kind": format!("{}List", call.def.kind),
            "apiVersion": call.def.api_version(),
            "metadata": {"resourceVersion": store.resource_version()},
            "items": items,
        }),
    ))
}
