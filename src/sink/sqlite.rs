//! Scores into an SQLite file (rusqlite, SQLite compiled in): the embedded
//! default for a machine with no database server. One `BEGIN IMMEDIATE`
//! transaction per run (WAL journal, so readers keep reading the previous
//! state meanwhile); a killed job leaves the journal, which SQLite rolls
//! back on the next open.

use super::table::{self, Column, Kind, Stamp, Value};
use super::{RunRecord, TableSink};
use crate::error::{Error, Result};
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

pub struct Sqlite {
    conn: Connection,
    path: PathBuf,
    table: String,
    stamp: Stamp,
    cols: Option<Vec<Column>>,
    insert: String,
}

const DIALECT: table::Dialect = table::Dialect {
    sql_type,
    create_view: "CREATE VIEW IF NOT EXISTS",
    codes: "",
};

fn sql_type(k: Kind) -> &'static str {
    match k {
        Kind::Text | Kind::Time => "TEXT",
        Kind::Real => "REAL",
        Kind::Int => "INTEGER",
    }
}

impl Sqlite {
    pub fn open(path: &Path, table: &str, stamp: Stamp) -> Result<Sqlite> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        if !path.exists() {
            // Created private (0600), as every file of customer data.
            crate::io::private_file(path).map_err(|e| Error::io(path, e))?;
        }
        let conn = Connection::open(path).map_err(|e| Error::format(path, e))?;
        let s = Sqlite {
            conn,
            path: path.to_path_buf(),
            table: table.to_string(),
            stamp,
            cols: None,
            insert: String::new(),
        };
        s.exec("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=30000; BEGIN IMMEDIATE")?;
        s.exec(&table::runs_statement(sql_type))?;
        Ok(s)
    }

    fn err(&self, e: impl ToString) -> Error {
        Error::format(format!("sqlite:{}", self.path.display()), e)
    }

    fn exec(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    /// Create or check the scores table for `cols`, and clear this run
    /// id's earlier rows.
    fn prepare(&mut self, cols: &[Column]) -> Result<()> {
        let cols = table::with_stamp(cols);
        let have: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare(&format!("PRAGMA table_info({})", self.table))
                .map_err(|e| self.err(e))?;
            let names = stmt
                .query_map([], |r| r.get::<_, String>(1))
                .map_err(|e| self.err(e))?;
            names
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| self.err(e))?
        };
        if have.is_empty() {
            for sql in table::create_statements(&self.table, &cols, &DIALECT) {
                self.exec(&sql)?;
            }
        } else {
            table::check_existing(&self.table, &have, &cols)
                .map_err(|m| Error::data(format!("sqlite:{}", self.path.display()), m))?;
        }
        self.conn
            .execute(
                &format!("DELETE FROM {} WHERE run_id = ?1", self.table),
                params![self.stamp.run_id],
            )
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        // A customer twice in a batch: the later row wins, as in the file.
        self.insert = format!(
            "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
            self.table,
            names.join(", "),
            marks.join(", ")
        );
        self.cols = Some(cols);
        Ok(())
    }
}

impl TableSink for Sqlite {
    fn write(&mut self, cols: &[Column], rows: Vec<Vec<Value>>) -> Result<()> {
        if self.cols.is_none() {
            self.prepare(cols)?;
        }
        let mut stmt = self
            .conn
            .prepare_cached(&self.insert)
            .map_err(|e| Error::format(&self.path, e))?;
        let st = &self.stamp;
        for row in rows {
            let stamp = [
                Value::Text(st.run_id.clone()),
                Value::Text(st.model_id.clone()),
                Value::Time,
            ];
            let cells: Vec<rusqlite::types::Value> = row
                .into_iter()
                .chain(stamp)
                .map(|v| match v {
                    Value::Text(t) => rusqlite::types::Value::Text(t),
                    Value::Real(x) if x.is_nan() => rusqlite::types::Value::Null,
                    Value::Real(x) => rusqlite::types::Value::Real(x),
                    Value::Int(x) => rusqlite::types::Value::Integer(x),
                    Value::Time => rusqlite::types::Value::Text(st.scored_at_text.clone()),
                })
                .collect();
            stmt.execute(rusqlite::params_from_iter(cells))
                .map_err(|e| Error::format(&self.path, e))?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>, run: &RunRecord) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO score_runs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    self.stamp.run_id,
                    self.stamp.model_id,
                    run.model_checksum,
                    self.table,
                    run.rows_read as i64,
                    run.rows_scored as i64,
                    run.rows_rejected as i64,
                    run.summary_json,
                    super::iso(run.started_at),
                    super::iso(std::time::SystemTime::now()),
                ],
            )
            .map_err(|e| self.err(e))?;
        self.exec("COMMIT")
    }
}
