//! The request path: faults, authentication, routing of Kubernetes URLs to discovery,
//! health and resource verbs, authorization, the request log, and JSON/watch responses.
//! `api::handle` is the whole table of contents of what the server answers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::auth::{self, Attributes, Perms, UserInfo};
use crate::discovery;
use crate::faults::FaultAction;
use crate::objects::{self, Answer, Call, ListFilter};
use crate::state::{RecordedRequest, State};
use crate::status::ApiError;

/// Response body type: full JSON or a watch stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// The client certificate's subject, read at the TLS handshake.
#[derive(Debug, Clone)]
pub struct CertSubject {
    pub common_name: String,
    pub organizations: Vec<String>,
}

/// Per-connection context.
#[derive(Clone)]
pub struct Conn {
    pub cert: Option<CertSubject>,
    /// Notified to close the connection without answering.
    pub drop: Arc<Notify>,
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn json_response(code: u16, body: &Value, content_type: &str) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("audit-id", uuid::Uuid::new_v4().to_string())
        .body(full(bytes))
        .expect("valid response")
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.to_json(), "application/json");
    if e.code == 429 {
        r.headers_mut()
            .insert("retry-after", "1".parse().expect("header"));
    }
    r
}

fn parse_query(q: &str) -> HashMap<String, String> {
    url_pairs(q).collect()
}

fn url_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex =
                    std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves the caller: bearer token first, then client certificate, else anonymous.
fn authenticate(state: &State, conn: &Conn, req: &Request<Incoming>) -> Result<UserInfo, ApiError> {
    if let Some(h) = req.headers().get("authorization") {
        let value = h.to_str().unwrap_or_default();
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        return match state.tokens.read().get(token) {
            Some(t) if !t.expired => Ok(t.user.clone()),
            _ => Err(ApiError::unauthorized()),
        };
    }
    if let Some(cert) = &conn.cert {
        let registered = state.cert_users.read().get(&cert.common_name).cloned();
        let perms = registered.unwrap_or_else(|| {
            if cert.organizations.iter().any(|o| o == "system:masters") {
                Perms::ClusterAdmin
            } else {
                Perms::None
            }
        });
        let mut groups = cert.organizations.clone();
        groups.push("system:authenticated".to_owned());
        return Ok(UserInfo {
            name: cert.common_name.clone(),
            groups,
            perms,
        });
    }
    Ok(UserInfo::anonymous())
}

/// Handles one HTTP request end to end.
pub async fn handle(
    state: Arc<State>,
    conn: Conn,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let (latency, action) = state.faults.decide(&path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut record = RecordedRequest {
        method: req.method().to_string(),
        path: path.clone(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        user: String::new(),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        field_manager: None,
        status: 0,
        http_version: format!("{:?}", req.version()),
    };
    let query = parse_query(&record.query);
    record.field_manager = query.get("fieldManager").cloned();
    match action {
        FaultAction::Drop => {
            state.record(record.clone());
            conn.drop.notify_one();
            std::future::pending::<()>().await;
        }
        FaultAction::Fail(code) => {
            record.status = code;
            state.record(record);
            return Ok(error_response(&ApiError::injected(code)));
        }
        FaultAction::Serve => {}
    }
    let user = match authenticate(&state, &conn, &req) {
        Ok(u) => u,
        Err(e) => {
            record.status = e.code;
            state.record(record);
            return Ok(error_response(&e));
        }
    };
    record.user.clone_from(&user.name);
    let accept = header("accept");
    let method = req.method().as_str().to_owned();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let response = route(
        &state, &user, &method, &path, &query, &record, &accept, &body,
    );
    record.status = response.status().as_u16();
    state.record(record);
    Ok(response)
}

#[allow(clippy::too_many_arguments)]
fn route(
    state: &Arc<State>,
    user: &UserInfo,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
    record: &RecordedRequest,
    accept: &str,
    body: &Bytes,
) -> Response<Body> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let non_resource = matches!(
        segs.as_slice(),
        ["version"]
            | ["healthz" | "livez" | "readyz", ..]
            | ["api"]
            | ["apis"]
            | ["api", "v1"]
            | ["apis", _]
            | ["apis", _, _]
            | ["openapi", ..]
            | []
    );
    if non_resource {
        if !auth::path_allowed(user, path) {
            return error_response(&auth::forbidden_path(user, &method.to_lowercase(), path));
        }
        if method != "GET" && method != "HEAD" {
            return error_response(&ApiError::method_not_allowed(method));
        }
        return discovery_or_health(state, &segs, accept, query);
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return error_response(&ApiError::unknown_resource()),
    };
    let (ns, plural, name, sub) = match rest {
        ["namespaces", ns, plural] if *plural != "status" && *plural != "finalize" => {
            (Some(*ns), *plural, None, None)
        }
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name), None),
        ["namespaces", ns, plural, name, sub] => (Some(*ns), *plural, Some(*name), Some(*sub)),
        [plural] => (None, *plural, None, None),
        [plural, name] => (None, *plural, Some(*name), None),
        [plural, name, sub] => (None, *plural, Some(*name), Some(*sub)),
        _ => return error_response(&ApiError::unknown_resource()),
    };
    let Some(def) = state.resolve(group, version, plural) else {
        return error_response(&ApiError::unknown_resource());
    };
    if (ns.is_some() && !def.namespaced) || (ns.is_none() && def.namespaced && name.is_some()) {
        return error_response(&ApiError::unknown_resource());
    }
    if let Some(s) = sub
        && !((s == "status" && def.status)
            || (s == "scale" && def.scale)
            || (s == "log" && def.plural == "pods" && def.group.is_empty()))
    {
        return error_response(&ApiError::unknown_resource());
    }
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (method, name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return error_response(&ApiError::method_not_allowed(method)),
    };
    if !def.verbs.iter().any(|v| v == verb) {
        return error_response(&ApiError::method_not_allowed(method));
    }
    let resource = match sub {
        Some(s) => format!("{plural}/{s}"),
        None => plural.to_owned(),
    };
    let attrs = Attributes {
        verb,
        group,
        resource: &resource,
        namespace: ns,
        name: name.unwrap_or_default(),
    };
    if !auth::allowed(user, &attrs) {
        return error_response(&auth::forbidden(user, &attrs));
    }
    let call = Call {
        state,
        user,
        def: &def,
        ns,
        name,
        sub,
        query,
        content_type: &record.content_type,
        body,
        user_agent: &record.user_agent,
    };
    if verb == "watch" {
        return watch_response(&call);
    }
    if sub == Some("log") {
        if verb != "get" {
            return error_response(&ApiError::method_not_allowed(method));
        }
        return match objects::pod_log(&call) {
            Ok(text) => Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(full(text))
                .expect("valid response"),
            Err(e) => error_response(&e),
        };
    }
    if verb == "list" {
        return match objects::list(&call) {
            Ok(bytes) => Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("audit-id", uuid::Uuid::new_v4().to_string())
                .body(full(bytes))
                .expect("valid response"),
            Err(e) => error_response(&e),
        };
    }
    let answer: Answer = match verb {
        "get" => objects::get(&call),
        "create" => objects::create(&call),
        "update" => objects::update(&call),
        "patch" => objects::patch(&call),
        "delete" => objects::delete(&call),
        _ => objects::delete_collection(&call),
    };
    match answer {
        Ok((code, v)) => json_response(code, &v, "application/json"),
        Err(e) => error_response(&e),
    }
}

