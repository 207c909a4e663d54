//! API tests: the real Berth application on port 0 against a fresh database per test.

mod audit;
mod auth;
mod benches;
mod cli;
mod conventions;
mod dashboard;
mod deploy_support;
mod deployments;
mod environments;
mod environments_live;
mod environments_select;
mod repositories;
mod repositories_protocol;
mod repositories_ssh;
mod stacks;
mod tokens;
mod users;
mod webhooks;

use reqwest::Response;
use serde_json::Value;

/// Asserts the one error shape and returns `(code, field, message)`.
pub async fn error_of(res: Response, status: u16) -> (String, Option<String>, String) {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/json"),
        "error content type {ct}"
    );
    let body: Value = res.json().await.expect("error body is JSON");
    let err = body.get("error").expect("error envelope");
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only `error` at top level: {body}"
    );
    let code = err["code"].as_str().expect("code").to_owned();
    let field = err["field"].as_str().map(str::to_owned);
    assert!(
        err.get("field").is_some(),
        "field key always present: {body}"
    );
    let message = err["message"].as_str().expect("message").to_owned();
    assert!(!message.is_empty());
    (code, field, message)
}
