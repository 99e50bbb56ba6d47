//! Scores into PostgreSQL (the `postgres` crate). At the first chunk the
//! run id's earlier rows are deleted; then every row whose customer id is
//! new to the run is copied in binary (`COPY … FROM STDIN BINARY`) straight
//! into the scores table, while the scoring thread works on the next chunk.
//! A row whose id may have come before (a customer twice in a batch, or a
//! Bloom filter's false alarm, see [`super::seen`]) goes to a temporary
//! staging table instead, and at commit one `INSERT … SELECT DISTINCT ON
//! (id) … ON CONFLICT` lets the later row win, as in the file. Everything
//! happens in one transaction: a killed job's connection drops and the
//! server rolls it back, so readers never see a part of a run.
//!
//! Why not stage every row: the move from staging into the indexed table
//! was a second pass over the whole run after scoring had ended (11.4 s of
//! a 13.4 s job at 1M rows); copied straight in, the index upkeep overlaps
//! with scoring.
//!
//! The URL's password, else `PGPASSWORD`, else the matching line of
//! `~/.pgpass` (or `PGPASSFILE`), as libpq does; the password never
//! appears in a message. TLS as libpq's `sslmode`/`sslrootcert` say (see
//! [`super::pg_tls`]).

use super::copy;
use super::pg_tls;
use super::pump::{Dest, Pump};
use super::seen::Seen;
use super::table::{self, Column, Kind, Stamp, Value, STAMP_FIELDS};
use super::{mask_password, RunRecord, TableSink};
use crate::error::{Error, Result};
use postgres::{Client, Config, NoTls};

/// Sort memory for moving a run out of staging (the server default, 4 MB,
/// sends a million-row sort to disk).
const WORK_MEM: &str = "256MB";

/// The temporary table of rows whose id may have come before in the run.
const STAGING: &str = "churn_staging";

pub struct Postgres {
    /// The connection, while no COPY streams (then the pump has it).
    client: Option<Client>,
    pump: Option<Pump>,
    shown: String,
    table: String,
    stamp: Stamp,
    /// The table's columns (scores and stamp), once the first chunk came.
    cols: Option<Vec<Column>>,
    /// Ids written so far (may say "seen" wrongly, never "new" wrongly).
    seen: Seen,
    /// The stamp's cells (run id, model id, scored at), encoded once.
    stamp_cells: Vec<u8>,
    /// Rows sent to staging so far (their order: the later row wins).
    staged: i64,
}

const DIALECT: table::Dialect = table::Dialect {
    sql_type,
    create_view: "CREATE OR REPLACE VIEW",
    codes: " COLLATE \"C\"",
};

fn sql_type(k: Kind) -> &'static str {
    match k {
        Kind::Text => "TEXT",
        Kind::Real => "DOUBLE PRECISION",
        Kind::Int => "BIGINT",
        Kind::Time => "TIMESTAMPTZ",
    }
}

/// The password libpq would use for `cfg` from `~/.pgpass` (or PGPASSFILE).
fn pgpass(cfg: &Config) -> Option<String> {
    let file = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432).to_string();
    let db = cfg.get_dbname().unwrap_or_default().to_string();
    let user = cfg.get_user().unwrap_or_default().to_string();
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let f: Vec<&str> = l.splitn(5, ':').collect();
        let m = |i: usize, v: &str| f.get(i).is_some_and(|x| *x == "*" || *x == v);
        (f.len() == 5 && m(0, &host) && m(1, &port) && m(2, &db) && m(3, &user))
            .then(|| f[4].to_string())
    })
}

/// A connection error with its cause (the postgres crate's message for a
/// TLS failure is only "error performing TLS handshake").
fn tls_detail(e: &postgres::Error) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(cause) if !e.to_string().contains(&cause.to_string()) => format!("{e}: {cause}"),
        _ => e.to_string(),
    }
}

