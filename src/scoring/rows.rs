//! A scored chunk as rows: the one shape the batch file, the database sink
//! and the service all write, so a customer's fields are the same wherever
//! they are read.

use crate::scoring::explain::{Reason, Reasons};
use std::sync::Arc;

/// The scored rows of one chunk.
#[derive(Debug, Default, Clone)]
pub struct Scored {
    pub ids: Vec<String>,
    pub probability: Vec<f64>,
    pub flag: Vec<u8>,
    pub level: Vec<&'static str>,
    pub tier: Vec<Arc<str>>,
    pub clv: Vec<f64>,
    pub reasons: Vec<[Option<Reason>; 3]>,
    pub action: Vec<Arc<str>>,
    pub owner: Vec<Arc<str>>,
    pub contact_days: Vec<u32>,
    /// Input columns copied as they are (see `Artifact::passthrough`).
    pub extra: Vec<(String, Vec<String>)>,
    pub label: Option<Vec<u8>>,
    /// Expected value saved by a contact (with a contact list; written as
    /// the `expected_value` column among `extra`).
    pub expected_value: Vec<f64>,
}

pub const COLUMNS: [&str; 12] = [
    "id",
    "churn_probability",
    "churn_flag",
    "warning_level",
    "value_tier",
    "clv",
    "reason_1",
    "reason_2",
    "reason_3",
    "action",
    "owner",
    "contact_within_days",
];

/// The columns of a scored chunk as a database table sees them (scores.csv's
/// columns, typed).
pub fn table_columns(s: &Scored) -> Vec<crate::sink::Column> {
    use crate::sink::{Column, Kind};
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
    names
        .into_iter()
        .map(|name| Column {
            kind: kind(&name),
            name,
        })
        .collect()
}

/// Every row of a scored chunk as typed values, in [`table_columns`] order
/// (the CLV rounded to cents, as in scores.csv).
pub fn table_rows(s: &Scored, reasons: &Reasons) -> Vec<Vec<crate::sink::Value>> {
    use crate::sink::Value;
    (0..s.ids.len())
        .map(|i| {
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
            v
        })
        .collect()
}
