//! `TcpProxy`: a TCP relay in front of a cluster's API server that a test can cut and restore on
//! the same port, so "the cluster goes down and comes back" works against a real cluster as well
//! as against the test API server. TLS passes through untouched; the kubeconfig it hands out
//! points at the relay and keeps verifying the server's certificate under its own name
//! (`tls-server-name`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::kubeconfig::KubeconfigDoc;

/// A relay from `127.0.0.1:PORT` to a server. Stops when dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    target: String,
    running: Mutex<Option<CancellationToken>>,
}

impl TcpProxy {
    /// A relay to `target` (`host:port`), listening at once.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(target: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a relay");
        let addr = listener.local_addr().expect("relay address");
        let proxy = TcpProxy {
            addr,
            target: target.to_owned(),
            running: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    /// A relay in front of the API server of `kubeconfig`, and that kubeconfig pointed at it.
    pub async fn in_front_of(kubeconfig: &str) -> (TcpProxy, String) {
        let doc = KubeconfigDoc::parse(kubeconfig);
        let server = reqwest::Url::parse(&doc.server()).expect("the API server URL");
        let host = server.host_str().expect("the API server host").to_owned();
        let port = server.port_or_known_default().unwrap_or(443);
        let proxy = TcpProxy::start(&format!("{host}:{port}")).await;
        let mut doc = doc.with_cluster_field("server", json!(format!("https://{}", proxy.addr)));
        if !doc.cluster().contains_key("tls-server-name") {
            let name = host.trim_start_matches('[').trim_end_matches(']');
            doc = doc.with_cluster_field("tls-server-name", json!(name));
        }
        (proxy, doc.to_text())
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening and drops every relayed connection: clients see connections refused.
    pub fn cut(&self) {
        if let Some(token) = self.running.lock().unwrap().take() {
            token.cancel();
        }
    }

    /// Listens again, on the same port.
    ///
    /// # Panics
    /// If the port cannot be bound again within a few seconds.
    pub async fn restore(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "rebind the relay on {}: {e}",
                        self.addr
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let token = CancellationToken::new();
        *self.running.lock().unwrap() = Some(token.clone());
        let target = Arc::new(self.target.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else {
                    continue;
                };
                let token = token.clone();
                let target = Arc::clone(&target);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target.as_str()).await else {
                        return;
                    };
                    tokio::select! {
                        () = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
