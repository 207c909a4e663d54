//! The audit log (admins only).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Caller};
use crate::AppState;
use crate::audit::AuditEvent;
use crate::audit::store::AuditFilter;
use crate::auth::Role;
use crate::pagination::{Page, PageParams};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Items per page (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    cursor: Option<String>,
    /// Username (also matches that user's API tokens).
    actor: Option<String>,
    /// Exact action, or a prefix ending in `.` such as `user.`.
    action: Option<String>,
    /// Exact target such as `user:alice`.
    target: Option<String>,
    /// Events at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
}

/// A page of audit events.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuditPage {
    items: Vec<AuditEvent>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEvent>>, ApiError> {
    caller.principal.require(Role::Admin)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let filter = AuditFilter {
        actor: q.actor.filter(|s| !s.is_empty()),
        action: q.action.filter(|s| !s.is_empty()),
        target: q.target.filter(|s| !s.is_empty()),
        since: q.since,
        until: q.until,
    };
    if let (Some(s), Some(u)) = (filter.since, filter.until)
        && s >= u
    {
        return Err(ApiError::bad_request(
            Some("until".into()),
            "until must be after since",
        ));
    }
    Ok(Json(
        crate::audit::store::list(&state.pool, &filter, &page).await?,
    ))
}
