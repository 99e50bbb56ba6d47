//! The scores table as SQL sees it: the scores.csv columns with their
//! types, plus `run_id`, `model_id` and `scored_at`, and each scored row as
//! typed values. Shared by the SQLite and PostgreSQL sinks, so both hold
//! exactly what scores.csv holds.

use crate::score::explain::{Reason, Reasons};
use crate::score::write::{Scored, COLUMNS};
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

/// The table's columns for chunks shaped like `s`.
pub fn columns(s: &Scored) -> Vec<Column> {
    let kind = |name: &str| match name {
        "churn_probability" | "clv" => Kind::Real,
        "churn_flag" | "contact_within_days" | "label" | "correct" => Kind::Int,
        _ => Kind::Text,
    };
    let mut names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    names.extend(s.extra.iter().map(|(n, _)| n.clone()));
    if s.label.is_some() {
        names.extend(["label".to_string(), "correct".to_string()]);
    }
    let mut cols: Vec<Column> = names
        .into_iter()
        .map(|name| Column {
            kind: kind(&name),
            name,
        })
        .collect();
    for (name, kind) in [
        ("run_id", Kind::Text),
        ("model_id", Kind::Text),
        ("scored_at", Kind::Time),
    ] {
        cols.push(Column {
            name: name.into(),
            kind,
        });
    }
    cols
}

/// Row `i` of `s` as values, in [`columns`] order.
pub fn values(s: &Scored, reasons: &Reasons, i: usize, stamp: &Stamp) -> Vec<Value> {
    let reason = |r: Option<Reason>| {
        let mut t = String::new();
        reasons.push(&mut t, i, r);
        Value::Text(t)
    };
    let mut v = vec![
        Value::Text(s.ids[i].clone()),
        Value::Real(s.probability[i]),
        Value::Int(s.flag[i] as i64),
        Value::Text(s.level[i].to_string()),
        Value::Text(s.tier[i].to_string()),
        Value::Real((s.clv[i] * 100.0).round() / 100.0),
        reason(s.reasons[i][0]),
        reason(s.reasons[i][1]),
        reason(s.reasons[i][2]),
        Value::Text(s.action[i].to_string()),
        Value::Text(s.owner[i].to_string()),
        Value::Int(s.contact_days[i] as i64),
    ];
    v.extend(s.extra.iter().map(|(_, col)| Value::Text(col[i].clone())));
    if let Some(l) = &s.label {
        v.push(Value::Int(l[i] as i64));
        v.push(Value::Int((l[i] == s.flag[i]) as i64));
    }
    v.push(Value::Text(stamp.run_id.clone()));
    v.push(Value::Text(stamp.model_id.clone()));
    v.push(Value::Time);
    v
}

/// A table name a user may pass (`--table`): letters, digits, underscores.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 60;
    match ok {
        true => Ok(()),
        false => Err(format!(
            "--table '{name}': use letters, digits and underscores (at most 60, not starting with a digit)"
        )),
    }
}

/// `CREATE` statements of the scores table, its indexes and the latest view
/// (`sql_type` maps a kind to the database's type; `create_view` is the
/// database's "create the view unless it exists" phrase).
pub fn create_statements(
    table: &str,
    cols: &[Column],
    sql_type: fn(Kind) -> &'static str,
    create_view: &str,
) -> Vec<String> {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| {
            let not_null = matches!(c.name.as_str(), "id" | "run_id" | "model_id" | "scored_at");
            format!(
                "\"{}\" {}{}",
                c.name,
                sql_type(c.kind),
                if not_null { " NOT NULL" } else { "" }
            )
        })
        .collect();
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY (id, run_id))",
            defs.join(", ")
        ),
        format!("CREATE INDEX IF NOT EXISTS {table}_id ON {table} (id)"),
        format!("CREATE INDEX IF NOT EXISTS {table}_warning_level ON {table} (warning_level)"),
        // Each customer's newest row: no later row (by time, then run id).
        format!(
            "{create_view} {table}_latest AS SELECT s.* FROM {table} s WHERE NOT EXISTS \
             (SELECT 1 FROM {table} t WHERE t.id = s.id AND (t.scored_at > s.scored_at \
             OR (t.scored_at = s.scored_at AND t.run_id > s.run_id)))"
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
