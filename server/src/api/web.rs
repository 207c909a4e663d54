//! The dashboard: static files from the built `web/dist`, with SPA fallback and cache headers.
//!
//! Hashed assets under `/assets/` are cached for a year; `index.html` is never cached, so a new
//! release is picked up on the next load. Unknown `/api/…` paths and missing assets stay 404s.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::error::ApiError;

#[derive(Clone)]
struct WebDir(PathBuf);

/// Serves the dashboard, or a short page saying how to build it when it is missing.
pub fn router(dir: &Path) -> Router {
    let web = WebDir(dir.to_path_buf());
    Router::new()
        .fallback(serve)
        .with_state(web)
        .layer(middleware::from_fn(cache_headers))
}

async fn serve(State(WebDir(dir)): State<WebDir>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {path}"),
        )
        .into_response();
    }
    let index = dir.join("index.html");
    if !index.is_file() {
        return Html(NOT_BUILT).into_response();
    }
    let res = match ServeDir::new(&dir).oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    let is_asset = path.starts_with("/assets/") || Path::new(&path).extension().is_some();
    if res.status() == StatusCode::NOT_FOUND && !is_asset {
        // Client-side route: let the single-page app handle it.
        return match tokio::fs::read(&index).await {
            Ok(bytes) => {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response()
            }
            Err(e) => ApiError::internal(&e).into_response(),
        };
    }
    res
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let value = if is_asset {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

const NOT_BUILT: &str = "<!doctype html><html><head><title>Berth</title></head><body>\
<h1>Berth is running, but the dashboard is not built</h1>\
<p>Build it with <code>make web</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>), \
or point <code>BERTH_WEB_DIR</code> at a built dashboard. The REST API is at \
<a href=\"/api/docs/\">/api/docs/</a>.</p></body></html>";
