//! A table as read (from one file or one chunk of it): columns of text
//! cells or numbers, the row numbers of the source, the records set aside.
//! What the cells mean is [`super::schema`]'s business.

use super::schema;
use polars::prelude::*;
use std::borrow::Cow;

/// One column as read: text cells (CSV; kept in polars' compact string
/// array, not one allocation per cell) or numbers (columns polars typed),
/// where a missing cell is NaN — like NaN and ±inf, it reads as missing.
#[derive(Debug, Clone)]
pub enum RawColumn {
    Text(StringChunked),
    Number(Vec<f64>),
}

impl RawColumn {
    /// A text column from owned cells (tests, generated data).
    pub fn from_strings<S: AsRef<str>>(cells: &[Option<S>]) -> RawColumn {
        RawColumn::Text(
            cells
                .iter()
                .map(|c| c.as_ref().map(|s| s.as_ref()))
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        match self {
            RawColumn::Text(v) => v.len(),
            RawColumn::Number(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `row` read as [`schema::parse_cell`] reads it, without copying
    /// its text (the scoring hot path types millions of cells).
    pub fn cell(&self, row: usize) -> schema::Cell<'_> {
        match self {
            RawColumn::Text(v) => schema::parse_cell(v.get(row)),
            RawColumn::Number(v) => match v[row] {
                x if x.is_finite() => schema::Cell::Number(x),
                _ => schema::Cell::Missing,
            },
        }
    }

    /// [`RawColumn::text`] without copying a text cell (hashing a million
    /// cells then allocates nothing).
    pub fn text_ref(&self, row: usize) -> Option<Cow<'_, str>> {
        match self {
            RawColumn::Text(v) => text_cell(v.get(row)),
            RawColumn::Number(v) => number_text(v[row]),
        }
    }

    /// Every cell as [`RawColumn::text_ref`] gives it, in row order, in
    /// one pass (no per-row search for the row's chunk).
    pub fn text_refs(&self) -> impl Iterator<Item = Option<Cow<'_, str>>> {
        let (text, numbers) = match self {
            RawColumn::Text(v) => (Some(v.iter()), None),
            RawColumn::Number(v) => (None, Some(v.iter())),
        };
        let text = text.into_iter().flatten().map(text_cell);
        let numbers = (numbers.into_iter().flatten()).map(|&x| number_text(x));
        text.chain(numbers)
    }

    /// The cell as text (numbers formatted), `None` when empty.
    pub fn text(&self, row: usize) -> Option<String> {
        self.text_ref(row).map(Cow::into_owned)
    }
}

/// A text cell as text: trimmed, `None` when empty.
fn text_cell(cell: Option<&str>) -> Option<Cow<'_, str>> {
    cell.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Cow::Borrowed)
}

/// A number cell as text, `None` when missing.
fn number_text(x: f64) -> Option<Cow<'static, str>> {
    finite(x).map(|x| Cow::Owned(x.to_string()))
}

/// A number cell's value, `None` when missing (not finite).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// A number cell's identity for hashing: its bits, every missing (not
/// finite) cell alike.
pub fn number_key(x: f64) -> u64 {
    if x.is_finite() {
        x.to_bits()
    } else {
        f64::NAN.to_bits()
    }
}

/// A table as read from one file (or one chunk of it).
#[derive(Debug, Clone)]
pub struct RawTable {
    /// The file it came from, for error messages.
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<RawColumn>,
    /// Data-row number (1-based, header excluded) of this table's first row.
    pub first_row: usize,
    /// Row numbers of the rows, when records were set aside between them
    /// (else row `r` is `first_row + r`).
    pub rows: Option<Vec<usize>>,
    /// Records that could not be parsed: (row number, reason).
    pub skipped: Vec<(usize, String)>,
}

impl RawTable {
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, RawColumn::len)
    }

    /// The data-row number of row `r`.
    pub fn row(&self, r: usize) -> usize {
        self.rows
            .as_ref()
            .map_or(self.first_row + r, |rows| rows[r])
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn column(&self, name: &str) -> Option<&RawColumn> {
        self.index_of(name).map(|i| &self.columns[i])
    }
}
