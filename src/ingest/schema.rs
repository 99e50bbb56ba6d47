//! What a cell and a column mean: number, missing, or text.
//!
//! One parser for training and scoring, so "N/A", " ", "inf" and "1,5e3"
//! are judged the same way at both ends. A text column whose non-missing cells
//! are nearly all numbers (telco `TotalCharges`) is read as numeric; the cells
//! that did not parse are counted as coerced to missing.

use super::interned::Interned;
use super::RawColumn;

/// Share of non-missing cells that must parse as numbers for a text column to
/// be read as numeric.
pub const NUMERIC_SHARE: f64 = 0.95;

/// One cell, interpreted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
}

/// Interpret a trimmed cell: blank, NA-like, NaN and ±inf are missing.
pub fn parse_cell(raw: Option<&str>) -> Cell<'_> {
    let Some(s) = raw.map(str::trim) else {
        return Cell::Missing;
    };
    if s.is_empty() {
        return Cell::Missing;
    }
    // Numbers first: most cells are numbers, and every NA marker that
    // parses as one (nan, inf, infinity) is not finite, so missing anyway.
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Cell::Number(x),
        Ok(_) => Cell::Missing,
        Err(_) if is_na(s) => Cell::Missing,
        Err(_) => Cell::Text(s),
    }
}

fn is_na(s: &str) -> bool {
    [
        "na",
        "n/a",
        "nan",
        "null",
        "none",
        "nil",
        "-",
        "?",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
    ]
    .iter()
    .any(|m| s.eq_ignore_ascii_case(m))
}

/// Numeric view of a column: NaN = missing. Returns the values, the count of
/// missing cells, and the text cells that had to be coerced to missing.
pub struct NumericColumn {
    pub values: Vec<f64>,
    pub missing: usize,
    pub coerced: usize,
}

/// How a column reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inferred {
    Numeric,
    Text,
}

/// Decide numeric or text from the cells (see [`NUMERIC_SHARE`]).
pub fn infer(col: &RawColumn) -> Inferred {
    match col {
        RawColumn::Text(_) => infer_interned(col, &Interned::of(col, None)),
        RawColumn::Number(_) => Inferred::Numeric,
    }
}

/// [`infer`] from the column's cells interned: each distinct cell is
/// parsed once and counts as often as it occurs.
pub fn infer_interned(col: &RawColumn, cells: &Interned) -> Inferred {
    let RawColumn::Text(v) = col else {
        return Inferred::Numeric;
    };
    let (mut numbers, mut present) = (0usize, 0usize);
    for (&r, n) in cells.firsts.iter().zip(cells.counts()) {
        match parse_cell(v.get(r)) {
            Cell::Missing => {}
            Cell::Number(_) => {
                numbers += n;
                present += n
            }
            Cell::Text(_) => present += n,
        }
    }
    if present > 0 && numbers as f64 >= NUMERIC_SHARE * present as f64 {
        Inferred::Numeric
    } else {
        Inferred::Text
    }
}

/// Read a column as numbers; text cells become missing and are counted.
pub fn to_numeric(col: &RawColumn) -> NumericColumn {
    into_numeric(col.clone(), None)
}

/// [`to_numeric`] of a column given up: number cells are kept in place;
/// text cells are parsed once per distinct cell (interned by `cells`, or
/// here when not given) and counted as often as they occur.
pub fn into_numeric(col: RawColumn, cells: Option<&Interned>) -> NumericColumn {
    let v = match col {
        RawColumn::Number(mut values) => {
            let mut missing = 0;
            for x in values.iter_mut() {
                if !x.is_finite() {
                    *x = f64::NAN;
                    missing += 1;
                }
            }
            return NumericColumn {
                values,
                missing,
                coerced: 0,
            };
        }
        RawColumn::Text(ref v) => v,
    };
    let own;
    let cells = match cells {
        Some(c) => c,
        None => {
            own = Interned::of(&col, None);
            &own
        }
    };
    let mut out = NumericColumn {
        values: cells.map(|r| match parse_cell(v.get(r)) {
            Cell::Number(x) => x,
            Cell::Missing | Cell::Text(_) => f64::NAN,
        }),
        missing: 0,
        coerced: 0,
    };
    for (&r, n) in cells.firsts.iter().zip(cells.counts()) {
        match parse_cell(v.get(r)) {
            Cell::Number(_) => {}
            Cell::Missing => out.missing += n,
            Cell::Text(_) => {
                out.missing += n;
                out.coerced += n;
            }
        }
    }
    out
}

/// Read a column as categories: trimmed text, `None` when missing.
pub fn to_categories(col: &RawColumn) -> Vec<crate::features::Category> {
    to_categories_interned(col, &Interned::of(col, None))
}

/// [`to_categories`] from the column's cells interned: each distinct cell
/// is parsed once, then shared by the rows holding it.
pub fn to_categories_interned(col: &RawColumn, cells: &Interned) -> Vec<crate::features::Category> {
    cells.map(|r| match col {
        RawColumn::Text(v) => match parse_cell(v.get(r)) {
            Cell::Missing => None,
            Cell::Number(_) | Cell::Text(_) => v.get(r).map(|s| s.trim().into()),
        },
        RawColumn::Number(v) => super::finite(v[r]).map(|x| format_number(x).into()),
    })
}

/// Format a number the way a category level is written (`2` not `2.0`).
pub fn format_number(x: f64) -> String {
    let mut s = String::new();
    push_number(&mut s, x);
    s
}

/// [`format_number`] appended to `out` (no allocation of its own).
pub fn push_number(out: &mut String, x: f64) {
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let _ = if x.fract() == 0.0 && x.abs() < 1e15 {
        write!(out, "{}", x as i64)
    } else {
        write!(out, "{x}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert_eq!(parse_cell(Some(" 3.5 ")), Cell::Number(3.5));
        assert_eq!(parse_cell(Some(" ")), Cell::Missing);
        assert_eq!(parse_cell(Some("NaN")), Cell::Missing);
        assert_eq!(parse_cell(Some("inf")), Cell::Missing);
        assert_eq!(parse_cell(Some("Yes")), Cell::Text("Yes"));
    }

    #[test]
    fn mostly_numeric_is_coerced() {
        let mut v: Vec<Option<String>> = (0..99).map(|i| Some(i.to_string())).collect();
        v.push(Some("oops".into()));
        v.push(Some(" ".into()));
        let col = RawColumn::from_strings(&v);
        assert_eq!(infer(&col), Inferred::Numeric);
        let n = to_numeric(&col);
        assert_eq!((n.missing, n.coerced), (2, 1));
        let text = RawColumn::from_strings(&[Some("a"), Some("1")]);
        assert_eq!(infer(&text), Inferred::Text);
    }
}
