//! HTTP-level behaviour of the test API server, checked against what kube-apiserver answers.

mod common;

use common::{eventually, send};
use kube_test_api::{Identity, TestApiServer};
use serde_json::{Value, json};

const APPLY: &str = "application/apply-patch+yaml";

fn configmap(name: &str, data: &Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

async fn apply(
    server: &TestApiServer,
    path: &str,
    manager: &str,
    body: &Value,
    extra: &str,
) -> (u16, Value) {
    let url = format!("{}{path}?fieldManager={manager}{extra}", server.url());
    let client = server.client(&Identity::Admin);
    send(
        client
            .patch(url)
            .header("content-type", APPLY)
            .body(body.to_string()),
    )
    .await
}

#[tokio::test]
async fn health_and_version_answer_like_a_v1_33_server() {
    let server = TestApiServer::start().await;
    let anon = server.anonymous_client();
    for path in ["/readyz", "/livez", "/healthz"] {
        let (code, body) = send(anon.get(format!("{}{path}", server.url()))).await;
        assert_eq!((code, body), (200, json!("ok")), "{path}");
    }
    let (code, version) = send(anon.get(format!("{}/version", server.url()))).await;
    assert_eq!(code, 200);
    assert_eq!(version["minor"], "33");
}

#[tokio::test]
async fn a_bad_token_is_answered_with_an_unauthorized_status() {
    let server = TestApiServer::start().await;
    let client = server.anonymous_client();
    let (code, body) = send(
        client
            .get(format!("{}/api/v1/namespaces", server.url()))
            .bearer_auth("nope"),
    )
    .await;
    assert_eq!(code, 401);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
}

#[tokio::test]
async fn anonymous_requests_are_forbidden_beyond_health() {
    let server = TestApiServer::start().await;
    let (code, body) = send(
        server
            .anonymous_client()
            .get(format!("{}/api/v1/namespaces", server.url())),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
}

#[tokio::test]
async fn an_edit_identity_is_forbidden_outside_its_namespace() {
    let server = TestApiServer::start().await;
    let edit = server.client(&Identity::Edit(vec!["default".into()]));
    let (code, body) = send(edit.get(format!("{}/api/v1/namespaces", server.url()))).await;
    assert_eq!(code, 403);
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "namespaces is forbidden: User \"edit-default\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    assert_eq!(body["details"], json!({"kind": "namespaces"}));
    let (code, _) = send(edit.get(format!(
        "{}/api/v1/namespaces/default/configmaps",
        server.url()
    )))
    .await;
    assert_eq!(code, 200);
    let (code, body) = send(edit.get(format!(
        "{}/apis/apps/v1/namespaces/kube-system/deployments/x",
        server.url()
    )))
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "deployments.apps \"x\" is forbidden: User \"edit-default\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"kube-system\""
    );
}

#[tokio::test]
async fn a_client_certificate_authenticates_as_its_common_name() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::AdminCert);
    let (code, _) = send(client.get(format!("{}/api/v1/namespaces", server.url()))).await;
    assert_eq!(code, 200);
    assert_eq!(
        server.requests().last().map(|r| r.user.clone()),
        Some("admin-cert".to_owned())
    );
}

#[tokio::test]
async fn creating_twice_is_a_conflict_and_missing_objects_are_not_found() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url());
    let (code, created) = send(client.post(&url).json(&configmap("a", &json!({"k": "v"})))).await;
    assert_eq!(code, 201);
    assert_eq!(created["metadata"]["namespace"], "default");
    assert!(created["metadata"]["uid"].is_string());
    assert!(
        created["metadata"].get("generation").is_none(),
        "configmaps have no generation"
    );
    let (code, body) = send(client.post(&url).json(&configmap("a", &json!({})))).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    assert_eq!(body["message"], "configmaps \"a\" already exists");
    let (code, body) = send(client.delete(format!("{url}/missing"))).await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "configmaps \"missing\" not found");
    assert_eq!(
        body["details"],
        json!({"name": "missing", "kind": "configmaps"})
    );
}

