//! Logging (text or JSON) and Prometheus metrics: the recorder, HTTP request metrics by route and
//! status, and database pool gauges.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Installs the global tracing subscriber. Safe to call more than once (later calls are no-ops).
pub fn init_logging(format: LogFormat, filter: &str) {
    // The scheduler crate logs every start at info; keep it quiet unless asked for.
    let directive = if filter.contains("tokio_cron_scheduler") {
        filter.to_owned()
    } else {
        format!("{filter},tokio_cron_scheduler=warn,sqlx::postgres::notice=warn")
    };
    let filter = EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests); then ours only renders its own.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts requests by method, route template and status, and observes their latency.
pub async fn http_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(
        || unmatched_route(req.uri().path()),
        |p| p.as_str().to_owned(),
    );
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("berth_http_requests_total", &labels).increment(1);
    metrics::histogram!("berth_http_request_duration_seconds", &labels[..2])
        .record(start.elapsed().as_secs_f64());
    res
}

/// Unmatched paths are grouped, so scanners cannot blow up label cardinality.
fn unmatched_route(path: &str) -> String {
    if path.starts_with("/api/") {
        "/api/unmatched".into()
    } else if path.starts_with("/assets/") {
        "/assets/*".into()
    } else {
        "/dashboard".into()
    }
}

/// Sets the database pool gauges (called at scrape time).
pub fn record_pool_gauges(pool: &sqlx::PgPool) {
    metrics::gauge!("berth_db_pool_connections").set(f64::from(pool.size()));
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!("berth_db_pool_idle_connections").set(f64::from(idle));
    metrics::gauge!("berth_db_pool_max_connections")
        .set(f64::from(pool.options().get_max_connections()));
}
