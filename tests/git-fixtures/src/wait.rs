//! Bounded waiting: every wait in the fixtures ends with a result or a timeout, never a bare sleep.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How long fixtures wait for a server to come up or for a counter to move.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Polls `condition` until it holds, for at most `timeout`.
///
/// # Panics
/// When the timeout passes first; the message names `what` was awaited.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// Another process can take it before it is used: callers that hand the port to a child process
/// must retry on "address in use" (as [`crate::GitDaemon`] does). Servers written in Rust should
/// bind port 0 themselves instead.
///
/// # Panics
/// If no local port can be bound at all.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0 to find a free port")
        .port()
}

/// Whether something accepts TCP connections on `addr` right now.
#[must_use]
pub fn accepts_connections(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}
