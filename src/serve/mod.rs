//! The scoring service (`churn-score serve`): an HTTP front end over the
//! batch job's scoring core, for screens that ask about one customer at a
//! time (a call centre: "how likely is this customer to leave, and what do
//! we offer?") and tools that speak MLflow's serving protocol.
//!
//! A request's customers go through the same validation and the same
//! [`Scorer`](crate::scoring::scorer::Scorer) as a batch file, so a customer
//! gets the same probability, level, tier and reasons from either. Bad
//! input is answered, never fatal: malformed JSON → 400, a body over the
//! limit → 413, a missing field, wrong type or impossible value → 422 naming
//! the customer index and field; a panic in scoring (a bug) → 500 and the
//! service goes on. SIGHUP or a changed model file loads and checks a new
//! model and swaps it in whole (a broken one is refused); SIGTERM stops
//! accepting connections and lets requests in flight finish.

pub mod access_log;
pub mod answer;
pub mod auth;
mod body;
mod columns;
mod listen;
pub mod metrics;
pub mod model;
pub mod request;
pub mod tls;

use crate::config::{Config, ScoreConfig, ServeConfig};
use crate::error::{Error, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use metrics::Metrics;
use model::{Current, Loaded, Stamp};
use request::Shape;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every request handler shares.
struct App {
    current: Current,
    metrics: Metrics,
    access: access_log::AccessLog,
    settings: ScoreConfig,
    serve: ServeConfig,
    /// The clients of `--auth-tokens` (swapped whole on SIGHUP).
    tokens: Option<std::sync::RwLock<Arc<auth::Tokens>>>,
    /// The certificates of `--tls-cert` (swapped whole on SIGHUP).
    tls: Option<Arc<tls::Tls>>,
    /// Scoring requests being answered.
    in_flight: std::sync::atomic::AtomicUsize,
}

/// The client a request's token named, for the access log and metrics.
#[derive(Clone)]
struct Client(Arc<str>);

/// Bodies larger than this (about 100 customers) are scored off the
/// request-handling threads' hot path (`block_in_place`).
const LARGE_BODY: usize = 64 * 1024;

/// Customers in a request, for the access log.
#[derive(Clone, Copy)]
struct Customers(usize);

/// Serve until SIGTERM or Ctrl-C.
pub fn run(cfg: &Config, serve: &ServeConfig) -> Result<()> {
    let loaded = Loaded::load(&cfg.score)?;
    let tokens = match &serve.auth_tokens {
        Some(path) => Some(auth::Tokens::load(path)?),
        None => None,
    };
    let tls = match &serve.tls {
        Some(files) => Some(Arc::new(tls::Tls::new(files)?)),
        None => None,
    };
    let workers = match serve.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("starting the service's threads: {e}")))?;
    let app = Arc::new(App {
        current: Current::new(loaded),
        metrics: Metrics::default(),
        access: access_log::AccessLog::new(serve.access_log),
        settings: cfg.score.clone(),
        serve: serve.clone(),
        tokens: tokens.map(|t| std::sync::RwLock::new(Arc::new(t))),
        tls,
        in_flight: Default::default(),
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&serve.addr)
            .await
            .map_err(|e| Error::Config(format!("--addr {}: {e}", serve.addr)))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("--addr {}: {e}", serve.addr)))?;
        let model = app.current.get();
        let scheme = match &app.tls {
            Some(_) => "https",
            None => "http",
        };
        log(&format!(
            "serving model {} ({}) from {} on {scheme}://{local} with {workers} workers; tree walk: {}; body limit {} bytes",
            model.model_id(),
            model.scorer.artifact.model_name,
            app.settings.model.display(),
            crate::models::engine::simd::selected().name(),
            serve.max_body
        ));
        drop(model);
        match (&app.tokens, serve.insecure_no_auth) {
            (Some(t), _) => log(&format!(
                "{} client(s) may call; every endpoint but /healthz needs a bearer token",
                t.read().map_or(0, |t| t.len())
            )),
            (None, true) => log("WARNING: no authentication (--insecure-no-auth): anyone who can reach this address can read customers' scores"),
            (None, false) => {}
        }
        if let Some(t) = &app.tls {
            log(&match t.mutual() {
                true => "TLS on (1.2 and 1.3); clients must present a certificate from --tls-client-ca".to_string(),
                false => "TLS on (1.2 and 1.3)".to_string(),
            });
        }
        if let Some(w) = serve.tls.as_ref().and_then(tls::key_warning) {
            log(&w);
        }
        tokio::spawn(watch(app.clone()));
        let listen = listen::Listen {
            tls: app.tls.clone(),
            header_timeout: Duration::from_secs_f64(serve.header_timeout),
            handshake_failures: app.metrics.handshake_failures.clone(),
        };
        listen.run(listener, router(app.clone()), stop_signal()).await;
        app.access.flush();
        log("stopped: no new connections, requests in flight answered");
        Ok(())
    })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/score", post(score))
        .route("/invocations", post(invocations))
        .route("/healthz", get(healthz))
        .route("/v1/model", get(model_card))
        .route("/metrics", get(metrics_page))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .layer(middleware::from_fn_with_state(app.clone(), access))
        .with_state(app)
}

