//! The service's connection loop: accept, (TLS handshake), HTTP/1.1.
//!
//! Our own rather than `axum::serve` for two reasons a bank's security
//! review raises: a client that sends its request headers a byte at a time
//! (slowloris) must be cut off — hyper's header read timeout, which
//! `axum::serve` does not expose — and with TLS the handshake must run on
//! the connection's own task, bounded by the same timeout, never on the
//! accept loop, where one stalled client would stop every other from being
//! accepted. An idle connection costs a task and a socket, nothing else,
//! so thousands of them do not keep a new client from being served.
//!
//! On the stop signal the listener closes, idle keep-alive connections are
//! closed and requests in flight are answered (hyper-util's graceful
//! shutdown).

use super::tls::{self, Tls};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// The subject of a mutual-TLS client's certificate, on each of its requests.
#[derive(Clone)]
pub struct Peer(pub Arc<str>);

/// How connections are taken.
pub struct Listen {
    pub tls: Option<Arc<Tls>>,
    /// For the request headers (and the TLS handshake) to arrive.
    pub header_timeout: Duration,
    /// TLS handshakes that failed or timed out (`/metrics`).
    pub handshake_failures: Arc<AtomicU64>,
}

impl Listen {
    /// Accept until `stop` resolves, then let requests in flight finish.
    pub async fn run(self, listener: TcpListener, router: Router, stop: impl Future<Output = ()>) {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(true);
        let http = Arc::new(http);
        tokio::pin!(stop);
        loop {
            let tcp = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    // Out of file descriptors and the like: wait, go on.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let _ = tcp.set_nodelay(true);
            let watcher = graceful.watcher();
            let (router, http) = (router.clone(), http.clone());
            let tls = self.tls.as_ref().map(|t| t.acceptor());
            let mutual = self.tls.as_ref().is_some_and(|t| t.mutual());
            let (wait, failures) = (self.header_timeout, self.handshake_failures.clone());
            tokio::spawn(async move {
                let Some(acceptor) = tls else {
                    let _ =
                        watcher
                            .watch(http.serve_connection(
                                TokioIo::new(tcp),
                                Service { router, peer: None },
                            ))
                            .await;
                    return;
                };
                let Some(stream) = handshake(acceptor, tcp, wait).await else {
                    failures.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let peer = match mutual {
                    true => stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(tls::subject)
                        .map(|s| Peer(s.into())),
                    false => None,
                };
                let conn = http.serve_connection(TokioIo::new(stream), Service { router, peer });
                let _ = watcher.watch(conn).await;
            });
        }
        drop(listener);
        graceful.shutdown().await;
    }
}

/// A TLS handshake bounded in time (a stalled client is dropped).
async fn handshake(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: TcpStream,
    wait: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    tokio::time::timeout(wait, acceptor.accept(tcp))
        .await
        .ok()?
        .ok()
}

/// The router as a connection's service; a mutual-TLS client's subject
/// rides on each request.
struct Service {
    router: Router,
    peer: Option<Peer>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = tower::util::Oneshot<Router, axum::extract::Request>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let mut req = req.map(axum::body::Body::new);
        if let Some(p) = &self.peer {
            req.extensions_mut().insert(p.clone());
        }
        self.router.clone().oneshot(req)
    }
}
