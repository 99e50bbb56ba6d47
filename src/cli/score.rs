//! Flags of `churn-score`: the batch job and `serve`. Each resolves into
//! the one [`Config`] (and, for the service, its [`ServeConfig`]).

use super::LogInputArgs;
use crate::config::{set, Config, ServeConfig};
use crate::error::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Score customers with a saved churn model: probability, warning level,
/// value tier, CLV, reasons and recommended action per customer, plus a batch
/// summary, drift report and (with labels) an offline evaluation.
#[derive(Debug, Parser, Default)]
#[command(name = "churn-score", version, args_conflicts_with_subcommands = true)]
pub struct ScoreArgs {
    /// Permission bits the files and folders holding customer data leave
    /// out [default: 077, owner only; e.g. 027 lets the group read].
    #[arg(long, global = true, value_parser = crate::io::parse_umask)]
    pub umask: Option<u32>,
    #[command(subcommand)]
    pub command: Option<ScoreCommand>,
    /// Model artifact [default: models/latest].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Refuse a model not signed with the key in this file (--sign-key
    /// at training).
    #[arg(long)]
    pub verify_key: Option<PathBuf>,
    /// Customers: a CSV/Parquet file, a directory of parts, or - for CSV on
    /// stdin [default: the embedded data/score_sample.csv].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Scores file, - for CSV on stdout, or a database: sqlite:PATH or
    /// postgres://USER@HOST:PORT/DB [default: experiments/score-<id>/scores.csv].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scores file format [default: csv].
    #[arg(long)]
    pub format: Option<crate::config::OutputFormat>,
    /// Scores table when --out is a database (sqlite:PATH or
    /// postgres://USER@HOST:PORT/DB) [default: churn_scores].
    #[arg(long)]
    pub table: Option<String>,
    /// Run id: the run folder's name and the database rows' run_id
    /// [default: score-<time>]; re-running an id replaces its rows.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Customers per chunk (memory is bounded by this) [default: 25000].
    #[arg(long)]
    pub chunk_rows: Option<usize>,
    /// Fail the job (after writing rejects.csv) when more than this share of
    /// rows is rejected — a broken extract; 1 disables the guard [default: 0.05].
    #[arg(long)]
    pub max_reject_rate: Option<f64>,
    /// Earlier scores file, for tier migration and rising warnings.
    #[arg(long)]
    pub previous: Option<PathBuf>,
    /// Playbook TOML (warning level × tier → action) [default: data/playbook.toml, else the copy compiled in].
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    /// Refit the value tiers on this batch instead of using the model's.
    #[arg(long)]
    pub refit_segments: bool,
    /// For a model with seasonal thresholds (--threshold-by season): the
    /// month whose thresholds apply, 1–12 or a date [default: the --as-of
    /// date, else today].
    #[arg(long)]
    pub season: Option<String>,
    /// Offers artifact (from `churn-train offers`): adds the risk level and
    /// the top 3 suitable offers per customer [default: offers-latest beside
    /// the model, when present and the batch has its columns].
    #[arg(long, conflicts_with = "no_offers")]
    pub offers: Option<PathBuf>,
    /// Score without offers.
    #[arg(long)]
    pub no_offers: bool,
    /// Uplift artifact (from `churn-train uplift`): scores.csv gains
    /// `uplift` (the retention uplift of a contact), and the contact list
    /// ranks by retention uplift × CLV − costs.
    #[arg(long)]
    pub uplift: Option<PathBuf>,
    /// CSV delimiter [default: detected].
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Where run folders go [default: experiments].
    #[arg(long = "runs-dir")]
    pub runs_dir: Option<PathBuf>,
    /// Contact list: the N customers with the highest positive expected value saved (contacts.csv; scores.csv gains expected_value)
    #[arg(long)]
    pub capacity: Option<usize>,
    /// Contact list: as many customers as this budget buys (contact cost + incentive × accept rate each)
    #[arg(long)]
    pub budget: Option<f64>,
    /// Cost of one contact [default: 1]
    #[arg(long = "contact-cost")]
    pub contact_cost: Option<f64>,
    /// Cost of the incentive, paid to those who accept [default: 10]
    #[arg(long = "incentive-cost")]
    pub incentive_cost: Option<f64>,
    /// Share of contacted churners who accept and stay (no uplift model yet) [default: 0.3]
    #[arg(long = "accept-rate")]
    pub accept_rate: Option<f64>,
    #[command(flatten)]
    pub logs: LogInputArgs,
    /// TOML file that can set every option ([score] section); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No progress or table output.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Extra tasks of `churn-score`.
#[derive(Debug, Subcommand)]
pub enum ScoreCommand {
    /// Serve scores over HTTP: POST /v1/score and MLflow's /invocations
    /// answer with each customer's scores.csv fields, computed by the same
    /// code as the batch job; GET /healthz, /v1/model, /metrics. SIGHUP or
    /// a changed model file reloads the model; SIGTERM stops gracefully.
    Serve(ServeArgs),
}

/// Options of `churn-score serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Model artifact; a changed file (or `latest` link) is reloaded [default: models/latest].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Refuse a model not signed with the key in this file (--sign-key
    /// at training).
    #[arg(long)]
    pub verify_key: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]; an address other
    /// than loopback needs --auth-tokens (or --insecure-no-auth).
    #[arg(long)]
    pub addr: Option<String>,
    /// Clients allowed to call: one `name:token` or `name:sha256:HEX` per
    /// line; every endpoint but /healthz then needs `Authorization: Bearer
    /// TOKEN` (401 otherwise). Re-read on SIGHUP.
    #[arg(long)]
    pub auth_tokens: Option<PathBuf>,
    /// Serve a non-loopback address without tokens (said at start).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// HTTPS: the server's certificate chain (PEM); needs --tls-key.
    /// Re-read on SIGHUP.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS: the certificate's private key (PEM, PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: clients must present a certificate issued by a CA in
    /// this PEM file; its subject goes into the access log.
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Request-handling threads [default: one per CPU].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Largest request body in bytes; larger requests get 413 [default: 1048576].
    #[arg(long)]
    pub max_body: Option<usize>,
    /// Most customers in one request; more get 413 [default: 10000].
    #[arg(long)]
    pub max_customers: Option<usize>,
    /// Most scoring requests in flight at once; more get 503 with
    /// Retry-After (0: no cap) [default: 256].
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Seconds a request body may take to arrive (a client sending a byte
    /// a second is cut off with 408) [default: 10].
    #[arg(long)]
    pub body_timeout: Option<f64>,
    /// Seconds a client may take to send a request's headers or finish the
    /// TLS handshake; slower connections (and idle keep-alive ones) are
    /// closed [default: 10].
    #[arg(long)]
    pub header_timeout: Option<f64>,
    /// Seconds between looks at the model file for a new artifact; 0 reloads
    /// only on SIGHUP [default: 2].
    #[arg(long)]
    pub reload_every: Option<f64>,
    /// Playbook TOML [default: data/playbook.toml, else the copy compiled in].
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    /// Offers artifact; requests must then carry its columns [default:
    /// offers-latest beside the model, applied to requests that carry its columns].
    #[arg(long, conflicts_with = "no_offers")]
    pub offers: Option<PathBuf>,
    /// Serve without offers.
    #[arg(long)]
    pub no_offers: bool,
    /// For a model with seasonal thresholds: the month whose thresholds
    /// apply, 1–12 or a date [default: the day each request comes].
    #[arg(long)]
    pub season: Option<String>,
    /// Uplift artifact (from `churn-train uplift`): answers gain `uplift`,
    /// the retention uplift of a contact.
    #[arg(long)]
    pub uplift: Option<PathBuf>,
    /// TOML file ([score] section: warning overrides, segments, CLV); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No access log (startup, reload and shutdown lines are still written).
    #[arg(short, long)]
    pub quiet: bool,
}

