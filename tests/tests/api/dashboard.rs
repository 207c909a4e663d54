//! The endpoints the dashboard leans on: schedule previews, the fleet overview counts, the
//! failing-repositories filter, and `repository.checked` on the event stream.

use std::time::Duration;

use berth_tests::{TestApp, TestCluster};
use chrono::{DateTime, Utc};
use git_fixtures::{GitDaemon, GitRepo};
use kube_test_api::BadKubeconfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;
use berth_tests::repos::{check_now, create_repo, id_of, spawn};
use berth_tests::sse::events_until;

async fn preview(app: &TestApp, query: &str) -> reqwest::Response {
    app.admin(Method::GET, &format!("/api/v1/schedules/preview?{query}"))
        .send()
        .await
        .unwrap()
}

fn times(v: &Value) -> Vec<DateTime<Utc>> {
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_schedule_preview_lists_the_next_runs_of_an_interval_a_cron_and_nothing_for_manual() {
    let app = TestApp::spawn().await;

    let before = Utc::now();
    let res = preview(&app, "interval=10m&count=3").await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v["schedule"],
        json!({"kind": "interval", "interval": "10m"})
    );
    assert_eq!(v["min_interval"], "30s");
    assert_eq!(v["default_interval"], "5m");
    let runs = times(&v);
    assert_eq!(runs.len(), 3);
    assert!(runs[0] >= before + chrono::Duration::minutes(10), "{v}");
    assert_eq!(runs[1] - runs[0], chrono::Duration::minutes(10));
    assert_eq!(runs[2] - runs[1], chrono::Duration::minutes(10));

    // A cron in a time zone: 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC, every day.
    let res = preview(&app, "cron=0+9+*+*+*&time_zone=Asia/Tokyo").await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["schedule"]["kind"], "cron");
    assert_eq!(v["schedule"]["time_zone"], "Asia/Tokyo");
    let runs = times(&v);
    assert_eq!(runs.len(), 5, "default count is 5: {v}");
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.format("%H:%M:%S").to_string(), "00:00:00", "{v}");
        if i > 0 {
            assert_eq!(*run - runs[i - 1], chrono::Duration::days(1));
        }
    }

    // No schedule at all: the server's default interval.
    let v: Value = preview(&app, "count=1").await.json().await.unwrap();
    assert_eq!(v["schedule"]["interval"], "5m");

    let v: Value = preview(&app, "kind=manual").await.json().await.unwrap();
    assert_eq!(v["schedule"], json!({"kind": "manual"}));
    assert_eq!(v["runs"], json!([]));
}

#[tokio::test]
async fn an_invalid_schedule_preview_is_refused_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let cases = [
        ("interval=10s", "interval", "minimum"),
        ("interval=soon", "interval", ""),
        ("cron=*+*+*", "cron", "5 or 6 fields"),
        ("cron=61+*+*+*+*", "cron", "invalid cron"),
        ("cron=*/10+*+*+*+*+*", "cron", "more often"),
        (
            "cron=0+9+*+*+*&time_zone=Mars/Olympus",
            "time_zone",
            "Mars/Olympus",
        ),
        ("kind=hourly", "kind", "unknown kind"),
        ("kind=manual&interval=5m", "kind", ""),
        ("interval=5m&count=0", "count", "between 1 and 20"),
        ("interval=5m&count=21", "count", "between 1 and 20"),
        ("interval=5m&count=many", "count", ""),
        ("interval=5m&colour=red", "colour", ""),
    ];
    for (query, field, fragment) in cases {
        let res = preview(&app, query).await;
        assert_eq!(res.status(), 400, "{query}");
        let (code, got, message) = error_of(res, 400).await;
        assert_eq!(got.as_deref(), Some(field), "{query}: {message}");
        assert!(
            code == "validation" || code == "bad_request",
            "{query}: {code}"
        );
        assert!(message.contains(fragment), "{query}: {message}");
    }
    // Every role may preview; anonymous callers may not.
    let viewer = app.user_with_role("vic", "viewer").await;
    let res = app
        .as_token(
            &viewer,
            Method::GET,
            "/api/v1/schedules/preview?interval=1h",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .anon(Method::GET, "/api/v1/schedules/preview?interval=1h")
        .send()
        .await
        .unwrap();
    error_of(res, 401).await;
}

