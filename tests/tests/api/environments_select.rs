//! Listing environments: tag selectors (HTTP and SQL against the Rust matcher), status, search,
//! pagination. Against `TestCluster` (test API server or real cluster).

use berth_tests::{TestApp, TestCluster};
use reqwest::Method;
use serde_json::{Value, json};

use crate::environments::{get, register_ok};
use crate::error_of;

#[tokio::test]
async fn selectors_status_and_search_filter_the_list_page_by_page() {
    let app = TestApp::spawn().await;
    let cluster = TestCluster::start().await;
    let kc = cluster.admin_token_kubeconfig().await;
    let envs = [
        ("prod-eu", json!({"env": "prod", "region": "eu"})),
        ("prod-us", json!({"env": "prod", "region": "us"})),
        (
            "prod-ap",
            json!({"env": "prod", "region": "ap", "gpu": "a100"}),
        ),
        ("dev-eu", json!({"env": "dev", "region": "eu"})),
        ("lab", json!({})),
    ];
    for (name, tags) in &envs {
        register_ok(&app, name, &kc, tags.clone()).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        ("env=prod", vec!["prod-ap", "prod-eu", "prod-us"]),
        ("env=prod,region in (eu,us)", vec!["prod-eu", "prod-us"]),
        ("region notin (eu)", vec!["lab", "prod-ap", "prod-us"]),
        ("env!=prod", vec!["dev-eu", "lab"]),
        ("gpu", vec!["prod-ap"]),
        ("!region", vec!["lab"]),
        ("env=prod,env=dev", vec![]),
    ];
    for (selector, want) in cases {
        let q: String = url_encode(selector);
        let page = get(&app, &format!("/api/v1/environments?selector={q}")).await;
        assert_eq!(names(&page), want, "{selector}");
    }
    let page = get(&app, "/api/v1/environments?search=eu&status=up").await;
    assert_eq!(names(&page), ["dev-eu", "prod-eu"]);
    let page = get(&app, "/api/v1/environments?status=down").await;
    assert!(names(&page).is_empty());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/environments?limit=2&cursor={c}"),
            None => "/api/v1/environments?limit=2".to_owned(),
        };
        let page = get(&app, &path).await;
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["dev-eu", "lab", "prod-ap", "prod-eu", "prod-us"]);

    let res = app
        .admin(Method::GET, "/api/v1/environments?selector=env%20in%20eu")
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 400).await;
    assert_eq!(field.as_deref(), Some("selector"));
}

/// Percent-encodes a query value.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_sql_selector_matches_exactly_what_the_rust_selector_matches() {
    use std::collections::BTreeMap;

    use berth::environments::Selector;
    use berth::environments::store::{Filter, list};
    use berth::pagination::PageParams;
    let app = TestApp::spawn().await;
    let envs = ["prod", "dev", "staging"];
    let regions = ["eu", "us", "ap"];
    let mut all: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for i in 0..60usize {
        let mut tags = BTreeMap::new();
        if i % 5 != 0 {
            tags.insert("env".to_owned(), envs[i % 3].to_owned());
        }
        if i % 7 != 0 {
            tags.insert("region".to_owned(), regions[(i / 3) % 3].to_owned());
        }
        if i % 4 == 0 {
            tags.insert("example.com/gpu".to_owned(), "a100".to_owned());
        }
        let name = format!("e{i:02}");
        sqlx::query(
            "insert into environment (environment_id, name, tags, server_url, context_name, \
             auth_kind, sealed_kubeconfig) values ($1, $2, $3, 'https://k', 'c', 'token', '\\x00')",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(&name)
        .bind(sqlx::types::Json(&tags))
        .execute(&app.pool)
        .await
        .unwrap();
        all.push((name, tags));
    }
    let selectors = [
        "",
        "env=prod",
        "env==dev,region=eu",
        "env!=prod",
        "env in (prod,staging)",
        "env notin (prod,staging)",
        "region in (eu),env notin (dev)",
        "example.com/gpu",
        "!example.com/gpu",
        "!env,region",
        "env,!region",
        "env=prod,env=dev",
        "env=prod,env=prod",
        "region!=us,example.com/gpu=a100",
        "env in (prod),env in (dev)",
        "missing!=x",
        "missing notin (x)",
        "missing in (x)",
    ];
    let page = PageParams {
        limit: Some(500),
        cursor: None,
    }
    .parse()
    .unwrap();
    for text in selectors {
        let selector = Selector::parse(text).unwrap();
        let want: Vec<&str> = all
            .iter()
            .filter(|(_, t)| selector.matches(t))
            .map(|(n, _)| n.as_str())
            .collect();
        let filter = Filter {
            selector,
            ..Filter::default()
        };
        let got = list(&app.pool, &filter, &page).await.unwrap();
        let got: Vec<&str> = got.items.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(got, want, "{text}");
    }
}