#[tokio::test]
async fn unknown_resources_and_missing_namespaces_are_not_found() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let (code, body) =
        send(client.get(format!("{}/apis/example.com/v1/widgets", server.url()))).await;
    assert_eq!(code, 404);
    assert_eq!(
        body["message"],
        "the server could not find the requested resource"
    );
    let (code, body) = send(
        client
            .post(format!(
                "{}/api/v1/namespaces/nowhere/configmaps",
                server.url()
            ))
            .json(&configmap("a", &json!({}))),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "namespaces \"nowhere\" not found");
    let (code, _) = send(client.get(format!("{}/openapi/v2", server.url()))).await;
    assert_eq!(code, 404);
    let (code, _) = send(client.get(format!("{}/openapi/v3", server.url()))).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn invalid_objects_are_answered_with_invalid_status_causes() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url());
    let (code, body) = send(
        client
            .post(&url)
            .json(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(
        body["details"]["causes"][0],
        json!({"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"})
    );
    let (code, body) = send(client.post(&url).json(&configmap("Bad_Name", &json!({})))).await;
    assert_eq!(code, 422);
    assert_eq!(body["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");
    assert!(body["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
    let mut other_ns = configmap("x", &json!({}));
    other_ns["metadata"]["namespace"] = json!("kube-system");
    let (code, body) = send(client.post(&url).json(&other_ns)).await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    let (code, body) =
        send(client.post(&url).json(
            &json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        ))
        .await;
    assert_eq!(code, 400);
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(
        body["message"],
        "the API version in the data (apps/v1) does not match the expected API version (v1)"
    );
    let (code, body) = send(
        client
            .post(&url)
            .json(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Secret \"x\" is invalid: kind: Invalid value: \"Secret\": must be ConfigMap"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "kind");
}

#[tokio::test]
async fn lists_filter_by_label_selectors_and_span_namespaces() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    for (ns, name, tier) in [
        ("default", "web", Some("front")),
        ("default", "db", Some("back")),
        ("kube-system", "other", None),
    ] {
        let mut cm = configmap(name, &json!({}));
        if let Some(t) = tier {
            cm["metadata"]["labels"] = json!({"tier": t});
        }
        let (code, _) = send(
            client
                .post(format!(
                    "{}/api/v1/namespaces/{ns}/configmaps",
                    server.url()
                ))
                .json(&cm),
        )
        .await;
        assert_eq!(code, 201);
    }
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = format!("{}/api/v1/configmaps", server.url());
    let cases = [
        ("tier=front", vec!["web"]),
        ("tier==back", vec!["db"]),
        ("tier!=front", vec!["db", "other"]),
        ("tier in (front,back)", vec!["db", "web"]),
        ("tier notin (front)", vec!["db", "other"]),
        ("tier", vec!["db", "web"]),
        ("!tier", vec!["other"]),
    ];
    for (selector, want) in cases {
        let (code, list) = send(client.get(&all).query(&[("labelSelector", selector)])).await;
        assert_eq!(code, 200, "{selector}");
        assert_eq!(list["kind"], "ConfigMapList");
        assert!(list["metadata"]["resourceVersion"].is_string());
        assert_eq!(names(&list), want, "{selector}");
    }
    let (_, page) = send(client.get(&all).query(&[("limit", "2")])).await;
    assert_eq!(names(&page).len(), 2);
    let token = page["metadata"]["continue"]
        .as_str()
        .expect("a continue token")
        .to_owned();
    let (_, rest) = send(
        client
            .get(&all)
            .query(&[("limit", "2"), ("continue", token.as_str())]),
    )
    .await;
    assert_eq!(names(&rest), ["other"]);
}

#[tokio::test]
async fn server_side_apply_tracks_versions_generation_and_managed_fields() {
    let server = TestApiServer::start().await;
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let deploy = |replicas: i64, image: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}}
        })
    };
    let (code, first) = apply(&server, path, "berth", &deploy(1, "nginx:1"), "").await;
    assert_eq!(code, 201);
    assert_eq!(first["metadata"]["generation"], 1);
    let mf = &first["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "berth");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["fieldsType"], "FieldsV1");
    assert!(mf["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"].is_object());

    let (code, same) = apply(&server, path, "berth", &deploy(1, "nginx:1"), "").await;
    assert_eq!(code, 200);
    assert_eq!(
        same["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"],
        "an unchanged apply does not bump"
    );

    let mut labelled = deploy(1, "nginx:1");
    labelled["metadata"]["labels"]["team"] = json!("a");
    let (_, relabelled) = apply(&server, path, "berth", &labelled, "").await;
    assert_ne!(
        relabelled["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    assert_eq!(
        relabelled["metadata"]["generation"], 1,
        "metadata changes keep the generation"
    );

    let (_, updated) = apply(&server, path, "berth", &deploy(1, "nginx:2"), "").await;
    assert_eq!(updated["metadata"]["generation"], 2);
    assert!(
        updated["metadata"]["labels"].get("team").is_none(),
        "a field the manager dropped is removed"
    );
    assert_eq!(updated["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(
        updated["metadata"]["creationTimestamp"],
        first["metadata"]["creationTimestamp"]
    );

    let (code, conflict) = apply(&server, path, "other", &deploy(5, "nginx:2"), "").await;
    assert_eq!(code, 409);
    assert_eq!(conflict["reason"], "Conflict");
    assert_eq!(
        conflict["message"],
        "Apply failed with 1 conflict: conflict with \"berth\": .spec.replicas"
    );
    assert_eq!(
        conflict["details"]["causes"][0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"berth\"", "field": ".spec.replicas"})
    );

    let (code, forced) = apply(&server, path, "other", &deploy(5, "nginx:2"), "&force=true").await;
    assert_eq!(code, 200);
    assert_eq!(forced["spec"]["replicas"], 5);
    let (code, _) = apply(&server, path, "berth", &deploy(1, "nginx:2"), "").await;
    assert_eq!(code, 409, "ownership moved to the forcing manager");
}

#[tokio::test]
async fn apply_without_a_field_manager_is_refused_like_kube_apiserver() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces/default/configmaps/a", server.url());
    let (code, body) = send(
        client
            .patch(url)
            .header("content-type", APPLY)
            .body(configmap("a", &json!({})).to_string()),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

#[tokio::test]
async fn apply_accepts_yaml_bodies() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  key: value\n";
    let url = format!(
        "{}/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=t",
        server.url()
    );
    let (code, body) = send(client.patch(url).header("content-type", APPLY).body(yaml)).await;
    assert_eq!(code, 201);
    assert_eq!(body["data"]["key"], "value");
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let server = TestApiServer::start().await;
    let path = "/api/v1/namespaces/default/configmaps/dry";
    let (code, would_be) = apply(
        &server,
        path,
        "t",
        &configmap("dry", &json!({"a": "1"})),
        "&dryRun=All",
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(would_be["data"]["a"], "1");
    assert!(
        server
            .object("v1", "ConfigMap", Some("default"), "dry")
            .is_none()
    );
    apply(
        &server,
        path,
        "t",
        &configmap("dry", &json!({"a": "1"})),
        "",
    )
    .await;
    let client = server.client(&Identity::Admin);
    let (code, _) = send(client.delete(format!("{}{path}?dryRun=All", server.url()))).await;
    assert_eq!(code, 200);
    assert!(
        server
            .object("v1", "ConfigMap", Some("default"), "dry")
            .is_some()
    );
    let (_, patched) = send(
        client
            .patch(format!("{}{path}?dryRun=All", server.url()))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"data":{"a":"2"}}"#),
    )
    .await;
    assert_eq!(patched["data"]["a"], "2");
    assert_eq!(
        server
            .object("v1", "ConfigMap", Some("default"), "dry")
            .unwrap()["data"]["a"],
        "1"
    );
}

#[tokio::test]
async fn put_and_patches_replace_and_merge() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url());
    let (_, created) = send(
        client
            .post(&url)
            .json(&configmap("p", &json!({"a": "1", "b": "2"}))),
    )
    .await;
    let (code, merged) = send(
        client
            .patch(format!("{url}/p"))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"data":{"a":null,"c":"3"}}"#),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(merged["data"], json!({"b": "2", "c": "3"}));
    let (code, _) = send(
        client
            .patch(format!("{url}/p"))
            .header("content-type", "application/strategic-merge-patch+json")
            .body(r#"{"data":{"d":"4"}}"#),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = send(
        client
            .patch(format!("{url}/p"))
            .header("content-type", "application/json-patch+json")
            .body(r#"[{"op":"add","path":"/data/e","value":"5"}]"#),
    )
    .await;
    assert_eq!(code, 200);
    let mut stale = created.clone();
    stale["data"] = json!({"z": "9"});
    let (code, body) = send(client.put(format!("{url}/p")).json(&stale)).await;
    assert_eq!(code, 409, "stale resourceVersion");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    stale["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    let (code, replaced) = send(client.put(format!("{url}/p")).json(&stale)).await;
    assert_eq!(code, 200);
    assert_eq!(replaced["data"], json!({"z": "9"}));
    let rvs: Vec<u64> = [&created, &replaced]
        .iter()
        .map(|o| {
            o["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(rvs[1] > rvs[0]);
}

#[tokio::test]
async fn deleting_a_namespace_terminates_it_and_its_objects() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    apply(
        &server,
        "/api/v1/namespaces/doomed",
        "t",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}),
        "",
    )
    .await;
    apply(
        &server,
        "/api/v1/namespaces/doomed/configmaps/c",
        "t",
        &configmap("c", &json!({})),
        "",
    )
    .await;
    let (code, ns) = send(client.delete(format!(
        "{}/api/v1/namespaces/doomed?propagationPolicy=Background",
        server.url()
    )))
    .await;
    assert_eq!(code, 200);
    assert_eq!(ns["status"]["phase"], "Terminating");
    let (code, body) = send(
        client
            .post(format!(
                "{}/api/v1/namespaces/doomed/configmaps",
                server.url()
            ))
            .json(&configmap("late", &json!({}))),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
    );
    eventually("the namespace to go away", || async {
        server
            .object("v1", "Namespace", None, "doomed")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        server
            .object("v1", "ConfigMap", Some("doomed"), "c")
            .is_none()
    );
}

#[tokio::test]
async fn workloads_become_ready_fail_or_never_ready_as_annotated() {
    let server = TestApiServer::start().await;
    let deploy = |name: &str, annotation: Option<&str>| {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
        });
        if let Some(a) = annotation {
            d["metadata"]["annotations"] = json!({a: "true"});
        }
        d
    };
    for (name, ann) in [
        ("ok", None),
        ("stuck", Some("kube-test-api/never-ready")),
        ("broken", Some("kube-test-api/fail")),
    ] {
        let (code, created) = apply(
            &server,
            &format!("/apis/apps/v1/namespaces/default/deployments/{name}"),
            "t",
            &deploy(name, ann),
            "",
        )
        .await;
        assert_eq!(code, 201);
        assert!(
            created["status"].get("observedGeneration").is_none(),
            "no status before the controller runs"
        );
    }
    let status = |name: &'static str| {
        let server = &server;
        async move {
            eventually(name, || async {
                let d = server.object("apps/v1", "Deployment", Some("default"), name)?;
                (d["status"]["observedGeneration"] == 1).then(|| d["status"].clone())
            })
            .await
        }
    };
    let ok = status("ok").await;
    assert_eq!(ok["readyReplicas"], 2);
    assert_eq!(ok["availableReplicas"], 2);
    let stuck = status("stuck").await;
    assert!(stuck.get("readyReplicas").is_none());
    let broken = status("broken").await;
    let progressing = broken["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded");

    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                     "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}});
    apply(
        &server,
        "/apis/batch/v1/namespaces/default/jobs/once",
        "t",
        &job,
        "",
    )
    .await;
    let done = eventually("the job to complete", || async {
        let j = server.object("batch/v1", "Job", Some("default"), "once")?;
        (j["status"]["succeeded"] == 1).then_some(j)
    })
    .await;
    assert!(
        done["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Complete" && c["status"] == "True")
    );
}

