//! Fault injection: latency, error answers, dropped connections, going down and coming back.

mod common;

use std::time::{Duration, Instant};

use common::send;
use kube_test_api::{Identity, TestApiServer};

#[tokio::test]
async fn added_latency_delays_answers() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    server.faults().set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let (code, _) = send(client.get(format!("{}/api/v1/namespaces", server.url()))).await;
    assert_eq!(code, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_next_requests_fail_with_the_chosen_status() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces", server.url());
    server.faults().fail_next(2, 503);
    let (code, body) = send(client.get(&url)).await;
    assert_eq!(code, 503);
    assert_eq!(body["reason"], "ServiceUnavailable");
    assert_eq!(send(client.get(&url)).await.0, 503);
    assert_eq!(send(client.get(&url)).await.0, 200);
}

#[tokio::test]
async fn a_share_of_requests_is_throttled_with_retry_after() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces", server.url());
    server.faults().fail_ratio(0.5, 429);
    let mut throttled = 0;
    for _ in 0..10 {
        let resp = client.get(&url).send().await.unwrap();
        if resp.status().as_u16() == 429 {
            assert_eq!(resp.headers()["retry-after"], "1");
            throttled += 1;
        }
    }
    assert_eq!(throttled, 5);
    server.faults().clear();
    assert_eq!(send(client.get(&url)).await.0, 200);
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces", server.url());
    server.faults().drop_next(1);
    let result = tokio::time::timeout(common::WAIT, client.get(&url).send())
        .await
        .expect("the drop is immediate");
    assert!(
        result.is_err(),
        "the request fails without a response: {result:?}"
    );
    assert_eq!(send(client.get(&url)).await.0, 200);
    assert_eq!(server.requests().first().map(|r| r.status), Some(0));
}

#[tokio::test]
async fn the_server_goes_down_and_comes_back_on_the_same_port() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces", server.url());
    let port = server.port();
    assert_eq!(send(client.get(&url)).await.0, 200);
    server.go_down().await;
    assert!(!server.is_up());
    let down = tokio::time::timeout(common::WAIT, client.get(&url).send())
        .await
        .expect("refused quickly");
    assert!(down.is_err(), "connections are refused while down");
    server.come_back().await;
    assert_eq!(server.port(), port);
    assert_eq!(send(client.get(&url)).await.0, 200);
}
