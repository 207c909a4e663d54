//! Benchmark (not a timed test): 1,000 stacks over 100 repositories on one schedule, served by
//! `git http-backend`. Prints a Markdown table: ref listings and fetches per round, round time,
//! and the cost of Berth's ref listing and depth-1 fetch against `git ls-remote` and
//! `git fetch --depth 1` on the same repositories.
//!
//! Run: `cargo run --release -p berth-tests --bin bench-git [-- --repos 100 --stacks-per-repo 10]`
//! (needs PostgreSQL, see DATABASE_URL); `--smoke` is the tiny configuration the test suite runs;
//! `--json` prints the report the suite driver (`bench-suite`) reads.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use berth::git::{GitAuth, Mirror, RemoteSpec};
use berth::stacks::store::NewStack;
use berth_tests::bench::{Figure, Goal, Report, ms};
use berth_tests::{TestApp, wait_for};
use clap::Parser;
use git_fixtures::{GitHttpServer, GitRepo, git};
use reqwest::Method;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Berth's change detection against git ls-remote and git fetch --depth 1")]
struct Args {
    /// Repositories, all on one schedule.
    #[arg(long, default_value_t = 100)]
    repos: usize,
    /// Stacks on each repository (each its own path).
    #[arg(long, default_value_t = 10)]
    stacks_per_repo: usize,
    /// Tiny run (5 repositories × 2 stacks) for the test suite.
    #[arg(long)]
    smoke: bool,
    /// Print one JSON report line instead of tables.
    #[arg(long)]
    json: bool,
}

/// Ref listings, fetches and time of one poll round.
struct Round {
    listings: u64,
    fetches: u64,
    time: Duration,
    mean_check_ms: f64,
}

#[tokio::main]
#[allow(clippy::too_many_lines)]
async fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.repos = 5;
        args.stacks_per_repo = 2;
    }
    let (repos_n, stacks_n) = (args.repos, args.stacks_per_repo);
    let app = TestApp::spawn_with(|c| {
        c.min_poll_interval = Duration::from_secs(1);
        c.git_concurrency = 16;
        c.database_max_connections = 20;
    })
    .await;
    let files: Vec<(String, String)> = (0..stacks_n)
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
    let repos: Vec<GitRepo> = (0..repos_n)
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
        for s in 0..stacks_n {
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

    let mut rounds = Vec::new();
    // 1: first sight, 2: nothing moved, 3: one path changed in every repository.
    for change in [false, false, true] {
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
            (done >= before + i64::try_from(repos_n).unwrap()).then_some(())
        })
        .await;
        let elapsed = started.elapsed();
        let stats = server.stats();
        let mean_ms: f64 = sqlx::query_scalar(
            "select avg(duration_ms)::float8 from (select duration_ms from repository_check \
             where status = 'done' order by finished_at desc limit $1) t",
        )
        .bind(i64::try_from(repos_n).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        rounds.push(Round {
            listings: stats.ls_refs + stats.v0_ref_advertisements,
            fetches: stats.fetches,
            time: elapsed,
            mean_check_ms: mean_ms,
        });
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

    app.stop().await;

    let n = repos_n as f64;
    let mut report = Report::new(
        "bench-git",
        format!(
            "{repos_n} repositories × {stacks_n} stacks ({} stacks) on one schedule, git http-backend on \
             127.0.0.1; Berth in-process; git CLI comparisons sequential over every repository",
            repos_n * stacks_n
        ),
    );
    let [first, unchanged, changed] = &rounds[..] else {
        unreachable!("three rounds")
    };
    report.push(
        Figure::new(
            "git.listings.unchanged",
            "ref listings in a poll round where nothing moved",
            "count",
            vec![unchanged.listings as f64],
        )
        .goal(Goal::Exactly(n)),
    );
    report.push(
        Figure::new(
            "git.listings.changed",
            "ref listings in a poll round where one path changed in every repository",
            "count",
            vec![changed.listings as f64],
        )
        .goal(Goal::Exactly(n)),
    );
    report.push(Figure::new(
        "git.fetches.changed",
        "… depth-1 fetches in that round",
        "count",
        vec![changed.fetches as f64],
    ));
    for (key, what, r) in [
        ("git.round.first", "poll round time, first sight", first),
        (
            "git.round.unchanged",
            "poll round time, nothing moved",
            unchanged,
        ),
        (
            "git.round.changed",
            "poll round time, one path changed per repository",
            changed,
        ),
    ] {
        report.push(Figure::new(key, what, "s", vec![r.time.as_secs_f64()]));
    }
    report.push(Figure::new(
        "git.check.unchanged",
        "… mean duration of one repository check in the nothing-moved round",
        "ms",
        vec![unchanged.mean_check_ms],
    ));
    report.push(
        Figure::new(
            "git.ls_remote",
            "one ref listing (per repository, sequential)",
            "ms",
            vec![ms(berth_ls) / n],
        )
        .peer("git ls-remote", vec![ms(git_ls) / n])
        .goal(Goal::RatioAtMost(1.0)),
    );
    report.push(
        Figure::new(
            "git.fetch",
            "one depth-1 fetch of a commit into a bare mirror (per repository)",
            "ms",
            vec![ms(berth_fetch) / n],
        )
        .peer("git fetch --depth 1", vec![ms(git_fetch) / n])
        .goal(Goal::RatioAtMost(1.0)),
    );
    report.emit(args.json);
}
