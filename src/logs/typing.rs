//! Typing a raw batch's cells: ids as trimmed text (or integers), dates as
//! day numbers, money as numbers, event kinds as [`kind`] codes — eager
//! column functions, each cell visited once, a cell that cannot be read
//! becoming null (the caller counts nulls by reason).
//!
//! Why not polars expressions: a lazy plan per batch costs its optimiser
//! and the lazy engine's build (polars-plan, -expr, -mem-engine: a quarter
//! of a clean build), and typing is a column-at-a-time map either way. The
//! parsing itself is polars' (its number cast and its `strptime`), so the
//! same text gives the same value.

use super::names::kind;
use super::EventKinds;
use super::ID;
use crate::error::{Error, Result};
use crate::ingest::dates::{days_in_month, from_civil};
use polars::prelude::*;
use std::borrow::Cow;

/// A column's cells as trimmed text (typed cells as polars writes them).
fn trimmed(src: &str, c: &Column) -> Result<StringChunked> {
    let text = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(src, e))?;
    let ca = text.str().map_err(|e| Error::polars(src, e))?;
    Ok(ca.apply_values(|s| Cow::Borrowed(s.trim())))
}

/// The id as trimmed text, null when empty, named `customer_id`.
pub fn id_text(src: &str, c: &Column) -> Result<Column> {
    let text = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(src, e))?;
    let text = text.str().map_err(|e| Error::polars(src, e))?;
    let ca: StringChunked = (text.iter())
        .map(|s| s.map(str::trim).filter(|s| !s.is_empty()))
        .collect();
    Ok(ca.with_name(ID.into()).into_column())
}

/// A number column: typed numbers as they are, text cells trimmed and
/// parsed (a cell that does not parse is null).
pub fn number(src: &str, c: &Column, name: &str) -> Result<Column> {
    let out = if c.dtype().is_primitive_numeric() {
        c.cast(&DataType::Float64)
    } else {
        trimmed(src, c)?.into_column().cast(&DataType::Float64)
    };
    Ok(out
        .map_err(|e| Error::polars(src, e))?
        .with_name(name.into()))
}

/// The date part of a strftime format: what precedes a time of day.
pub fn date_part(format: &str) -> &str {
    ["%H", "%I", "%T", "%R"]
        .iter()
        .filter_map(|t| format.find(t))
        .min()
        .map_or(format, |i| format[..i].trim_end_matches([' ', 'T', ',']))
}

/// The first `n` characters of `s`.
fn first_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `YYYY-MM-DD` at the start of `b`: its day number, when it is one.
fn iso_prefix(b: &[u8]) -> Option<i32> {
    let b = b.get(..10)?;
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)? as i32, digits(5..7)?, digits(8..10)?);
    let valid = (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m);
    valid.then(|| from_civil(y, m, d))
}

/// Text cells as ISO dates, anything after the tenth character ignored:
/// the plain `YYYY-MM-DD` start read directly, any other cell (a
/// one-digit month, a cell that is no date) by polars' parser, as the
/// whole column was before.
fn iso_days(src: &str, c: &Column) -> Result<Column> {
    let err = |e| Error::polars(src, e);
    let text = c.cast(&DataType::String).map_err(err)?;
    let text = text.str().map_err(err)?;
    let mut days: Vec<Option<i32>> = Vec::with_capacity(text.len());
    let mut other: Vec<(usize, &str)> = Vec::new();
    for (i, s) in text.iter().enumerate() {
        let s = s.map(str::trim);
        let day = s.and_then(|s| iso_prefix(s.as_bytes()));
        if let (None, Some(s)) = (day, s) {
            other.push((i, first_chars(s, 10)));
        }
        days.push(day);
    }
    if !other.is_empty() {
        let cells: StringChunked = other.iter().map(|&(_, s)| Some(s)).collect();
        let parsed = cells.as_date(Some("%Y-%m-%d"), true).map_err(err)?;
        for (&(i, _), day) in other.iter().zip(parsed.physical().iter()) {
            days[i] = day;
        }
    }
    Ok(Int32Chunked::from_iter_options(PlSmallStr::EMPTY, days.into_iter()).into_column())
}