#[tokio::test]
async fn status_is_only_changed_through_the_status_subresource() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let path = "/apis/apps/v1/namespaces/default/statefulsets/s";
    let mut sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "serviceName": "s", "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    sts["status"] = json!({"replicas": 99});
    let (_, created) = apply(&server, path, "t", &sts, "").await;
    assert_ne!(created["status"]["replicas"], 99);
    let (code, patched) = send(
        client
            .patch(format!("{}{path}/status", server.url()))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"status":{"replicas":7}}"#),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(patched["status"]["replicas"], 7);
}

#[tokio::test]
async fn custom_resource_definitions_are_established_and_served() {
    let server = TestApiServer::start().await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let (code, _) = apply(
        &server,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
        "t",
        &crd,
        "",
    )
    .await;
    assert_eq!(code, 201);
    let established = eventually("the CRD to be established", || async {
        let c = server.object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        )?;
        c["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
            .then_some(c)
    })
    .await;
    assert!(
        established["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "NamesAccepted")
    );
    let client = server.client(&Identity::Admin);
    let (code, list) = send(client.get(format!("{}/apis/example.com/v1", server.url()))).await;
    assert_eq!(code, 200);
    assert_eq!(list["resources"][0]["shortNames"], json!(["wd"]));
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}});
    let (code, created) = apply(
        &server,
        "/apis/example.com/v1/namespaces/default/widgets/w",
        "t",
        &widget,
        "",
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(created["metadata"]["generation"], 1);
    let (code, _) = send(client.get(format!("{}/apis", server.url())).header(
        "accept",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    ))
    .await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn aggregated_discovery_is_served_with_its_media_type() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let resp = client.get(format!("{}/apis", server.url()))
        .header("accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
        .send().await.unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["kind"], "APIGroupDiscoveryList");
    let apps = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    let deployments = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(deployments["scope"], "Namespaced");
    assert_eq!(deployments["responseKind"]["kind"], "Deployment");
    let (_, legacy) = send(client.get(format!("{}/apis", server.url()))).await;
    assert_eq!(legacy["kind"], "APIGroupList");
}

