//! How a table writes its cells, decided once on the training file and
//! carried in the artifact: each column's number format ([`super::numbers`]).
//! Training and scoring apply the same [`Formats`] to every table they read,
//! so a model trained on a decimal-comma file scores a decimal-comma batch
//! (and a plain one: a plain cell reads as itself).

use super::interned::Interned;
use super::numbers::{self, NumberFormat};
use super::{RawColumn, RawTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The formats of a table's columns (empty for a plain file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Formats {
    /// Columns whose numbers are not written plainly, and how they are.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub numbers: BTreeMap<String, NumberFormat>,
    /// Date columns and their patterns ([`super::dates`]): each becomes
    /// `<col>_days`, days before the reference date.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dates: BTreeMap<String, String>,
    /// The training table's reference date (ISO) and how it was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_rule: Option<String>,
    /// The reference date of the table being read now (a scoring batch's
    /// own); the training one when unset. Never stored.
    #[serde(skip)]
    pub batch_reference: Option<i32>,
}

/// Rows a column's format is judged on at most.
const SAMPLE_ROWS: usize = 20_000;

/// The suffix of the feature a date column becomes.
pub const DAYS: &str = "_days";

impl Formats {
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.dates.is_empty()
    }

    /// The column of the file a model input is read from: a date column
    /// for its `<col>_days`, else the input's own name.
    pub fn source_column<'a>(&'a self, input: &'a str) -> &'a str {
        input
            .strip_suffix(DAYS)
            .filter(|c| self.dates.contains_key(*c))
            .unwrap_or(input)
    }

    /// The latest date in any date column of `table` (days since 1970).
    pub fn latest(&self, table: &RawTable) -> Option<i32> {
        self.dates
            .iter()
            .filter_map(|(c, p)| {
                let col = table.column(c)?;
                (0..col.len())
                    .filter_map(|r| super::dates::parse(p, col.text_ref(r)?.as_ref()))
                    .max()
            })
            .max()
    }

    /// Settle the reference date of `table`: `as_of` (ISO) when given, else
    /// its latest date; the rule in words.
    pub fn set_reference(&mut self, table: &RawTable, as_of: Option<&str>) -> Option<String> {
        if self.dates.is_empty() {
            return None;
        }
        let (day, rule) = match as_of.and_then(|a| super::dates::parse("%Y-%m-%d", a)) {
            Some(d) => (Some(d), "--as-of"),
            None => (
                self.latest(table),
                "the latest date in the file's date columns",
            ),
        };
        self.batch_reference = day;
        self.reference = day.map(super::dates::iso);
        self.reference_rule = Some(rule.into());
        Some(format!(
            "reference date {} ({rule})",
            self.reference.as_deref().unwrap_or("none: no date read")
        ))
    }

    /// Decide the formats of `table`'s text columns that `candidate`
    /// accepts. Columns that read as numbers under one decimal mark only
    /// set the file's convention (majority; `decimal` when configured, `.`
    /// when nothing tells), which then settles ambiguous columns (`1,234`).
    ///
    /// Also returns the columns left without a format whose cells are
    /// partly numbers (half or more, too few to be read as numbers): (name,
    /// a cell that does not read, share read). They become categories, and
    /// a money column so degraded must be said.
    pub fn detect(
        table: &RawTable,
        candidate: &(dyn Fn(&str) -> bool + Sync),
        decimal: Option<char>,
    ) -> (Formats, Vec<(String, String, f64)>) {
        use rayon::prelude::*;
        // Formats are judged on every k-th row of a large table (as the
        // typed read sniffs its first records); every row is then read.
        let n = table.n_rows();
        let sample: Vec<usize> = (0..n).step_by(n.div_ceil(SAMPLE_ROWS).max(1)).collect();
        let judged: Vec<(String, Result<String, Box<numbers::Evidence>>)> = table
            .names
            .par_iter()
            .zip(&table.columns)
            .filter(|(n, c)| matches!(c, RawColumn::Text(_)) && candidate(n))
            .map(|(n, c)| (n.clone(), column_evidence(c, &sample)))
            .collect();
        let mut formats = Formats::default();
        let mut evidence = Vec::new();
        for (n, j) in judged {
            match j {
                Ok(pattern) => {
                    formats.dates.insert(n, pattern);
                }
                Err(e) => evidence.push((n, e)),
            }
        }
        let convention = decimal.unwrap_or_else(|| {
            let votes = |mark: char| {
                evidence
                    .iter()
                    .filter(|(_, e)| e.decimal_vote() == Some(mark))
                    .count()
            };
            if votes(',') > votes('.') {
                ','
            } else {
                '.'
            }
        });
        let mut partly = Vec::new();
        for (n, e) in evidence {
            match e.format(convention) {
                Some(f) => {
                    formats.numbers.insert(n, f);
                }
                None => {
                    if let (Some(share), Some(cell)) = (e.partly_numbers(), e.example()) {
                        partly.push((n, cell.to_string(), share));
                    }
                }
            }
        }
        (formats, partly)
    }

    /// Rewrite `table`'s cells by these formats (columns it lacks are
    /// skipped): numbers as plain numbers, each date column into
    /// `<col>_days`, days before the batch's reference date (the training
    /// one when the batch has none). Returns the dates after the reference
    /// per date column (future-dated rows). A cell that does not read
    /// stays as written.
    pub fn apply(&self, table: &mut RawTable) -> BTreeMap<String, usize> {
        for (name, f) in &self.numbers {
            numbers::apply(table, name, f);
        }
        let reference = self
            .batch_reference
            .or_else(|| super::dates::parse("%Y-%m-%d", self.reference.as_deref()?));
        let mut future = BTreeMap::new();
        for (name, pattern) in &self.dates {
            let Some(i) = table.index_of(name) else {
                continue;
            };
            let col = &table.columns[i];
            let mut ahead = 0;
            let cells: polars::prelude::StringChunked = (0..col.len())
                .map(|r| {
                    let text = col.text_ref(r)?;
                    Some(match (super::dates::parse(pattern, &text), reference) {
                        (Some(d), Some(refd)) => {
                            ahead += usize::from(d > refd);
                            (refd - d).to_string()
                        }
                        _ => text.into_owned(),
                    })
                })
                .collect();
            if ahead > 0 {
                future.insert(name.clone(), ahead);
            }
            table.columns[i] = RawColumn::Text(cells);
            table.names[i] = format!("{name}{DAYS}");
        }
        future
    }

    /// Columns read with a format of their own (not worth asking polars to
    /// type as plain numbers).
    pub fn columns(&self) -> impl Iterator<Item = &String> {
        self.numbers.keys()
    }
}

/// A text column's date pattern, or its evidence on number formats; each
/// distinct cell weighed once.
fn column_evidence(col: &RawColumn, rows: &[usize]) -> Result<String, Box<numbers::Evidence>> {
    let RawColumn::Text(v) = col else {
        return Err(Box::new(numbers::evidence(std::iter::empty())));
    };
    let interned = Interned::of(col, Some(rows));
    let cells: Vec<(&str, usize)> = interned
        .firsts
        .iter()
        .zip(interned.counts())
        .filter_map(|(&r, n)| Some((v.get(r)?, n)))
        .filter(|(s, _)| super::schema::parse_cell(Some(s)) != super::schema::Cell::Missing)
        .collect();
    let datelike = cells
        .iter()
        .any(|(s, _)| s.trim().len() >= 8 && s.bytes().any(|b| matches!(b, b'-' | b'/' | b'.')));
    if let Some(p) = datelike
        .then(|| super::dates::detect(&cells, &super::dates::PATTERNS))
        .flatten()
    {
        return Ok(p);
    }
    Err(Box::new(numbers::evidence(cells.into_iter())))
}
