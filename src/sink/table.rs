//! The scores table as SQL sees it: the columns the scoring flow hands over
//! (scores.csv's, typed) plus `run_id`, `model_id` and `scored_at`, which
//! the sink stamps on every row. Shared by the SQLite and PostgreSQL sinks.

use std::time::SystemTime;

/// A column's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Real,
    Int,
    /// `scored_at`: TIMESTAMPTZ in PostgreSQL, ISO 8601 text in SQLite.
    Time,
}

/// One column of the scores table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// What every row of a run carries besides its scores.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub run_id: String,
    pub model_id: String,
    pub scored_at: SystemTime,
    /// `scored_at` as ISO 8601 UTC text.
    pub scored_at_text: String,
}

/// A typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Real(f64),
    Int(i64),
    Time,
}

/// Columns of the stamp every row gets.
pub const STAMP_FIELDS: usize = 3;

/// The scores columns followed by the stamp columns every row gets.
pub fn with_stamp(cols: &[Column]) -> Vec<Column> {
    let mut all = cols.to_vec();
    let stamp: [(&str, Kind); STAMP_FIELDS] = [
        ("run_id", Kind::Text),
        ("model_id", Kind::Text),
        ("scored_at", Kind::Time),
    ];
    for (name, kind) in stamp {
        all.push(Column {
            name: name.into(),
            kind,
        });
    }
    all
}

/// What differs between the databases' SQL.
pub struct Dialect {
    /// A kind's column type.
    pub sql_type: fn(Kind) -> &'static str,
    /// The "create the view unless it exists" phrase.
    pub create_view: &'static str,
    /// Appended to the type of the indexed text columns (customer id, run
    /// id, warning level): they hold codes, which compare byte by byte
    /// (PostgreSQL's `COLLATE "C"`: its index upkeep then compares with
    /// memcmp, not the locale's rules).
    pub codes: &'static str,
}

/// `CREATE` statements of the scores table, its indexes and the latest view.
pub fn create_statements(table: &str, cols: &[Column], sql: &Dialect) -> Vec<String> {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| {
            let name = c.name.as_str();
            let not_null = matches!(name, "id" | "run_id" | "model_id" | "scored_at");
            let code = matches!(name, "id" | "run_id" | "warning_level") && c.kind == Kind::Text;
            format!(
                "\"{}\" {}{}{}",
                c.name,
                (sql.sql_type)(c.kind),
                if code { sql.codes } else { "" },
                if not_null { " NOT NULL" } else { "" }
            )
        })
        .collect();
    // The primary key is the index on the customer id: its leading column
    // serves `WHERE id = …` and the latest view. A second index on id alone
    // cost PostgreSQL 2.4 s of a 1M-row run and bought nothing.
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY (id, run_id))",
            defs.join(", ")
        ),
        format!("CREATE INDEX IF NOT EXISTS {table}_warning_level ON {table} (warning_level)"),
        // Each customer's newest row: no later row (by time, then run id).
        format!(
            "{} {table}_latest AS SELECT s.* FROM {table} s WHERE NOT EXISTS \
             (SELECT 1 FROM {table} t WHERE t.id = s.id AND (t.scored_at > s.scored_at \
             OR (t.scored_at = s.scored_at AND t.run_id > s.run_id)))",
            sql.create_view
        ),
    ]
}

/// The runs table (one row per scoring run).
pub fn runs_statement(sql_type: fn(Kind) -> &'static str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS score_runs (run_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, \
         model_checksum TEXT NOT NULL, scores_table TEXT NOT NULL, rows_read BIGINT NOT NULL, \
         rows_scored BIGINT NOT NULL, rows_rejected BIGINT NOT NULL, summary TEXT NOT NULL, \
         started_at {t} NOT NULL, finished_at {t} NOT NULL)",
        t = sql_type(Kind::Time)
    )
}

/// Compare an existing table's columns with the run's.
pub fn check_existing(table: &str, have: &[String], cols: &[Column]) -> Result<(), String> {
    let want: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let lacks: Vec<&str> = want
        .iter()
        .filter(|c| !have.iter().any(|h| h == *c))
        .copied()
        .collect();
    let more: Vec<&str> = have
        .iter()
        .map(String::as_str)
        .filter(|h| !want.contains(h))
        .collect();
    if lacks.is_empty() && more.is_empty() {
        return Ok(());
    }
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    Err(format!(
        "table {table} exists with other columns (it lacks: {}; this run does not write: {}); nothing written: score into another --table or migrate it",
        list(&lacks),
        list(&more)
    ))
}