impl ServeArgs {
    /// The scoring settings (defaults ← TOML ← flags) and the service's own.
    pub fn resolve(self) -> Result<(Config, ServeConfig)> {
        let mut c = Config::load(self.config.as_deref())?;
        let s = &mut c.score;
        set(&mut s.model, self.model);
        set(&mut s.verify_key, self.verify_key.map(Some));
        set(&mut s.playbook, self.playbook.map(Some));
        set(&mut s.offers, self.offers.map(Some));
        set(&mut s.uplift, self.uplift.map(Some));
        set(&mut s.season, self.season.map(Some));
        s.no_offers |= self.no_offers;
        c.validate_score()?;
        let mut v = ServeConfig::default();
        set(&mut v.addr, self.addr);
        set(&mut v.auth_tokens, self.auth_tokens.map(Some));
        v.insecure_no_auth |= self.insecure_no_auth;
        set(&mut v.workers, self.workers);
        set(&mut v.max_body, self.max_body);
        set(&mut v.max_customers, self.max_customers);
        set(&mut v.max_connections, self.max_connections);
        set(&mut v.body_timeout, self.body_timeout);
        set(&mut v.header_timeout, self.header_timeout);
        if let (Some(cert), Some(key)) = (self.tls_cert, self.tls_key) {
            v.tls = Some(crate::config::TlsFiles {
                cert,
                key,
                client_ca: self.tls_client_ca,
            });
        }
        set(&mut v.reload_every, self.reload_every);
        v.access_log = !self.quiet;
        v.validate()?;
        Ok((c, v))
    }
}

impl ScoreArgs {
    /// Defaults ← TOML (`--config`) ← these flags, validated.
    pub fn resolve(self) -> Result<Config> {
        let mut c = Config::load(self.config.as_deref())?;
        let s = &mut c.score;
        set(&mut s.model, self.model);
        set(&mut s.verify_key, self.verify_key.map(Some));
        set(&mut s.data, self.data.map(Some));
        set(&mut s.out, self.out.map(Some));
        set(&mut s.format, self.format);
        set(&mut s.table, self.table);
        set(&mut s.run_id, self.run_id.map(Some));
        set(&mut s.chunk_rows, self.chunk_rows);
        set(&mut s.max_reject_rate, self.max_reject_rate);
        set(&mut s.previous, self.previous.map(Some));
        set(&mut s.playbook, self.playbook.map(Some));
        set(&mut s.offers, self.offers.map(Some));
        set(&mut s.uplift, self.uplift.map(Some));
        s.refit_segments |= self.refit_segments;
        set(&mut s.season, self.season.map(Some));
        s.no_offers |= self.no_offers;
        s.quiet |= self.quiet;
        set(&mut c.data.delimiter, self.delimiter.map(Some));
        set(&mut c.score.runs_dir, self.runs_dir.map(Some));
        let k = &mut c.score.contact;
        set(&mut k.capacity, self.capacity.map(Some));
        set(&mut k.budget, self.budget.map(Some));
        set(&mut k.contact_cost, self.contact_cost);
        set(&mut k.incentive_cost, self.incentive_cost);
        set(&mut k.accept_rate, self.accept_rate);
        self.logs.apply(&mut c.logs);
        if c.score.season.is_none() {
            c.score.season = c.logs.as_of.first().cloned();
        }
        c.validate_score()?;
        Ok(c)
    }
}