/// A startup, reload or shutdown line on stderr.
fn log(message: &str) {
    eprintln!("{} churn-score serve: {message}", access_log::now());
}

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

fn json_error(status: u16, message: &str) -> Response {
    let body = serde_json::json!({ "error": message, "errors": [] });
    respond(
        status,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

async fn score(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    handle(&app, &headers, body, Shape::Customers).await
}

async fn invocations(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    handle(&app, &headers, body, Shape::Mlflow).await
}

/// A scoring request in flight (counted down when dropped).
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

async fn handle(app: &App, headers: &HeaderMap, body: Body, shape: Shape) -> Response {
    use std::sync::atomic::Ordering;
    let now = app.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    let _guard = InFlight(&app.in_flight);
    let cap = app.serve.max_connections;
    if cap > 0 && now > cap {
        let mut r = json_error(
            503,
            &format!("busy: {cap} requests in flight (--max-connections); retry"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    }
    let limit = app.serve.max_body;
    let too_large = || json_error(413, &format!("the body is larger than {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let wait = Duration::from_secs_f64(app.serve.body_timeout);
    let bytes = match tokio::time::timeout(wait, axum::body::to_bytes(body, limit)).await {
        Err(_) => {
            let secs = app.serve.body_timeout;
            return json_error(
                408,
                &format!("the body did not arrive within {secs} s (--body-timeout)"),
            );
        }
        Ok(Err(_)) => return too_large(),
        Ok(Ok(bytes)) => bytes,
    };
    let model = app.current.get();
    let run = || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            answer::answer(&model, &bytes, shape, app.serve.max_customers)
        }))
    };
    // A large batch keeps its thread for milliseconds: the runtime hands
    // this worker's other requests to a new one meanwhile.
    let outcome = match bytes.len() > LARGE_BODY {
        true => tokio::task::block_in_place(run),
        false => run(),
    };
    match outcome {
        Ok(Ok(a)) => {
            app.metrics.scored(&a.probabilities, &a.stats.unseen);
            let mut r = respond(200, "application/json", a.body);
            r.extensions_mut().insert(Customers(a.probabilities.len()));
            r
        }
        Ok(Err(refused)) => {
            if refused.status == 422 {
                let mut who: Vec<usize> = refused.errors.iter().map(|e| e.customer).collect();
                who.dedup();
                app.metrics.refused(who.len());
            }
            respond(
                refused.status,
                "application/json",
                answer::refusal_body(&refused),
            )
        }
        Err(_) => json_error(
            500,
            "internal error while scoring (logged); the service goes on",
        ),
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let body = serde_json::json!({"status": "ok", "model_id": app.current.get().model_id()});
    respond(
        200,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

async fn model_card(State(app): State<Arc<App>>) -> Response {
    respond(200, "application/json", app.current.get().card.clone())
}

async fn metrics_page(State(app): State<Arc<App>>) -> Response {
    let page = app
        .metrics
        .render(app.current.get().model_id(), app.access.dropped());
    respond(200, "text/plain; version=0.0.4", page.into_bytes())
}

async fn not_found() -> Response {
    json_error(
        404,
        "no such endpoint: POST /v1/score, POST /invocations, GET /healthz, GET /v1/model, GET /metrics",
    )
}

/// With tokens, refuse every request but `/healthz` without a known one:
/// the same 401 whatever was wrong (see [`auth`]).
async fn authorize(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let Some(tokens) = &app.tokens else {
        return next.run(req).await;
    };
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let current = tokens.read().map(|t| t.clone()).ok();
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let client = current
        .as_ref()
        .and_then(|t| t.client(header))
        .map(Arc::<str>::from);
    match client {
        Some(name) => {
            let mut response = next.run(req).await;
            response.extensions_mut().insert(Client(name));
            response
        }
        None => {
            let mut r = json_error(401, "unauthorized");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            r
        }
    }
}

/// Count every request (whatever answered it) and write its access-log line.
async fn access(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let req_peer = req.extensions().get::<listen::Peer>().map(|p| p.0.clone());
    let response = next.run(req).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let client = response.extensions().get::<Client>().map(|c| c.0.clone());
    let peer = req_peer;
    let name = client.as_deref().unwrap_or("");
    app.metrics
        .request(metrics::endpoint(&path), status, name, seconds);
    if app.access.enabled() {
        let customers = response.extensions().get::<Customers>().map_or(0, |c| c.0);
        // The path is cut and quoted: a request cannot forge log lines.
        let shown: String = path.chars().take(100).collect();
        let mut who = match client {
            Some(c) => format!(" client={c}"),
            None => String::new(),
        };
        if let Some(subject) = peer {
            who.push_str(&format!(" subject={subject:?}"));
        }
        app.access.write(&format!(
            "{} {method} {shown:?} {status} {:.3}ms customers={customers}{who}\n",
            access_log::now(),
            seconds * 1e3
        ));
    }
    response
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = recv(&mut term) => {}
    }
    log("stopping (signal received)");
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// A new model that failed its checks: logged and counted; the old serves on.
fn refused(app: &App, why: &str, old: &str, e: &dyn std::fmt::Display) {
    log(&format!(
        "{why}: new model refused, still serving {old}: {e}"
    ));
    app.metrics.reload(false);
}

/// Reload on SIGHUP, or when the model file (or the link's target) changes.
async fn watch(app: Arc<App>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).ok();
    let path = app.settings.model.clone();
    let mut stamp = Stamp::of(&path);
    let every = app.serve.reload_every;
    loop {
        let why = tokio::select! {
            _ = recv(&mut hup) => "SIGHUP",
            _ = tokio::time::sleep(Duration::from_secs_f64(if every > 0.0 { every } else { 3600.0 })) => {
                if every == 0.0 || Stamp::of(&path) == stamp {
                    continue;
                }
                "the model file changed"
            }
        };
        if why == "SIGHUP" {
            reload_tokens(&app);
            reload_tls(&app);
        }
        // Stamped before loading: a refused file is not retried until it changes again.
        stamp = Stamp::of(&path);
        let settings = app.settings.clone();
        let loaded = tokio::task::spawn_blocking(move || Loaded::load(&settings)).await;
        let old = app.current.get().model_id().to_string();
        match loaded {
            Ok(Ok(m)) => {
                log(&format!(
                    "{why}: now serving model {} (was {old})",
                    m.model_id()
                ));
                app.current.swap(m);
                app.metrics.reload(true);
            }
            Ok(Err(e)) => refused(&app, why, &old, &e),
            Err(e) => refused(&app, why, &old, &e),
        }
    }
}

/// Re-read `--auth-tokens` (SIGHUP); a broken file is refused, the old
/// clients stay.
fn reload_tokens(app: &App) {
    let (Some(slot), Some(path)) = (&app.tokens, &app.serve.auth_tokens) else {
        return;
    };
    match auth::Tokens::load(path) {
        Ok(t) => {
            let n = t.len();
            if let Ok(mut s) = slot.write() {
                *s = Arc::new(t);
            }
            log(&format!("SIGHUP: {n} client(s) may call"));
        }
        Err(e) => log(&format!(
            "SIGHUP: token file refused, the clients before stay: {e}"
        )),
    }
}

/// Re-read the TLS certificate, key and client CA (SIGHUP); a broken set
/// is refused, the certificates before stay.
fn reload_tls(app: &App) {
    let Some(tls) = &app.tls else {
        return;
    };
    match tls.reload() {
        Ok(()) => log("SIGHUP: TLS certificates re-read"),
        Err(e) => log(&format!(
            "SIGHUP: TLS files refused, the certificates before stay: {e}"
        )),
    }
}
