//! End-to-end harness for Berth.
//!
//! - [`app::TestApp`]: the real Berth on port 0 against a fresh database, with an admin session.
//! - `git-fixtures` (sibling crate): real repositories served by `git daemon` and `git http-backend`.
//! - [`repos`]: registering repositories, adding stacks and following checks.
//! - [`kubeconfig::KubeconfigDoc`]: editing kubeconfigs of any cluster; [`proxy::TcpProxy`]: a
//!   relay in front of an API server that a test can cut and restore.
//! - [`cluster::TestCluster`]: the Kubernetes test API server (`kube-test-api`), or a real cluster
//!   when `BERTH_TEST_KUBECONFIG` names one; per-test namespaces, cleaned up.
//! - [`sse::events_until`]: reading Berth's event stream.
//! - [`bench`]: the benchmarks' JSON report, statistics and `/proc` figures.
//! - [`browser::Scenario`]: a real-browser scenario (`web/e2e/*.mjs`, headless Chromium) against a
//!   running Berth.
pub mod app;
pub mod bench;
pub mod browser;
pub mod cluster;
pub mod kubeconfig;
pub mod process;
pub mod proxy;
pub mod repos;
pub mod sse;

pub use app::{TestApp, captured_logs};
pub use cluster::TestCluster;
pub use process::BerthProcess;

/// Polls `check` every 50 ms until it returns `Some`, failing the test after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