impl Postgres {
    pub fn open(url: &str, table: &str, stamp: Stamp) -> Result<Postgres> {
        let shown = mask_password(url);
        let fail = |e: &dyn std::fmt::Display| Error::format(&shown, e.to_string());
        let (url, ssl) = pg_tls::split_url(url, |k| std::env::var(k).ok()).map_err(|e| fail(&e))?;
        let mut cfg: Config = url.parse().map_err(|e| fail(&e))?;
        cfg.ssl_mode(pg_tls::crate_mode(ssl.mode));
        if cfg.get_password().is_none() {
            if let Ok(p) = std::env::var("PGPASSWORD") {
                cfg.password(p);
            } else if let Some(p) = pgpass(&cfg) {
                cfg.password(p);
            }
        }
        let mut client = match pg_tls::connector(&ssl).map_err(|e| fail(&e))? {
            Some(tls) => cfg.connect(tls),
            None => cfg.connect(NoTls),
        }
        .map_err(|e| fail(&tls_detail(&e)))?;
        client
            .batch_execute(&format!("BEGIN; {}", table::runs_statement(sql_type)))
            .map_err(|e| fail(&e))?;
        let at = copy::pg_micros(stamp.scored_at);
        let mut stamp_cells = Vec::new();
        let cells: [Value; STAMP_FIELDS] = [
            Value::Text(stamp.run_id.clone()),
            Value::Text(stamp.model_id.clone()),
            Value::Time,
        ];
        for v in &cells {
            copy::field(&mut stamp_cells, v, at);
        }
        Ok(Postgres {
            client: Some(client),
            pump: None,
            shown,
            table: table.to_string(),
            stamp,
            cols: None,
            // Zeroed pages are only mapped once written.
            seen: Seen::default(),
            stamp_cells,
            staged: 0,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::format(&self.shown, e.to_string())
    }

    /// The connection, taken back from the pump when rows were streaming
    /// (its COPY finished; its error, if the server gave one).
    fn conn(&mut self) -> Result<&mut Client> {
        if let Some(pump) = self.pump.take() {
            let (client, streamed) = pump.stop().map_err(Error::Internal)?;
            self.client = Some(client);
            streamed.map_err(|e| self.err(e))?;
        }
        let shown = self.shown.clone();
        self.client
            .as_mut()
            .ok_or_else(|| Error::format(shown, "the connection was lost"))
    }

    /// Run `f` on the connection; a failure names the (masked) target.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let done = f(self.conn()?);
        done.map_err(|e| self.err(e))
    }

    fn prepare(&mut self, cols: &[Column]) -> Result<()> {
        let cols = table::with_stamp(cols);
        let (table, run_id) = (self.table.clone(), self.stamp.run_id.clone());
        let have: Vec<String> = self
            .with(|c| {
                c.query(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1",
                    &[&table],
                )
            })?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if have.is_empty() {
            let sql = table::create_statements(&table, &cols, &DIALECT);
            self.with(|c| c.batch_execute(&sql.join("; ")))?;
        } else {
            table::check_existing(&table, &have, &cols).map_err(|m| Error::data(&self.shown, m))?;
        }
        // A re-run replaces the run's rows (still visible to readers until
        // this transaction commits). A run's rows are only ever committed
        // with its score_runs row, so an unknown run id has none: no scan.
        let known =
            self.with(|c| c.query_opt("SELECT 1 FROM score_runs WHERE run_id = $1", &[&run_id]))?;
        if known.is_some() {
            let sql = format!("DELETE FROM {table} WHERE run_id = $1");
            self.with(|c| c.execute(&sql, &[&run_id]))?;
        }
        let defs: Vec<String> = cols
            .iter()
            .map(|c| format!("\"{}\" {}", c.name, sql_type(c.kind)))
            .collect();
        let sql = format!(
            "CREATE TEMP TABLE {STAGING} (seq BIGINT, {}) ON COMMIT DROP",
            defs.join(", ")
        );
        self.with(|c| c.batch_execute(&sql))?;
        let names = quoted(&cols).join(", ");
        let copy_sql = [
            format!("COPY {table} ({names}) FROM STDIN BINARY"),
            format!("COPY {STAGING} (seq, {names}) FROM STDIN BINARY"),
        ];
        self.cols = Some(cols);
        self.pump = self.client.take().map(|c| Pump::start(c, copy_sql));
        Ok(())
    }

    /// Queue encoded rows for the pump; its error when it stopped.
    fn send(&mut self, into: Dest, bytes: Vec<u8>) -> Result<()> {
        if bytes.is_empty() || self.pump.as_ref().is_some_and(|p| p.send(into, bytes)) {
            return Ok(());
        }
        self.conn()?;
        Err(self.err("the database writer stopped"))
    }
}

/// Column names quoted for SQL.
fn quoted(cols: &[Column]) -> Vec<String> {
    cols.iter().map(|c| format!("\"{}\"", c.name)).collect()
}

impl TableSink for Postgres {
    fn write(&mut self, cols: &[Column], rows: Vec<Vec<Value>>) -> Result<()> {
        if self.cols.is_none() {
            self.prepare(cols)?;
        }
        let id_at = cols.iter().position(|c| c.name == "id");
        let (mut new, mut again) = (Vec::with_capacity(rows.len() * 160), Vec::new());
        for row in &rows {
            let maybe_seen = match id_at.and_then(|i| row.get(i)) {
                Some(Value::Text(id)) => self.seen.insert(id),
                _ => true,
            };
            if maybe_seen {
                self.staged += 1;
                copy::row(
                    &mut again,
                    Some(self.staged),
                    row,
                    &self.stamp_cells,
                    STAMP_FIELDS,
                );
            } else {
                copy::row(&mut new, None, row, &self.stamp_cells, STAMP_FIELDS);
            }
        }
        self.send(Dest::Table, new)?;
        self.send(Dest::Staging, again)
    }

