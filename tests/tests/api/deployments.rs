//! Deployments end to end: real git, the Berth API, the deployment queue and the engine against
//! the cluster (the test API server, or a real one with `BERTH_TEST_KUBECONFIG`).

use std::time::Duration;

use berth_tests::sse::events_until;
use berth_tests::{BerthProcess, wait_for};
use serde_json::{Value, json};

use crate::deploy_support::{Fleet, config_map, register_environment};

fn actions(objects: &[(String, String, String, String)]) -> Vec<(String, String)> {
    objects
        .iter()
        .map(|(_, name, action, _)| (name.clone(), action.clone()))
        .collect()
}

#[tokio::test]
async fn a_git_change_flows_from_commit_to_applied_objects_and_prunes_what_left_git() {
    let f = Fleet::start(&[
        ("deploy/a.yaml", &config_map("a", "1")),
        ("deploy/b.yaml", &config_map("b", "1")),
    ])
    .await;
    let events = f
        .app
        .admin(reqwest::Method::GET, "/api/v1/events")
        .send()
        .await
        .unwrap();
    let stack = f.stack("web", json!({})).await;
    // Creating the stack checks the repository; the first deployment follows by itself.
    let first = f.nth_rollout(&stack, 1).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let d = Fleet::deployment(&first);
    // Its start and end were streamed, each naming the stack and the environment (a stack's page
    // refreshes on its own deployments only).
    let streamed = events_until(events, "deployment.finished", Duration::from_secs(30)).await;
    for kind in ["deployment.started", "deployment.finished"] {
        let data = streamed
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, e)| &e["data"])
            .unwrap_or_else(|| panic!("{kind} not streamed: {streamed:?}"));
        assert_eq!(data["id"], d["id"], "{kind}: {data}");
        assert_eq!(data["stack_id"], stack["id"], "{kind}: {data}");
        assert_eq!(
            data["environment_id"],
            f.environment_id.as_str(),
            "{kind}: {data}"
        );
    }
    let objects = f.objects(d["id"].as_str().unwrap()).await;
    assert_eq!(
        actions(&objects),
        vec![
            ("a".into(), "created".into()),
            ("b".into(), "created".into())
        ]
    );
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");
    let live = f
        .get_object("", "v1", "ConfigMap", Some(&f.ns), "a")
        .await
        .unwrap();
    assert_eq!(
        live.metadata.labels.unwrap()["berth.dev/stack"],
        stack["id"].as_str().unwrap()
    );

    // A changed file: configured; an untouched one: unchanged.
    let c2 = f.commit(&[("deploy/a.yaml", &config_map("a", "2"))], "a=2");
    f.check().await;
    let second = f.nth_rollout(&stack, 2).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["commit"], c2.as_str());
    // CI follows a webhook's answer (deployment event ids) to the rollout it caused.
    let event = second["deployment_event_id"].as_str().unwrap();
    let found = f
        .get(&format!("/api/v1/rollouts?deployment_event_id={event}"))
        .await;
    assert_eq!(found["items"][0]["id"], second["id"]);
    let objects = f
        .objects(Fleet::deployment(&second)["id"].as_str().unwrap())
        .await;
    assert_eq!(
        actions(&objects),
        vec![
            ("a".into(), "configured".into()),
            ("b".into(), "unchanged".into())
        ]
    );
    assert_eq!(f.config_map("a").await.unwrap()["value"], "2");

    // A removed file: pruned from the cluster.
    f.repo.remove("deploy/b.yaml");
    f.repo.commit("drop b");
    f.check().await;
    let third = f.nth_rollout(&stack, 3).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    let objects = f
        .objects(Fleet::deployment(&third)["id"].as_str().unwrap())
        .await;
    assert!(
        actions(&objects).contains(&("b".into(), "pruned".into())),
        "{objects:?}"
    );
    assert!(f.config_map("b").await.is_none());

    // The same commit redeployed: unchanged.
    let (status, v) = f
        .post(
            &format!("/api/v1/stacks/{}/redeploy", stack["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    let again = f.finished(v["rollout_id"].as_str().unwrap()).await;
    assert_eq!(again["trigger"], "redeploy");
    let objects = f
        .objects(Fleet::deployment(&again)["id"].as_str().unwrap())
        .await;
    assert_eq!(actions(&objects), vec![("a".into(), "unchanged".into())]);

    // The stack and its target say "in sync" at the deployed commit.
    let s = f
        .get(&format!("/api/v1/stacks/{}", stack["id"].as_str().unwrap()))
        .await;
    assert_eq!(s["sync_state"], "in_sync", "{s}");
    let targets = f
        .get(&format!(
            "/api/v1/stacks/{}/targets",
            stack["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(targets[0]["state"], "in_sync");
    assert_eq!(targets[0]["object_count"], 1);
}

#[tokio::test]
async fn a_scheduled_poll_deploys_a_new_commit_without_anyone_asking() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("polled", json!({})).await;
    assert_eq!(f.nth_rollout(&stack, 1).await["status"], "succeeded");
    let res = f
        .app
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/repositories/{}", f.repository_id),
        )
        .json(&json!({"schedule": {"interval": "1s"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let c2 = f.commit(&[("deploy/a.yaml", &config_map("a", "polled"))], "poll me");
    let second = f.nth_rollout(&stack, 2).await;
    assert_eq!(second["trigger"], "poll");
    assert_eq!(second["commit"], c2.as_str());
    assert_eq!(f.config_map("a").await.unwrap()["value"], "polled");
}

#[tokio::test]
async fn broken_yaml_fails_before_anything_is_applied_and_keeps_the_previous_state() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("broken", json!({})).await;
    assert_eq!(f.nth_rollout(&stack, 1).await["status"], "succeeded");
    f.commit(
        &[
            ("deploy/a.yaml", &config_map("a", "2")),
            (
                "deploy/z.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
            ),
        ],
        "broken",
    );
    f.check().await;
    let second = f.nth_rollout(&stack, 2).await;
    assert_eq!(second["status"], "failed", "{second}");
    let d = Fleet::deployment(&second);
    assert_eq!(d["error_phase"], "render");
    assert!(
        d["error"].as_str().unwrap().contains("deploy/z.yaml"),
        "{d}"
    );
    // Nothing applied: a keeps its old value; the target still says what was deployed.
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");
    let targets = f
        .get(&format!(
            "/api/v1/stacks/{}/targets",
            stack["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(targets[0]["state"], "failed");
    assert_eq!(targets[0]["object_count"], 1);
    assert_eq!(
        targets[0]["deployed_commit"],
        f.nth_rollout(&stack, 1).await["commit"]
    );
}

#[tokio::test]
async fn an_unknown_kind_fails_the_plan_and_applies_nothing() {
    let f = Fleet::start(&[
        ("deploy/a.yaml", &config_map("a", "1")),
        (
            "deploy/w.yaml",
            "apiVersion: nowhere.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: {ns}\n",
        ),
    ])
    .await;
    let stack = f.stack("unknown-kind", json!({})).await;
    let first = f.nth_rollout(&stack, 1).await;
    assert_eq!(first["status"], "failed", "{first}");
    let d = Fleet::deployment(&first);
    assert_eq!(d["error_phase"], "plan");
    assert!(d["error"].as_str().unwrap().contains("Widget"), "{d}");
    assert!(f.config_map("a").await.is_none(), "nothing may be applied");
}

#[tokio::test]
async fn a_missing_namespace_fails_unless_the_stack_creates_namespaces() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let fresh = format!("{}-new", f.ns);
    f.commit(
        &[(
            "deploy/a.yaml",
            &config_map("a", "1").replace("{ns}", &fresh),
        )],
        "into a namespace that does not exist",
    );
    let stack = f.stack("no-ns", json!({})).await;
    let first = f.nth_rollout(&stack, 1).await;
    assert_eq!(first["status"], "failed", "{first}");
    let d = Fleet::deployment(&first);
    assert!(d["error"].as_str().unwrap().contains(&fresh), "{d}");

    let res = f
        .app
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/stacks/{}", stack["id"].as_str().unwrap()),
        )
        .json(&json!({"create_namespace": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rollout = f.deploy(&stack, None).await;
    let done = f.finished(&rollout).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(
        f.get_object("", "v1", "Namespace", None, &fresh)
            .await
            .is_some()
    );
    // Clean up the namespace Berth made (the harness only deletes its own).
    let (status, v) = f
        .app
        .admin(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/stacks/{}?remove_objects=true",
                stack["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 202);
    let removal: Value = v.json().await.unwrap();
    f.finished(removal["removal_rollout_id"].as_str().unwrap())
        .await;
    let ns_api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(f.cluster.admin_client());
    let _ = ns_api.delete(&fresh, &Default::default()).await;
}

#[tokio::test]
async fn a_crd_and_its_custom_resource_deploy_in_one_commit() {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let group = format!("t{run}.berth.dev");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    plural: gadgets\n    singular: gadget\n    kind: Gadget\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
    );
    let cr = format!(
        "apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: {{ns}}\nspec:\n  size: 3\n"
    );
    let f = Fleet::start(&[("deploy/crd.yaml", &crd), ("deploy/gadget.yaml", &cr)]).await;
    let stack = f.stack("crd", json!({})).await;
    let first = f.nth_rollout(&stack, 1).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let objects = f
        .objects(Fleet::deployment(&first)["id"].as_str().unwrap())
        .await;
    assert_eq!(
        objects[0].0, "CustomResourceDefinition",
        "CRDs go first: {objects:?}"
    );
    assert_eq!(objects[1].0, "Gadget");
    assert!(
        f.get_object(&group, "v1", "Gadget", Some(&f.ns), "g1")
            .await
            .is_some()
    );
    let crds: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(f.cluster.admin_client());
    let _ = crds
        .delete(&format!("gadgets.{group}"), &Default::default())
        .await;
}

#[tokio::test]
async fn a_workload_that_never_becomes_healthy_fails_at_the_health_timeout() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: stuck\n  namespace: {ns}\n  annotations:\n    kube-test-api/never-ready: \"true\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: stuck}\n  template:\n    metadata:\n      labels: {app: stuck}\n    spec:\n      containers:\n      - name: c\n        image: registry.invalid/berth/never:1\n";
    let f = Fleet::start(&[("deploy/stuck.yaml", deployment)]).await;
    let stack = f.stack("stuck", json!({"health_timeout_seconds": 3})).await;
    let first = f.nth_rollout(&stack, 1).await;
    assert_eq!(first["status"], "failed", "{first}");
    let d = Fleet::deployment(&first);
    assert_eq!(d["error_phase"], "health");
    assert!(d["error"].as_str().unwrap().contains("stuck"), "{d}");
    // The object was applied; only health failed.
    assert!(
        f.get_object("apps", "v1", "Deployment", Some(&f.ns), "stuck")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_retried_then_failed_and_nothing_is_lost() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("flaky", json!({})).await;
    assert_eq!(f.nth_rollout(&stack, 1).await["status"], "succeeded");
    let Some(server) = f.cluster.test_api() else {
        eprintln!("skipped on a real cluster: it cannot be taken down");
        return;
    };
    server.go_down().await;
    f.commit(&[("deploy/a.yaml", &config_map("a", "2"))], "a=2");
    f.check().await;
    let second = f.nth_rollout(&stack, 2).await;
    assert_eq!(second["status"], "failed", "{second}");
    let d = Fleet::deployment(&second);
    assert_eq!(
        d["attempts"], 3,
        "retried up to the configured attempts: {d}"
    );
    assert!(
        d["error"].as_str().unwrap().contains("after 3 attempts"),
        "{d}"
    );
    // The previous deployment's record and inventory are intact.
    let targets = f
        .get(&format!(
            "/api/v1/stacks/{}/targets",
            stack["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(targets[0]["object_count"], 1);
    assert_eq!(
        targets[0]["deployed_commit"],
        f.nth_rollout(&stack, 1).await["commit"]
    );
    server.come_back().await;
    let rollout = f.deploy(&stack, None).await;
    assert_eq!(f.finished(&rollout).await["status"], "succeeded");
    assert_eq!(f.config_map("a").await.unwrap()["value"], "2");
}

#[tokio::test]
async fn two_stacks_declaring_the_same_object_conflict_unless_forced() {
    let f = Fleet::start(&[
        ("deploy/a.yaml", &config_map("shared", "from-one")),
        ("other/a.yaml", &config_map("shared", "from-two")),
    ])
    .await;
    let one = f.stack("one", json!({})).await;
    assert_eq!(f.nth_rollout(&one, 1).await["status"], "succeeded");
    let two = f.stack("two", json!({"paths": ["other"]})).await;
    let second = f.nth_rollout(&two, 1).await;
    assert_eq!(second["status"], "failed", "{second}");
    let objects = f
        .objects(Fleet::deployment(&second)["id"].as_str().unwrap())
        .await;
    let (_, _, action, message) = &objects[0];
    assert_eq!(action, "failed");
    assert!(
        message.contains("one"),
        "the conflict names the owning stack: {message}"
    );
    assert_eq!(f.config_map("shared").await.unwrap()["value"], "from-one");

    let res = f
        .app
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/stacks/{}", two["id"].as_str().unwrap()),
        )
        .json(&json!({"force_conflicts": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rollout = f.deploy(&two, None).await;
    assert_eq!(f.finished(&rollout).await["status"], "succeeded");
    assert_eq!(f.config_map("shared").await.unwrap()["value"], "from-two");
}

#[tokio::test]
async fn a_queued_deployment_is_superseded_by_a_newer_one() {
    let slow = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: slow\n  namespace: {ns}\n  annotations:\n    kube-test-api/never-ready: \"true\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: slow}\n  template:\n    metadata:\n      labels: {app: slow}\n    spec:\n      containers:\n      - name: c\n        image: registry.invalid/berth/never:1\n";
    let f = Fleet::start(&[("deploy/slow.yaml", slow)]).await;
    let c1 = f.repo.head("main");
    let stack = f
        .stack(
            "queue",
            json!({"auto_deploy": false, "health_timeout_seconds": 4}),
        )
        .await;
    f.check().await;
    let c2 = f.commit(&[("deploy/a.yaml", &config_map("a", "2"))], "c2");
    let c3 = f.commit(&[("deploy/a.yaml", &config_map("a", "3"))], "c3");
    f.check().await;
    // The first runs (and waits for health); the second queues; the third supersedes it.
    let r1 = f.deploy(&stack, Some(&c1)).await;
    crate::deploy_support::wait_running(&f, &r1).await;
    let r2 = f.deploy(&stack, Some(&c2)).await;
    let r3 = f.deploy(&stack, Some(&c3)).await;
    let done2 = f.finished(&r2).await;
    assert_eq!(done2["status"], "superseded", "{done2}");
    let d3 = f.finished(&r3).await;
    assert_eq!(
        Fleet::deployment(&done2)["superseded_by"],
        Fleet::deployment(&d3)["id"]
    );
    assert_eq!(Fleet::deployment(&d3)["commit"], c3.as_str());
    assert_eq!(f.finished(&r1).await["status"], "failed");
}

#[tokio::test]
async fn a_rollback_deploys_an_earlier_commit_and_holds_auto_deploy_until_a_new_commit() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("rollback", json!({})).await;
    let first = f.nth_rollout(&stack, 1).await;
    f.commit(&[("deploy/a.yaml", &config_map("a", "2"))], "a=2");
    f.check().await;
    assert_eq!(f.nth_rollout(&stack, 2).await["status"], "succeeded");
    assert_eq!(f.config_map("a").await.unwrap()["value"], "2");

    let good = Fleet::deployment(&first)["id"].as_str().unwrap().to_owned();
    let (status, v) = f
        .post(
            &format!("/api/v1/stacks/{}/rollback", stack["id"].as_str().unwrap()),
            json!({"deployment_id": good}),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    let back = f.finished(v["rollout_id"].as_str().unwrap()).await;
    assert_eq!(back["status"], "succeeded");
    assert_eq!(back["trigger"], "rollback");
    assert_eq!(back["commit"], first["commit"]);
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");
    let s = f
        .get(&format!("/api/v1/stacks/{}", stack["id"].as_str().unwrap()))
        .await;
    assert!(s["rollback_hold_commit"].is_string(), "{s}");
    assert_eq!(s["sync_state"], "out_of_date");

    // A check without a new commit deploys nothing; a new commit resumes auto-deploy.
    f.check().await;
    let c3 = f.commit(&[("deploy/a.yaml", &config_map("a", "3"))], "a=3");
    f.check().await;
    let fourth = f.nth_rollout(&stack, 4).await;
    assert_eq!(fourth["commit"], c3.as_str());
    assert_eq!(f.config_map("a").await.unwrap()["value"], "3");
    let s = f
        .get(&format!("/api/v1/stacks/{}", stack["id"].as_str().unwrap()))
        .await;
    assert!(s["rollback_hold_commit"].is_null(), "{s}");
}

#[tokio::test]
async fn an_environment_matching_the_selector_joins_and_gets_its_own_rollout() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f
        .stack(
            "fleet",
            json!({"environment_ids": [], "selector": "env=test"}),
        )
        .await;
    assert_eq!(f.nth_rollout(&stack, 1).await["status"], "succeeded");
    // A second environment (the same cluster, another name) with matching tags joins.
    register_environment(
        &f.app,
        "two",
        &f.cluster.admin_kubeconfig(),
        json!({"env": "test"}),
    )
    .await;
    let joined = f.nth_rollout(&stack, 2).await;
    assert_eq!(joined["trigger"], "environment_joined", "{joined}");
    assert_eq!(joined["status"], "succeeded");
    assert_eq!(Fleet::deployment(&joined)["environment_name"], "two");
    let targets = f
        .get(&format!(
            "/api/v1/stacks/{}/targets",
            stack["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(targets.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_preview_shows_changes_with_field_diffs_and_changes_nothing() {
    let f = Fleet::start(&[
        ("deploy/a.yaml", &config_map("a", "1")),
        ("deploy/b.yaml", &config_map("b", "1")),
    ])
    .await;
    let stack = f.stack("preview", json!({"auto_deploy": false})).await;
    f.check().await;
    let rollout = f.deploy(&stack, None).await;
    assert_eq!(f.finished(&rollout).await["status"], "succeeded");
    f.commit(
        &[
            ("deploy/a.yaml", &config_map("a", "2")),
            ("deploy/c.yaml", &config_map("c", "1")),
        ],
        "change a, add c",
    );
    f.repo.remove("deploy/b.yaml");
    f.repo.commit("drop b");
    f.check().await;
    let (status, p) = f
        .post(
            &format!("/api/v1/stacks/{}/preview", stack["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let env = &p["environments"][0];
    let pv = &env["preview"];
    assert!(env["error"].is_null(), "{env}");
    assert_eq!(pv["create"][0]["name"], "c", "{pv}");
    assert_eq!(pv["change"][0]["object"]["name"], "a", "{pv}");
    let diff = pv["change"][0]["diff"].to_string();
    assert!(diff.contains("data.value") && diff.contains('2'), "{diff}");
    assert_eq!(pv["prune"][0]["name"], "b", "{pv}");
    // Nothing changed in the cluster; the stack shows the pending commit as out of date.
    assert_eq!(f.config_map("a").await.unwrap()["value"], "1");
    assert!(f.config_map("c").await.is_none());
    assert!(f.config_map("b").await.is_some());
    let s = f
        .get(&format!("/api/v1/stacks/{}", stack["id"].as_str().unwrap()))
        .await;
    assert_eq!(s["sync_state"], "out_of_date", "{s}");
}

#[tokio::test]
async fn deleting_a_stack_with_its_objects_removes_them_from_the_cluster() {
    let f = Fleet::start(&[("deploy/a.yaml", &config_map("a", "1"))]).await;
    let stack = f.stack("gone", json!({})).await;
    assert_eq!(f.nth_rollout(&stack, 1).await["status"], "succeeded");
    let id = stack["id"].as_str().unwrap();
    let res = f
        .app
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/v1/stacks/{id}?remove_objects=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let v: Value = res.json().await.unwrap();
    let removal = f.finished(v["removal_rollout_id"].as_str().unwrap()).await;
    assert_eq!(removal["status"], "succeeded", "{removal}");
    assert_eq!(removal["trigger"], "removal");
    assert!(f.config_map("a").await.is_none());
    let res = f
        .app
        .admin(reqwest::Method::GET, &format!("/api/v1/stacks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // History survives the stack.
    let r = f
        .get(&format!(
            "/api/v1/rollouts/{}",
            removal["id"].as_str().unwrap()
        ))
        .await;
    assert!(r["stack_id"].is_null());
}

#[tokio::test]
async fn a_deployment_whose_berth_instance_is_killed_is_finished_by_another() {
    // The test's own Berth serves the API but runs no deployments; two `berth serve` processes
    // on the same database do: the first is killed (SIGKILL) mid-deployment, the second
    // resumes the deployment once the dead one's lease expires.
    let f = Fleet::start_with(
        &[
            ("deploy/a.yaml", &config_map("a", "1")),
            ("deploy/b.yaml", &config_map("b", "1")),
            ("deploy/c.yaml", &config_map("c", "1")),
        ],
        |c| c.deploy_concurrency = 0,
    )
    .await;
    let data_a = tempfile::tempdir().unwrap();
    // Same database, same sealing key (the test app's key file).
    let key = std::fs::read_to_string(f.app.data_dir.path().join("secret.key")).unwrap();
    let env = [
        ("BERTH_DEPLOY_LEASE", "2s"),
        ("BERTH_APPLY_PARALLELISM", "1"),
        ("BERTH_SECRET_KEY", key.trim()),
    ];
    let mut a = BerthProcess::start(&f.app.database_url(), data_a.path(), &env)
        .await
        .unwrap();
    if let Some(server) = f.cluster.test_api() {
        // Slow enough that the first instance is still applying when it is killed.
        server
            .faults()
            .set_latency(std::time::Duration::from_millis(700));
    }
    let stack = f.stack("survivor", json!({"wait_for_health": false})).await;
    let running = wait_for(
        "a deployment running on the first instance",
        std::time::Duration::from_secs(60),
        || async {
            let row: Option<(uuid::Uuid, String)> = sqlx::query_as(
                "select deployment_id, lease_owner from deployment where status = 'running'",
            )
            .fetch_optional(&f.app.pool)
            .await
            .unwrap();
            row
        },
    )
    .await;
    a.kill();
    if let Some(server) = f.cluster.test_api() {
        server.faults().set_latency(std::time::Duration::ZERO);
    }
    let data_b = tempfile::tempdir().unwrap();
    let _b = BerthProcess::start(&f.app.database_url(), data_b.path(), &env)
        .await
        .unwrap();
    let rollout = f.nth_rollout(&stack, 1).await;
    assert_eq!(rollout["status"], "succeeded", "{rollout}");
    let d = Fleet::deployment(&rollout);
    assert_eq!(d["id"], running.0.to_string());
    assert_eq!(
        d["attempts"], 2,
        "claimed by the killed instance, then by the other: {d}"
    );
    let owner: Option<String> = sqlx::query_scalar("select lease_owner from deployment")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert!(owner.is_none());
    assert_ne!(running.1, "", "the first claim had an owner");
    for name in ["a", "b", "c"] {
        assert_eq!(f.config_map(name).await.unwrap()["value"], "1", "{name}");
    }
    let objects = f.objects(d["id"].as_str().unwrap()).await;
    assert_eq!(
        objects.len(),
        3,
        "results recorded once, by the finishing instance"
    );
}
