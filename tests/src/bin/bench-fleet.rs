//! Benchmark (not a test): a large fleet at rest. A real `berth serve` process with 10,000
//! environments (over 10 Kubernetes test API servers in this process) and 10,000 stacks (over 100
//! repositories served by `git http-backend` over http on 127.0.0.1), at default probe and poll
//! schedules. Measures:
//!
//! - idle cost: Berth's CPU share of one core (utime + stime from `/proc/<pid>/stat`) and RSS over
//!   several 60 s windows, once every environment has been probed once (kube clients built);
//! - API latency: `GET /api/v1/environments` with a tag selector and pages of 50, walked page by
//!   page by 50 concurrent clients (tokio + reqwest), p50/p99 per run.
//!
//! Setup: one environment per test API server and every repository are registered through the
//! API; the other environments are inserted with SQL copying a registered row (credentials
//! re-sealed for their own id with the key Berth was started with), probes due spread over one
//! probe interval; stacks are inserted with SQL already in sync (last seen, latest and deployed
//! commit = the branch head, one explicit target each), polls due spread over one poll interval.
//! So Berth's own schedules run over every row exactly as after a long quiet period: each
//! environment probed once a minute (`/version` + node count), each repository's refs listed
//! every 5 minutes (no fetch: nothing moved), stack targets re-evaluated every minute.
//!
//! ```sh
//! cargo build --release -p berth -p berth-tests --bins
//! target/release/bench-fleet [--environments 10000 --stacks 10000 --windows 2 --window-seconds 60
//!                             --clients 50 --api-runs 2] [--json]
//! target/release/bench-fleet --smoke              # 40 environments, 40 stacks, seconds
//! ```
//! Needs PostgreSQL at `DATABASE_URL` and the `berth` binary next to this one (or `BERTH_BIN`).

use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use berth::crypto::Vault;
use berth_tests::bench::{
    BenchApi, BenchDatabase, Figure, Goal, Report, cpu_time, ms, percentile, poll, status_kb,
};
use berth_tests::process::BerthProcess;
use clap::Parser;
use futures::StreamExt;
use git_fixtures::{GitHttpServer, GitRepo};
use kube_test_api::{Identity, TestApiServer};
use rand::RngCore;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

#[derive(Parser, Debug, Clone)]
#[command(about = "Idle cost and API latency of Berth with a large fleet registered")]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    environments: usize,
    /// Kubernetes test API servers the environments are spread over.
    #[arg(long, default_value_t = 10)]
    servers: usize,
    #[arg(long, default_value_t = 10_000)]
    stacks: usize,
    #[arg(long, default_value_t = 100)]
    repositories: usize,
    /// Idle measurement windows, one after the other.
    #[arg(long, default_value_t = 2)]
    windows: usize,
    #[arg(long, default_value_t = 60)]
    window_seconds: u64,
    /// Probes (and polls) due are spread over this many seconds at start (the probe interval).
    #[arg(long, default_value_t = 60)]
    spread_seconds: u64,
    /// Concurrent API clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Requests per client per API run.
    #[arg(long, default_value_t = 40)]
    requests: usize,
    /// API measurement runs, one after the other.
    #[arg(long, default_value_t = 2)]
    api_runs: usize,
    /// Tiny run for the test suite.
    #[arg(long)]
    smoke: bool,
    /// Print one JSON report line instead of a table.
    #[arg(long)]
    json: bool,
}

/// The selector every API client lists with (about a third of the fleet matches).
const SELECTOR: &str = "env=prod,region in (eu,us)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args = Args {
            environments: 40,
            servers: 2,
            stacks: 40,
            repositories: 2,
            windows: 1,
            window_seconds: 3,
            spread_seconds: 0,
            clients: 5,
            requests: 4,
            api_runs: 1,
            ..args
        };
    }
    anyhow::ensure!(
        args.servers >= 1 && args.environments >= args.servers && args.repositories >= 1,
        "need at least one server, one environment per server and one repository"
    );
    let db = BenchDatabase::create().await?;
    let data_dir = tempfile::tempdir()?;
    let result = run(&args, &db.url, data_dir.path()).await;
    db.drop_now().await;
    result?.emit(args.json);
    Ok(())
}

