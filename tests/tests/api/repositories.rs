//! Repositories against real git servers: registration and refusals, credentials, change
//! detection per stack, failures and backoff, schedules across two replicas.

use std::time::Duration;

use berth_tests::wait_for;
use git_fixtures::{Fault, GitDaemon, GitHttpServer, GitRepo};
use reqwest::Method;
use serde_json::{Value, json};

use crate::error_of;
use berth_tests::repos::{
    add_stack, check_now, checks_of, create_repo, events, id_of, last_seen, spawn,
};

#[tokio::test]
async fn an_https_repository_with_a_token_and_ca_bundle_is_registered_and_its_secrets_stay_sealed()
{
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    let https = GitHttpServer::https()
        .basic_auth("bot", "t0ken-xyz")
        .serve(&[&repo]);
    let created = create_repo(
        &app,
        "app",
        &https.url(&repo),
        json!({"credentials": {"kind": "https", "username": "bot", "token": "t0ken-xyz"},
               "ca_bundle": https.ca_pem().unwrap(), "schedule": {"interval": "5m"}}),
    )
    .await;
    let text = created.to_string();
    assert!(!text.contains("t0ken-xyz"), "{text}");
    let r = &created["repository"];
    assert_eq!(r["auth_kind"], "https");
    assert_eq!(r["has_credential"], true);
    assert_eq!(r["schedule"]["interval"], "5m");
    assert!(r["status"]["next_check_at"].is_string());
    let secret = created["webhook_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    // Sealed at rest: neither the token nor the webhook secret appear in the row.
    let (cred, hook): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("select sealed_credential, sealed_webhook_secret from repository")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!String::from_utf8_lossy(&cred).contains("t0ken"));
    assert!(!String::from_utf8_lossy(&hook).contains(&secret));
    // Admins can read the webhook secret again; viewers cannot.
    let id = id_of(&created);
    let got: Value = app
        .admin(
            Method::GET,
            &format!("/api/v1/repositories/{id}/webhook-secret"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["webhook_secret"], secret.as_str());
    let viewer = app.user_with_role("vera", "viewer").await;
    let res = app
        .as_token(
            &viewer,
            Method::GET,
            &format!("/api/v1/repositories/{id}/webhook-secret"),
        )
        .send()
        .await
        .unwrap();
    error_of(res, 403).await;
    let res = app
        .as_token(&viewer, Method::GET, &format!("/api/v1/repositories/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!app.audit_actions("repository.create").await.is_empty());
}

async fn refused(app: &berth_tests::TestApp, body: Value) -> (String, Option<String>, String) {
    let res = app
        .admin(Method::POST, "/api/v1/repositories")
        .json(&body)
        .send()
        .await
        .unwrap();
    error_of(res, 422).await
}

#[tokio::test]
async fn connection_failures_are_explained_and_nothing_is_saved() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("x", "1")]);
    let https = GitHttpServer::https()
        .basic_auth("bot", "right")
        .serve(&[&repo]);
    let ca = https.ca_pem().unwrap().to_owned();
    let cases = [
        (
            json!({"name": "a", "url": https.url(&repo), "ca_bundle": ca,
                   "credentials": {"kind": "https", "username": "bot", "token": "wrong"}}),
            "credentials",
            "authentication",
        ),
        (
            json!({"name": "a", "url": https.url(&repo), "ca_bundle": ca}),
            "credentials",
            "authentication",
        ),
        (
            json!({"name": "a", "url": https.url(&repo),
                   "credentials": {"kind": "https", "username": "bot", "token": "right"}}),
            "ca_bundle",
            "TLS",
        ),
        (
            json!({"name": "a", "url": https.url_for("missing"), "ca_bundle": ca,
                   "credentials": {"kind": "https", "username": "bot", "token": "right"}}),
            "url",
            "not found",
        ),
        (
            json!({"name": "a", "url": "https://no-such-host.invalid/x.git"}),
            "url",
            "unknown host",
        ),
    ];
    for (body, field, words) in cases {
        let (code, f, message) = refused(&app, body.clone()).await;
        assert_eq!(code, "connection_failed", "{body}");
        assert_eq!(f.as_deref(), Some(field), "{body}: {message}");
        assert!(message.contains(words), "{body}: {message}");
        assert!(
            !message.contains("right") && !message.contains("wrong"),
            "{message}"
        );
    }
    https.fail_with(Fault::Hang);
    let (_, _, message) = refused(
        &app,
        json!({"name": "a", "url": https.url(&repo), "ca_bundle": ca,
               "credentials": {"kind": "https", "username": "bot", "token": "right"}}),
    )
    .await;
    assert!(message.contains("timed out"), "{message}");
    https.heal();
    // skip_tls_verify works without the CA (and is flagged).
    let created = create_repo(
        &app,
        "insecure",
        &https.url(&repo),
        json!({"skip_tls_verify": true,
               "credentials": {"kind": "https", "username": "bot", "token": "right"}}),
    )
    .await;
    assert_eq!(created["repository"]["skip_tls_verify"], true);
    let count: i64 = sqlx::query_scalar("select count(*) from repository")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn local_urls_plain_http_credentials_and_bad_schedules_are_refused() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("x", "1")]);
    let http = GitHttpServer::http().serve(&[&repo]);
    let cases = [
        (
            json!({"name": "a", "url": repo.file_url()}),
            "url",
            "server's own disk",
        ),
        (
            json!({"name": "a", "url": repo.bare_path().display().to_string()}),
            "url",
            "server's own disk",
        ),
        (
            json!({"name": "a", "url": "ftp://h/x.git"}),
            "url",
            "not supported",
        ),
        (
            json!({"name": "a", "url": "https://u:p@h/x.git"}),
            "url",
            "credentials",
        ),
        (
            json!({"name": "a", "url": http.url(&repo),
                   "credentials": {"kind": "https", "username": "u", "token": "t"}}),
            "credentials.kind",
            "plain http",
        ),
        (
            json!({"name": "a", "url": "git@github.com:o/a.git",
                   "credentials": {"kind": "ssh", "private_key": "nope", "known_hosts": "github.com ssh-ed25519 AAAA"}}),
            "credentials.private_key",
            "private key",
        ),
        (
            json!({"name": "a", "url": http.url(&repo), "schedule": {"interval": "0s"}}),
            "schedule.interval",
            "at least",
        ),
        (
            json!({"name": "a", "url": http.url(&repo), "schedule": {"cron": "0 9 * * *", "time_zone": "Nowhere/City"}}),
            "schedule.time_zone",
            "unknown time zone",
        ),
        (
            json!({"name": "a", "url": http.url(&repo), "ca_bundle": "not pem"}),
            "ca_bundle",
            "PEM",
        ),
    ];
    for (body, field, words) in cases {
        let (_, f, message) = refused(&app, body.clone()).await;
        assert_eq!(f.as_deref(), Some(field), "{body}: {message}");
        assert!(message.contains(words), "{body}: {message}");
    }
    // Plain http without credentials works, and is flagged.
    let created = create_repo(&app, "plain", &http.url(&repo), json!({})).await;
    assert_eq!(created["repository"]["insecure_url"], true);
    // Operators may allow local repositories.
    let local = berth_tests::TestApp::spawn_with(|c| c.allow_local_repositories = true).await;
    let created = create_repo(&local, "local", &repo.file_url(), json!({})).await;
    assert_eq!(created["repository"]["scheme"], "file");
}

