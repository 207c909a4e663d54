//! Benchmark (not a test): register N environments spread over several Kubernetes test API
//! servers with a real `berth serve` process, then time one full probe round run by Berth's own
//! scheduler, and report Berth's peak memory. Prints a Markdown table.
//!
//! ```sh
//! cargo build -p berth -p berth-tests --bins
//! target/debug/bench-environments [ENVIRONMENTS] [SERVERS]     # defaults: 1000 10
//! ```
//! Needs PostgreSQL at `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! the `berth` binary next to this one (or at `BERTH_BIN`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth_tests::app::{admin_database_url, with_database};
use berth_tests::process::{BerthProcess, PROCESS_ADMIN_PASSWORD};
use futures::StreamExt;
use kube_test_api::{Identity, TestApiServer};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let servers: usize = args.next().map_or(Ok(10), |a| a.parse())?;

    let db_name = format!("berth_bench_{}", uuid::Uuid::new_v4().simple());
    let server_url = admin_database_url();
    let mut conn = PgConnection::connect(&server_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {db_name}")))
        .execute(&mut conn)
        .await?;
    let db_url = with_database(&server_url, &db_name);
    let data_dir = tempfile::tempdir()?;
    let result = run(count, servers, &db_url, data_dir.path()).await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {db_name} with (force)"
    )))
    .execute(&mut conn)
    .await;
    result
}

async fn run(
    count: usize,
    servers: usize,
    db_url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let berth = BerthProcess::start(db_url, data_dir, &[("BERTH_PROBE_INTERVAL", "1h")]).await?;
    let pid = berth.pid();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", berth.base))
        .json(&json!({"username": "admin", "password": PROCESS_ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login token")?.to_owned();
    let rss_idle = status_kb(pid, "VmRSS:").unwrap_or(0);

    let mut clusters = Vec::new();
    for _ in 0..servers {
        clusters.push(TestApiServer::start().await);
    }
    let kubeconfigs: Vec<String> = clusters
        .iter()
        .map(|c| c.kubeconfig(&Identity::Admin))
        .collect();

    let start = Instant::now();
    let failures: Vec<String> = futures::stream::iter(0..count)
        .map(|i| {
            let http = http.clone();
            let url = format!("{}/api/v1/environments", berth.base);
            let token = token.clone();
            let kubeconfig = kubeconfigs[i % servers].clone();
            async move {
                let region = ["eu", "us", "ap"][i % 3];
                let res = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"name": format!("env-{i:05}"), "kubeconfig": kubeconfig,
                                  "tags": {"env": if i % 2 == 0 { "prod" } else { "dev" }, "region": region}}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => None,
                    Ok(r) => Some(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
                    Err(e) => Some(e.to_string()),
                }
            }
        })
        .buffer_unordered(32)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    let register_time = start.elapsed();
    if let Some(f) = failures.first() {
        bail!("{} registrations failed, e.g. {f}", failures.len());
    }
    let rss_registered = status_kb(pid, "VmRSS:").unwrap_or(0);

    // One full round, run by Berth's own scheduler (it sweeps every second); the first builds
    // every kube client, the second reuses them.
    let mut db = PgConnection::connect(db_url).await?;
    let round_time = full_round(&mut db).await?;
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select min(last_probe_at), max(last_probe_at) from environment")
            .fetch_one(&mut db)
            .await?;
    let warm_time = full_round(&mut db).await?;
    let up: i64 = sqlx::query_scalar("select count(*) from environment where status = 'up'")
        .fetch_one(&mut db)
        .await?;
    let list_start = Instant::now();
    let page: Value = http
        .get(format!(
            "{}/api/v1/environments?selector=env%3Dprod%2Cregion%20in%20(eu%2Cus)&limit=500",
            berth.base
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let list_time = list_start.elapsed();
    let peak = status_kb(pid, "VmHWM:").unwrap_or(0);
    let rss_end = status_kb(pid, "VmRSS:").unwrap_or(0);

    let mb = |kb: u64| format!("{:.1} MiB", kb as f64 / 1024.0);
    println!("| measure | value |");
    println!("|---|---|");
    println!("| environments / test API servers | {count} / {servers} |");
    println!(
        "| registration (32 concurrent requests, each verifies the cluster) | {:.2} s ({:.0}/s) |",
        register_time.as_secs_f64(),
        count as f64 / register_time.as_secs_f64()
    );
    println!(
        "| full probe round, as seen from outside (incl. up to 1 s scheduler tick) | {:.2} s |",
        round_time.as_secs_f64()
    );
    println!(
        "| full probe round, first to last probe recorded | {:.2} s |",
        (last - first).num_milliseconds() as f64 / 1000.0
    );
    println!(
        "| second full round (kube clients cached, connections reused) | {:.2} s |",
        warm_time.as_secs_f64()
    );
    println!("| environments up after the rounds | {up} / {count} |");
    println!(
        "| selector list `env=prod,region in (eu,us)` (first page of {}) | {:.1} ms |",
        page["items"].as_array().map_or(0, Vec::len),
        list_time.as_secs_f64() * 1000.0
    );
    println!(
        "| Berth RSS idle / after registering / at the end | {} / {} / {} |",
        mb(rss_idle),
        mb(rss_registered),
        mb(rss_end)
    );
    println!("| Berth peak RSS (VmHWM) | {} |", mb(peak));
    Ok(())
}

/// Makes every environment due and waits until each has been probed; returns the elapsed time.
async fn full_round(db: &mut PgConnection) -> anyhow::Result<Duration> {
    sqlx::query("update environment set next_probe_at = now(), last_probe_at = null")
        .execute(&mut *db)
        .await?;
    let start = Instant::now();
    loop {
        let left: i64 =
            sqlx::query_scalar("select count(*) from environment where last_probe_at is null")
                .fetch_one(&mut *db)
                .await?;
        if left == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(600) {
            bail!("probe round not finished after 10 minutes ({left} left)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
