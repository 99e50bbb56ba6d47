//! Whole files as polars frames, for the log readers: CSV with every column
//! as text, Parquet with its own types; money columns as extracts write them.

use super::{csv_options, is_parquet, resolve_delimiter, strip_bom, text_frame};
use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Read;
use std::path::Path;

/// Read a whole file as a polars frame: CSV with every column as text,
/// Parquet with its own types (the log readers type columns themselves).
pub fn read_frame(path: &Path, delimiter: Option<char>) -> Result<DataFrame> {
    let source = path.display().to_string();
    if is_parquet(path) {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&source, e));
    }
    // The delimiter is decided on the file's start; polars then reads the
    // file itself (memory-mapped), so a large file is never also held as bytes.
    let mut head = Vec::with_capacity(HEAD_BYTES);
    Read::take(
        std::fs::File::open(path).map_err(|e| Error::io(path, e))?,
        HEAD_BYTES as u64,
    )
    .read_to_end(&mut head)
    .map_err(|e| Error::io(path, e))?;
    let head = strip_bom(head);
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::data(&source, "the file is empty"));
    }
    let sep = resolve_delimiter(&source, &head, delimiter)?;
    match csv_options(sep)
        .try_into_reader_with_file_path(Some(path.into()))
        .and_then(|r| r.finish())
    {
        Ok(df) => Ok(df),
        // The error path reads the bytes to name the ragged record.
        Err(_) => {
            let bytes = strip_bom(std::fs::read(path).map_err(|e| Error::io(path, e))?);
            text_frame(&source, &bytes, sep, 1)
        }
    }
}

/// Bytes read to decide a file's delimiter.
pub const HEAD_BYTES: usize = 64 << 10;

/// Text columns of `names` in `df` whose numbers are written as extracts
/// write them (`1.234,50`, `€ 12,00`): detected per column on up to
/// 20,000 cells ([`super::numbers`]; an ambiguous `1,234` follows the
/// frame's other money columns, else the point) — the formats found (plain
/// columns left out), which [`apply_numbers`] applies: a log read in
/// batches decides on its first batch and applies to every batch.
pub fn detect_numbers(
    df: &DataFrame,
    names: &[&str],
) -> std::collections::BTreeMap<String, super::numbers::NumberFormat> {
    use super::numbers::{self, NumberFormat};
    const SAMPLE: usize = 20_000;
    let mut evidence = Vec::new();
    for &name in names {
        let Ok(col) = df.column(name) else { continue };
        let Ok(text) = col.str() else { continue };
        let step = (text.len() / SAMPLE).max(1);
        let mut counts: crate::fast::FastMap<&str, usize> = Default::default();
        for cell in text.iter().step_by(step).flatten() {
            let cell = cell.trim();
            if !cell.is_empty() {
                *counts.entry(cell).or_default() += 1;
            }
        }
        evidence.push((name, numbers::evidence(counts.into_iter())));
    }
    let votes = |m: char| {
        evidence
            .iter()
            .filter(|(_, e)| e.decimal_vote() == Some(m))
            .count()
    };
    let convention = if votes(',') > votes('.') { ',' } else { '.' };
    let plain = NumberFormat {
        decimal: '.',
        thousands: None,
        currency: false,
    };
    (evidence.into_iter())
        .filter_map(|(name, e)| {
            let f = e.format(convention).filter(|f| *f != plain)?;
            Some((name.to_string(), f))
        })
        .collect()
}

/// Replace `df`'s text columns named in `formats` by their numbers (a
/// cell in no such format becomes null, as a bad amount).
pub fn apply_numbers(
    df: &mut DataFrame,
    formats: &std::collections::BTreeMap<String, super::numbers::NumberFormat>,
) -> PolarsResult<()> {
    for (name, f) in formats {
        let Ok(text) = df.column(name).and_then(|c| c.str().cloned()) else {
            continue;
        };
        let values: Float64Chunked = text
            .iter()
            .map(|c| c.and_then(|s| super::numbers::parse_with(s, f)))
            .collect();
        df.with_column(values.with_name(name.as_str().into()).into_column())?;
    }
    Ok(())
}
