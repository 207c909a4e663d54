//! History: rollouts, deployments and per-object results (every role reads). Live progress is
//! on the event stream (`rollout.created`, `deployment.started`, `deployment.progress`,
//! `deployment.finished`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, Caller};
use crate::AppState;
use crate::auth::Role;
use crate::pagination::{Page, PageParams};
use crate::rollouts::store::{self, DeploymentFilter, ObjectFilter, RolloutFilter};
use crate::rollouts::{Deployment, DeploymentObject, Rollout, Trigger};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rollouts))
        .routes(routes!(get_rollout))
        .routes(routes!(list_deployments))
        .routes(routes!(get_deployment))
        .routes(routes!(list_objects))
}

const STATUSES: &[&str] = &[
    "queued",
    "running",
    "succeeded",
    "failed",
    "superseded",
    "partial",
];
const ACTIONS: &[&str] = &["created", "configured", "unchanged", "pruned", "failed"];

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message).with_field(field)
}

fn one_of(
    field: &str,
    value: Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(_) => Err(bad(
            field,
            &format!("{field} must be one of {}", allowed.join(", ")),
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RolloutQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    stack_id: Option<Uuid>,
    /// Rollouts with a deployment to this environment.
    environment_id: Option<Uuid>,
    /// `queued`, `running`, `succeeded`, `failed`, `superseded`, `partial`.
    status: Option<String>,
    /// `poll`, `webhook`, `manual`, `redeploy`, `rollback`, `environment_joined`, `removal`.
    trigger: Option<String>,
    /// The rollout a webhook's deployment event became (as answered by the webhook).
    deployment_event_id: Option<Uuid>,
    /// Only rollouts still queued or running.
    #[serde(default)]
    active: bool,
}

/// A page of rollouts.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RolloutPage {
    items: Vec<Rollout>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A rollout with its deployments.
#[derive(Serialize, ToSchema)]
pub struct RolloutDetail {
    #[serde(flatten)]
    pub rollout: Rollout,
    pub targets: Vec<Deployment>,
}

/// Rollouts, newest first.
#[utoipa::path(get, path = "/rollouts", tag = "rollouts", security(("bearer" = [])),
    params(RolloutQuery), responses((status = 200, body = RolloutPage), (status = 400, body = ErrorBody)))]
async fn list_rollouts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RolloutQuery>,
) -> Result<Json<Page<Rollout>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse::<(DateTime<Utc>, Uuid)>()?;
    let trigger = match q.trigger.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) if Trigger::parse(&t).is_some() => Some(t),
        Some(_) => {
            return Err(bad(
                "trigger",
                "trigger must be one of poll, webhook, manual, redeploy, rollback, \
                 environment_joined, removal",
            ));
        }
    };
    let filter = RolloutFilter {
        stack_id: q.stack_id,
        status: one_of("status", q.status, STATUSES)?,
        trigger,
        deployment_event_id: q.deployment_event_id,
        environment_id: q.environment_id,
        active: q.active,
    };
    Ok(Json(
        store::list_rollouts(&state.pool, &filter, &page)
            .await
            .map_err(|e| ApiError::internal(&e))?,
    ))
}

/// One rollout and its deployments (one per target environment).
#[utoipa::path(get, path = "/rollouts/{id}", tag = "rollouts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RolloutDetail), (status = 404, body = ErrorBody)))]
async fn get_rollout(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<RolloutDetail>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let rollout = store::get_rollout(&state.pool, id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("rollout"))?;
    let targets = store::deployments_of_rollout(&state.pool, id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(RolloutDetail { rollout, targets }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeploymentQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    rollout_id: Option<Uuid>,
    stack_id: Option<Uuid>,
    environment_id: Option<Uuid>,
    /// `queued`, `running`, `succeeded`, `failed`, `superseded`.
    status: Option<String>,
}

/// A page of deployments.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeploymentPage {
    items: Vec<Deployment>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Deployments, newest first (a stack's history in an environment, an environment's history…).
#[utoipa::path(get, path = "/deployments", tag = "rollouts", security(("bearer" = [])),
    params(DeploymentQuery), responses((status = 200, body = DeploymentPage), (status = 400, body = ErrorBody)))]
async fn list_deployments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DeploymentQuery>,
) -> Result<Json<Page<Deployment>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse::<(DateTime<Utc>, Uuid)>()?;
    let filter = DeploymentFilter {
        rollout_id: q.rollout_id,
        stack_id: q.stack_id,
        environment_id: q.environment_id,
        status: one_of("status", q.status, &STATUSES[..5])?,
    };
    Ok(Json(
        store::list_deployments(&state.pool, &filter, &page)
            .await
            .map_err(|e| ApiError::internal(&e))?,
    ))
}

/// One deployment: status, attempts, timings, error and where it happened.
#[utoipa::path(get, path = "/deployments/{id}", tag = "rollouts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Deployment), (status = 404, body = ErrorBody)))]
async fn get_deployment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Deployment>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(
        store::get_deployment(&state.pool, id)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::not_found("deployment"))?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObjectQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `created`, `configured`, `unchanged`, `pruned`, `failed`.
    action: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    /// Part of the object's name.
    search: Option<String>,
}

/// A page of object results.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ObjectPage {
    items: Vec<DeploymentObject>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A deployment's per-object results, in the order they were applied.
#[utoipa::path(get, path = "/deployments/{id}/objects", tag = "rollouts", security(("bearer" = [])),
    params(("id" = Uuid, Path), ObjectQuery),
    responses((status = 200, body = ObjectPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list_objects(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ObjectQuery>,
) -> Result<Json<Page<DeploymentObject>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse::<i32>()?;
    store::get_deployment(&state.pool, id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("deployment"))?;
    let filter = ObjectFilter {
        action: one_of("action", q.action, ACTIONS)?,
        kind: q.kind.filter(|k| !k.is_empty()),
        namespace: q.namespace.filter(|n| !n.is_empty()),
        search: q.search.filter(|s| !s.is_empty()),
    };
    Ok(Json(
        store::objects(&state.pool, id, &filter, &page)
            .await
            .map_err(|e| ApiError::internal(&e))?,
    ))
}
