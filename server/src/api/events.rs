//! Server-sent events: live state changes for dashboards and CLIs (`GET /api/v1/events`).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::Caller;
use crate::AppState;
use crate::auth::Role;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

/// Stream server events (every role). Each SSE message has `event:` set to the event kind
/// (`environment.status`, `environment.created`, `environment.updated`, `environment.deleted`,
/// `repository.checked`) and `data:` a `ServerEvent`. `event: lagged` means some events were
/// missed: reload the state. Events are not replayed: after reconnecting, reload the state too.
#[utoipa::path(get, path = "/events", tag = "events", security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = crate::events::ServerEvent),
        (status = 401, body = ErrorBody)))]
async fn stream_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.principal.require(Role::Viewer)?;
    let rx = state.events.subscribe();
    let closed = state.events.closed();
    let stream = futures::stream::unfold((rx, closed), |(mut rx, closed)| async move {
        let next = tokio::select! {
            () = closed.cancelled() => return None,
            r = rx.recv() => r,
        };
        let event = match next {
            Ok(ev) => Event::default()
                .event(ev.kind.clone())
                .json_data(&*ev)
                .unwrap_or_else(|_| Event::default().event("error")),
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), (rx, closed)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
