//! Reading a campaign table's columns: outcomes (a rate or a mean), arms,
//! `--by` levels and the attributes the balance table compares. Every
//! column is interned first ([`Interned`]): each distinct cell is read,
//! trimmed, judged missing and parsed once, whatever the number of rows —
//! ten million customers in a handful of arms and two outcome labels cost
//! one hash per cell, not one string each.

use crate::error::{Error, Result};
use crate::ingest::interned::Interned;
use crate::ingest::{RawColumn, RawTable};
use std::collections::BTreeMap;

/// An outcome column read: per row 0/1 (rate) or a number (mean), NaN missing.
pub struct Outcome {
    pub kind: &'static str,
    pub values: Vec<f64>,
    pub positive: Option<String>,
}

fn is_missing(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "na" | "nan" | "null" | "none"
    )
}

/// A column interned: each row's code, and each code's label (trimmed;
/// `None` = missing).
struct Labels {
    cells: Interned,
    labels: Vec<Option<String>>,
}

impl Labels {
    fn of(col: &RawColumn) -> Labels {
        let cells = Interned::of(col, None);
        let labels = cells
            .firsts
            .iter()
            .map(|&r| {
                col.text(r)
                    .map(|t| t.trim().to_string())
                    .filter(|t| !is_missing(t))
            })
            .collect();
        Labels { cells, labels }
    }

    /// The distinct labels present, sorted.
    fn present(&self) -> Vec<&str> {
        let mut l: Vec<&str> = self.labels.iter().flatten().map(String::as_str).collect();
        l.sort_unstable();
        l.dedup();
        l
    }

    /// Every row's `f` of its label, `f` called once per distinct label.
    fn map<T: Clone>(&self, f: impl Fn(Option<&str>) -> T) -> Vec<T> {
        let per: Vec<T> = self.labels.iter().map(|l| f(l.as_deref())).collect();
        self.cells
            .codes
            .iter()
            .map(|&c| per[c as usize].clone())
            .collect()
    }
}

/// The rows of each label of `col`, and the rows without one.
pub fn rows_by_label(col: &RawColumn) -> (BTreeMap<String, Vec<usize>>, usize) {
    let l = Labels::of(col);
    let mut by_code: Vec<Vec<usize>> = vec![Vec::new(); l.labels.len()];
    for (r, &c) in l.cells.codes.iter().enumerate() {
        by_code[c as usize].push(r);
    }
    let (mut out, mut missing) = (BTreeMap::<String, Vec<usize>>::new(), 0);
    for (label, rows) in l.labels.iter().zip(by_code) {
        match label {
            Some(a) => out.entry(a.clone()).or_default().extend(rows),
            None => missing += rows.len(),
        }
    }
    for rows in out.values_mut() {
        rows.sort_unstable();
    }
    (out, missing)
}

/// Read outcome `name`: binary (two labels, the positive one given or
/// 1/yes/true/y) as 0/1, else numbers.
pub fn read_outcome(raw: &RawTable, name: &str, positive: Option<&str>) -> Result<Outcome> {
    let src = &raw.source;
    let col = raw
        .column(name)
        .ok_or_else(|| Error::at(src, name, None, "outcome column not found"))?;
    let cells = Labels::of(col);
    let labels = cells.present();
    let parsed: Vec<Option<f64>> = cells
        .labels
        .iter()
        .map(|l| match l {
            None => Some(f64::NAN),
            Some(t) => t.parse::<f64>().ok().filter(|x| x.is_finite()),
        })
        .collect();
    let numeric = parsed.iter().all(Option::is_some);
    let binary = |pos: &str| Outcome {
        kind: "rate",
        values: cells.map(|l| l.map_or(f64::NAN, |t| f64::from(u8::from(t == pos)))),
        positive: Some(pos.to_string()),
    };
    // --positive names the label of the binary outcomes; a numeric
    // outcome without that label is a mean.
    if let Some(p) = positive.filter(|p| labels.contains(p) || !numeric) {
        if !labels.contains(&p) {
            return Err(Error::at(
                src,
                name,
                None,
                format!("--positive {p:?} is not a value of the outcome"),
            ));
        }
        if labels.len() > 2 {
            return Err(Error::at(
                src,
                name,
                None,
                format!(
                    "--positive {p:?}: the outcome has {} values, a rate needs two",
                    labels.len()
                ),
            ));
        }
        return Ok(binary(p));
    }
    let standard = |l: &str| match l.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "y" => Some(true),
        "0" | "no" | "false" | "n" => Some(false),
        _ => None,
    };
    if labels.len() == 2 {
        let kinds: Vec<Option<bool>> = labels.iter().map(|l| standard(l)).collect();
        if kinds.contains(&Some(true)) && kinds.contains(&Some(false)) {
            let p = labels[kinds.iter().position(|k| *k == Some(true)).unwrap_or(0)];
            return Ok(binary(p));
        }
    }
    if numeric && !labels.is_empty() {
        let per: Vec<f64> = parsed.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        return Ok(Outcome {
            kind: "mean",
            values: cells.cells.codes.iter().map(|&c| per[c as usize]).collect(),
            positive: None,
        });
    }
    Err(Error::at(
        src,
        name,
        None,
        format!(
            "values {} are neither two labels with a positive one (give --positive LABEL) nor numbers",
            labels.iter().take(4).map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// Each row's level of column `col` (`missing` for an empty cell).
pub fn levels(raw: &RawTable, col: &str) -> Result<Vec<String>> {
    let c = raw
        .column(col)
        .ok_or_else(|| Error::at(&raw.source, col, None, "--by column not found"))?;
    Ok(Labels::of(c).map(|l| l.unwrap_or("missing").to_string()))
}

/// Most levels a text attribute is compared by (as indicators).
const MAX_LEVELS: usize = 20;

/// The attributes of `raw` (not `skip`) as numbers: numeric columns as
/// they are, text of at most [`MAX_LEVELS`] levels as one indicator per
/// level (`col=level`). Text of more levels (an identifier, free text) is
/// no attribute; a column whose first thousand cells are nearly all
/// distinct and not numbers is taken for an identifier without interning
/// all of it.
pub fn attributes(raw: &RawTable, skip: &[&str]) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    for (name, col) in raw.names.iter().zip(&raw.columns) {
        if skip.contains(&name.as_str()) {
            continue;
        }
        if let RawColumn::Number(v) = col {
            out.push((
                name.clone(),
                v.iter()
                    .map(|&x| if x.is_finite() { x } else { f64::NAN })
                    .collect(),
            ));
            continue;
        }
        let head = col.len().min(1000);
        let mut seen = std::collections::HashSet::new();
        let mut numbers = true;
        for r in 0..head {
            if let Some(t) = col.text(r) {
                numbers &= t.trim().parse::<f64>().is_ok() || is_missing(&t);
                seen.insert(t);
            }
        }
        if head >= 100 && seen.len() > head * 9 / 10 && !numbers {
            continue;
        }
        let cells = Labels::of(col);
        let parsed: Option<Vec<f64>> = cells
            .labels
            .iter()
            .map(|l| l.as_ref().map_or(Some(f64::NAN), |t| t.parse::<f64>().ok()))
            .collect();
        match parsed {
            Some(per) => out.push((
                name.clone(),
                cells.cells.codes.iter().map(|&c| per[c as usize]).collect(),
            )),
            None => {
                let levels = cells.present();
                if levels.len() <= MAX_LEVELS {
                    for l in levels {
                        out.push((
                            format!("{name}={l}"),
                            cells.map(|c| f64::from(u8::from(c == Some(l)))),
                        ));
                    }
                }
            }
        }
    }
    out
}
