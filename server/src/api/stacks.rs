//! Stacks: management (admins), deploy / redeploy / rollback / preview / pause / resume
//! (operators), state and targets (everyone).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::AppState;
use crate::auth::Role;
use crate::deploy::Renderer;
use crate::pagination::{Page, PageParams};
use crate::stacks::service::StackPreview;
use crate::stacks::store::StackFilter;
use crate::stacks::{Stack, StackChanges, StackError, StackSpec, StackTarget, SyncState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stacks, create_stack))
        .routes(routes!(get_stack, update_stack, delete_stack))
        .routes(routes!(list_targets))
        .routes(routes!(deploy_stack))
        .routes(routes!(redeploy_stack))
        .routes(routes!(rollback_stack))
        .routes(routes!(preview_stack))
        .routes(routes!(pause_stack))
        .routes(routes!(resume_stack))
        .routes(routes!(environment_stacks))
}

impl From<StackError> for ApiError {
    fn from(e: StackError) -> Self {
        match e {
            StackError::Invalid { field, message } => ApiError::validation(field, message),
            StackError::NotFound(what) => ApiError::not_found(what),
            StackError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "a stack with this name already exists",
            )
            .with_field("name"),
            StackError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StackError::Database(e) => ApiError::internal(&e),
            StackError::Internal(m) => ApiError::internal(&std::io::Error::other(m)),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_timeout() -> i32 {
    300
}

/// A stack to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStackRequest {
    /// Lowercase letters, digits, `.`, `_`, `-` (it labels the applied objects).
    pub name: String,
    pub repository_id: Uuid,
    /// Branch, tag, full ref (`refs/heads/x`) or a full commit id (a pin that never moves).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Paths in the repository holding the manifests (default: the root).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Other paths whose changes redeploy the stack (e.g. kustomize bases).
    #[serde(default)]
    pub watched_paths: Vec<String>,
    #[serde(default)]
    pub renderer: Renderer,
    /// Environments targeted by id.
    #[serde(default)]
    pub environment_ids: Vec<Uuid>,
    /// Tag selector (`env=prod,region in (eu,us)`); matching environments are targets too,
    /// re-evaluated as environments join, leave or change tags.
    pub selector: Option<String>,
    /// Namespace of namespaced objects that name none.
    pub default_namespace: Option<String>,
    /// Create missing namespaces the objects need.
    #[serde(default)]
    pub create_namespace: bool,
    /// On: a detected change deploys. Off: the stack shows "out of date" until deployed by hand.
    #[serde(default = "default_true")]
    pub auto_deploy: bool,
    /// Delete objects that left Git (that the last successful deployment applied).
    #[serde(default = "default_true")]
    pub prune: bool,
    /// Wait for Deployments, StatefulSets, DaemonSets and Jobs to become healthy.
    #[serde(default = "default_true")]
    pub wait_for_health: bool,
    #[serde(default = "default_timeout")]
    pub health_timeout_seconds: i32,
    /// Take over fields (and objects) owned by others instead of failing.
    #[serde(default)]
    pub force_conflicts: bool,
    #[serde(default)]
    pub paused: bool,
}

/// Fields left out are not changed; `selector: null` / `default_namespace: null` clear them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStackRequest {
    pub name: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub paths: Option<Vec<String>>,
    pub watched_paths: Option<Vec<String>>,
    pub renderer: Option<Renderer>,
    pub environment_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub selector: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub default_namespace: Option<Option<String>>,
    pub create_namespace: Option<bool>,
    pub auto_deploy: Option<bool>,
    pub prune: Option<bool>,
    pub wait_for_health: Option<bool>,
    pub health_timeout_seconds: Option<i32>,
    pub force_conflicts: Option<bool>,
    pub paused: Option<bool>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StackQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Part of the name.
    search: Option<String>,
    repository_id: Option<Uuid>,
    /// Stacks targeting this environment.
    environment_id: Option<Uuid>,
    /// `in_sync`, `out_of_date`, `deploying`, `failed` or `unknown` (worst over the targets).
    state: Option<String>,
}

/// A page of stacks.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StackPage {
    items: Vec<Stack>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A rollout was started; follow it at `GET /api/v1/rollouts/{rollout_id}`.
#[derive(Serialize, ToSchema)]
pub struct RolloutStarted {
    pub rollout_id: Uuid,
}

