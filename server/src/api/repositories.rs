//! Git repositories: registration (admins), status and checks (everyone), "check now" (operators).

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
use crate::auth::Role;
use crate::crypto::Secret;
use crate::pagination::{Page, PageParams};
use crate::repositories::service::{NewRepository, RepositoryChanges};
use crate::repositories::store::ListFilter;
use crate::repositories::{
    CredentialsInput, Repository, RepositoryCheck, RepositoryError, ScheduleSpec,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_repositories, create_repository))
        .routes(routes!(
            get_repository,
            update_repository,
            delete_repository
        ))
        .routes(routes!(check_repository))
        .routes(routes!(list_checks))
        .routes(routes!(get_check))
        .routes(routes!(get_webhook_secret, rotate_webhook_secret))
}

impl From<RepositoryError> for ApiError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::Invalid { field, message } => ApiError::validation(field, message),
            RepositoryError::NotFound => ApiError::not_found("repository"),
            RepositoryError::NotFoundWhat { what } => ApiError::not_found(what),
            RepositoryError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "a repository with this name already exists",
            )
            .with_field("name"),
            RepositoryError::InUse { .. } => {
                ApiError::new(StatusCode::CONFLICT, "in_use", e.to_string())
            }
            RepositoryError::Connection(g) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connection_failed",
                format!("connection test failed: {g}"),
            )
            .with_field(RepositoryError::connection_field(&g)),
            RepositoryError::Database(e) => ApiError::internal(&e),
            RepositoryError::Crypto(e) => ApiError::internal(&e),
            RepositoryError::Internal(m) => ApiError::internal(&std::io::Error::other(m)),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RepositoryQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Part of the name or URL.
    search: Option<String>,
    /// `true`: only repositories whose last check failed; `false`: only the others.
    failing: Option<bool>,
}

/// A repository to register. The connection is tested (a ref listing) before it is saved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepositoryRequest {
    pub name: String,
    /// `https://`, `http://` (insecure), `ssh://`, `user@host:path` or `git://`.
    pub url: String,
    /// Write-only; omitted means anonymous access.
    pub credentials: Option<CredentialsInput>,
    /// PEM certificates to trust for this https server.
    pub ca_bundle: Option<String>,
    #[serde(default)]
    pub skip_tls_verify: bool,
    /// Omitted: the server's default interval.
    pub schedule: Option<ScheduleSpec>,
    #[serde(default)]
    pub paused: bool,
}

/// Fields left out are not changed; `ca_bundle: null` removes the bundle. URL, credential or TLS
/// changes are tested before they are saved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepositoryRequest {
    pub name: Option<String>,
    pub url: Option<String>,
    pub credentials: Option<CredentialsInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub ca_bundle: Option<Option<String>>,
    pub skip_tls_verify: Option<bool>,
    pub schedule: Option<ScheduleSpec>,
    pub paused: Option<bool>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A new repository and its webhook secret (shown here once; admins can read it again).
#[derive(Serialize, ToSchema)]
pub struct CreatedRepository {
    pub repository: Repository,
    #[schema(value_type = String)]
    pub webhook_secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    /// Sign webhook deliveries with this (HMAC-SHA256), or send it as GitLab's token.
    pub webhook_secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct CheckQueued {
    /// Follow it at `GET /api/v1/repositories/{id}/checks/{check_id}`.
    pub check_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete the stacks that use the repository.
    #[serde(default)]
    force: bool,
}

/// A page of repositories.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RepositoryPage {
    items: Vec<Repository>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A page of checks.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckPage {
    items: Vec<RepositoryCheck>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// List repositories with their check status, ordered by name.
#[utoipa::path(get, path = "/repositories", tag = "repositories", security(("bearer" = [])),
    params(RepositoryQuery), responses((status = 200, body = RepositoryPage)))]
async fn list_repositories(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RepositoryQuery>,
) -> Result<Json<Page<Repository>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let filter = ListFilter {
        search: q.search.filter(|s| !s.is_empty()),
        failing: q.failing,
    };
    Ok(Json(state.repositories.list(&filter, &page).await?))
}

