//! Helpers shared by the integration tests: JSON requests with a timeout, and waiting for a
//! condition under a deadline.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

/// Every wait in these tests ends within this.
pub const WAIT: Duration = Duration::from_secs(10);

/// Sends a request and returns the status code and JSON body.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = tokio::time::timeout(WAIT, req.send())
        .await
        .expect("request within the timeout")
        .expect("request sent");
    let code = resp.status().as_u16();
    let text = resp.text().await.expect("body read");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, json)
}

/// Polls `check` every 20 ms until it returns `Some`, failing after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
