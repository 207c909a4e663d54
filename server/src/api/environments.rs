//! Environments: register clusters by kubeconfig upload (JSON or multipart), list, read, update,
//! rotate credentials, delete, probe now. Admins change; every role reads. Credentials are
//! write-only: no response ever contains them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiMultipart, ApiPath, ApiQuery, Caller, is_multipart, parse_json};
use crate::AppState;
use crate::auth::Role;
use crate::crypto::Secret;
use crate::environments::service::Changes;
use crate::environments::store::Filter;
use crate::environments::{
    EnvError, Environment, KubeconfigError, NewEnvironment, Selector, Status, parse_name,
    parse_namespace, parse_tags, tags_from_pairs,
};
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_environments, register_environments))
        .routes(routes!(
            get_environment,
            update_environment,
            delete_environment
        ))
        .routes(routes!(rotate_credentials))
        .routes(routes!(probe_environment))
}

impl From<EnvError> for ApiError {
    fn from(e: EnvError) -> Self {
        match e {
            EnvError::Invalid { field, message } => ApiError::validation(field, message),
            EnvError::Kubeconfig(k) => {
                let field = k.field().to_owned();
                let (status, code) = match &k {
                    KubeconfigError::TooLarge => {
                        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
                    }
                    KubeconfigError::Refused { .. } => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "kubeconfig_refused")
                    }
                    KubeconfigError::ChooseContext { .. } => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "context_required")
                    }
                    KubeconfigError::Invalid { .. } => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
                    }
                };
                ApiError::new(status, code, k.to_string()).with_field(field)
            }
            EnvError::Verify {
                code,
                field,
                message,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field),
            EnvError::NotFound => ApiError::not_found("environment"),
            EnvError::Conflict { field } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{field} is already taken"),
            )
            .with_field(field),
            EnvError::InUse { message } => ApiError::new(StatusCode::CONFLICT, "in_use", message),
            EnvError::Database(e) => ApiError::internal(&e),
            EnvError::Crypto(e) => ApiError::internal(&e),
            EnvError::Internal(m) => ApiError::internal(&std::io::Error::other(m)),
        }
    }
}

fn yes() -> bool {
    true
}

/// Register one environment (`name`, …) or several from one multi-context kubeconfig
/// (`environments`, all or nothing). As multipart form data, the same fields: `kubeconfig` (a
/// file), `name`, `context`, `default_namespace`, `tag` (repeatable `key=value`), `verify`, and
/// `environments` as a JSON array.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The kubeconfig text (YAML, at most 1 MiB). Write-only.
    #[schema(value_type = String, format = Password)]
    pub kubeconfig: Secret<String>,
    pub name: Option<String>,
    /// `key=value` labels used to target stacks.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Context to use; default: the file's `current-context` (422 listing the contexts when the
    /// file has several and none is current).
    pub context: Option<String>,
    /// Default namespace; default: the context's namespace, else `default`.
    pub default_namespace: Option<String>,
    /// Connect before saving (default true). With false, an unreachable cluster is saved with
    /// status `down`.
    #[serde(default = "yes")]
    pub verify: bool,
    /// Several environments from the contexts of one file (instead of `name`/`tags`/`context`).
    pub environments: Option<Vec<RegisterItem>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterItem {
    pub name: String,
    pub context: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub default_namespace: Option<String>,
}

/// New credentials for an environment, validated like a registration before they replace the old.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    #[schema(value_type = String, format = Password)]
    pub kubeconfig: Secret<String>,
    /// Context to use; default: `current-context`, else the environment's current context name.
    pub context: Option<String>,
    #[serde(default = "yes")]
    pub verify: bool,
}

/// Fields left out are not changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateEnvironmentRequest)]
pub struct UpdateRequest {
    pub name: Option<String>,
    /// Replaces every tag.
    pub tags: Option<BTreeMap<String, String>>,
    pub default_namespace: Option<String>,
}

/// The registered environments.
#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub items: Vec<Environment>,
}

/// A JSON or multipart body, parsed into `T` with the same field-naming errors.
pub struct Upload<T>(pub T);

impl<S, T> FromRequest<S> for Upload<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_multipart(req.headers()) {
            let ApiJson(v) = ApiJson::<T>::from_request(req, state).await?;
            return Ok(Upload(v));
        }
        let ApiMultipart(fields) = ApiMultipart::from_request(req, state).await?;
        let mut obj = Map::new();
        let mut tags: Vec<String> = Vec::new();
        for f in fields {
            let text = String::from_utf8(f.value.to_vec()).map_err(|_| {
                ApiError::validation(f.name.clone(), "form fields must be UTF-8 text")
            })?;
            match f.name.as_str() {
                "tag" | "tags" => tags.push(text),
                "verify" => {
                    let v = match text.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(ApiError::validation("verify", "expected true or false")),
                    };
                    obj.insert("verify".into(), Value::Bool(v));
                }
                "environments" => {
                    let v: Value = parse_json(text.as_bytes()).map_err(|mut e| {
                        e.field = Some("environments".into());
                        e
                    })?;
                    obj.insert("environments".into(), v);
                }
                name => {
                    if obj.contains_key(name) {
                        return Err(ApiError::validation(name, "field given twice"));
                    }
                    obj.insert(name.to_owned(), Value::String(text));
                }
            }
        }
        if !tags.is_empty() {
            let map = tags_from_pairs("tags", tags.iter().map(String::as_str))?;
            obj.insert("tags".into(), serde_json::to_value(map).unwrap_or_default());
        }
        let bytes = serde_json::to_vec(&Value::Object(obj)).unwrap_or_default();
        parse_json(&bytes).map(Upload)
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnvironmentQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Tag selector, e.g. `env=prod,region in (eu,us),!deprecated`.
    selector: Option<String>,
    status: Option<Status>,
    /// Part of the name.
    search: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when stacks target the environment.
    #[serde(default)]
    force: bool,
}