#[tokio::test]
async fn self_reviews_answer_from_the_identity_permissions() {
    let server = TestApiServer::start().await;
    let review = |verb: &str, resource: &str, ns: &str| {
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "namespace": ns}}
        })
    };
    let url = format!(
        "{}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        server.url()
    );
    let edit = server.client(&Identity::Edit(vec!["team-a".into()]));
    let (code, yes) = send(
        edit.post(&url)
            .json(&review("create", "configmaps", "team-a")),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(yes["status"]["allowed"], true);
    let (_, no) = send(
        edit.post(&url)
            .json(&review("create", "configmaps", "team-b")),
    )
    .await;
    assert_eq!(no["status"]["allowed"], false);
    let view = server.client(&Identity::View);
    let (_, no) = send(
        view.post(&url)
            .json(&review("create", "configmaps", "default")),
    )
    .await;
    assert_eq!(no["status"]["allowed"], false);
    let rules_url = format!(
        "{}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        server.url()
    );
    let (code, rules) = send(edit.post(&rules_url).json(&json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": "team-a"}}))).await;
    assert_eq!(code, 201);
    assert_eq!(rules["status"]["incomplete"], false);
    assert!(
        rules["status"]["resourceRules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["resources"]
                .as_array()
                .unwrap()
                .contains(&json!("deployments")))
    );
    assert!(rules["status"]["nonResourceRules"].is_array());
}

#[tokio::test]
async fn the_request_log_records_who_did_what() {
    let server = TestApiServer::start().await;
    apply(
        &server,
        "/api/v1/namespaces/default/configmaps/logged",
        "berth",
        &configmap("logged", &json!({})),
        "",
    )
    .await;
    let last = server.requests().pop().unwrap();
    assert_eq!(last.method, "PATCH");
    assert_eq!(last.path, "/api/v1/namespaces/default/configmaps/logged");
    assert_eq!(last.user, "admin");
    assert_eq!(last.content_type, APPLY);
    assert_eq!(last.field_manager.as_deref(), Some("berth"));
    assert_eq!(last.status, 201);
    server.clear_requests();
    assert!(server.requests().is_empty());
    assert!(
        server
            .objects()
            .iter()
            .any(|o| o["metadata"]["name"] == "logged")
    );
}

#[tokio::test]
async fn a_watch_streams_changes() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let mut resp = client
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5",
            server.url()
        ))
        .send()
        .await
        .unwrap();
    apply(
        &server,
        "/api/v1/namespaces/default/configmaps/watched",
        "t",
        &configmap("watched", &json!({})),
        "",
    )
    .await;
    let chunk = tokio::time::timeout(common::WAIT, resp.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_slice(&chunk).unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "watched");
}