/// The result of deleting a stack.
#[derive(Serialize, ToSchema)]
pub struct StackDeleted {
    /// The rollout removing the stack's objects (the stack is deleted when it succeeds), or
    /// `null` when the stack was deleted at once.
    #[schema(required = true)]
    pub removal_rollout_id: Option<Uuid>,
}

/// The result of resuming a stack.
#[derive(Serialize, ToSchema)]
pub struct StackResumed {
    /// The rollout of the latest commit started because the stack was out of date, if any.
    #[schema(required = true)]
    pub rollout_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// A full commit id; omitted: the latest commit change detection found.
    pub commit: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// An earlier successful deployment of this stack; its commit is deployed to every target.
    pub deployment_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteStackQuery {
    /// Delete the stack's objects from every target first (recorded as a removal rollout).
    #[serde(default)]
    remove_objects: bool,
}

/// List stacks with the sync state of their targets, ordered by name.
#[utoipa::path(get, path = "/stacks", tag = "stacks", security(("bearer" = [])),
    params(StackQuery), responses((status = 200, body = StackPage), (status = 400, body = ErrorBody)))]
async fn list_stacks(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StackQuery>,
) -> Result<Json<Page<Stack>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse::<String>()?;
    let sync = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(SyncState::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "state must be in_sync, out_of_date, deploying, failed or unknown",
            )
            .with_field("state")
        })?),
    };
    let filter = StackFilter {
        search: q.search.filter(|s| !s.is_empty()),
        repository_id: q.repository_id,
        environment_id: q.environment_id,
        state: sync,
    };
    Ok(Json(state.stacks.list(&filter, &page).await?))
}

/// Create a stack (admins). Its targets are computed at once and its repository is checked so
/// the first deployment follows.
#[utoipa::path(post, path = "/stacks", tag = "stacks", security(("bearer" = [])),
    request_body = CreateStackRequest,
    responses((status = 201, body = Stack), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<CreateStackRequest>,
) -> Result<(StatusCode, Json<Stack>), ApiError> {
    caller.principal.require(Role::Admin)?;
    let spec = StackSpec {
        name: r.name,
        repository_id: r.repository_id,
        git_ref: r.git_ref,
        paths: r.paths,
        watched_paths: r.watched_paths,
        renderer: r.renderer,
        environment_ids: r.environment_ids,
        selector: r.selector,
        default_namespace: r.default_namespace,
        create_namespace: r.create_namespace,
        auto_deploy: r.auto_deploy,
        prune: r.prune,
        wait_for_health: r.wait_for_health,
        health_timeout_seconds: r.health_timeout_seconds,
        force_conflicts: r.force_conflicts,
        paused: r.paused,
    };
    let stack = state.stacks.create(spec, &caller.actor()).await?;
    state.deployer.wake();
    Ok((StatusCode::CREATED, Json(stack)))
}

/// Get a stack by id or name.
#[utoipa::path(get, path = "/stacks/{id}", tag = "stacks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Stack id or name")),
    responses((status = 200, body = Stack), (status = 404, body = ErrorBody)))]
async fn get_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Stack>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(state.stacks.find(&id).await?))
}

/// Change a stack (admins). Target changes apply at once; environments that join get a rollout.
#[utoipa::path(patch, path = "/stacks/{id}", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateStackRequest,
    responses((status = 200, body = Stack), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(r): ApiJson<UpdateStackRequest>,
) -> Result<Json<Stack>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let changes = StackChanges {
        name: r.name,
        git_ref: r.git_ref,
        paths: r.paths,
        watched_paths: r.watched_paths,
        renderer: r.renderer,
        environment_ids: r.environment_ids,
        selector: r.selector,
        default_namespace: r.default_namespace,
        create_namespace: r.create_namespace,
        auto_deploy: r.auto_deploy,
        prune: r.prune,
        wait_for_health: r.wait_for_health,
        health_timeout_seconds: r.health_timeout_seconds,
        force_conflicts: r.force_conflicts,
        paused: r.paused,
    };
    let stack = state.stacks.update(id, changes, &caller.actor()).await?;
    state.deployer.wake();
    Ok(Json(stack))
}

/// Delete a stack (admins). With `remove_objects=true` its objects are deleted from every
/// target first (202 with the removal rollout); otherwise they stay in the clusters (200).
#[utoipa::path(delete, path = "/stacks/{id}", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path), DeleteStackQuery),
    responses((status = 200, body = StackDeleted), (status = 202, body = StackDeleted),
        (status = 404, body = ErrorBody)))]
