//! Schedule preview: validates a poll schedule against the server's limits and lists its next
//! runs, so editors can show them before anything is saved. Reads nothing and writes nothing.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Caller};
use crate::AppState;
use crate::auth::Role;
use crate::config::format_duration;
use crate::repositories::schedule::{Schedule, ScheduleLimits, ScheduleSpec};

/// Most runs a preview lists.
const MAX_COUNT: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview_schedule))
}

/// A schedule, as in a repository's `schedule`, plus how many runs to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// `interval`, `cron` or `manual`; omitted: `cron` when `cron` is given, else `interval`.
    kind: Option<String>,
    /// For `interval`: `30s`, `5m`, `1h`; omitted: the server's default interval.
    interval: Option<String>,
    /// For `cron`: 5 fields (`min hour dom mon dow`) or 6 (`sec min hour dom mon dow`).
    cron: Option<String>,
    /// For `cron`: an IANA time zone such as `Europe/Paris` (default `UTC`).
    time_zone: Option<String>,
    /// Runs to list (1 to 20, default 5).
    #[param(minimum = 1, maximum = 20)]
    count: Option<usize>,
}

/// The schedule as it would be saved, and its next runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulePreview {
    /// The normalized schedule (what a repository would show).
    pub schedule: ScheduleSpec,
    /// The next runs after now (empty for `manual`), as if the schedule were saved now.
    pub runs: Vec<DateTime<Utc>>,
    /// The server's shortest allowed poll interval, e.g. `30s`.
    pub min_interval: String,
    /// The interval used when none is given, e.g. `5m`.
    pub default_interval: String,
}

/// Preview a poll schedule (every role): the normalized schedule and its next runs. An invalid
/// schedule is a 400 naming the query parameter at fault (`interval`, `cron`, `time_zone`, `kind`
/// or `count`).
#[utoipa::path(get, path = "/schedules/preview", tag = "repositories", security(("bearer" = [])),
    params(PreviewQuery),
    responses((status = 200, body = SchedulePreview), (status = 400, body = ErrorBody)))]
async fn preview_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> Result<Json<SchedulePreview>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let count = q.count.unwrap_or(5);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError::bad_request(
            Some("count".into()),
            format!("count must be between 1 and {MAX_COUNT}"),
        ));
    }
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let spec = ScheduleSpec {
        kind: blank(q.kind),
        interval: blank(q.interval),
        cron: blank(q.cron),
        time_zone: blank(q.time_zone),
    };
    let limits = ScheduleLimits {
        min_interval: state.config.min_poll_interval,
        default_interval: state.config.default_poll_interval,
    };
    let schedule = Schedule::parse(&spec, limits).map_err(|e| {
        // `schedule.cron` in a request body is the `cron` parameter here.
        let field = e.field.strip_prefix("schedule.").unwrap_or(e.field);
        ApiError::bad_request(Some(field.to_owned()), e.message)
    })?;
    Ok(Json(SchedulePreview {
        schedule: schedule.to_spec(),
        runs: schedule.upcoming(Utc::now(), count),
        min_interval: format_duration(limits.min_interval),
        default_interval: format_duration(limits.default_interval),
    }))
}
