//! Reading Berth's event stream (`GET /api/v1/events`, server-sent events) in tests.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::Value;

/// The events received on `stream` (a `/api/v1/events` response) until the first one of kind
/// `until` has arrived whole, as (kind, event) with the event's JSON (`kind`, `at`, `data`).
/// Fails the test when none arrives within `timeout`.
pub async fn events_until(
    stream: reqwest::Response,
    until: &str,
    timeout: Duration,
) -> Vec<(String, Value)> {
    let mut stream = stream.bytes_stream();
    let mut text = String::new();
    let marker = format!("event: {until}\n");
    let arrived = |text: &str| {
        text.find(&marker)
            .is_some_and(|i| text[i..].contains("\n\n"))
    };
    tokio::time::timeout(timeout, async {
        while !arrived(&text) {
            let chunk = stream.next().await.expect("stream open").unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {until} event streamed: {text}"));
    text.split("\n\n")
        .filter_map(|block| {
            let kind = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((kind.to_owned(), serde_json::from_str(data).ok()?))
        })
        .collect()
}