#[tokio::test]
async fn repositories_are_paginated_updated_and_deleted_only_with_force_when_stacks_use_them() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let mut ids = Vec::new();
    for name in ["r1", "r2", "r3"] {
        ids.push(id_of(
            &create_repo(&app, name, &daemon.url(&repo), json!({})).await,
        ));
    }
    let page: Value = app
        .admin(Method::GET, "/api/v1/repositories?limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .admin(
            Method::GET,
            &format!("/api/v1/repositories?limit=2&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["name"], "r3");
    assert!(next["next_cursor"].is_null());
    let taken = app
        .admin(Method::POST, "/api/v1/repositories")
        .json(&json!({"name": "r1", "url": daemon.url(&repo)}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(taken, 409).await.1.as_deref(), Some("name"));

    // Schedule edits apply at once: manual has no next check, an interval has one.
    let patched: Value = app
        .admin(Method::PATCH, &format!("/api/v1/repositories/{}", ids[0]))
        .json(&json!({"schedule": {"cron": "*/5 * * * *", "time_zone": "Europe/Paris"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["schedule"]["time_zone"], "Europe/Paris");
    assert!(patched["status"]["next_check_at"].is_string());
    let paused: Value = app
        .admin(Method::PATCH, &format!("/api/v1/repositories/{}", ids[0]))
        .json(&json!({"paused": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(paused["status"]["next_check_at"].is_null());

    add_stack(&app, ids[1], "web", "main", &["x"]).await;
    let res = app
        .admin(Method::DELETE, &format!("/api/v1/repositories/{}", ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 409).await.0, "in_use");
    let res = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/repositories/{}?force=true", ids[1]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let stacks: i64 = sqlx::query_scalar("select count(*) from stack")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stacks, 0);
    let res = app
        .admin(Method::DELETE, &format!("/api/v1/repositories/{}", ids[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn only_stacks_whose_paths_changed_get_a_deployment_event_at_exactly_the_listed_commit() {
    let app = spawn().await;
    let repo = GitRepo::with_files(
        "app",
        &[
            ("a/app.yaml", "a: 1\n"),
            ("b/app.yaml", "b: 1\n"),
            ("README", "hi\n"),
        ],
    );
    let first = repo.head("main");
    repo.tag("v1");
    let daemon = GitDaemon::serve(&[&repo]);
    let created = create_repo(&app, "app", &daemon.url(&repo), json!({})).await;
    let id = id_of(&created);
    let a = add_stack(&app, id, "a", "main", &["a"]).await;
    let b = add_stack(&app, id, "b", "refs/heads/main", &["b/"]).await;
    let tagged = add_stack(&app, id, "tagged", "v1", &["a"]).await;
    let pinned = add_stack(&app, id, "pinned", &first, &["a"]).await;

    // First sight: every stack deploys what it tracks.
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed", "{check}");
    assert_eq!(check["deployment_event_ids"].as_array().unwrap().len(), 4);
    for s in [a, b, tagged, pinned] {
        assert_eq!(
            events(&app, s).await,
            vec![(first.clone(), "manual".to_owned())]
        );
    }

    // Unchanged refs: nothing fetched, nothing emitted.
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "unchanged");
    assert!(check["fetched_commits"].as_array().unwrap().is_empty());

    // A commit that changes only b/: stack b deploys, stack a records the commit as seen.
    let second = repo.commit_files(&[("b/app.yaml", "b: 2\n")], "b only");
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed");
    assert_eq!(check["refs_listed"]["refs/heads/main"], second.as_str());
    assert_eq!(events(&app, b).await.len(), 2);
    assert_eq!(events(&app, b).await[1].0, second);
    assert_eq!(events(&app, a).await.len(), 1);
    assert_eq!(last_seen(&app, a).await.as_deref(), Some(second.as_str()));

    // A commit that changes nothing under any path.
    let third = repo.commit_files(&[("README", "hello\n")], "docs");
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "moved", "{check}");
    assert_eq!(events(&app, a).await.len(), 1);
    assert_eq!(events(&app, b).await.len(), 2);
    assert_eq!(last_seen(&app, b).await.as_deref(), Some(third.as_str()));

    // The mirror is a cache: deleted between checks, it is rebuilt.
    std::fs::remove_dir_all(app.data_dir.path().join("git").join(format!("{id}.git"))).unwrap();
    let fourth = repo.commit_files(&[("a/app.yaml", "a: 2\n")], "a changes");
    check_now(&app, id).await;
    assert_eq!(events(&app, a).await.last().unwrap().0, fourth);

    // Force-push back to the first commit: b's files differ from what was last seen.
    repo.reset_hard(&first);
    let check = check_now(&app, id).await;
    assert_eq!(check["refs_listed"]["refs/heads/main"], first.as_str());
    assert_eq!(events(&app, b).await.last().unwrap().0, first);
    assert_eq!(events(&app, a).await.last().unwrap().0, first);

    // A tag moved to a commit that changes a/: the tag's stack deploys; the pin never moves.
    let fifth = repo.commit_files(&[("a/app.yaml", "a: 3\n")], "a again");
    repo.delete_tag("v1");
    repo.tag("v1");
    check_now(&app, id).await;
    assert_eq!(events(&app, tagged).await.last().unwrap().0, fifth);
    assert_eq!(events(&app, pinned).await.len(), 1);
    assert_eq!(
        last_seen(&app, pinned).await.as_deref(),
        Some(first.as_str())
    );
}

#[tokio::test]
async fn a_repository_deleted_upstream_fails_visibly_and_backs_off() {
    let app = spawn().await;
    let repo = GitRepo::with_files("gone", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let created = create_repo(
        &app,
        "gone",
        &daemon.url(&repo),
        json!({"schedule": {"interval": "10s"}}),
    )
    .await;
    let id = id_of(&created);
    add_stack(&app, id, "s", "main", &["a"]).await;
    repo.delete_repository();
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "failed");
    assert_eq!(check["error_kind"], "not_found", "{check}");
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "failed");
    let r: Value = app
        .admin(Method::GET, &format!("/api/v1/repositories/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status = &r["status"];
    assert_eq!(status["consecutive_failures"], 2, "{r}");
    assert_eq!(status["last_outcome"], "failed");
    assert!(status["last_error"].as_str().unwrap().contains("not found"));
    assert!(status["last_check_duration_ms"].is_number());
    // Two failures on a 10 s schedule: the next check is at least 40 s away.
    let next: chrono::DateTime<chrono::Utc> =
        status["next_check_at"].as_str().unwrap().parse().unwrap();
    assert!(
        next - chrono::Utc::now() > chrono::Duration::seconds(30),
        "{next}"
    );
    // Back upstream: the next check succeeds and resets the count.
    repo.restore_repository();
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed");
    let failures: i32 = sqlx::query_scalar("select consecutive_failures from repository")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn authentication_failures_after_registration_are_recorded_per_repository() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let https = GitHttpServer::https()
        .basic_auth("bot", "tok")
        .serve(&[&repo]);
    let created = create_repo(
        &app,
        "app",
        &https.url(&repo),
        json!({"ca_bundle": https.ca_pem().unwrap(),
               "credentials": {"kind": "https", "username": "bot", "token": "tok"}}),
    )
    .await;
    let id = id_of(&created);
    add_stack(&app, id, "s", "main", &["a"]).await;
    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed");
    // The token is revoked upstream: change it to a wrong one without a test (the test fails).
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/repositories/{id}"))
        .json(&json!({"credentials": {"kind": "https", "username": "bot", "token": "revoked"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 422).await.0, "connection_failed");
    https.fail_with(Fault::Status(401));
    let check = check_now(&app, id).await;
    assert_eq!(check["error_kind"], "authentication", "{check}");
}

#[tokio::test]
async fn two_replicas_on_one_database_handle_each_scheduled_tick_exactly_once() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let url =
        berth_tests::app::with_database(&berth_tests::app::admin_database_url(), &app.db_name);
    let config = berth::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(berth::crypto::Secret::new(url)),
        data_dir: app.data_dir.path().to_path_buf(),
        database_max_connections: 4,
        min_poll_interval: Duration::from_secs(1),
        ..berth::config::Config::default()
    };
    let replica = berth::Application::build(config, None).await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let stopped = stop.clone();
    let task = tokio::spawn(replica.run_until(async move { stopped.cancelled().await }));
    let created = create_repo(
        &app,
        "app",
        &daemon.url(&repo),
        json!({"schedule": {"cron": "*/2 * * * * *"}}),
    )
    .await;
    let id = id_of(&created);
    add_stack(&app, id, "s", "main", &["a"]).await;
    wait_for("five scheduled checks", Duration::from_secs(30), || async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from repository_check where trigger = 'schedule' and status = 'done'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        (n >= 5).then_some(())
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    // One check per 2-second tick, never two.
    let per_tick: Vec<(f64, i64)> = sqlx::query_as(
        "select floor(extract(epoch from requested_at) / 2)::float8 as tick, count(*) \
         from repository_check where trigger = 'schedule' group by 1 order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(per_tick.iter().all(|(_, n)| *n == 1), "{per_tick:?}");
    // Exactly one deployment event: the ref never moved.
    let events: i64 = sqlx::query_scalar("select count(*) from deployment_event")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(events, 1);
    assert!(checks_of(&app, id).await >= 5);
}

/// Restarts are covered with a real process in `server/tests/restart.rs`.
#[tokio::test]
async fn a_paused_repository_is_not_polled() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let created = create_repo(
        &app,
        "app",
        &daemon.url(&repo),
        json!({"schedule": {"interval": "1s"}, "paused": true}),
    )
    .await;
    let id = id_of(&created);
    assert!(created["repository"]["status"]["next_check_at"].is_null());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(checks_of(&app, id).await, 0);
    let paused: bool = sqlx::query_scalar("select paused from repository")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(paused);
}

#[tokio::test]
async fn a_paused_stack_gets_no_deployment_event_until_it_is_resumed() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let id = id_of(&create_repo(&app, "app", &daemon.url(&repo), json!({})).await);
    let live = add_stack(&app, id, "live", "main", &["a"]).await;
    let held = add_stack(&app, id, "held", "main", &["a"]).await;
    berth::stacks::store::set_paused(&app.pool, held, true)
        .await
        .unwrap();
    check_now(&app, id).await;
    assert_eq!(events(&app, live).await.len(), 1);
    assert!(events(&app, held).await.is_empty());
    berth::stacks::store::set_paused(&app.pool, held, false)
        .await
        .unwrap();
    check_now(&app, id).await;
    assert_eq!(events(&app, held).await.len(), 1);
    assert_eq!(events(&app, live).await.len(), 1);
}

#[tokio::test]
async fn git_metrics_count_ref_listings_and_fetches_by_repository() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let id = id_of(&create_repo(&app, "metered", &daemon.url(&repo), json!({})).await);
    add_stack(&app, id, "s", "main", &["a"]).await;
    check_now(&app, id).await;
    let metrics = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "berth_git_ref_listings_total{repository=\"metered\"}",
        "berth_git_fetches_total{repository=\"metered\"}",
        "berth_git_fetch_bytes_total{repository=\"metered\"}",
        "berth_git_operation_seconds",
        "berth_repository_checks_total",
    ] {
        assert!(metrics.contains(name), "{name} missing");
    }
}

#[tokio::test]
async fn a_check_whose_replica_died_is_ended_and_queued_again() {
    let app = spawn().await;
    let repo = GitRepo::with_files("app", &[("a/x", "1")]);
    let daemon = GitDaemon::serve(&[&repo]);
    let id = id_of(&create_repo(&app, "app", &daemon.url(&repo), json!({})).await);
    let stack = add_stack(&app, id, "s", "main", &["a"]).await;
    // A check claimed by a replica that stopped renewing its lease.
    sqlx::query(
        "insert into repository_check (repository_check_id, repository_id, trigger, status, \
           started_at, claimed_by, lease_until) \
         values (gen_random_uuid(), $1, 'schedule', 'running', now() - interval '5 minutes', \
           gen_random_uuid(), now() - interval '1 second')",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    wait_for("the lost check to be replaced", Duration::from_secs(20), || async {
        let done: Vec<(String, Option<String>)> = sqlx::query_as(
            "select outcome, error from repository_check where status = 'done' order by requested_at",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(o, e): (Option<String>, Option<String>)| (o.unwrap_or_default(), e))
        .collect();
        (done.len() == 2).then_some(done)
    })
    .await;
    assert_eq!(events(&app, stack).await.len(), 1);
    let interrupted: i64 =
        sqlx::query_scalar("select count(*) from repository_check where error like 'interrupted%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(interrupted, 1);
}
