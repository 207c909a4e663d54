//! HTTP: every route, the middleware stack, the OpenAPI document and the dashboard.
//!
//! Handlers translate HTTP into domain calls and back; they hold no SQL and never talk to clusters.

pub mod audit;
pub mod auth;
pub mod environments;
pub mod error;
pub mod events;
pub mod extract;
pub mod overview;
pub mod repositories;
pub mod rollouts;
pub mod schedules;
pub mod stacks;
pub mod system;
pub mod tokens;
pub mod users;
pub mod web;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;
use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "Berth API", description = "Centralized, event-driven GitOps for fleets of Kubernetes clusters. \
        Authenticate with `Authorization: Bearer <token>`: a session token from `POST /api/v1/auth/login`, \
        or an API token (`berth_…`). Every error is `{\"error\":{\"code\",\"field\",\"message\"}}`. \
        Lists are cursor-paginated: pass `next_cursor` back as `cursor`."),
    modifiers(&BearerAuth),
    components(schemas(error::ErrorBody, error::ErrorDetail, crate::auth::Role)),
    tags((name = "auth"), (name = "users"), (name = "tokens"), (name = "audit"), (name = "environments"),
        (name = "events"),
        (name = "repositories", description = "Git repositories: credentials, poll schedules, checks"),
        (name = "webhooks", description = "Signed webhooks that make a repository check happen now"),
        (name = "stacks", description = "What to deploy where, sync state, deploy/preview/rollback"),
        (name = "rollouts", description = "Rollouts, deployments and per-object results"),
        (name = "system"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The `/api/v1` routes and their OpenAPI description; reads as a table of contents.
fn api_v1() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(environments::router())
        .merge(events::router())
        .merge(repositories::router())
        .merge(schedules::router())
        .merge(overview::router())
        .merge(webhooks::router())
        .merge(stacks::router())
        .merge(rollouts::router())
        .merge(system::api_router());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1)
}

/// The OpenAPI document (also served at `/api/v1/openapi.json` and printed by `berth openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_v1().split_for_parts().1
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_v1().split_for_parts();
    let body_limit = state.config.body_limit;
    let timeout = state.config.request_timeout;
    let web = web::router(&state.config.web_dir);
    let api = Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", doc))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .with_state(state)
        .method_not_allowed_fallback(method_not_allowed);
    api.fallback_service(web)
        .layer(middleware::from_fn(error::json_errors))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(crate::telemetry::http_metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(make_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::HeaderName::from_static("x-hub-signature-256"),
            header::HeaderName::from_static("x-gitlab-token"),
            header::HeaderName::from_static("x-hub-signature"),
            header::HeaderName::from_static("x-gitea-signature"),
            header::HeaderName::from_static("x-forgejo-signature"),
            header::HeaderName::from_static("x-berth-signature-256"),
        ]))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the server log has the details",
            )
            .into_response()
        }))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

fn make_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id)
}
