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
    /// The period (snapshot) column whose value is each row's own
    /// reference date, when the table has one that reads as dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_column: Option<String>,
    /// The reference date of the table being read now (a scoring batch's
    /// own); the training one when unset. Never stored.
    #[serde(skip)]
    pub batch_reference: Option<i32>,
}

/// How cells are read where the file cannot tell (`[ingest]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// The decimal mark of columns that read either way (`1,234`): `,` or
    /// `.` [default: the mark the file's other columns use, else `.`].
    pub decimal: Option<char>,
    /// The thousands separator (`.`, `,`, `'`, a space or a no-break
    /// space); `.` implies the decimal comma and `,` the decimal point
    /// unless `decimal` says otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thousands: Option<char>,
    /// A date pattern tried before the built-in ones, of `%Y`, `%y`, `%m`,
    /// `%d` and literal characters (`%d-%m-%y`, `%Y.%m.%d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
}

impl IngestConfig {
    pub fn validate(&self) -> crate::error::Result<()> {
        let bad = |m: String| Err(crate::error::Error::Config(m));
        if let Some(d) = self.decimal.filter(|d| !matches!(d, '.' | ',')) {
            return bad(format!("[ingest] decimal must be '.' or ',', got '{d}'"));
        }
        if let Some(t) = self.thousands {
            if !matches!(t, '.' | ',' | '\'' | ' ' | '\u{a0}') || Some(t) == self.decimal {
                return bad(format!(
                    "[ingest] thousands must be '.', ',', \"'\", a space or a no-break space, and not the decimal mark; got '{t}'"
                ));
            }
        }
        if let Some(f) = &self.date_format {
            let has = |t: &str| f.contains(t);
            if !(has("%d") && has("%m") && (has("%Y") || has("%y"))) {
                return bad(format!(
                    "[ingest] date_format '{f}' needs %d, %m and %Y or %y"
                ));
            }
        }
        Ok(())
    }

    /// The decimal mark set, or implied by the thousands separator.
    fn decimal(&self) -> Option<char> {
        self.decimal.or(match self.thousands {
            Some('.') => Some(','),
            Some(',') => Some('.'),
            _ => None,
        })
    }
}

/// The warning about a column whose cells are partly numbers (see
/// [`Formats::detect`]): name, a cell that did not read, the share read.
pub fn partly_line((name, example, share): &(String, String, f64)) -> String {
    format!(
        "{name}: {:.0}% of its cells read as numbers but not all (e.g. {example:?})",
        100.0 * share
    )
}

/// A period cell as a day: a date by the usual patterns, or a month
/// (`2024-03`, `202403`) as its last day.
fn period_day(s: &str) -> Option<i32> {
    let t = s.trim();
    if let Some(d) = super::dates::PATTERNS
        .iter()
        .find_map(|p| super::dates::parse(p, t))
    {
        return Some(d);
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let month_like = digits.len() == 6 && (t.len() == 6 || (t.len() == 7 && &t[4..5] == "-"));
    if !month_like {
        return None;
    }
    let (y, m): (i32, u32) = (digits[..4].parse().ok()?, digits[4..].parse().ok()?);
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (1..=12)
        .contains(&m)
        .then(|| super::dates::from_civil(next.0, next.1, 1) - 1)
}

/// Each row's period as a day, when (nearly) every present cell of the
/// column `name` reads as one.
fn period_days(table: &RawTable, name: &str) -> Option<Vec<Option<i32>>> {
    let col = table.column(name)?;
    let days: Vec<Option<i32>> = (0..col.len())
        .map(|r| col.text_ref(r).and_then(|t| period_day(&t)))
        .collect();
    let present = (0..col.len())
        .filter(|&r| col.text_ref(r).is_some())
        .count();
    let read = days.iter().flatten().count();
    (present > 0 && read as f64 >= 0.95 * present as f64).then_some(days)
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

    /// Settle the reference date of `table`: each row's `period` value
    /// when that column reads as dates (`2024-03-31`, `2024-03` and
    /// `202403`: the month's last day), else `as_of` (ISO) when given, else
    /// its latest date; the rule in words.
    pub fn set_reference(
        &mut self,
        table: &RawTable,
        period: Option<&str>,
        as_of: Option<&str>,
    ) -> Option<String> {
        if self.dates.is_empty() {
            return None;
        }
        if let Some(p) = period.filter(|p| period_days(table, p).is_some()) {
            self.reference_column = Some(p.to_string());
            self.batch_reference = None;
            self.reference = None;
            self.reference_rule = Some(format!("each row's period ({p})"));
            return Some(format!("dates counted back from each row's period ({p})"));
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
        settings: &IngestConfig,
    ) -> (Formats, Vec<(String, String, f64)>) {
        let decimal = settings.decimal();
        let mut patterns: Vec<&str> = settings.date_format.iter().map(String::as_str).collect();
        patterns.extend(super::dates::PATTERNS);
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
            .map(|(n, c)| {
                let custom = settings.date_format.is_some();
                (n.clone(), column_evidence(c, &sample, &patterns, custom))
            })
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
        // Each row's own period, where the table has the column (a row
        // whose period does not read falls back to the table's reference).
        let per_row = self
            .reference_column
            .as_deref()
            .and_then(|c| period_days(table, c));
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
                    let reference = per_row.as_ref().and_then(|v| v[r]).or(reference);
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

    /// The formatted columns of `table` alone (numbers rewritten, dates as
    /// `<col>_days`; with the period column dates count back from),
    /// copied and rewritten as [`Formats::apply`] does: a scoring chunk's
    /// other columns are read where they are, not copied.
    pub fn formatted(&self, table: &RawTable) -> RawTable {
        let keep: Vec<usize> = (0..table.names.len())
            .filter(|&i| {
                let n = &table.names[i];
                self.numbers.contains_key(n)
                    || self.dates.contains_key(n)
                    || self.reference_column.as_ref() == Some(n)
            })
            .collect();
        let mut out = RawTable {
            source: table.source.clone(),
            names: keep.iter().map(|&i| table.names[i].clone()).collect(),
            columns: keep.iter().map(|&i| table.columns[i].clone()).collect(),
            first_row: table.first_row,
            rows: None,
            skipped: Vec::new(),
        };
        self.apply(&mut out);
        out
    }

    /// Columns read with a format of their own (not worth asking polars to
    /// type as plain numbers).
    pub fn columns(&self) -> impl Iterator<Item = &String> {
        self.numbers.keys()
    }
}

/// A text column's date pattern, or its evidence on number formats; each
/// distinct cell weighed once.
/// A column's date pattern (of `patterns`, tried on every column when
/// `always`, else on date-like cells only), or its number evidence.
fn column_evidence(
    col: &RawColumn,
    rows: &[usize],
    patterns: &[&str],
    always: bool,
) -> Result<String, Box<numbers::Evidence>> {
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
    // Dates have separators, or are all eight digits (`20201231`).
    let datelike = always
        || cells.iter().any(|(s, _)| {
            s.trim().len() >= 8 && s.bytes().any(|b| matches!(b, b'-' | b'/' | b'.'))
        })
        || (!cells.is_empty() && cells.iter().all(|(s, _)| super::typed::yyyymmdd(s)));
    if let Some(p) = datelike
        .then(|| super::dates::detect(&cells, patterns))
        .flatten()
    {
        return Ok(p);
    }
    Err(Box::new(numbers::evidence(cells.into_iter())))
}
