//! Benchmark (not a timed test): 1,000 stacks over 100 repositories on one schedule, served by
//! `git http-backend`. Prints a Markdown table: ref listings and fetches per round, round time,
//! and the cost of Berth's ref listing and depth-1 fetch against `git ls-remote` and
//! `git fetch --depth 1` on the same repositories.
//!
//! Run: `cargo run --release -p berth-tests --bin bench-git` (needs PostgreSQL, see DATABASE_URL).

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use berth::git::{GitAuth, Mirror, RemoteSpec};
use berth::stacks::store::NewStack;
use berth_tests::{TestApp, wait_for};
use git_fixtures::{GitHttpServer, GitRepo, git};
use reqwest::Method;
use serde_json::json;

const REPOS: usize = 100;
const STACKS_PER_REPO: usize = 10;

#[tokio::main]
async fn main() {
    let app = TestApp::spawn_with(|c| {
        c.min_poll_interval = Duration::from_secs(1);
        c.git_concurrency = 16;
        c.database_max_connections = 20;
    })
    .await;
    let files: Vec<(String, String)> = (0..STACKS_PER_REPO)
        .map(|i| {
            (
                format!("stack-{i}/app.yaml"),
                format!("kind: ConfigMap # {i}\n"),
            )
        })
        .collect();
    let file_refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let repos: Vec<GitRepo> = (0..REPOS)
        .map(|i| GitRepo::with_files(&format!("repo-{i:03}"), &file_refs))
        .collect();
    let server = GitHttpServer::http().serve(&repos.iter().collect::<Vec<_>>());
    let mut ids = Vec::new();
    for (i, repo) in repos.iter().enumerate() {
        let res = app
            .admin(Method::POST, "/api/v1/repositories")
            .json(
                &json!({"name": format!("repo-{i:03}"), "url": server.url(repo),
                          "schedule": {"kind": "manual"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        let id: uuid::Uuid = v["repository"]["id"].as_str().unwrap().parse().unwrap();
        for s in 0..STACKS_PER_REPO {
            berth::stacks::store::insert(
                &app.pool,
                &NewStack {
                    name: format!("repo-{i:03}-stack-{s}"),
                    repository_id: id,
                    git_ref: "main".into(),
                    paths: vec![format!("stack-{s}")],
                    watched_paths: Vec::new(),
                    auto_deploy: true,
                },
            )
            .await
            .unwrap();
        }
        ids.push(id);
    }
    // One schedule for every repository: all due at once, each round.
    sqlx::query("update repository set schedule_kind = 'interval', interval_seconds = 3600")
        .execute(&app.pool)
        .await
        .unwrap();

    let mut rows = Vec::new();
    for (round, change) in [
        ("1: first sight", false),
        ("2: nothing moved", false),
        ("3: one path changed in every repository", true),
    ] {
        if change {
            for repo in &repos {
                repo.commit_files(&[("stack-0/app.yaml", "kind: Secret\n")], "change stack-0");
            }
        }
        server.reset_stats();
        let before: i64 =
            sqlx::query_scalar("select count(*) from repository_check where status = 'done'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        let started = Instant::now();
        sqlx::query("update repository set next_run_at = now()")
            .execute(&app.pool)
            .await
            .unwrap();
        sqlx::query("select pg_notify('berth_repositories', '')")
            .execute(&app.pool)
            .await
            .unwrap();
        wait_for("the round to finish", Duration::from_secs(300), || async {
            let done: i64 =
                sqlx::query_scalar("select count(*) from repository_check where status = 'done'")
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
            (done >= before + i64::try_from(REPOS).unwrap()).then_some(())
        })
        .await;
        let elapsed = started.elapsed();
        let stats = server.stats();
        let events: i64 = sqlx::query_scalar("select count(*) from deployment_event")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let mean_ms: f64 = sqlx::query_scalar(
            "select avg(duration_ms)::float8 from (select duration_ms from repository_check \
             where status = 'done' order by finished_at desc limit $1) t",
        )
        .bind(i64::try_from(REPOS).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        rows.push(format!(
            "| {round} | {} | {} | {} | {:.2} s | {mean_ms:.0} ms | {events} |",
            stats.ls_refs,
            stats.ref_advertisements,
            stats.fetches,
            elapsed.as_secs_f64()
        ));
    }

    // Raw cost, one repository at a time: Berth's git layer against the git CLI.
    let remote = |repo: &GitRepo| RemoteSpec {
        url: server.url(repo),
        auth: GitAuth::None,
        ca_bundle: None,
        skip_tls_verify: false,
        timeout: Duration::from_secs(30),
    };
    let dir = tempfile::tempdir().unwrap();
    let wanted = vec!["refs/heads/main".to_owned()];
    let t = Instant::now();
    for (i, repo) in repos.iter().enumerate() {
        let mirror = Mirror::new(dir.path().join(format!("ls-{i}.git")));
        berth::git::list_refs(&mirror, &remote(repo), &wanted).unwrap();
    }
    let berth_ls = t.elapsed();
    let t = Instant::now();
    for repo in &repos {
        git(["ls-remote", &server.url(repo), "refs/heads/main"]).run_ok();
    }
    let git_ls = t.elapsed();
    let t = Instant::now();
    for (i, repo) in repos.iter().enumerate() {
        let mirror = Mirror::new(dir.path().join(format!("f-{i}.git")));
        berth::git::fetch_commit(
            &mirror,
            &remote(repo),
            &repo.head("main"),
            &AtomicBool::new(false),
        )
        .unwrap();
    }
    let berth_fetch = t.elapsed();
    let t = Instant::now();
    for (i, repo) in repos.iter().enumerate() {
        let path = dir.path().join(format!("g-{i}.git"));
        let path = path.to_str().unwrap();
        git(["init", "-q", "--bare", path]).run_ok();
        git([
            "-C",
            path,
            "fetch",
            "-q",
            "--depth",
            "1",
            &server.url(repo),
            &repo.head("main"),
        ])
        .run_ok();
    }
    let git_fetch = t.elapsed();

    println!(
        "## Git change detection: {REPOS} repositories, {} stacks, one schedule\n",
        REPOS * STACKS_PER_REPO
    );
    println!(
        "| round | ls-refs (v2) | ref advertisements | fetches | round time | mean check | deployment events (total) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / REPOS as f64;
    println!(
        "\n| operation ({REPOS} repositories, sequential) | Berth (gix) | git CLI | ratio Berth/git |"
    );
    println!("|---|---|---|---|");
    println!(
        "| ref listing vs `git ls-remote` | {:.1} ms | {:.1} ms | {:.2} |",
        per(berth_ls),
        per(git_ls),
        berth_ls.as_secs_f64() / git_ls.as_secs_f64()
    );
    println!(
        "| depth-1 fetch vs `git fetch --depth 1` | {:.1} ms | {:.1} ms | {:.2} |",
        per(berth_fetch),
        per(git_fetch),
        berth_fetch.as_secs_f64() / git_fetch.as_secs_f64()
    );
    app.stop().await;
}
