//! Typed reading: which columns polars may parse as numbers, and how a
//! chunk polars refused, or a column typed in one chunk and text in
//! another, still gives every cell exactly as its text would.

use super::{parse_csv_typed, schema, RawColumn, RawTable};
use polars::prelude::*;

/// Records read to decide which columns are numbers (see [`sniff_numeric`]).
const SNIFF_RECORDS: usize = 1_000;

/// The columns of `candidates` whose cells in the file's first records are
/// all numbers or missing: the ones worth asking polars to type, since one
/// text cell makes polars refuse a whole parse (which then falls back to
/// text and [`schema::parse_cell`]). Only a guess: a later text cell in such
/// a column is still read, and judged, as text.
pub(super) fn sniff_numeric(
    source: &str,
    bytes: &[u8],
    sep: u8,
    candidates: &[String],
) -> Vec<String> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let end = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(SNIFF_RECORDS)
        .map_or(bytes.len(), |(i, _)| i + 1);
    let candidates = &without_grouped(source, &bytes[..end], sep, candidates);
    match parse_csv_typed(source, bytes[..end].to_vec(), sep, 1, candidates) {
        Ok(head) => number_columns(&head, candidates),
        // A cut through a quoted field: let the whole parse decide.
        Err(_) => candidates.to_vec(),
    }
}

/// Is `cell` an integer written with a point between groups of three
/// digits (`1.234`, `-12.345.678`)?
fn point_grouped(cell: &str) -> bool {
    let digits = cell.trim().trim_start_matches(['-', '+']);
    let mut groups = digits.split('.');
    let first = groups.next().unwrap_or("");
    let mut rest = groups.peekable();
    rest.peek().is_some()
        && (1..=3).contains(&first.len())
        && !first.starts_with('0')
        && first.bytes().all(|b| b.is_ascii_digit())
        && rest.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Is `cell` eight digits that read as a date `yyyymmdd` (1900–2100)?
pub(super) fn yyyymmdd(cell: &str) -> bool {
    let t = cell.trim();
    t.len() == 8
        && t.bytes().all(|b| b.is_ascii_digit())
        && super::dates::parse("%Y%m%d", t).is_some()
        && ("1900".."2101").contains(&&t[..4])
}

/// `candidates` without the columns polars would read wrongly as plain
/// numbers, judged on `head` (a slice of whole records): those whose cells
/// with a point all look like point-grouped integers — in a decimal-comma
/// file `1.234` is one thousand two hundred thirty-four, not 1.234 — and
/// those whose cells are all `yyyymmdd` dates (20201231 is a day, not a
/// number). Read as text, they are judged by the format detection
/// ([`super::formats`]): with the file's decimal convention (in a
/// decimal-point file `1.234` still reads 1.234), and as dates.
pub(super) fn without_grouped(
    source: &str,
    head: &[u8],
    sep: u8,
    candidates: &[String],
) -> Vec<String> {
    let Ok(df) = super::text_frame(source, head, sep, 1) else {
        return candidates.to_vec();
    };
    candidates
        .iter()
        .filter(|name| {
            let Ok(col) = df.column(name.as_str()).and_then(|c| c.str().cloned()) else {
                return true;
            };
            let mut dotted = col.iter().flatten().filter(|c| c.contains('.'));
            let first = dotted.next();
            let grouped = first.is_some_and(point_grouped) && dotted.all(point_grouped);
            let mut cells = col.iter().flatten().filter(|c| !c.trim().is_empty());
            let dates = cells.next().is_some_and(yyyymmdd) && cells.all(yyyymmdd);
            !(grouped || dates)
        })
        .cloned()
        .collect()
}

/// The columns of `candidates` that `table` holds as numbers.
pub(super) fn number_columns(table: &RawTable, candidates: &[String]) -> Vec<String> {
    table
        .names
        .iter()
        .zip(&table.columns)
        .filter(|(n, c)| matches!(c, RawColumn::Number(_)) && candidates.contains(n))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Join a chunk's column to the column so far. A column read as numbers in
/// some chunks and as text in others (a chunk with a cell that is no
/// number) becomes text, its numbers written as the shortest text that
/// reads back to the same number ("1.50" becomes "1.5"), so every cell
/// still types as it did.
pub(super) fn append(all: &mut RawColumn, part: RawColumn) -> PolarsResult<()> {
    fn as_text(v: &[f64]) -> StringChunked {
        v.iter()
            .map(|&x| super::finite(x).map(|x| x.to_string()))
            .collect()
    }
    match (&mut *all, part) {
        (RawColumn::Number(a), RawColumn::Number(p)) => a.extend(p),
        (RawColumn::Text(a), RawColumn::Text(p)) => a.append_owned(p)?,
        (RawColumn::Text(a), RawColumn::Number(p)) => a.append_owned(as_text(&p))?,
        (RawColumn::Number(a), RawColumn::Text(p)) => {
            let mut text = as_text(a);
            text.append_owned(p)?;
            *all = RawColumn::Text(text);
        }
    }
    Ok(())
}

/// Columns of `numeric` still held as text (their chunk had a cell polars
/// would not read as a number: a blank with spaces, "N/A") become numbers
/// when every cell is a number or missing by [`schema::parse_cell`]: the
/// same cells as the text gives, without the text. A column with a text
/// cell stays text, for validation and cleaning to judge.
pub(super) fn numbers_where_possible(table: &mut RawTable, numeric: &[String]) {
    use rayon::prelude::*;
    let wanted: Vec<bool> = table.names.iter().map(|n| numeric.contains(n)).collect();
    table
        .columns
        .par_iter_mut()
        .zip(wanted)
        .filter(|(_, wanted)| *wanted)
        .for_each(|(col, _)| {
            let RawColumn::Text(cells) = col else {
                return;
            };
            let mut out = Vec::with_capacity(cells.len());
            for c in cells.iter() {
                match schema::parse_cell(c) {
                    schema::Cell::Number(x) => out.push(x),
                    schema::Cell::Missing => out.push(f64::NAN),
                    schema::Cell::Text(_) => return,
                }
            }
            *col = RawColumn::Number(out);
        });
}
