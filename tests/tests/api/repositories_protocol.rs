//! Which Git protocol a check speaks: protocol v2 servers are asked (`ls-refs` with ref
//! prefixes) for the refs stacks track and nothing else; servers without v2 answer with their v1
//! advertisement, which Berth filters itself. Counted by the fixture and by Berth's metrics.

use std::collections::BTreeSet;

use berth_tests::TestApp;
use berth_tests::repos::{add_stack, check_now, create_repo, events, id_of, spawn};
use git_fixtures::{GitHttpServer, GitRepo, UploadPackCommand};
use reqwest::Method;
use serde_json::json;

/// A repository with more refs than any stack tracks.
fn busy_repo() -> GitRepo {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    repo.tag("v1");
    for i in 0..20 {
        repo.branch(&format!("feature-{i}"));
    }
    repo.tag("v0-old");
    repo
}

/// The value of a counter line such as `name{protocol="v1",repository="r"} 3`.
async fn counter(app: &TestApp, name: &str, labels: &[&str]) -> u64 {
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|x| l.contains(x)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn a_server_without_protocol_v2_is_listed_from_its_v1_advertisement() {
    let app = spawn().await;
    let repo = busy_repo();
    let server = GitHttpServer::http().protocol_v0_only().serve(&[&repo]);
    let id = id_of(&create_repo(&app, "old-server", &server.url(&repo), json!({})).await);
    let stack = add_stack(&app, id, "web", "main", &["deploy"]).await;

    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed", "{check}");
    // The whole advertisement came, but only the tracked ref is kept.
    let listed: BTreeSet<String> = check["refs_listed"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, BTreeSet::from(["refs/heads/main".to_owned()]));
    let head = repo.commit_files(&[("deploy/a.yaml", "a: 2\n")], "change");
    assert_eq!(check_now(&app, id).await["outcome"], "changed");
    assert_eq!(events(&app, stack).await.last().unwrap().0, head);

    let stats = server.stats();
    assert_eq!(stats.ls_refs, 0, "{stats:?}");
    assert!(stats.v0_ref_advertisements >= 2, "{stats:?}");
    assert_eq!(stats.v0_ref_advertisements, stats.ref_advertisements);
    let v1 = counter(
        &app,
        "berth_git_ref_listings_by_protocol_total",
        &["protocol=\"v1\"", "repository=\"old-server\""],
    )
    .await;
    // The connection test and both checks.
    assert_eq!(v1, 3);
    assert_eq!(
        counter(
            &app,
            "berth_git_ref_listings_by_protocol_total",
            &["protocol=\"v2\"", "repository=\"old-server\""]
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_protocol_v2_server_is_asked_only_for_the_refs_stacks_track() {
    let app = spawn().await;
    let repo = busy_repo();
    let first = repo.head("main");
    let server = GitHttpServer::http().serve(&[&repo]);
    let id = id_of(&create_repo(&app, "modern", &server.url(&repo), json!({})).await);
    add_stack(&app, id, "branch", "main", &["deploy"]).await;
    add_stack(&app, id, "tag", "refs/tags/v1", &["deploy"]).await;
    add_stack(&app, id, "pinned", &first, &["deploy"]).await;
    server.reset_stats();

    let check = check_now(&app, id).await;
    assert_eq!(check["outcome"], "changed", "{check}");
    let listed: BTreeSet<String> = check["refs_listed"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from(["refs/heads/main".to_owned(), "refs/tags/v1".to_owned()])
    );
    let stats = server.stats();
    assert_eq!(stats.v0_ref_advertisements, 0, "{stats:?}");
    let ls_refs: Vec<Vec<String>> = server
        .requests()
        .into_iter()
        .filter(|r| r.command == Some(UploadPackCommand::LsRefs))
        .map(|r| {
            r.ls_refs_arguments
                .into_iter()
                .filter_map(|a| a.strip_prefix("ref-prefix ").map(str::to_owned))
                .collect()
        })
        .collect();
    // One listing for the whole check (the fetch rides on its connection), asking for exactly the
    // tracked refs (a short name may be a branch or a tag); the pinned commit came with them.
    let tracked = BTreeSet::from([
        "refs/heads/main".to_owned(),
        "refs/tags/main".to_owned(),
        "refs/tags/v1".to_owned(),
    ]);
    assert_eq!(ls_refs.len(), 1, "{ls_refs:?}");
    assert_eq!(
        ls_refs[0].iter().cloned().collect::<BTreeSet<_>>(),
        tracked,
        "{ls_refs:?}"
    );
    assert_eq!(stats.fetches, 1, "{stats:?}");
    assert!(
        ls_refs.iter().flatten().all(|p| !p.contains("feature")),
        "{ls_refs:?}"
    );
    assert_eq!(
        counter(
            &app,
            "berth_git_ref_listings_by_protocol_total",
            &["protocol=\"v2\"", "repository=\"modern\""],
        )
        .await,
        2
    );
}