/// Register a repository (admins). The connection is tested first; a failure is a 422
/// `connection_failed` saying whether authentication, the host, TLS, the repository or a timeout
/// is at fault.
#[utoipa::path(post, path = "/repositories", tag = "repositories", security(("bearer" = [])),
    request_body = CreateRepositoryRequest,
    responses((status = 201, body = CreatedRepository), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_repository(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateRepositoryRequest>,
) -> Result<(StatusCode, Json<CreatedRepository>), ApiError> {
    caller.principal.require(Role::Admin)?;
    let new = NewRepository {
        name: req.name,
        url: req.url,
        credentials: req.credentials,
        ca_bundle: req.ca_bundle,
        skip_tls_verify: req.skip_tls_verify,
        schedule: req.schedule,
        paused: req.paused,
    };
    let (repository, secret) = state.repositories.create(new, &caller.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedRepository {
            repository,
            webhook_secret: secret.expose().clone(),
        }),
    ))
}

/// Get a repository and its check status.
#[utoipa::path(get, path = "/repositories/{id}", tag = "repositories", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Repository), (status = 404, body = ErrorBody)))]
async fn get_repository(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Repository>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(state.repositories.get(id).await?))
}

/// Change a repository (admins). Schedule and pause changes apply at once on every replica.
#[utoipa::path(patch, path = "/repositories/{id}", tag = "repositories", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateRepositoryRequest,
    responses((status = 200, body = Repository), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_repository(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateRepositoryRequest>,
) -> Result<Json<Repository>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let changes = RepositoryChanges {
        name: req.name,
        url: req.url,
        credentials: req.credentials,
        ca_bundle: req.ca_bundle,
        skip_tls_verify: req.skip_tls_verify,
        schedule: req.schedule,
        paused: req.paused,
    };
    Ok(Json(
        state
            .repositories
            .update(id, changes, &caller.actor())
            .await?,
    ))
}

/// Delete a repository (admins); 409 `in_use` while stacks use it, unless `force=true`.
#[utoipa::path(delete, path = "/repositories/{id}", tag = "repositories", security(("bearer" = [])),
    params(("id" = Uuid, Path), DeleteQuery),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_repository(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    caller.principal.require(Role::Admin)?;
    state
        .repositories
        .delete(id, q.force, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check now ("poll now"; operators): queues a check, joining one already queued.
#[utoipa::path(post, path = "/repositories/{id}/check", tag = "repositories", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, body = CheckQueued), (status = 404, body = ErrorBody)))]
async fn check_repository(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<CheckQueued>), ApiError> {
    caller.principal.require(Role::Operator)?;
    let check_id = state.repositories.check_now(id, &caller.actor()).await?;
    state.poller.wake();
    Ok((StatusCode::ACCEPTED, Json(CheckQueued { check_id })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A repository's checks, newest first.
#[utoipa::path(get, path = "/repositories/{id}/checks", tag = "repositories", security(("bearer" = [])),
    params(("id" = Uuid, Path), CheckQuery),
    responses((status = 200, body = CheckPage), (status = 404, body = ErrorBody)))]
async fn list_checks(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<CheckQuery>,
) -> Result<Json<Page<RepositoryCheck>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse::<(DateTime<Utc>, Uuid)>()?;
    Ok(Json(state.repositories.list_checks(id, &page).await?))
}

/// One check: its outcome and the deployment events it caused.
#[utoipa::path(get, path = "/repositories/{id}/checks/{check_id}", tag = "repositories",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("check_id" = Uuid, Path)),
    responses((status = 200, body = RepositoryCheck), (status = 404, body = ErrorBody)))]
async fn get_check(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, check_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<RepositoryCheck>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(state.repositories.get_check(id, check_id).await?))
}

/// The repository's webhook secret (admins; audited).
#[utoipa::path(get, path = "/repositories/{id}/webhook-secret", tag = "repositories",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookSecret), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn get_webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookSecret>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let secret: Secret<String> = state
        .repositories
        .webhook_secret(id, &caller.actor())
        .await?;
    Ok(Json(WebhookSecret {
        webhook_secret: secret.expose().clone(),
    }))
}

/// Replace the webhook secret (admins; audited); webhooks signed with the old one are refused.
#[utoipa::path(post, path = "/repositories/{id}/webhook-secret", tag = "repositories",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookSecret), (status = 404, body = ErrorBody)))]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookSecret>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let secret = state
        .repositories
        .rotate_webhook_secret(id, &caller.actor())
        .await?;
    Ok(Json(WebhookSecret {
        webhook_secret: secret.expose().clone(),
    }))
}