/// A date or date-time column as day numbers (null when a cell does not
/// parse), named `name`. Typed dates are converted; text is parsed with
/// `format` (its date part, matched anywhere in the cell when the format
/// also has a time of day), or as ISO `YYYY-MM-DD` with anything after
/// the tenth character (a time, a zone) ignored.
pub fn day(src: &str, c: &Column, format: Option<&str>, name: &str) -> Result<Column> {
    let err = |e| Error::polars(src, e);
    let days = match c.dtype() {
        DataType::Date => c.cast(&DataType::Int32).map_err(err)?,
        dt if dt.is_temporal() => c
            .cast(&DataType::Date)
            .and_then(|d| d.cast(&DataType::Int32))
            .map_err(err)?,
        _ => {
            let Some(f) = format else {
                return Ok(iso_days(src, c)?.with_name(name.into()));
            };
            let text = trimmed(src, c)?;
            let date = if date_part(f) == f {
                text.as_date(Some(f), true)
            } else {
                text.as_date_not_exact(Some(date_part(f)))
            };
            date.map_err(err)?
                .into_column()
                .cast(&DataType::Int32)
                .map_err(err)?
        }
    };
    Ok(days.with_name(name.into()))
}

/// The [`kind`] code of a kind as written (trimmed, any case).
fn classify(kind: &str, kinds: &EventKinds) -> u8 {
    let k = kind.trim().to_lowercase();
    let groups = [
        (&kinds.login, kind::LOGIN),
        (&kinds.branch_visit, kind::BRANCH),
        (&kinds.complaint, kind::COMPLAINT),
        (&kinds.overdue, kind::OVERDUE),
        (&kinds.product_open, kind::PRODUCT_OPEN),
        (&kinds.product_close, kind::PRODUCT_CLOSE),
        (&kinds.account_close, kind::ACCOUNT_CLOSE),
    ];
    groups
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.to_lowercase() == k))
        .map_or(kind::OTHER, |&(_, code)| code)
}

/// Event kind → [`kind`] code as Int32 (unknown kinds and missing cells →
/// OTHER), named `name`. Each distinct spelling is classified once (a
/// few, however long the log).
pub fn kind_codes(src: &str, c: &Column, kinds: &EventKinds, name: &str) -> Result<Column> {
    let text = c
        .cast(&DataType::String)
        .map_err(|e| Error::polars(src, e))?;
    let text = text.str().map_err(|e| Error::polars(src, e))?;
    let mut seen: Vec<(&str, i32)> = Vec::new();
    let mut codes = Vec::with_capacity(text.len());
    for v in text.iter() {
        let code = match v {
            None => kind::OTHER.into(),
            Some(v) => match seen.iter().find(|(s, _)| *s == v) {
                Some(&(_, code)) => code,
                None if seen.len() < 64 => {
                    let code = classify(v, kinds).into();
                    seen.push((v, code));
                    code
                }
                None => classify(v, kinds).into(),
            },
        };
        codes.push(code);
    }
    Ok(Int32Chunked::from_vec(name.into(), codes).into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_part_of_a_format() {
        assert_eq!(date_part("%d.%m.%Y %H:%M"), "%d.%m.%Y");
        assert_eq!(date_part("%Y-%m-%dT%H:%M:%S"), "%Y-%m-%d");
        assert_eq!(date_part("%y%m%d"), "%y%m%d");
    }

    #[test]
    fn cells_that_do_not_parse_are_null() {
        let c = Column::new("t".into(), [" 2024-03-05T10:00", "2024-13-01", "", "x"]);
        let d = day("f", &c, None, "day").unwrap();
        let d: Vec<Option<i32>> = d.i32().unwrap().iter().collect();
        assert_eq!(d, [Some(19787), None, None, None]);
        let c = Column::new("t".into(), ["05.03.2024 10:22", "5.3.2024", "2024-03-05"]);
        let d = day("f", &c, Some("%d.%m.%Y %H:%M"), "day").unwrap();
        let d: Vec<Option<i32>> = d.i32().unwrap().iter().collect();
        assert_eq!(d, [Some(19787), Some(19787), None]);
        let c = Column::new("a".into(), [" 12.5 ", "1e3", "abc", ""]);
        let n = number("f", &c, "amount").unwrap();
        let n: Vec<Option<f64>> = n.f64().unwrap().iter().collect();
        assert_eq!(n, [Some(12.5), Some(1000.0), None, None]);
        let c = Column::new("i".into(), [" 42 ", "", "a b"]);
        let i = id_text("f", &c).unwrap();
        let i: Vec<Option<&str>> = i.str().unwrap().iter().collect();
        assert_eq!(i, [Some("42"), None, Some("a b")]);
    }
}