fn discovery_or_health(
    state: &State,
    segs: &[&str],
    accept: &str,
    query: &HashMap<String, String>,
) -> Response<Body> {
    let defs = state.defs.read().clone();
    let aggregated = discovery::wants_aggregated(accept);
    let found = match segs {
        ["version"] => Some(json!({
            "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
            "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
            "gitVersion": "v1.33.0-kube-test-api", "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0",
            "compiler": "gc", "platform": "linux/amd64"
        })),
        ["healthz" | "livez" | "readyz", ..] => {
            let text = if query.contains_key("verbose") {
                format!("[+]ping ok\n[+]etcd ok\n{} check passed\n", segs[0])
            } else {
                "ok".to_owned()
            };
            return Response::builder()
                .status(200)
                .header("content-type", "text/plain; charset=utf-8")
                .body(full(text))
                .expect("valid response");
        }
        ["api"] if aggregated => {
            return json_response(
                200,
                &discovery::aggregated(&defs, true),
                discovery::AGGREGATED_V2,
            );
        }
        ["apis"] if aggregated => {
            return json_response(
                200,
                &discovery::aggregated(&defs, false),
                discovery::AGGREGATED_V2,
            );
        }
        ["api"] => Some(discovery::api_versions()),
        ["apis"] => Some(discovery::api_group_list(&defs)),
        ["api", "v1"] => discovery::resource_list(&defs, "", "v1"),
        ["apis", g] => discovery::api_group(&defs, g),
        ["apis", g, v] => discovery::resource_list(&defs, g, v),
        _ => None,
    };
    match found {
        Some(v) => json_response(200, &v, "application/json"),
        None => {
            if segs.first() == Some(&"openapi") {
                return Response::builder()
                    .status(404)
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(full("404 page not found\n"))
                    .expect("valid response");
            }
            error_response(&ApiError::unknown_resource())
        }
    }
}

/// A watch: `ADDED` for current matches newer than `resourceVersion`, then live events, as
/// newline-delimited JSON; ends after `timeoutSeconds` (default 30 minutes).
fn watch_response(call: &Call<'_>) -> Response<Body> {
    let filter = match ListFilter::from_query(call.query) {
        Ok(f) => f,
        Err(e) => return error_response(&e),
    };
    let since: u64 = call
        .query
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = call
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    let table = call.def.storage_key();
    let ns = call.ns.map(str::to_owned);
    let mut rx = call.state.watch.subscribe();
    let initial: Vec<Arc<Value>> = {
        let store = call.state.store.read();
        store
            .list(&table, ns.as_deref(), None)
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| {
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_some_and(|rv| rv > since)
            })
            .collect()
    };
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(64);
    let event = |kind: &str, obj: &Value| {
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    };
    let initial: Vec<Bytes> = initial
        .iter()
        .filter(|o| filter.matches(o))
        .map(|o| event("ADDED", o))
        .collect();
    tokio::spawn(async move {
        for line in initial {
            if tx.send_data(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if ev.table != table || ns.as_deref().is_some_and(|n| n != ev.namespace) || !filter.matches(&ev.object) {
                            continue;
                        }
                        if tx.send_data(event(ev.kind, &ev.object)).await.is_err() {
                            return;
                        }
                    }
                    // A watcher that fell behind is closed, as kube-apiserver does; clients re-list.
                    Err(_) => return,
                },
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(body))
        .expect("valid response")
}