#[tokio::test]
async fn the_overview_counts_environments_by_status_and_failing_repositories() {
    let app = spawn().await;
    let cluster = TestCluster::start().await;
    let empty: Value = app
        .admin(Method::GET, "/api/v1/overview")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["environments"]["total"], 0);
    assert_eq!(empty["repositories"]["total"], 0);

    for (name, kubeconfig, verify) in [
        ("good", cluster.admin_kubeconfig(), true),
        (
            "gone",
            cluster.bad_kubeconfig(BadKubeconfig::WrongCa),
            false,
        ),
    ] {
        let res = app
            .admin(Method::POST, "/api/v1/environments")
            .json(&json!({"name": name, "kubeconfig": kubeconfig, "verify": verify}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    let healthy = GitRepo::with_files("healthy", &[("deploy/a.yaml", "a: 1\n")]);
    let doomed = GitRepo::with_files("doomed", &[("deploy/a.yaml", "a: 1\n")]);
    let daemon = GitDaemon::serve(&[&healthy, &doomed]);
    let ok = id_of(&create_repo(&app, "ok", &daemon.url(&healthy), json!({})).await);
    let broken = id_of(&create_repo(&app, "broken", &daemon.url(&doomed), json!({})).await);
    assert_eq!(check_now(&app, ok).await["outcome"], "unchanged");
    doomed.delete_repository();
    assert_eq!(check_now(&app, broken).await["outcome"], "failed");

    let v: Value = app
        .admin(Method::GET, "/api/v1/overview")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let envs = &v["environments"];
    assert_eq!(envs["total"], 2, "{v}");
    assert_eq!(envs["up"], 1, "{v}");
    assert_eq!(envs["down"], 1, "{v}");
    assert_eq!(envs["unauthorized"], 0, "{v}");
    assert_eq!(
        v["repositories"],
        json!({"total": 2, "failing": 1, "paused": 0})
    );

    // The list filter shows the same failing repository, and the others.
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for (query, want) in [
        ("failing=true", vec!["broken"]),
        ("failing=false", vec!["ok"]),
    ] {
        let v: Value = app
            .admin(Method::GET, &format!("/api/v1/repositories?{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(names(v), want, "{query}");
    }
    let res = app
        .admin(Method::GET, "/api/v1/repositories?failing=maybe")
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 400).await;
    assert_eq!(field.as_deref(), Some("failing"));
}

#[tokio::test]
async fn a_finished_check_is_announced_on_the_event_stream_with_the_new_status() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let id = id_of(&create_repo(&app, "app", &daemon.url(&repo), json!({})).await);
    let viewer = app.user_with_role("vic", "viewer").await;
    let events = app
        .as_token(&viewer, Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    let check = check_now(&app, id).await;
    let streamed = events_until(events, "repository.checked", Duration::from_secs(10)).await;
    let (_, event) = streamed
        .iter()
        .find(|(k, _)| k == "repository.checked")
        .expect("the event");
    assert_eq!(event["kind"], "repository.checked");
    let d = &event["data"];
    assert_eq!(d["id"], id.to_string());
    assert_eq!(d["name"], "app");
    assert_eq!(d["check_id"], check["id"]);
    assert_eq!(d["trigger"], "manual");
    assert_eq!(d["outcome"], "unchanged");
    assert_eq!(d["status"]["last_outcome"], "unchanged");
    assert_eq!(d["status"]["consecutive_failures"], 0);
    assert!(d["status"]["last_check_at"].is_string(), "{d}");
}
