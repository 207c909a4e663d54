//! API tokens: create (shown once), list, revoke.

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
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::AppState;
use crate::auth::{ApiToken, Role};
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    cursor: Option<String>,
    /// Admins only: list every user's tokens.
    all: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// At most your own role; defaults to it.
    pub role: Option<Role>,
    /// When the token stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new token. `token` is shown only in this response.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: String,
    pub api_token: ApiToken,
}

/// A page of API tokens.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenPage {
    items: Vec<ApiToken>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// List your API tokens (admins: `all=true` for everyone's), newest first.
#[utoipa::path(get, path = "/tokens", tag = "tokens", security(("bearer" = [])), params(TokenQuery),
    responses((status = 200, body = TokenPage)))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<Page<ApiToken>>, ApiError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let tokens = state
        .auth
        .list_tokens(&caller.principal, q.all.unwrap_or(false), &page)
        .await?;
    Ok(Json(tokens))
}

/// Create an API token for yourself.
#[utoipa::path(post, path = "/tokens", tag = "tokens", security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let issued = state
        .auth
        .create_token(
            &caller.principal,
            &req.name,
            req.role,
            req.expires_at,
            &caller.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: issued.token.expose().clone(),
            api_token: issued.api_token,
        }),
    ))
}

/// Revoke an API token (your own; admins: anyone's).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state
        .auth
        .revoke_token(&caller.principal, id, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
