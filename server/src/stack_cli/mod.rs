//! `berth stack …`: create, ls, show, deploy, preview, rollback, history — thin clients of the
//! stacks and rollouts API, printing tables or (`-o json`) the API's JSON.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, ClientError, path_segment, table};

mod args;
mod format;

pub use args::{RendererArg, StackCommand};
use format::{preview_text, s, short, time};

async fn get(api: &Client, path: &str) -> Result<Value, ClientError> {
    Ok(api
        .call(Method::GET, path, &[], None)
        .await?
        .unwrap_or(Value::Null))
}

async fn stack(api: &Client, name: &str) -> Result<Value, ClientError> {
    get(api, &format!("/stacks/{}", path_segment(name))).await
}

async fn repository_id(api: &Client, repo: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(repo).is_ok() {
        return Ok(repo.to_owned());
    }
    let found = api
        .list_all("/repositories", &[("search", repo.to_owned())], 10_000)
        .await?;
    found
        .iter()
        .find(|r| r["name"] == repo)
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("repo: no repository named {repo}"))
}

async fn environment_id(api: &Client, env: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(env).is_ok() {
        return Ok(env.to_owned());
    }
    let e = get(api, &format!("/environments/{}", path_segment(env))).await?;
    e["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("env: no environment named {env}"))
}

/// Runs a stack command, writing its output to `out`.
pub async fn run(
    api: &Client,
    command: StackCommand,
    json_out: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    use std::io::Write;
    match command {
        StackCommand::Create {
            name,
            repo,
            git_ref,
            paths,
            watched_paths,
            renderer,
            environments,
            selector,
            namespace,
            create_namespace,
            no_auto_deploy,
            no_prune,
            no_wait,
            health_timeout,
            force_conflicts,
            paused,
        } => {
            let repository_id = repository_id(api, &repo).await?;
            let mut env_ids = Vec::new();
            for e in &environments {
                env_ids.push(environment_id(api, e).await?);
            }
            let body = json!({
                "name": name, "repository_id": repository_id, "ref": git_ref, "paths": paths,
                "watched_paths": watched_paths,
                "renderer": match renderer { RendererArg::Plain => "plain", RendererArg::Kustomize => "kustomize" },
                "environment_ids": env_ids, "selector": selector, "default_namespace": namespace,
                "create_namespace": create_namespace, "auto_deploy": !no_auto_deploy,
                "prune": !no_prune, "wait_for_health": !no_wait,
                "health_timeout_seconds": health_timeout, "force_conflicts": force_conflicts,
                "paused": paused,
            });
            let created = api
                .call(Method::POST, "/stacks", &[], Some(&body))
                .await?
                .unwrap_or(Value::Null);
            if json_out {
                writeln!(out, "{}", serde_json::to_string_pretty(&created)?)?;
            } else {
                writeln!(
                    out,
                    "created stack {} ({}); {} target(s)",
                    s(&created["name"]),
                    s(&created["id"]),
                    created["targets"]
                        .as_object()
                        .map_or(0, |t| t.values().filter_map(Value::as_i64).sum::<i64>())
                )?;
            }
        }
        StackCommand::Ls { state, search } => {
            let mut q = Vec::new();
            if let Some(st) = state {
                q.push(("state", st));
            }
            if let Some(se) = search {
                q.push(("search", se));
            }
            let stacks = api.list_all("/stacks", &q, 100_000).await?;
            if json_out {
                writeln!(out, "{}", serde_json::to_string_pretty(&stacks)?)?;
            } else {
                let rows = stacks
                    .iter()
                    .map(|st| {
                        let t = &st["targets"];
                        let total: i64 = t
                            .as_object()
                            .map_or(0, |o| o.values().filter_map(Value::as_i64).sum());
                        let mut state = s(&st["sync_state"]);
                        if st["paused"] == true {
                            state.push_str(" (paused)");
                        }
                        if st["rollback_hold_commit"].is_string() {
                            state.push_str(" (rolled back)");
                        }
                        vec![
                            s(&st["name"]),
                            state,
                            format!("{}/{}", t["in_sync"].as_i64().unwrap_or(0), total),
                            s(&st["repository_name"]),
                            s(&st["ref"]),
                            short(&st["deployed_commit"]),
                            short(&st["latest_commit"]),
                        ]
                    })
                    .collect();
                out.extend_from_slice(
                    table(
                        &[
                            "NAME",
                            "STATE",
                            "IN SYNC",
                            "REPOSITORY",
                            "REF",
                            "DEPLOYED",
                            "LATEST",
                        ],
                        rows,
                    )
                    .as_bytes(),
                );
            }
        }
        StackCommand::Show { name } => {
            let st = stack(api, &name).await?;
            let id = s(&st["id"]);
            let targets = get(api, &format!("/stacks/{id}/targets")).await?;
            if json_out {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"stack": st, "targets": targets}))?
                )?;
            } else {
                for key in [
                    "name",
                    "id",
                    "repository_name",
                    "ref",
                    "paths",
                    "renderer",
                    "selector",
                    "environment_ids",
                    "default_namespace",
                    "auto_deploy",
                    "prune",
                    "wait_for_health",
                    "health_timeout_seconds",
                    "force_conflicts",
                    "paused",
                    "rollback_hold_commit",
                    "latest_commit",
                    "deployed_commit",
                    "sync_state",
                ] {
                    writeln!(out, "{:<24}{}", format!("{key}:"), s(&st[key]))?;
                }
                writeln!(out)?;
                let rows = targets
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        vec![
                            s(&t["environment_name"]),
                            s(&t["environment_status"]),
                            s(&t["state"]),
                            short(&t["deployed_commit"]),
                            time(&t["last_deployed_at"]),
                            s(&t["last_error"]),
                        ]
                    })
                    .collect();
                out.extend_from_slice(
                    table(
                        &[
                            "ENVIRONMENT",
                            "STATUS",
                            "STATE",
                            "DEPLOYED",
                            "LAST DEPLOYED",
                            "ERROR",
                        ],
                        rows,
                    )
                    .as_bytes(),
                );
            }
        }
        StackCommand::Deploy {
            name,
            commit,
            wait,
            timeout,
        } => {
            let id = s(&stack(api, &name).await?["id"]);
            let body = json!({"commit": commit});
            let started = api
                .call(
                    Method::POST,
                    &format!("/stacks/{id}/deploy"),
                    &[],
                    Some(&body),
                )
                .await?
                .unwrap_or(Value::Null);
            follow(api, &started, wait, timeout, json_out, out).await?;
        }
        StackCommand::Rollback {
            name,
            to,
            wait,
            timeout,
        } => {
            let st = stack(api, &name).await?;
            let id = s(&st["id"]);
            let target = match to {
                Some(t) => t,
                None => {
                    let done = api
                        .list_all(
                            "/deployments",
                            &[("stack_id", id.clone()), ("status", "succeeded".into())],
                            5_000,
                        )
                        .await?;
                    done.iter()
                        .find(|d| d["commit"] != st["deployed_commit"] && d["kind"] == "apply")
                        .and_then(|d| d["id"].as_str().map(str::to_owned))
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "to: no earlier successful deployment of another commit"
                            )
                        })?
                }
            };
            let body = json!({"deployment_id": target});
            let started = api
                .call(
                    Method::POST,
                    &format!("/stacks/{id}/rollback"),
                    &[],
                    Some(&body),
                )
                .await?
                .unwrap_or(Value::Null);
            follow(api, &started, wait, timeout, json_out, out).await?;
        }
        StackCommand::Preview { name, commit } => {
            let id = s(&stack(api, &name).await?["id"]);
            let body = json!({"commit": commit});
            let p = api
                .call(
                    Method::POST,
                    &format!("/stacks/{id}/preview"),
                    &[],
                    Some(&body),
                )
                .await?
                .unwrap_or(Value::Null);
            if json_out {
                writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
            } else {
                out.extend_from_slice(preview_text(&p).as_bytes());
            }
        }
        StackCommand::History { name, limit } => {
            let id = s(&stack(api, &name).await?["id"]);
            let rollouts = api
                .list_all("/rollouts", &[("stack_id", id)], limit)
                .await?;
            if json_out {
                writeln!(out, "{}", serde_json::to_string_pretty(&rollouts)?)?;
            } else {
                let rows = rollouts
                    .iter()
                    .map(|r| {
                        let d = &r["deployments"];
                        vec![
                            s(&r["id"]),
                            time(&r["created_at"]),
                            short(&r["commit"]),
                            s(&r["trigger"]),
                            s(&r["actor"]),
                            s(&r["status"]),
                            format!(
                                "{}/{}",
                                d["succeeded"].as_i64().unwrap_or(0),
                                d["total"].as_i64().unwrap_or(0)
                            ),
                        ]
                    })
                    .collect();
                out.extend_from_slice(
                    table(
                        &[
                            "ROLLOUT",
                            "WHEN",
                            "COMMIT",
                            "TRIGGER",
                            "ACTOR",
                            "STATUS",
                            "SUCCEEDED",
                        ],
                        rows,
                    )
                    .as_bytes(),
                );
            }
        }
    }
    Ok(())
}

