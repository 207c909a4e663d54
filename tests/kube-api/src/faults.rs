//! Fault injection for reliability tests: added latency, error answers (next N requests or a
//! deterministic share), and dropped connections. Tests change faults while the server runs;
//! the request path asks [`Faults::decide`] once per request.

use std::time::Duration;

use parking_lot::Mutex;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve it normally.
    Serve,
    /// Answer with this HTTP status (a Kubernetes `Status` body; 429 adds `Retry-After`).
    Fail(u16),
    /// Close the TCP connection without answering.
    Drop,
}

#[derive(Debug, Default)]
struct State {
    latency: Duration,
    fail_next: Vec<u16>,
    fail_ratio: Option<(f64, u16)>,
    drop_next: u32,
    drop_ratio: f64,
    seen: u64,
    path_prefix: Option<String>,
}

/// The fault switches of a running server; every method takes effect for the next request.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

/// Whether a deterministic ratio fires for the `n`th request (1-based): spread evenly, so a
/// ratio of 0.25 fails requests 4, 8, 12, …
fn ratio_hits(n: u64, ratio: f64) -> bool {
    if ratio <= 0.0 {
        return false;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let (a, b) = (
        ((n as f64) * ratio).floor() as u64,
        (((n - 1) as f64) * ratio).floor() as u64,
    );
    a > b
}

impl Faults {
    /// Delays every request by `latency` before it is handled.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().latency = latency;
    }

    /// Answers the next `n` requests with `status` (e.g. 503 or 429).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.state
            .lock()
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Answers a share `ratio` (0.0–1.0) of requests with `status`, deterministically spread
    /// (a ratio of 0.5 fails every second request).
    pub fn fail_ratio(&self, ratio: f64, status: u16) {
        self.state.lock().fail_ratio = (ratio > 0.0).then_some((ratio, status));
    }

    /// Closes the connection of the next `n` requests without answering.
    pub fn drop_next(&self, n: u32) {
        self.state.lock().drop_next += n;
    }

    /// Closes the connection of a deterministic share of requests without answering.
    pub fn drop_ratio(&self, ratio: f64) {
        self.state.lock().drop_ratio = ratio;
    }

    /// Limits every fault to requests whose path starts with `prefix` (e.g. `/apis/apps`);
    /// `None` applies them to all requests.
    pub fn only_paths(&self, prefix: Option<&str>) {
        self.state.lock().path_prefix = prefix.map(str::to_owned);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        *self.state.lock() = State::default();
    }

    /// Decides the fate of one request; consumes "next N" budgets.
    pub(crate) fn decide(&self, path: &str) -> (Duration, FaultAction) {
        let mut s = self.state.lock();
        if let Some(prefix) = &s.path_prefix
            && !path.starts_with(prefix.as_str())
        {
            return (Duration::ZERO, FaultAction::Serve);
        }
        s.seen += 1;
        let n = s.seen;
        let latency = s.latency;
        if s.drop_next > 0 {
            s.drop_next -= 1;
            return (latency, FaultAction::Drop);
        }
        if ratio_hits(n, s.drop_ratio) {
            return (latency, FaultAction::Drop);
        }
        if !s.fail_next.is_empty() {
            let status = s.fail_next.remove(0);
            return (latency, FaultAction::Fail(status));
        }
        if let Some((ratio, status)) = s.fail_ratio
            && ratio_hits(n, ratio)
        {
            return (latency, FaultAction::Fail(status));
        }
        (latency, FaultAction::Serve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_fails_an_even_deterministic_share() {
        let faults = Faults::default();
        faults.fail_ratio(0.25, 503);
        let failed = (0..100)
            .filter(|_| faults.decide("/api").1 == FaultAction::Fail(503))
            .count();
        assert_eq!(failed, 25);
    }

    #[test]
    fn next_n_budgets_run_out() {
        let faults = Faults::default();
        faults.fail_next(2, 429);
        faults.drop_next(1);
        let actions: Vec<_> = (0..4).map(|_| faults.decide("/api").1).collect();
        assert_eq!(
            actions,
            [
                FaultAction::Drop,
                FaultAction::Fail(429),
                FaultAction::Fail(429),
                FaultAction::Serve
            ]
        );
    }
}