async fn delete_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeleteStackQuery>,
) -> Result<(StatusCode, Json<StackDeleted>), ApiError> {
    caller.principal.require(Role::Admin)?;
    let rollout = state
        .stacks
        .delete(id, q.remove_objects, &caller.actor())
        .await?;
    let status = if rollout.is_some() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(StackDeleted {
            removal_rollout_id: rollout,
        }),
    ))
}

/// The stack's targets and the sync state of each.
#[utoipa::path(get, path = "/stacks/{id}/targets", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StackTarget>), (status = 404, body = ErrorBody)))]
async fn list_targets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<StackTarget>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(state.stacks.targets(id).await?))
}

/// Deploy now (operators): the latest commit, or a chosen one (which then holds auto-deploy
/// like a rollback).
#[utoipa::path(post, path = "/stacks/{id}/deploy", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = DeployRequest,
    responses((status = 202, body = RolloutStarted), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn deploy_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Option<ApiJson<DeployRequest>>,
) -> Result<(StatusCode, Json<RolloutStarted>), ApiError> {
    caller.principal.require(Role::Operator)?;
    let req = body.map(|b| b.0).unwrap_or_default();
    let rollout_id = state.stacks.deploy(id, req.commit, &caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(RolloutStarted { rollout_id })))
}

/// Redeploy the deployed commit (operators), e.g. to undo drift.
#[utoipa::path(post, path = "/stacks/{id}/redeploy", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, body = RolloutStarted), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn redeploy_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<RolloutStarted>), ApiError> {
    caller.principal.require(Role::Operator)?;
    let rollout_id = state.stacks.redeploy(id, &caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(RolloutStarted { rollout_id })))
}

/// Roll back (operators) to the commit of an earlier successful deployment. Auto-deploy then
/// holds until a new commit arrives or someone resumes the stack.
#[utoipa::path(post, path = "/stacks/{id}/rollback", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RollbackRequest,
    responses((status = 202, body = RolloutStarted), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn rollback_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> Result<(StatusCode, Json<RolloutStarted>), ApiError> {
    caller.principal.require(Role::Operator)?;
    let rollout_id = state
        .stacks
        .rollback(id, req.deployment_id, &caller.actor())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(RolloutStarted { rollout_id })))
}

/// Preview (operators): render at the latest (or a chosen) commit and dry-run against every
/// target; per environment, what would be created, changed (field diffs) and pruned.
#[utoipa::path(post, path = "/stacks/{id}/preview", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = DeployRequest,
    responses((status = 200, body = StackPreview), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn preview_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Option<ApiJson<DeployRequest>>,
) -> Result<Json<StackPreview>, ApiError> {
    caller.principal.require(Role::Operator)?;
    let req = body.map(|b| b.0).unwrap_or_default();
    Ok(Json(state.stacks.preview(id, req.commit).await?))
}

/// Pause (operators): change detection and auto-deploy stop for the stack; survives restarts.
#[utoipa::path(post, path = "/stacks/{id}/pause", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StackResumed), (status = 404, body = ErrorBody)))]
async fn pause_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<StackResumed>, ApiError> {
    caller.principal.require(Role::Operator)?;
    let rollout_id = state.stacks.set_paused(id, true, &caller.actor()).await?;
    Ok(Json(StackResumed { rollout_id }))
}

/// Resume (operators): lifts a pause and a rollback hold; deploys the latest commit when the
/// stack auto-deploys and is out of date.
#[utoipa::path(post, path = "/stacks/{id}/resume", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StackResumed), (status = 404, body = ErrorBody)))]
async fn resume_stack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<StackResumed>, ApiError> {
    caller.principal.require(Role::Operator)?;
    let rollout_id = state.stacks.set_paused(id, false, &caller.actor()).await?;
    Ok(Json(StackResumed { rollout_id }))
}

/// The stacks targeting an environment and their sync state there.
#[utoipa::path(get, path = "/environments/{id}/stacks", tag = "stacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StackTarget>), (status = 404, body = ErrorBody)))]
async fn environment_stacks(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<StackTarget>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    state.environments.find(&id.to_string()).await?;
    Ok(Json(state.stacks.of_environment(id).await?))
}
