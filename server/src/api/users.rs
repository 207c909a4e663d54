//! User administration (admins only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::AppState;
use crate::auth::store::UserFilter;
use crate::auth::{Role, User};
use crate::crypto::Secret;
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Part of the username.
    search: Option<String>,
    role: Option<Role>,
    disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
    pub role: Role,
}

/// Fields left out are not changed. Changing the role, disabling or setting a password revokes
/// the user's sessions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret<String>>,
}

/// A page of users.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UserPage {
    items: Vec<User>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// List users, ordered by username.
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let filter = UserFilter {
        search: q.search.filter(|s| !s.is_empty()),
        role: q.role,
        disabled: q.disabled,
    };
    Ok(Json(state.auth.list_users(&filter, &page).await?))
}

/// Create a user.
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.principal.require(Role::Admin)?;
    let user = state
        .auth
        .create_user(&req.username, req.password, req.role, &caller.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Get a user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<User>, ApiError> {
    caller.principal.require(Role::Admin)?;
    Ok(Json(state.auth.get_user(id).await?))
}

/// Change a user's role, disable or enable them, or reset their password.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<Json<User>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let user = state
        .auth
        .update_user(id, req.role, req.disabled, req.password, &caller.actor())
        .await?;
    Ok(Json(user))
}
