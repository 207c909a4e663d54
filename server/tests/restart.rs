//! Schedules survive restarts: a real `berth serve` process on a test database polls a repository
//! on a short schedule, is stopped with SIGTERM while a tick falls due, and is started again. The
//! schedule resumes from `next_run_at` in PostgreSQL: the missed tick runs once after the start,
//! the commit pushed meanwhile is deployed once, nothing runs twice, and a paused repository stays
//! paused.

mod support;

use std::time::Duration;

use berth::stacks::store::NewStack;
use chrono::{DateTime, Utc};
use git_fixtures::{GitDaemon, GitRepo};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use support::{ADMIN_PASSWORD, Berth};
use uuid::Uuid;

/// The poll interval of the ticking repository: long enough to tell a schedule resumed from
/// PostgreSQL (the missed tick runs at once) from one restarted at the start (a full interval
/// later).
const INTERVAL_SECS: i64 = 5;

fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database, dropped when this is dropped.
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Self {
        let name = format!("berth_restart_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let url = format!("{}/{name}", server_url().rsplit_once('/').unwrap().0);
        Self { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("drop database if exists {} with (force)", self.name);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&server_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Polls `check` every 100 ms until it returns `Some`, failing after `timeout`.
async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts `berth serve` on the database (off the async runtime: it blocks reading the log).
async fn start(data_dir: &std::path::Path, db: &str) -> Berth {
    let data_dir = data_dir.to_owned();
    let db = db.to_owned();
    tokio::task::spawn_blocking(move || {
        Berth::start(
            &data_dir,
            &[
                ("BERTH_DATABASE_URL", &db),
                ("BERTH_MIN_POLL_INTERVAL", "1s"),
                ("BERTH_GIT_TIMEOUT", "5s"),
                ("BERTH_LOG", "info,berth=debug"),
            ],
        )
    })
    .await
    .unwrap()
}

/// SIGTERM, and the process exits cleanly.
async fn stop(berth: Berth) {
    let (ok, log) = tokio::task::spawn_blocking(move || berth.stop_with("-TERM"))
        .await
        .unwrap();
    assert!(ok, "clean exit on SIGTERM:\n{}", log.join("\n"));
}

async fn api(
    http: &reqwest::Client,
    berth: &Berth,
    token: &str,
    path: &str,
    body: &Value,
) -> Value {
    let res = http
        .post(format!("http://{}{path}", berth.addr))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {answer}");
    answer
}

async fn login(http: &reqwest::Client, berth: &Berth) -> String {
    let res = http
        .post(format!("http://{}/api/v1/auth/login", berth.addr))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// Scheduled checks of a repository, by start: (started, status); not started ones last.
async fn scheduled(pool: &PgPool, repo: Uuid) -> Vec<(Option<DateTime<Utc>>, String)> {
    sqlx::query_as(
        "select started_at, status from repository_check \
         where repository_id = $1 and trigger = 'schedule' order by started_at nulls last",
    )
    .bind(repo)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn db_now(pool: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("select now()")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restarted_berth_resumes_schedules_from_postgres_runs_the_missed_tick_once_and_keeps_pauses()
 {
    let db = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let berth = start(data_dir.path(), &db.url).await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&db.url)
        .await
        .unwrap();
    let token = login(&http, &berth).await;
    let ticking = api(
        &http,
        &berth,
        &token,
        "/api/v1/repositories",
        &json!({"name": "ticking", "url": daemon.url(&repo),
                "schedule": {"interval": format!("{INTERVAL_SECS}s")}}),
    )
    .await;
    let ticking: Uuid = ticking["repository"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let held = api(
        &http,
        &berth,
        &token,
        "/api/v1/repositories",
        &json!({"name": "held", "url": daemon.url(&repo),
                "schedule": {"interval": "1s"}, "paused": true}),
    )
    .await;
    let held: Uuid = held["repository"]["id"].as_str().unwrap().parse().unwrap();
    let mut stacks = Vec::new();
    for (name, repository) in [("web", ticking), ("held-web", held)] {
        let stack = berth::stacks::store::insert(
            &pool,
            &NewStack {
                name: name.into(),
                repository_id: repository,
                git_ref: "main".into(),
                paths: vec!["deploy".into()],
                watched_paths: Vec::new(),
                auto_deploy: true,
            },
        )
        .await
        .unwrap();
        stacks.push(stack.id);
    }
    let first = repo.head("main");
    wait_for("a scheduled check", Duration::from_secs(30), || async {
        let done = scheduled(&pool, ticking)
            .await
            .iter()
            .filter(|(_, s)| s == "done")
            .count();
        (done >= 1).then_some(())
    })
    .await;

    stop(berth).await;
    let stopped_at = db_now(&pool).await;
    let before = scheduled(&pool, ticking).await;
    // A graceful stop finishes running checks; one queued by the last sweep may wait (durably).
    assert!(
        before.iter().all(|(_, s)| s == "done" || s == "queued"),
        "{before:?}"
    );
    let next_run: DateTime<Utc> =
        sqlx::query_scalar("select next_run_at from repository where repository_id = $1")
            .bind(ticking)
            .fetch_one(&pool)
            .await
            .unwrap();
    // While Berth is down: a commit lands, and at least two ticks fall due.
    let second = repo.commit_files(&[("deploy/a.yaml", "a: 2\n")], "while down");
    wait_for(
        "two ticks to pass while Berth is down",
        Duration::from_secs(30),
        || async {
            (db_now(&pool).await - next_run > chrono::Duration::seconds(2 * INTERVAL_SECS))
                .then_some(())
        },
    )
    .await;
    assert_eq!(scheduled(&pool, ticking).await.len(), before.len());

    let berth = start(data_dir.path(), &db.url).await;
    let listening_at = db_now(&pool).await;
    let after = wait_for(
        "two scheduled checks after the restart",
        Duration::from_secs(30),
        || async {
            let after: Vec<DateTime<Utc>> = scheduled(&pool, ticking)
                .await
                .into_iter()
                .filter(|(_, s)| s == "done")
                .filter_map(|(at, _)| at.filter(|at| *at > stopped_at))
                .collect();
            (after.len() >= 2).then_some(after)
        },
    )
    .await;
    // The missed ticks became one check, soon after the start; the schedule then resumed.
    let resumed = after[0];
    assert!(
        resumed - listening_at < chrono::Duration::seconds(3),
        "the check due while Berth was down ran as soon as it started ({resumed} vs {listening_at})"
    );
    let gap = after[1] - resumed;
    assert!(
        gap >= chrono::Duration::milliseconds(INTERVAL_SECS * 1000 - 500),
        "one check for all the missed ticks, then the interval: {after:?}"
    );
    // Exactly one deployment event per commit: the first, and the one pushed while down.
    let events: Vec<(String, String)> = sqlx::query_as(
        "select commit, trigger from deployment_event where stack_id = $1 order by created_at",
    )
    .bind(stacks[0])
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        vec![(first, "poll".to_owned()), (second, "poll".to_owned())]
    );
    // The paused repository never ran and is still paused, with no next check.
    let (paused, next): (bool, Option<DateTime<Utc>>) =
        sqlx::query_as("select paused, next_run_at from repository where repository_id = $1")
            .bind(held)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(paused && next.is_none());
    let held_checks: i64 =
        sqlx::query_scalar("select count(*) from repository_check where repository_id = $1")
            .bind(held)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(held_checks, 0);
    stop(berth).await;
    pool.close().await;
}