/// Prints the started rollout; with `wait`, polls it to its end and fails when a target failed.
async fn follow(
    api: &Client,
    started: &Value,
    wait: bool,
    timeout: u64,
    json_out: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let rollout_id = s(&started["rollout_id"]);
    if !wait {
        if json_out {
            writeln!(out, "{}", serde_json::to_string_pretty(started)?)?;
        } else {
            writeln!(out, "rollout {rollout_id} started")?;
        }
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let detail = loop {
        let d = get(api, &format!("/rollouts/{rollout_id}")).await?;
        if !matches!(d["status"].as_str(), Some("queued" | "running")) {
            break d;
        }
        if Instant::now() > deadline {
            anyhow::bail!("rollout {rollout_id} still running after {timeout}s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if json_out {
        writeln!(out, "{}", serde_json::to_string_pretty(&detail)?)?;
    } else {
        writeln!(
            out,
            "rollout {rollout_id}: {} at {}",
            s(&detail["status"]),
            short(&detail["commit"])
        )?;
        let rows = detail["targets"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|d| {
                vec![
                    s(&d["environment_name"]),
                    s(&d["status"]),
                    s(&d["object_count"]),
                    s(&d["attempts"]),
                    s(&d["error"]),
                ]
            })
            .collect();
        out.extend_from_slice(
            table(
                &["ENVIRONMENT", "STATUS", "OBJECTS", "ATTEMPTS", "ERROR"],
                rows,
            )
            .as_bytes(),
        );
    }
    match detail["status"].as_str() {
        Some("succeeded" | "superseded") => Ok(()),
        other => anyhow::bail!("rollout {rollout_id} ended {}", other.unwrap_or("?")),
    }
}
