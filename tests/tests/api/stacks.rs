//! The stacks API: validation naming the field, roles, targets by id and selector following
//! environments as they join, change tags and leave, and environment deletion while targeted.

use std::time::Duration;

use berth_tests::wait_for;
use reqwest::Method;
use serde_json::{Value, json};

use crate::deploy_support::{Fleet, config_map, register_environment};
use crate::error_of;

#[tokio::test]
async fn invalid_stacks_are_refused_naming_the_field_and_nothing_is_saved() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let good = json!({"name": "web", "repository_id": f.repository_id, "ref": "main",
                      "paths": ["deploy"], "environment_ids": [f.environment_id], "paused": true});
    let cases = [
        (json!({"name": "Web App"}), 422, "name"),
        (json!({"ref": "a..b"}), 422, "ref"),
        (json!({"paths": ["../etc"]}), 422, "paths"),
        (
            json!({"watched_paths": ["/x/../../y"]}),
            422,
            "watched_paths",
        ),
        (json!({"selector": "env in ("}), 422, "selector"),
        (
            json!({"repository_id": uuid::Uuid::new_v4()}),
            422,
            "repository_id",
        ),
        (
            json!({"environment_ids": [uuid::Uuid::new_v4()]}),
            422,
            "environment_ids",
        ),
        (
            json!({"health_timeout_seconds": 0}),
            422,
            "health_timeout_seconds",
        ),
        (
            json!({"default_namespace": "Not_A_Namespace"}),
            422,
            "default_namespace",
        ),
        (json!({"renderer": "helm"}), 422, "renderer"),
        (json!({"surprise": true}), 422, "surprise"),
    ];
    for (change, status, field) in cases {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = f
            .app
            .admin(Method::POST, "/api/v1/stacks")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (_, got, message) = error_of(res, status).await;
        assert_eq!(got.as_deref(), Some(field), "{change}: {message}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from stack")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    f.stack("web", json!({"paused": true})).await;
    let res = f
        .app
        .admin(Method::POST, "/api/v1/stacks")
        .json(&good)
        .send()
        .await
        .unwrap();
    let (code, field, _) = error_of(res, 409).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("conflict", Some("name"))
    );
    assert!(!f.app.audit_actions("stack.create").await.is_empty());
}

