//! The label column to 0/1 (1 = churned), whatever the bank wrote: 1/0,
//! yes/no, true/false, churned/retained, or a configured positive label.

use crate::error::{Error, Result};
use crate::ingest::schema;
use crate::ingest::RawColumn;
use std::collections::HashMap;

/// Normalise the label column to 0/1 (1 = churned). Returns labels and the
/// positive / negative label text.
pub fn labels(
    src: &str,
    target: &str,
    col: &RawColumn,
    rows: &[usize],
    positive: Option<&str>,
) -> Result<(Vec<u8>, String, String)> {
    // Numbers are normalised so that "1", "1.0" and 1 are one label. Each
    // cell becomes the index of its label text: a million cells of two
    // labels then allocate two strings.
    let mut found: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize, foldhash::fast::FixedState> = HashMap::default();
    let mut codes = Vec::with_capacity(col.len());
    let mut number = String::new();
    for r in 0..col.len() {
        let (text, x) = match col {
            RawColumn::Number(v) => (None, crate::ingest::finite(v[r])),
            RawColumn::Text(_) => match col.text_ref(r) {
                Some(t) => match schema::parse_cell(Some(&t)) {
                    schema::Cell::Number(x) => (None, Some(x)),
                    _ => (Some(t), None),
                },
                None => (None, None),
            },
        };
        let text = match (text, x) {
            (Some(t), _) => Some(t),
            (None, Some(x)) => {
                number.clear();
                schema::push_number(&mut number, x);
                Some(std::borrow::Cow::Borrowed(number.as_str()))
            }
            (None, None) => None,
        };
        let Some(text) = text else {
            return Err(Error::at(
                src,
                target,
                Some(rows[r] + 1),
                "the label is blank",
            ));
        };
        let code = match index.get(text.as_ref()) {
            Some(&c) => c,
            None => {
                index.insert(text.to_string(), found.len());
                found.push(text.into_owned());
                found.len() - 1
            }
        };
        codes.push(code);
    }
    let mut values = found.clone();
    values.sort();
    let shown = || {
        values
            .iter()
            .take(10)
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if values.len() == 1 {
        return Err(Error::at(
            src,
            target,
            None,
            format!(
                "only one class present ({}): cannot train a churn model",
                shown()
            ),
        ));
    }
    if values.len() > 2 {
        return Err(Error::at(
            src,
            target,
            None,
            format!(
                "expected two label values, found {}: {}",
                values.len(),
                shown()
            ),
        ));
    }
    let pos = match positive {
        Some(p) => values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(p.trim()))
            .cloned()
            .ok_or_else(|| {
                Error::at(
                    src,
                    target,
                    None,
                    format!(
                        "--positive '{p}' is not one of the label values {}",
                        shown()
                    ),
                )
            })?,
        None => known_positive(&values).ok_or_else(|| {
            Error::at(
                src,
                target,
                None,
                format!(
                    "cannot tell which label means churn among {}: pass --positive",
                    shown()
                ),
            )
        })?,
    };
    let neg = values
        .iter()
        .find(|v| **v != pos)
        .cloned()
        .unwrap_or_default();
    let y = codes.iter().map(|&c| (found[c] == pos) as u8).collect();
    Ok((y, pos, neg))
}

fn known_positive(values: &[String]) -> Option<String> {
    let pairs = [
        ("1", "0"),
        ("yes", "no"),
        ("true", "false"),
        ("y", "n"),
        ("t", "f"),
        ("churned", "retained"),
        ("churn", "stay"),
    ];
    let lower: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
    pairs.iter().find_map(|(p, n)| {
        let i = lower.iter().position(|v| v == p)?;
        lower.iter().any(|v| v == n).then(|| values[i].clone())
    })
}
