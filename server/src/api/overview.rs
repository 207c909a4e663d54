//! The fleet at a glance (`GET /api/v1/overview`): counts that the dashboard's overview shows,
//! computed in the database so the page never loads every environment or repository.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::Caller;
use crate::AppState;
use crate::auth::Role;
use crate::environments::EnvironmentSummary;
use crate::repositories::RepositorySummary;
use crate::rollouts::{RolloutSummary, store as rollout_store};
use crate::stacks::StackSummary;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_overview))
}

/// Counts across the fleet.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub environments: EnvironmentSummary,
    pub repositories: RepositorySummary,
    pub stacks: StackSummary,
    pub rollouts: RolloutSummary,
}

/// The fleet at a glance (every role): environments by status, repositories whose last check
/// failed, stacks by sync state, rollouts in progress and recently failed.
#[utoipa::path(get, path = "/overview", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody)))]
async fn get_overview(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Overview>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let environments = state.environments.summary().await?;
    let repositories = state.repositories.summary().await?;
    let stacks = state.stacks.summary().await?;
    let rollouts = rollout_store::summary(&state.pool)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(Overview {
        environments,
        repositories,
        stacks,
        rollouts,
    }))
}
