//! The label column to 0/1 (1 = churned), whatever the bank wrote: 1/0,
//! yes/no, true/false, churned/retained, or a configured positive label.

use crate::error::{Error, Result};
use crate::ingest::interned::Interned;
use crate::ingest::schema;
use crate::ingest::RawColumn;
use std::collections::HashSet;

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
    // distinct cell is read once (see Interned): a million cells of two
    // labels then allocate a few strings.
    let cells = Interned::of(col, None);
    let label = |r: usize| match col {
        RawColumn::Number(v) => crate::ingest::finite(v[r]).map(schema::format_number),
        RawColumn::Text(_) => col.text_ref(r).map(|t| match schema::parse_cell(Some(&t)) {
            schema::Cell::Number(x) => schema::format_number(x),
            _ => t.into_owned(),
        }),
    };
    let per_cell: Vec<Option<String>> = cells.firsts.iter().map(|&r| label(r)).collect();
    if let Some(r) = cells
        .codes
        .iter()
        .position(|&c| per_cell[c as usize].is_none())
    {
        return Err(Error::at(
            src,
            target,
            Some(rows[r] + 1),
            "the label is blank",
        ));
    }
    let mut values: Vec<String> = per_cell
        .iter()
        .flatten()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
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
    let y = cells
        .codes
        .iter()
        .map(|&c| (per_cell[c as usize].as_deref() == Some(pos.as_str())) as u8)
        .collect();
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
