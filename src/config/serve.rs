//! Settings of the scoring service (`churn-score serve`): where it listens,
//! how many workers it runs, the largest request body it reads and how
//! often it looks for a new model. What it scores with (model, playbook,
//! offers, warning overrides, CLV) is the `[score]` section, shared with
//! the batch job so both answer alike.

use crate::error::{Error, Result};

/// The files of `--tls-cert`, `--tls-key` and `--tls-client-ca` (PEM).
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub client_ca: Option<std::path::PathBuf>,
}

/// How the service runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Address to listen on (`127.0.0.1:8080`).
    pub addr: String,
    /// Request-handling threads (0: one per CPU).
    pub workers: usize,
    /// Largest request body read, in bytes; a larger one gets 413.
    pub max_body: usize,
    /// Most customers in one request; more get 413.
    pub max_customers: usize,
    /// Most scoring requests in flight at once; more get 503 (0: no cap).
    pub max_connections: usize,
    /// Seconds a request body may take to arrive; slower gets 408.
    pub body_timeout: f64,
    /// Seconds between looks at the model file for a new artifact (0: only on SIGHUP).
    pub reload_every: f64,
    /// One line per request on stderr.
    pub access_log: bool,
    /// Clients and their tokens (`--auth-tokens`): every endpoint but
    /// `/healthz` then needs `Authorization: Bearer TOKEN`.
    pub auth_tokens: Option<std::path::PathBuf>,
    /// Serve a non-loopback address without tokens, on purpose.
    pub insecure_no_auth: bool,
    /// Seconds a client may take to send a request's headers (and to
    /// finish the TLS handshake); slower connections are closed.
    pub header_timeout: f64,
    /// HTTPS: certificate, key and (mutual TLS) the clients' CA.
    pub tls: Option<TlsFiles>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: "127.0.0.1:8080".into(),
            workers: 0,
            max_body: 1 << 20,
            max_customers: 10_000,
            max_connections: 256,
            body_timeout: 10.0,
            reload_every: 2.0,
            access_log: true,
            auth_tokens: None,
            insecure_no_auth: false,
            header_timeout: 10.0,
            tls: None,
        }
    }
}

impl ServeConfig {
    /// Checked once, before the model is read.
    pub fn validate(&self) -> Result<()> {
        let Ok(addr) = self.addr.parse::<std::net::SocketAddr>() else {
            return Err(Error::Config(format!(
                "--addr '{}': give an IP address and port, e.g. 127.0.0.1:8080",
                self.addr
            )));
        };
        if !addr.ip().is_loopback() && self.auth_tokens.is_none() && !self.insecure_no_auth {
            return Err(Error::Config(format!(
                "--addr {}: anyone who can reach it could read customers' scores; give --auth-tokens FILE (or --insecure-no-auth to serve without)",
                self.addr
            )));
        }
        if self.max_body < 1024 {
            return Err(Error::Config(format!(
                "--max-body {}: at least 1024 bytes",
                self.max_body
            )));
        }
        if self.max_customers == 0 {
            return Err(Error::Config("--max-customers: at least 1".into()));
        }
        for (flag, secs) in [
            ("--body-timeout", self.body_timeout),
            ("--header-timeout", self.header_timeout),
        ] {
            if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
                return Err(Error::Config(format!(
                    "{flag} {secs}: seconds, more than 0 and at most 3600"
                )));
            }
        }
        if !(self.reload_every.is_finite() && self.reload_every >= 0.0) {
            return Err(Error::Config(format!(
                "--reload-every {}: seconds, 0 or more",
                self.reload_every
            )));
        }
        if self.workers > 1024 {
            return Err(Error::Config(format!(
                "--workers {}: at most 1024",
                self.workers
            )));
        }
        Ok(())
    }
}