#[tokio::test]
async fn viewers_read_operators_deploy_and_only_admins_manage_stacks() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("roles", json!({"paused": true})).await;
    let id = stack["id"].as_str().unwrap();
    let viewer = f.app.user_with_role("vic", "viewer").await;
    let operator = f.app.user_with_role("otto", "operator").await;
    let body = json!({"name": "x", "repository_id": f.repository_id, "ref": "main"});
    for token in [&viewer, &operator] {
        let res = f
            .app
            .as_token(token, Method::POST, "/api/v1/stacks")
            .json(&body)
            .send()
            .await
            .unwrap();
        error_of(res, 403).await;
        let res = f
            .app
            .as_token(token, Method::DELETE, &format!("/api/v1/stacks/{id}"))
            .send()
            .await
            .unwrap();
        error_of(res, 403).await;
    }
    let res = f
        .app
        .as_token(
            &viewer,
            Method::POST,
            &format!("/api/v1/stacks/{id}/deploy"),
        )
        .send()
        .await
        .unwrap();
    error_of(res, 403).await;
    for path in ["", "/targets"] {
        let res = f
            .app
            .as_token(&viewer, Method::GET, &format!("/api/v1/stacks/{id}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Operators may pause and resume; the pause survives as data.
    let res = f
        .app
        .as_token(
            &operator,
            Method::POST,
            &format!("/api/v1/stacks/{id}/resume"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = f
        .app
        .as_token(
            &operator,
            Method::POST,
            &format!("/api/v1/stacks/{id}/pause"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let paused: bool = sqlx::query_scalar("select paused from stack where stack_id = $1::uuid")
        .bind(id)
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert!(paused);
    assert!(!f.app.audit_actions("stack.pause").await.is_empty());
}

#[tokio::test]
async fn selector_targets_follow_environments_as_they_change_tags_and_leave() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f
        .stack(
            "sel",
            json!({"environment_ids": [], "selector": "tier in (web,api)", "paused": true}),
        )
        .await;
    let id = stack["id"].as_str().unwrap().to_owned();
    assert!(target_names(&f, &id).await.is_empty());
    let web = register_environment(
        &f.app,
        "web-1",
        &f.cluster.admin_kubeconfig(),
        json!({"tier": "web"}),
    )
    .await;
    wait_for("web-1 to join", Duration::from_secs(10), || async {
        (target_names(&f, &id).await == vec!["web-1".to_owned()]).then_some(())
    })
    .await;
    // Changing its tags makes it leave.
    let res = f
        .app
        .admin(Method::PATCH, &format!("/api/v1/environments/{web}"))
        .json(&json!({"tags": {"tier": "db"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    wait_for("web-1 to leave", Duration::from_secs(10), || async {
        target_names(&f, &id).await.is_empty().then_some(())
    })
    .await;
    let list: Value = f
        .app
        .admin(Method::GET, "/api/v1/stacks?state=unknown&search=se")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["name"], "sel");
    let res = f
        .app
        .admin(Method::GET, "/api/v1/stacks?state=happy")
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 400).await;
    assert_eq!(field.as_deref(), Some("state"));
}

#[tokio::test]
async fn an_environment_targeted_by_a_stack_is_deleted_only_when_forced() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("pinned", json!({"paused": true})).await;
    let env = &f.environment_id;
    let res = f
        .app
        .admin(Method::DELETE, &format!("/api/v1/environments/{env}"))
        .send()
        .await
        .unwrap();
    let (code, _, message) = error_of(res, 409).await;
    assert_eq!(code, "in_use");
    assert!(message.contains("1 stack"), "{message}");
    let stacks: Value = f
        .app
        .admin(Method::GET, &format!("/api/v1/environments/{env}/stacks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stacks[0]["stack_name"], "pinned");
    let res = f
        .app
        .admin(
            Method::DELETE,
            &format!("/api/v1/environments/{env}?force=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let targets: Value = f
        .app
        .admin(
            Method::GET,
            &format!("/api/v1/stacks/{}/targets", stack["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(targets, json!([]));
}

#[tokio::test]
async fn deploying_before_any_commit_is_known_is_a_clear_conflict() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("early", json!({"paused": true})).await;
    let id = stack["id"].as_str().unwrap();
    let res = f
        .app
        .admin(Method::POST, &format!("/api/v1/stacks/{id}/deploy"))
        .send()
        .await
        .unwrap();
    let (_, _, message) = error_of(res, 409).await;
    assert!(message.contains("no commit"), "{message}");
    let res = f
        .app
        .admin(Method::POST, &format!("/api/v1/stacks/{id}/deploy"))
        .json(&json!({"commit": "abc"}))
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("commit"));
    let res = f
        .app
        .admin(Method::POST, &format!("/api/v1/stacks/{id}/rollback"))
        .json(&json!({"deployment_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    let (_, field, _) = error_of(res, 422).await;
    assert_eq!(field.as_deref(), Some("deployment_id"));
}

async fn target_names(f: &Fleet, id: &str) -> Vec<String> {
    let v: Value = f
        .app
        .admin(Method::GET, &format!("/api/v1/stacks/{id}/targets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t["environment_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_overview_counts_stacks_by_sync_state_and_failed_rollouts() {
    let f = Fleet::start(&[
        ("deploy/a.yaml", &config_map("a", "1")),
        ("broken/a.yaml", "kind: [unclosed\n"),
    ])
    .await;
    let empty = f.get("/api/v1/overview").await;
    assert_eq!(
        empty["stacks"],
        json!({"total": 0, "in_sync": 0, "out_of_date": 0, "deploying": 0, "failed": 0,
               "unknown": 0, "paused": 0})
    );
    assert_eq!(
        empty["rollouts"],
        json!({"in_progress": 0, "failed_last_day": 0})
    );

    // One stack deploys, one fails to render, one is paused and never deployed.
    let good = f.stack("good", json!({})).await;
    let bad = f.stack("bad", json!({"paths": ["broken"]})).await;
    f.stack("idle", json!({"paused": true, "auto_deploy": false}))
        .await;
    f.check().await;
    assert_eq!(f.nth_rollout(&good, 1).await["status"], "succeeded");
    assert_eq!(f.nth_rollout(&bad, 1).await["status"], "failed");

    let v = f.get("/api/v1/overview").await;
    let s = &v["stacks"];
    assert_eq!(s["total"], 3, "{v}");
    assert_eq!(s["in_sync"], 1, "{v}");
    assert_eq!(s["failed"], 1, "{v}");
    assert_eq!(s["deploying"], 0, "{v}");
    assert_eq!(s["paused"], 1, "{v}");
    let by_state: i64 = ["in_sync", "out_of_date", "deploying", "failed", "unknown"]
        .iter()
        .map(|k| s[k].as_i64().unwrap())
        .sum();
    assert_eq!(by_state, 3, "every stack is in exactly one state: {v}");
    assert_eq!(
        v["rollouts"],
        json!({"in_progress": 0, "failed_last_day": 1}),
        "{v}"
    );
    // The counts agree with the list filter the overview links to.
    let failed = f.get("/api/v1/stacks?state=failed").await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed["items"][0]["name"], "bad");
}