fn tags(i: usize) -> Value {
    let env = if i.is_multiple_of(2) { "prod" } else { "dev" };
    let region = ["eu", "us", "ap"][i % 3];
    json!({"env": env, "region": region})
}

#[allow(clippy::too_many_lines)]
async fn run(args: &Args, db_url: &str, data_dir: &std::path::Path) -> anyhow::Result<Report> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let vault = Vault::from_key(&key);
    let key_text = base64::engine::general_purpose::STANDARD.encode(key);
    let berth = BerthProcess::start(db_url, data_dir, &[("BERTH_SECRET_KEY", &key_text)]).await?;
    let pid = berth.pid();
    let api = BenchApi::login(&berth.base).await?;
    let mut db = PgConnection::connect(db_url).await?;

    // Environments: one registered per test API server, the rest copied from those rows.
    let mut clusters = Vec::new();
    for _ in 0..args.servers {
        clusters.push(TestApiServer::start().await);
    }
    let mut templates = Vec::new();
    for (i, cluster) in clusters.iter().enumerate() {
        let v = api
            .call(
                Method::POST,
                "/environments",
                Some(json!({"name": format!("env-{i:05}"), "tags": tags(i),
                            "kubeconfig": cluster.kubeconfig(&Identity::Admin)})),
            )
            .await?;
        let id: Uuid = v["items"][0]["id"]
            .as_str()
            .context("environment id")?
            .parse()?;
        let sealed: Vec<u8> = sqlx::query_scalar(
            "select sealed_kubeconfig from environment where environment_id = $1",
        )
        .bind(id)
        .fetch_one(&mut db)
        .await?;
        let kubeconfig = vault
            .open(&sealed, &format!("environment:{id}"))
            .context("opening a registered kubeconfig with the bench's key")?;
        templates.push((id, kubeconfig));
    }
    let started = Instant::now();
    let mut env_ids: Vec<Uuid> = templates.iter().map(|(id, _)| *id).collect();
    let mut tx = sqlx::Connection::begin(&mut db).await?;
    for i in args.servers..args.environments {
        let (template, kubeconfig) = &templates[i % args.servers];
        let id = Uuid::new_v4();
        #[allow(clippy::cast_precision_loss)]
        let due_in = args.spread_seconds as f64 * i as f64 / args.environments as f64;
        sqlx::query(
            "insert into environment (environment_id, name, tags, default_namespace, server_url, \
               context_name, auth_kind, ca_fingerprint, client_cert_expires_at, \
               insecure_skip_tls_verify, sealed_kubeconfig, permissions, status, \
               kubernetes_version, node_count, next_probe_at) \
             select $1, $2, $3, default_namespace, server_url, context_name, auth_kind, \
               ca_fingerprint, client_cert_expires_at, insecure_skip_tls_verify, $4, permissions, \
               status, kubernetes_version, node_count, now() + make_interval(secs => $5) \
             from environment where environment_id = $6",
        )
        .bind(id)
        .bind(format!("env-{i:05}"))
        .bind(tags(i))
        .bind(vault.seal(kubeconfig, &format!("environment:{id}")))
        .bind(due_in)
        .bind(template)
        .execute(&mut *tx)
        .await?;
        env_ids.push(id);
    }
    tx.commit().await?;
    let env_insert = started.elapsed();

    // Repositories, registered through the API at the default poll interval.
    let per_repo = args.stacks.div_ceil(args.repositories);
    let files: Vec<(String, String)> = (0..per_repo)
        .map(|s| {
            (
                format!("s{s:03}/cm.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s{s:03}\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let repos: Vec<GitRepo> = (0..args.repositories)
        .map(|r| GitRepo::with_files(&format!("repo-{r:03}"), &refs))
        .collect();
    let server = GitHttpServer::http().serve(&repos.iter().collect::<Vec<_>>());
    let mut repo_ids = Vec::new();
    for (r, repo) in repos.iter().enumerate() {
        let v = api
            .call(
                Method::POST,
                "/repositories",
                Some(json!({"name": format!("repo-{r:03}"), "url": server.url(repo)})),
            )
            .await?;
        let id: Uuid = v["repository"]["id"]
            .as_str()
            .context("repository id")?
            .parse()?;
        repo_ids.push((id, repo.head("main")));
    }
    // Stacks, already deployed at the head (in sync), one explicit target each.
    let (mut ids, mut names, mut repo_col, mut paths, mut heads, mut targets) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for k in 0..args.stacks {
        let (r, s) = (k / per_repo, k % per_repo);
        ids.push(Uuid::new_v4());
        names.push(format!("repo-{r:03}-s{s:03}"));
        repo_col.push(repo_ids[r].0);
        paths.push(format!("s{s:03}"));
        heads.push(repo_ids[r].1.clone());
        targets.push(env_ids[k % env_ids.len()]);
    }
    let mut tx = sqlx::Connection::begin(&mut db).await?;
    sqlx::query(
        "insert into stack (stack_id, name, repository_id, ref, paths, auto_deploy, \
           last_seen_commit, latest_commit, deployed_commit, target_environment_ids, \
           wait_for_health) \
         select id, name, repo, 'main', array[path], true, head, head, head, array[target], false \
         from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::uuid[]) \
           as t(id, name, repo, path, head, target)",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&repo_col)
    .bind(&paths)
    .bind(&heads)
    .bind(&targets)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into stack_target (stack_id, environment_id, deployed_commit) \
         select id, target, head from unnest($1::uuid[], $2::uuid[], $3::text[]) \
           as t(id, target, head)",
    )
    .bind(&ids)
    .bind(&targets)
    .bind(&heads)
    .execute(&mut *tx)
    .await?;
    // Polls due spread over one poll interval, as after a long run.
    sqlx::query(
        "update repository set next_run_at = now() + \
           make_interval(secs => interval_seconds * random())",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    // Warm-up: every environment probed once (each kube client built once).
    let warm_started = Instant::now();
    poll(
        "every environment to be probed once",
        Duration::from_secs(args.spread_seconds + 300),
        Duration::from_millis(250),
        || {
            let db_url = db_url.to_owned();
            async move {
                let mut c = PgConnection::connect(&db_url).await?;
                let left: i64 = sqlx::query_scalar(
                    "select count(*) from environment where last_probe_at is null",
                )
                .fetch_one(&mut c)
                .await?;
                Ok((left == 0).then_some(()))
            }
        },
    )
    .await?;
    let warm_up = warm_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Idle windows.
    let mib = |kb: u64| kb as f64 / 1024.0;
    let (mut cpu, mut rss, mut probes, mut checks, mut deploys) =
        (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..args.windows {
        let since: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select now()")
            .fetch_one(&mut db)
            .await?;
        let cpu0 = cpu_time(pid)?;
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(args.window_seconds)).await;
        let used = cpu_time(pid)? - cpu0;
        let elapsed = t0.elapsed();
        cpu.push(used.as_secs_f64() / elapsed.as_secs_f64() * 100.0);
        rss.push(mib(status_kb(pid, "VmRSS:").unwrap_or(0)));
        let (p, c, d): (i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from environment where last_probe_at > $1), \
                    (select count(*) from repository_check where finished_at > $1), \
                    (select count(*) from deployment where created_at > $1)",
        )
        .bind(since)
        .fetch_one(&mut db)
        .await?;
        #[allow(clippy::cast_precision_loss)]
        {
            probes.push(p as f64);
            checks.push(c as f64);
            deploys.push(d as f64);
        }
    }

    // API latency under concurrent clients, walking the selector's pages.
    let (mut p50s, mut p99s, mut rates) = (vec![], vec![], vec![]);
    let matching = (0..args.environments)
        .filter(|i| i.is_multiple_of(2) && i % 3 != 2)
        .count();
    for _ in 0..args.api_runs {
        let t0 = Instant::now();
        let latencies: Vec<anyhow::Result<Vec<f64>>> = futures::stream::iter(0..args.clients)
            .map(|_| client_walk(api.clone(), args.requests))
            .buffer_unordered(args.clients)
            .collect()
            .await;
        let total = t0.elapsed();
        let mut all = Vec::new();
        for l in latencies {
            all.extend(l?);
        }
        p50s.push(percentile(&all, 50.0));
        p99s.push(percentile(&all, 99.0));
        #[allow(clippy::cast_precision_loss)]
        rates.push(all.len() as f64 / total.as_secs_f64());
    }
    let hwm = mib(status_kb(pid, "VmHWM:").unwrap_or(0));
    // Berth stops before the servers it talks to, so its last checks do not fail loudly.
    drop(berth);

    let mut report = Report::new(
        "bench-fleet",
        format!(
            "{} environments over {} test API servers, {} stacks over {} repositories, default \
             probe (1m) and poll (5m) schedules; {} inserted in {:.1} s; first probe of every \
             environment done {:.0} s after; Berth peak RSS {hwm:.0} MiB",
            args.environments,
            args.servers,
            args.stacks,
            args.repositories,
            args.environments - args.servers,
            env_insert.as_secs_f64(),
            warm_up.as_secs_f64()
        ),
    );
    let window = args.window_seconds;
    let fleet = format!(
        "{} environments + {} stacks",
        args.environments, args.stacks
    );
    report.push(
        Figure::new(
            "idle.cpu",
            &format!("idle cost with {fleet}: CPU share of one core over {window} s"),
            "%",
            cpu,
        )
        .goal(Goal::AtMost(25.0)),
    );
    report.push(
        Figure::new(
            "idle.rss",
            "… Berth RSS at the end of the window",
            "MiB",
            rss,
        )
        .goal(Goal::AtMost(512.0)),
    );
    report.push(Figure::new(
        "idle.probes",
        &format!("… environment probes done in the {window} s window"),
        "count",
        probes,
    ));
    report.push(Figure::new(
        "idle.checks",
        &format!("… repository checks (ref listings) done in the {window} s window"),
        "count",
        checks,
    ));
    report.push(
        Figure::new(
            "idle.deployments",
            &format!("… deployments started in the {window} s window"),
            "count",
            deploys,
        )
        .goal(Goal::Exactly(0.0)),
    );
    let list = format!(
        "`GET /environments?selector={SELECTOR}&limit=50` ({matching} of {} match), {} clients \
         walking pages",
        args.environments, args.clients
    );
    report.push(
        Figure::new("api.p50", &format!("API latency p50: {list}"), "ms", p50s)
            .goal(Goal::AtMost(100.0)),
    );
    report.push(Figure::new("api.p99", "… API latency p99", "ms", p99s).goal(Goal::AtMost(500.0)));
    report.push(Figure::new(
        "api.throughput",
        "… requests answered per second",
        "1/s",
        rates,
    ));
    Ok(report)
}

/// One client: `requests` page requests, following `next_cursor` and starting over at the end.
async fn client_walk(api: BenchApi, requests: usize) -> anyhow::Result<Vec<f64>> {
    let selector: String = form_urlencoded::byte_serialize(SELECTOR.as_bytes()).collect();
    let mut cursor: Option<String> = None;
    let mut out = Vec::with_capacity(requests);
    for _ in 0..requests {
        let mut url = format!(
            "{}/api/v1/environments?selector={selector}&limit=50",
            api.base
        );
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.extend(form_urlencoded::byte_serialize(c.as_bytes()));
        }
        let t0 = Instant::now();
        let res = api.http.get(&url).bearer_auth(&api.token).send().await?;
        let status = res.status();
        let page: Value = res.json().await?;
        out.push(ms(t0.elapsed()));
        anyhow::ensure!(status == 200, "list answered {status}: {page}");
        anyhow::ensure!(
            page["items"].as_array().is_some_and(|i| !i.is_empty()),
            "an empty page: {page}"
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    Ok(out)
}