#[tokio::test]
async fn a_ready_deployment_has_pods_through_a_replica_set_and_deleting_it_removes_them() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let deploy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    });
    apply(
        &server,
        "/apis/apps/v1/namespaces/default/deployments/web",
        "t",
        &deploy,
        "",
    )
    .await;
    let pods_url = format!(
        "{}/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
        server.url()
    );
    let pods = eventually("three ready pods", || async {
        let (_, list) = send(client.get(&pods_url)).await;
        let items = list["items"].as_array()?.clone();
        let ready = items
            .iter()
            .filter(|p| {
                p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
            .count();
        (ready == 3).then_some(items)
    })
    .await;
    let owner = &pods[0]["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "ReplicaSet");
    let rs_name = owner["name"].as_str().unwrap();
    let rs = server
        .object("apps/v1", "ReplicaSet", Some("default"), rs_name)
        .expect("the replica set");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["name"], "web");
    let (code, pod) = send(client.get(format!(
        "{}/api/v1/namespaces/default/pods/{}",
        server.url(),
        pods[0]["metadata"]["name"].as_str().unwrap()
    )))
    .await;
    assert_eq!(code, 200);
    assert_eq!(pod["status"]["phase"], "Running");

    let (code, _) = send(client.delete(format!(
        "{}/apis/apps/v1/namespaces/default/deployments/web",
        server.url()
    )))
    .await;
    assert_eq!(code, 200);
    let (_, list) = send(client.get(&pods_url)).await;
    assert_eq!(
        list["items"],
        json!([]),
        "pods are garbage collected with their deployment"
    );
    assert!(
        server
            .object("apps/v1", "ReplicaSet", Some("default"), rs_name)
            .is_none()
    );
}

#[tokio::test]
async fn kubeconfigs_embed_the_ca_and_credentials_and_are_written_per_identity() {
    let server = TestApiServer::start().await;
    let parse = |text: String| serde_saphyr::from_str::<Value>(&text).expect("kubeconfig is YAML");
    let token = parse(server.kubeconfig(&Identity::Admin));
    assert_eq!(token["clusters"][0]["cluster"]["server"], server.url());
    assert!(token["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
    assert!(token["users"][0]["user"]["token"].is_string());
    let cert = parse(server.kubeconfig(&Identity::AdminCert));
    assert!(cert["users"][0]["user"]["client-certificate-data"].is_string());
    assert!(cert["users"][0]["user"]["client-key-data"].is_string());
    let insecure =
        parse(server.bad_kubeconfig(kube_test_api::BadKubeconfig::InsecureSkipTlsVerify));
    assert_eq!(
        insecure["clusters"][0]["cluster"]["insecure-skip-tls-verify"],
        true
    );
    assert!(
        insecure["clusters"][0]["cluster"]
            .get("certificate-authority-data")
            .is_none()
    );
    let multi = parse(server.bad_kubeconfig(kube_test_api::BadKubeconfig::MultiContext));
    assert_eq!(multi["current-context"], "admin");
    assert_eq!(multi["contexts"].as_array().unwrap().len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let files = server.write_kubeconfigs(dir.path()).unwrap();
    for path in [
        &files.admin,
        &files.admin_cert,
        &files.edit,
        &files.view,
        &files.insecure,
        &files.wrong_ca,
        &files.expired_token,
        &files.unknown_token,
        &files.multi_context,
    ] {
        assert!(path.exists(), "{}", path.display());
    }
}

#[tokio::test]
async fn an_edit_identity_may_span_several_namespaces() {
    let server = TestApiServer::start().await;
    let admin = server.client(&Identity::Admin);
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}});
    send(
        admin
            .post(format!("{}/api/v1/namespaces", server.url()))
            .json(&ns),
    )
    .await;
    let edit = server.client(&Identity::Edit(vec!["default".into(), "team-b".into()]));
    for ns in ["default", "team-b"] {
        let (code, _) = send(
            edit.post(format!(
                "{}/api/v1/namespaces/{ns}/configmaps",
                server.url()
            ))
            .json(&configmap("c", &json!({}))),
        )
        .await;
        assert_eq!(code, 201, "{ns}");
    }
    let (code, _) = send(
        edit.post(format!(
            "{}/api/v1/namespaces/kube-system/configmaps",
            server.url()
        ))
        .json(&configmap("c", &json!({}))),
    )
    .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn apply_refuses_managed_fields_and_honours_a_resource_version_precondition() {
    let server = TestApiServer::start().await;
    let path = "/api/v1/namespaces/default/configmaps/pre";
    let (_, created) = apply(
        &server,
        path,
        "t",
        &configmap("pre", &json!({"a": "1"})),
        "",
    )
    .await;
    let mut with_managed = configmap("pre", &json!({"a": "2"}));
    with_managed["metadata"]["managedFields"] = created["metadata"]["managedFields"].clone();
    let (code, body) = apply(&server, path, "t", &with_managed, "").await;
    assert_eq!(code, 400);
    assert_eq!(body["message"], "metadata.managedFields must be nil");
    let mut stale = configmap("pre", &json!({"a": "2"}));
    stale["metadata"]["resourceVersion"] = json!("1");
    let (code, body) = apply(&server, path, "t", &stale, "").await;
    assert_eq!(code, 409);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    let mut current = configmap("pre", &json!({"a": "2"}));
    current["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (code, _) = apply(&server, path, "t", &current, "").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn simulated_pods_have_a_plain_text_log() {
    let server = TestApiServer::start().await;
    let client = server.client(&Identity::Admin);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                     "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}}});
    apply(
        &server,
        "/apis/batch/v1/namespaces/default/jobs/once",
        "t",
        &job,
        "",
    )
    .await;
    let pod = eventually("the job's pod", || async {
        server
            .objects()
            .into_iter()
            .find(|o| o["kind"] == "Pod" && o["metadata"]["ownerReferences"][0]["name"] == "once")
    })
    .await;
    assert_eq!(pod["status"]["phase"], "Succeeded");
    let name = pod["metadata"]["name"].as_str().unwrap();
    let resp = client
        .get(format!(
            "{}/api/v1/namespaces/default/pods/{name}/log",
            server.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("simulated container main")
    );
    let (code, _) = send(client.get(format!(
        "{}/api/v1/namespaces/default/pods/missing/log",
        server.url()
    )))
    .await;
    assert_eq!(code, 404);
}
