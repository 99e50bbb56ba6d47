//! Whole files as polars frames, for the log readers: CSV with every column
//! as text (or only the wanted ones), Parquet with its own types.

use super::{csv_options, header_names, is_parquet, resolve_delimiter, strip_bom, text_frame};
use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Read;
use std::path::Path;

/// Read a whole file as a polars frame: CSV with every column as text,
/// Parquet with its own types (the log readers type columns themselves).
pub fn read_frame(path: &Path, delimiter: Option<char>) -> Result<DataFrame> {
    read_frame_columns(path, delimiter, None)
}

/// [`read_frame`], reading only the columns of `wanted` the file has (a
/// log's unused columns are never parsed or held; a wanted column the file
/// lacks is simply absent, for the caller to name).
pub fn read_frame_columns(
    path: &Path,
    delimiter: Option<char>,
    wanted: Option<&[&str]>,
) -> Result<DataFrame> {
    let source = path.display().to_string();
    let keep = |names: Vec<String>| -> Option<Vec<String>> {
        wanted.map(|w| {
            names
                .into_iter()
                .filter(|n| w.contains(&n.as_str()))
                .collect()
        })
    };
    if is_parquet(path) {
        let open = || std::fs::File::open(path).map_err(|e| Error::io(path, e));
        let names = ParquetReader::new(open()?)
            .schema()
            .map_err(|e| Error::polars(&source, e))?
            .iter_names()
            .map(|n| n.to_string())
            .collect();
        return ParquetReader::new(open()?)
            .with_columns(keep(names))
            .finish()
            .map_err(|e| Error::polars(&source, e));
    }
    // The delimiter is decided on the file's start; polars then reads the
    // file itself (memory-mapped), so a large log is never also held as bytes.
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
    let mut options = csv_options(sep);
    if wanted.is_some() {
        let names = header_names(&source, &head, sep)?;
        let columns: Vec<PlSmallStr> = keep(names)
            .unwrap_or_default()
            .into_iter()
            .map(PlSmallStr::from)
            .collect();
        options = options.with_columns(Some(columns.into()));
    }
    match options
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

/// Bytes read to decide a log file's delimiter.
const HEAD_BYTES: usize = 64 << 10;

/// Text columns of `names` in `df` whose numbers are written as extracts
/// write them (`1.234,50`, `€ 12,00`): detected per column on up to
/// 20,000 cells ([`super::numbers`]; an ambiguous `1,234` follows the
/// frame's other money columns, else the point) and replaced by their
/// numbers — a cell in no such format becomes null, as a bad amount. Plain
/// columns are left for the caller's cast. Returns the formats found.
pub fn read_numbers(
    df: &mut DataFrame,
    names: &[&str],
) -> PolarsResult<std::collections::BTreeMap<String, super::numbers::NumberFormat>> {
    let found = detect_numbers(df, names);
    apply_numbers(df, &found)?;
    Ok(found)
}

/// The formats [`read_numbers`] would apply to `df`'s columns of `names`
/// (only those not written plainly), without applying them: a log read in
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
