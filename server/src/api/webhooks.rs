//! Webhook receivers: verified deliveries make a check of the matching repositories happen now.
//! Unauthenticated (the signature is the authentication); a wrong signature queues nothing.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery};
use crate::AppState;
use crate::repositories::url;
use crate::webhooks::{self, Provider};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_webhook))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// Wait up to this many seconds (0 to 30, default 0) for the checks to finish, so the answer
    /// lists the deployment events they caused.
    #[param(minimum = 0, maximum = 30)]
    wait: Option<u64>,
}

/// What a delivery caused.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAccepted {
    pub checks: Vec<WebhookCheck>,
    /// Deployment events caused by the checks (filled when they finished within `wait`).
    pub deployment_event_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCheck {
    pub repository_id: Uuid,
    /// The check this delivery joined (null when the repository is paused).
    #[schema(required = true)]
    pub check_id: Option<Uuid>,
    /// `queued` (the check this delivery joined; without `wait` that is the answer), `running` or
    /// `done` when followed with `wait`, or `paused` (nothing checked).
    pub status: String,
    /// The check's outcome once done.
    #[schema(required = true)]
    pub outcome: Option<String>,
}

/// Receive a webhook from `github` (X-Hub-Signature-256), `gitlab` (X-Gitlab-Token), `gitea`
/// (Gitea/Forgejo signature), `bitbucket` (X-Hub-Signature) or `generic` (X-Berth-Signature-256:
/// sha256=HMAC-SHA256 of the body; the body names `repository_url`). Matched to repositories by
/// URL; answered 202 with the checks it queued.
#[utoipa::path(post, path = "/webhooks/{provider}", tag = "webhooks",
    params(("provider" = String, Path, description = "github, gitlab, gitea, forgejo, bitbucket or generic"),
        WebhookQuery),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 202, body = WebhookAccepted), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn receive_webhook(
    State(state): State<AppState>,
    ApiPath(provider): ApiPath<String>,
    ApiQuery(q): ApiQuery<WebhookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WebhookAccepted>), ApiError> {
    let provider =
        Provider::parse(&provider).ok_or_else(|| ApiError::not_found("webhook provider"))?;
    let wait = q.wait.unwrap_or(0);
    if wait > 30 {
        return Err(ApiError::bad_request(
            Some("wait".into()),
            "wait must be 0 to 30 seconds",
        ));
    }
    metrics::counter!("berth_webhooks_total", "provider" => provider.as_str()).increment(1);
    let payload = parse_payload(&headers, &body)?;
    let mut keys: Vec<String> = webhooks::repository_urls(provider, &payload)
        .iter()
        .filter_map(|u| url::key_of(u))
        .collect();
    keys.sort();
    keys.dedup();
    let mut matched = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for key in &keys {
        for row in state.repositories.by_url_key(key).await? {
            if !seen.insert(row.repository_id) {
                continue;
            }
            let secret = state.repositories.open_webhook_secret(&row)?;
            if webhooks::verify(provider, &headers, &body, secret.expose()) {
                matched.push(row);
            }
        }
    }
    if matched.is_empty() {
        metrics::counter!("berth_webhooks_refused_total", "provider" => provider.as_str())
            .increment(1);
        tracing::warn!(
            provider = provider.as_str(),
            "webhook refused: no repository with this URL accepts the signature"
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the signature does not match any repository registered with this URL",
        ));
    }
    let mut checks = Vec::new();
    let mut queued_new = false;
    for row in &matched {
        if row.paused {
            checks.push(WebhookCheck {
                repository_id: row.repository_id,
                check_id: None,
                status: "paused".into(),
                outcome: None,
            });
            continue;
        }
        let queued = state
            .repositories
            .request_check(row.repository_id, "webhook")
            .await?;
        queued_new |= queued.new;
        checks.push(WebhookCheck {
            repository_id: row.repository_id,
            check_id: Some(queued.id),
            status: "queued".into(),
            outcome: None,
        });
    }
    if queued_new {
        state.poller.wake();
    }
    let events = if wait > 0 {
        follow_checks(&state, &mut checks, Duration::from_secs(wait)).await
    } else {
        // The delivery joined queued checks: that is their status as of now, and CI follows
        // them by id. Not re-reading keeps a burst of deliveries cheap.
        Vec::new()
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(WebhookAccepted {
            checks,
            deployment_event_ids: events,
        }),
    ))
}

/// Follows the checks until they are done or `wait` passes; returns the deployment events they
/// caused.
async fn follow_checks(state: &AppState, checks: &mut [WebhookCheck], wait: Duration) -> Vec<Uuid> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut events = Vec::new();
    loop {
        events.clear();
        let mut pending = false;
        for c in checks.iter_mut() {
            let Some(id) = c.check_id else { continue };
            if let Ok(check) = state.repositories.get_check(c.repository_id, id).await {
                c.status.clone_from(&check.status);
                c.outcome.clone_from(&check.outcome);
                events.extend(check.deployment_event_ids);
                pending |= check.status != "done";
            }
        }
        if !pending || tokio::time::Instant::now() >= deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The JSON payload, sent as JSON or (GitHub's other option) as a form field `payload`.
fn parse_payload(headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let json = if form {
        form_urlencoded::parse(body)
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_owned().into_bytes())
            .ok_or_else(|| {
                ApiError::bad_request(Some("payload".into()), "form body has no payload field")
            })?
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&json).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("malformed JSON: {e}"),
        )
    })
}
