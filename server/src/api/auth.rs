//! Login, logout, the current user and password change.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Caller, Client};
use crate::AppState;
use crate::auth::User;
use crate::auth::service::Session;
use crate::crypto::Secret;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret<String>,
}

/// A new session. Send `token` as `Authorization: Bearer <token>`.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

impl From<Session> for LoginResponse {
    fn from(s: Session) -> Self {
        Self {
            token: s.token.expose().clone(),
            token_type: "Bearer",
            expires_at: s.expires_at,
            user: s.user,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    pub current_password: Secret<String>,
    #[schema(value_type = String, format = Password)]
    pub new_password: Secret<String>,
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "wrong username or password", body = ErrorBody),
              (status = 429, description = "too many attempts (see Retry-After)", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let session = state
        .auth
        .login(&req.username, req.password, &client)
        .await?;
    Ok(Json(session.into()))
}

/// End the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    state
        .auth
        .logout(&caller.principal, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<User>, ApiError> {
    Ok(Json(state.auth.get_user(caller.principal.user_id).await?))
}

/// Change your password: every session of yours is revoked and a new one is returned.
#[utoipa::path(post, path = "/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = LoginResponse), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let session = state
        .auth
        .change_password(
            &caller.principal,
            req.current_password,
            req.new_password,
            &caller.client,
            &caller.actor(),
        )
        .await?;
    Ok(Json(session.into()))
}
