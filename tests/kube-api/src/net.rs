//! The TLS listener: accepting on 127.0.0.1, reading client certificates, serving HTTP/1.1
//! and HTTP/2 with hyper, and going down (listener and every connection closed) and coming
//! back on the same port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::http::{self, CertSubject, Conn};
use crate::state::State;

/// A running (or stopped) listener.
pub struct Listener {
    addr: SocketAddr,
    acceptor: TlsAcceptor,
    running: Mutex<Option<(watch::Sender<bool>, JoinHandle<()>)>>,
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

fn subject(der: &[u8]) -> Option<CertSubject> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let common_name = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
    let organizations = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_owned))
        .collect();
    Some(CertSubject {
        common_name,
        organizations,
    })
}

impl Listener {
    /// Binds `127.0.0.1:port` (0 = any free port) and starts accepting.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub fn start(
        state: &Arc<State>,
        port: u16,
        tls: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Listener> {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let addr = listener.local_addr()?;
        let this = Listener {
            addr,
            acceptor: TlsAcceptor::from(tls),
            running: Mutex::new(None),
        };
        this.spawn(state, listener);
        Ok(this)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn spawn(&self, state: &Arc<State>, listener: TcpListener) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let acceptor = self.acceptor.clone();
        let state = state.clone();
        let task = tokio::spawn(async move {
            let mut stop = stop_rx.clone();
            loop {
                let accepted = tokio::select! {
                    _ = stop.changed() => break,
                    a = listener.accept() => a,
                };
                let Ok((tcp, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve(state.clone(), acceptor.clone(), tcp, stop_rx.clone()));
            }
        });
        *self.running.lock() = Some((stop_tx, task));
    }

    /// Stops accepting and closes every open connection; returns once the port is released.
    pub async fn go_down(&self) {
        let running = self.running.lock().take();
        if let Some((stop, task)) = running {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    ///
    /// # Errors
    /// When the port was taken by someone else meanwhile.
    pub async fn come_back(&self, state: &Arc<State>) -> std::io::Result<()> {
        if self.running.lock().is_some() {
            return Ok(());
        }
        let mut last = None;
        for _ in 0..50 {
            match bind(self.addr) {
                Ok(listener) => {
                    self.spawn(state, listener);
                    return Ok(());
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("bind failed")))
    }

    /// Whether the listener is accepting.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.running.lock().is_some()
    }

    /// Stops without waiting (for `Drop`).
    pub fn stop_now(&self) {
        if let Some((stop, task)) = self.running.lock().take() {
            let _ = stop.send(true);
            task.abort();
        }
    }
}

async fn serve(
    state: Arc<State>,
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    mut stop: watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
    let tls = tokio::select! {
        _ = stop.changed() => return,
        r = handshake => match r {
            Ok(Ok(tls)) => tls,
            _ => return,
        },
    };
    state.connections.fetch_add(1, Ordering::Relaxed);
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|c| subject(c.as_ref()));
    let drop = Arc::new(Notify::new());
    let conn = Conn {
        cert,
        drop: drop.clone(),
    };
    let http1_only = state.options.http1_only;
    let service = service_fn(move |req| http::handle(state.clone(), conn.clone(), req));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if http1_only {
        builder = builder.http1_only();
    }
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        _ = connection => {}
        _ = stop.changed() => {}
        () = drop.notified() => {}
    }
}