/// A page of environments.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EnvironmentPage {
    items: Vec<Environment>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// List environments, ordered by name.
#[utoipa::path(get, path = "/environments", tag = "environments", security(("bearer" = [])),
    params(EnvironmentQuery),
    responses((status = 200, body = EnvironmentPage), (status = 400, body = ErrorBody)))]
async fn list_environments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EnvironmentQuery>,
) -> Result<Json<Page<Environment>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let selector = Selector::parse(q.selector.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(Some("selector".into()), e.to_string()))?;
    let filter = Filter {
        selector,
        status: q.status,
        search: q.search.filter(|s| !s.is_empty()),
    };
    Ok(Json(state.environments.list(&filter, &page).await?))
}

/// Register environments from a kubeconfig (admins). Answers 201 with the registered
/// environments; a refused kubeconfig or cluster is a 4xx naming the field, and saves nothing.
#[utoipa::path(post, path = "/environments", tag = "environments", security(("bearer" = [])),
    request_body(content(
        (RegisterRequest = "application/json"),
        (RegisterRequest = "multipart/form-data"),
    )),
    responses((status = 201, body = Registered), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register_environments(
    State(state): State<AppState>,
    caller: Caller,
    Upload(req): Upload<RegisterRequest>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    caller.principal.require(Role::Admin)?;
    let items = match req.environments {
        Some(list) => {
            if req.name.is_some()
                || req.context.is_some()
                || !req.tags.is_empty()
                || req.default_namespace.is_some()
            {
                return Err(ApiError::validation(
                    "environments",
                    "give either environments, or name/context/tags/default_namespace",
                ));
            }
            if list.is_empty() || list.len() > 100 {
                return Err(ApiError::validation(
                    "environments",
                    "between 1 and 100 environments",
                ));
            }
            list.into_iter()
                .enumerate()
                .map(|(i, item)| {
                    NewEnvironment::parse(
                        &format!("environments[{i}]."),
                        &item.name,
                        item.tags,
                        Some(item.context),
                        item.default_namespace,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let name = req
                .name
                .ok_or_else(|| ApiError::validation("name", "missing field `name`"))?;
            vec![NewEnvironment::parse(
                "",
                &name,
                req.tags,
                req.context,
                req.default_namespace,
            )?]
        }
    };
    let items = state
        .environments
        .register(req.kubeconfig, items, req.verify, &caller.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(Registered { items })))
}

/// Get an environment by id or name.
#[utoipa::path(get, path = "/environments/{id}", tag = "environments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Environment id or name")),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody)))]
async fn get_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Environment>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    Ok(Json(state.environments.find(&id).await?))
}

/// Change an environment's name, tags or default namespace (admins).
#[utoipa::path(patch, path = "/environments/{id}", tag = "environments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Environment id or name")),
    request_body = UpdateRequest,
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateRequest>,
) -> Result<Json<Environment>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let changes = Changes {
        name: req.name.map(|n| parse_name("name", &n)).transpose()?,
        tags: req.tags.map(|t| parse_tags("tags", t)).transpose()?,
        default_namespace: req
            .default_namespace
            .map(|n| parse_namespace("default_namespace", &n))
            .transpose()?,
    };
    let env = state.environments.find(&id).await?;
    Ok(Json(
        state
            .environments
            .update(env.id, &changes, &caller.actor())
            .await?,
    ))
}

/// Delete an environment (admins). Only Berth's record and sealed credentials are removed;
/// nothing in the cluster is touched.
#[utoipa::path(delete, path = "/environments/{id}", tag = "environments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Environment id or name"), DeleteQuery),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    caller.principal.require(Role::Admin)?;
    let env = state.environments.find(&id).await?;
    state
        .environments
        .delete(env.id, q.force, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace an environment's credentials with a new kubeconfig (admins). The new one is
/// validated and verified first; if that fails, the old credentials stay.
#[utoipa::path(put, path = "/environments/{id}/kubeconfig", tag = "environments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Environment id or name")),
    request_body(content(
        (RotateRequest = "application/json"),
        (RotateRequest = "multipart/form-data"),
    )),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rotate_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Upload(req): Upload<RotateRequest>,
) -> Result<Json<Environment>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let env = state.environments.find(&id).await?;
    let context = req.context.filter(|c| !c.trim().is_empty());
    Ok(Json(
        state
            .environments
            .rotate(env.id, req.kubeconfig, context, req.verify, &caller.actor())
            .await?,
    ))
}

/// Probe an environment now and record the result (operators and admins).
#[utoipa::path(post, path = "/environments/{id}/probe", tag = "environments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Environment id or name")),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody)))]
async fn probe_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Environment>, ApiError> {
    caller.principal.require(Role::Operator)?;
    let env = state.environments.find(&id).await?;
    Ok(Json(state.environments.probe_now(env.id).await?))
}
