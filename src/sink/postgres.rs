//! Scores into PostgreSQL (the `postgres` crate): every chunk is copied in
//! binary (`COPY … FROM STDIN BINARY`) into a temporary staging table; at
//! commit one `INSERT … SELECT DISTINCT ON (id) … ON CONFLICT` moves the
//! run into the scores table (after deleting the run id's earlier rows),
//! `score_runs` gets its row, and the transaction commits. A killed job's
//! connection drops and the server rolls the transaction back.
//!
//! The URL's password, else `PGPASSWORD`, else the matching line of
//! `~/.pgpass` (or `PGPASSFILE`), as libpq does; the password never
//! appears in a message.

use super::table::{self, Column, Kind, Stamp, Value};
use super::{mask_password, RunRecord, TableSink};
use crate::error::{Error, Result};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls};

/// Sort memory for moving a run out of staging (the server default, 4 MB,
/// sends a million-row sort to disk).
const WORK_MEM: &str = "256MB";

pub struct Postgres {
    client: Client,
    shown: String,
    table: String,
    stamp: Stamp,
    cols: Option<Vec<Column>>,
    seq: i64,
}

fn sql_type(k: Kind) -> &'static str {
    match k {
        Kind::Text => "TEXT",
        Kind::Real => "DOUBLE PRECISION",
        Kind::Int => "BIGINT",
        Kind::Time => "TIMESTAMPTZ",
    }
}

fn pg_type(k: Kind) -> Type {
    match k {
        Kind::Text => Type::TEXT,
        Kind::Real => Type::FLOAT8,
        Kind::Int => Type::INT8,
        Kind::Time => Type::TIMESTAMPTZ,
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

impl Postgres {
    pub fn open(url: &str, table: &str, stamp: Stamp) -> Result<Postgres> {
        let shown = mask_password(url);
        let fail = |e: &dyn std::fmt::Display| Error::format(&shown, e.to_string());
        let mut cfg: Config = url.parse().map_err(|e| fail(&e))?;
        if cfg.get_password().is_none() {
            if let Ok(p) = std::env::var("PGPASSWORD") {
                cfg.password(p);
            } else if let Some(p) = pgpass(&cfg) {
                cfg.password(p);
            }
        }
        let mut client = cfg.connect(NoTls).map_err(|e| fail(&e))?;
        client
            .batch_execute(&format!("BEGIN; {}", table::runs_statement(sql_type)))
            .map_err(|e| fail(&e))?;
        Ok(Postgres {
            client,
            shown,
            table: table.to_string(),
            stamp,
            cols: None,
            seq: 0,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::format(&self.shown, e.to_string())
    }

    fn prepare(&mut self, cols: &[Column]) -> Result<()> {
        let cols = table::with_stamp(cols);
        let have: Vec<String> = self
            .client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&self.table],
            )
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if have.is_empty() {
            let sql =
                table::create_statements(&self.table, &cols, sql_type, "CREATE OR REPLACE VIEW");
            self.client
                .batch_execute(&sql.join("; "))
                .map_err(|e| self.err(e))?;
        } else {
            table::check_existing(&self.table, &have, &cols)
                .map_err(|m| Error::data(&self.shown, m))?;
        }
        let defs: Vec<String> = cols
            .iter()
            .map(|c| format!("\"{}\" {}", c.name, sql_type(c.kind)))
            .collect();
        self.client
            .batch_execute(&format!(
                "CREATE TEMP TABLE churn_staging (seq BIGINT, {}) ON COMMIT DROP",
                defs.join(", ")
            ))
            .map_err(|e| self.err(e))?;
        self.cols = Some(cols);
        Ok(())
    }
}

impl TableSink for Postgres {
    fn write(&mut self, cols: &[Column], rows: Vec<Vec<Value>>) -> Result<()> {
        if self.cols.is_none() {
            self.prepare(cols)?;
        }
        let cols = self.cols.clone().unwrap_or_default();
        let mut types = vec![Type::INT8];
        types.extend(cols.iter().map(|c| pg_type(c.kind)));
        let names: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let sink = self
            .client
            .copy_in(&format!(
                "COPY churn_staging (seq, {}) FROM STDIN BINARY",
                names.join(", ")
            ))
            .map_err(|e| Error::format(&self.shown, e.to_string()))?;
        let mut w = BinaryCopyInWriter::new(sink, &types);
        let at = self.stamp.scored_at;
        let mut failed = None;
        for row in rows {
            self.seq += 1;
            let stamp = [
                Value::Text(self.stamp.run_id.clone()),
                Value::Text(self.stamp.model_id.clone()),
                Value::Time,
            ];
            let boxed: Vec<Box<dyn ToSql + Sync>> =
                std::iter::once(Box::new(self.seq) as Box<dyn ToSql + Sync>)
                    .chain(
                        row.into_iter()
                            .chain(stamp)
                            .map(|v| -> Box<dyn ToSql + Sync> {
                                match v {
                                    Value::Text(t) => Box::new(t),
                                    Value::Real(x) => Box::new(x),
                                    Value::Int(x) => Box::new(x),
                                    Value::Time => Box::new(at),
                                }
                            }),
                    )
                    .collect();
            let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
            if let Err(e) = w.write(&refs) {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            return Err(Error::format(&self.shown, e.to_string()));
        }
        w.finish()
            .map(|_| ())
            .map_err(|e| Error::format(&self.shown, e.to_string()))
    }

    fn commit(mut self: Box<Self>, run: &RunRecord) -> Result<()> {
        if let Some(cols) = &self.cols {
            let names: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
            let sql = format!("DELETE FROM {t} WHERE run_id = $1; ", t = self.table);
            self.client
                .execute(sql.trim_end_matches("; "), &[&self.stamp.run_id])
                .map_err(|e| self.err(e))?;
            // A customer twice in a batch: the later row wins, as in the file.
            // The sort for it gets more memory (this transaction only).
            let updates: Vec<String> = names
                .iter()
                .filter(|n| *n != "\"id\"" && *n != "\"run_id\"")
                .map(|n| format!("{n} = EXCLUDED.{n}"))
                .collect();
            self.client
                .batch_execute(&format!(
                    "SET LOCAL work_mem = '{WORK_MEM}'; \
                     INSERT INTO {t} ({c}) SELECT DISTINCT ON (id) {c} FROM churn_staging \
                     ORDER BY id, seq DESC ON CONFLICT (id, run_id) DO UPDATE SET {u}",
                    t = self.table,
                    c = names.join(", "),
                    u = updates.join(", ")
                ))
                .map_err(|e| self.err(e))?;
        }
        let finished = std::time::SystemTime::now();
        let counts = [run.rows_read, run.rows_scored, run.rows_rejected].map(|v| v as i64);
        self.client
            .execute(
                "INSERT INTO score_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (run_id) DO UPDATE SET model_id = EXCLUDED.model_id, \
                 model_checksum = EXCLUDED.model_checksum, scores_table = EXCLUDED.scores_table, \
                 rows_read = EXCLUDED.rows_read, rows_scored = EXCLUDED.rows_scored, \
                 rows_rejected = EXCLUDED.rows_rejected, summary = EXCLUDED.summary, \
                 started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
                &[
                    &self.stamp.run_id,
                    &self.stamp.model_id,
                    &run.model_checksum,
                    &self.table,
                    &counts[0],
                    &counts[1],
                    &counts[2],
                    &run.summary_json,
                    &run.started_at,
                    &finished,
                ],
            )
            .map_err(|e| self.err(e))?;
        self.client.batch_execute("COMMIT").map_err(|e| self.err(e))
    }
}