    fn commit(mut self: Box<Self>, run: &RunRecord) -> Result<()> {
        let (run_id, model_id, table) = (
            self.stamp.run_id.clone(),
            self.stamp.model_id.clone(),
            self.table.clone(),
        );
        if let Some(cols) = self.cols.as_ref().filter(|_| self.staged > 0) {
            // A customer twice in a batch: the later row wins, as in the file.
            // The sort for it gets more memory (this transaction only).
            let names = quoted(cols);
            let updates: Vec<String> = names
                .iter()
                .filter(|n| *n != "\"id\"" && *n != "\"run_id\"")
                .map(|n| format!("{n} = EXCLUDED.{n}"))
                .collect();
            let sql = format!(
                "SET LOCAL work_mem = '{WORK_MEM}'; \
                 INSERT INTO {table} ({c}) SELECT DISTINCT ON (id) {c} FROM {STAGING} \
                 ORDER BY id, seq DESC ON CONFLICT (id, run_id) DO UPDATE SET {u}",
                c = names.join(", "),
                u = updates.join(", ")
            );
            self.with(|c| c.batch_execute(&sql))?;
        }
        let finished = std::time::SystemTime::now();
        let counts = [run.rows_read, run.rows_scored, run.rows_rejected].map(|v| v as i64);
        self.with(|c| {
            c.execute(
                "INSERT INTO score_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (run_id) DO UPDATE SET model_id = EXCLUDED.model_id, \
                 model_checksum = EXCLUDED.model_checksum, scores_table = EXCLUDED.scores_table, \
                 rows_read = EXCLUDED.rows_read, rows_scored = EXCLUDED.rows_scored, \
                 rows_rejected = EXCLUDED.rows_rejected, summary = EXCLUDED.summary, \
                 started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
                &[
                    &run_id,
                    &model_id,
                    &run.model_checksum,
                    &table,
                    &counts[0],
                    &counts[1],
                    &counts[2],
                    &run.summary_json,
                    &run.started_at,
                    &finished,
                ],
            )?;
            c.batch_execute("COMMIT")
        })
    }
}
