//! A log as a sequence of batches of rows, in file order: the one way the
//! log readers see a transaction or event log, so that no log is ever held
//! whole as text (a CSV is cut into byte chunks at record boundaries,
//! Parquet into row slices) and so that a log may be one file or a folder
//! of part files (`transactions/part-*.parquet` as Spark and data lakes
//! write them, hive-style `month=2024-05/part-0.parquet` folders included:
//! parts are read in path order).
//!
//! Batches are cut the same whatever the number of customer buckets, so
//! everything decided per batch (a row's file order, its typing) is the
//! same in a one-bucket and a many-bucket run.

use crate::error::{Error, Result};
use crate::ingest;
use polars::prelude::*;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// Bytes of CSV per batch.
const CSV_BATCH_BYTES: usize = 64 << 20;
/// Rows of Parquet per batch.
const PARQUET_BATCH_ROWS: usize = 1 << 20;

/// The files of a log: the file itself, or a folder's part files (`.csv`,
/// `.parquet`, `.txt`; hidden files and `_SUCCESS` markers skipped),
/// searched through sub-folders, in path order.
pub fn files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    collect(path, &mut found)?;
    found.sort();
    if found.is_empty() {
        return Err(Error::data(
            path.display().to_string(),
            "the folder holds no .csv or .parquet part file",
        ));
    }
    Ok(found)
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if p.is_dir() {
            collect(&p, found)?;
        } else if [".csv", ".parquet", ".txt", ".tsv"]
            .iter()
            .any(|e| name.to_ascii_lowercase().ends_with(e))
        {
            found.push(p);
        }
    }
    Ok(())
}

/// Bytes on disk of a log (all its parts), and whether they are Parquet.
pub fn size(path: &Path) -> Result<(u64, bool)> {
    let mut total = 0;
    let mut parquet = false;
    for f in files(path)? {
        total += std::fs::metadata(&f).map_err(|e| Error::io(&f, e))?.len();
        parquet |= ingest::is_parquet(&f);
    }
    Ok((total, parquet))
}

/// Call `each(file, batch)` for the batches of the log at `path` in file
/// order, with only the columns of `wanted` the file has (CSV cells as
/// text, Parquet with its own types).
pub fn for_each_batch(
    path: &Path,
    delimiter: Option<char>,
    wanted: &[&str],
    each: &mut dyn FnMut(&Path, DataFrame) -> Result<()>,
) -> Result<()> {
    for file in files(path)? {
        if ingest::is_parquet(&file) {
            parquet_batches(&file, wanted, each)?;
        } else {
            csv_batches(&file, delimiter, wanted, CSV_BATCH_BYTES, each)?;
        }
    }
    Ok(())
}

fn parquet_batches(
    file: &Path,
    wanted: &[&str],
    each: &mut dyn FnMut(&Path, DataFrame) -> Result<()>,
) -> Result<()> {
    let src = file.display().to_string();
    let open = || std::fs::File::open(file).map_err(|e| Error::io(file, e));
    let mut reader = ParquetReader::new(open()?);
    let names: Vec<String> = (reader.schema().map_err(|e| Error::polars(&src, e))?)
        .iter_names()
        .map(|n| n.to_string())
        .filter(|n| wanted.contains(&n.as_str()))
        .collect();
    let rows = reader.num_rows().map_err(|e| Error::polars(&src, e))?;
    let mut start = 0;
    loop {
        let len = PARQUET_BATCH_ROWS.min(rows - start);
        let batch = ParquetReader::new(open()?)
            .with_columns(Some(names.clone()))
            .with_slice(Some((start, len)))
            .finish()
            .map_err(|e| Error::polars(&src, e))?;
        each(file, batch)?;
        start += len;
        if start >= rows {
            return Ok(());
        }
    }
}

/// A CSV in chunks of whole records: each chunk is parsed with the header
/// in front of it; a chunk that does not parse names its bad record by its
/// row in the file.
fn csv_batches(
    file: &Path,
    delimiter: Option<char>,
    wanted: &[&str],
    batch: usize,
    each: &mut dyn FnMut(&Path, DataFrame) -> Result<()>,
) -> Result<()> {
    let src = file.display().to_string();
    let mut f = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    let mut buf = Vec::with_capacity(batch + (1 << 16));
    let mut at_end = fill(&mut f, &mut buf, batch, file)?;
    let mut buf = ingest::strip_bom(buf);
    if buf.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::data(&src, "the file is empty"));
    }
    let head_len = buf.len().min(ingest::HEAD_BYTES);
    let sep = ingest::resolve_delimiter(&src, &buf[..head_len], delimiter)?;
    let header_end = match record_end(&buf, 0) {
        Some(e) => e,
        None if at_end => buf.len(),
        None => {
            return Err(Error::data(
                &src,
                "the header line does not end within the first 64 MiB",
            ))
        }
    };
    let header: Vec<u8> = buf.drain(..header_end).collect();
    let names = ingest::header_names(&src, &header, sep)?;
    let columns: Vec<PlSmallStr> = (names.into_iter())
        .filter(|n| wanted.contains(&n.as_str()))
        .map(PlSmallStr::from)
        .collect();
    let mut first_row = 1; // data rows before this chunk, plus one
    loop {
        if !at_end && buf.len() < batch {
            at_end = fill(&mut f, &mut buf, batch, file)?;
        }
        let cut = if at_end {
            buf.len()
        } else if let Some(c) = record_end_before(&buf, buf.len()) {
            c
        } else {
            // One record longer than a batch: read on.
            at_end = fill(&mut f, &mut buf, batch, file)?;
            continue;
        };
        let rest = buf.split_off(cut);
        let chunk = std::mem::replace(&mut buf, rest);
        if !chunk.iter().all(u8::is_ascii_whitespace) {
            let bytes = [header.as_slice(), chunk.as_slice()].concat();
            drop(chunk);
            let frame = ingest::csv_options(sep)
                .with_columns(Some(columns.clone().into()))
                .into_reader_with_file_handle(Cursor::new(&bytes))
                .finish();
            let frame = match frame {
                Ok(df) => df,
                Err(_) => ingest::text_frame(&src, &bytes, sep, first_row)?,
            };
            first_row += frame.height();
            each(file, frame)?;
        }
        if at_end && buf.is_empty() {
            return Ok(());
        }
    }
}

/// Fill `buf` with `f`'s bytes up to `batch` (or at least a little more
/// than it holds); true at the end of file.
fn fill(f: &mut std::fs::File, buf: &mut Vec<u8>, batch: usize, file: &Path) -> Result<bool> {
    let want = batch.saturating_sub(buf.len()).max(batch / 4).max(1);
    let n = Read::take(&mut *f, want as u64)
        .read_to_end(buf)
        .map_err(|e| Error::io(file, e))?;
    Ok(n < want)
}

/// The end (one past its newline) of the record starting at `from`, quotes
/// allowed to hold newlines; `None` when it does not end in `buf`.
fn record_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in buf[from..].iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return Some(from + i + 1),
            _ => {}
        }
    }
    None
}

/// The end of the last whole record in `buf[..limit]` (a newline with an
/// even number of quotes before it: RFC 4180 doubles quotes inside quotes,
/// so the parity says whether a newline is inside a quoted field).
fn record_end_before(buf: &[u8], limit: usize) -> Option<usize> {
    let quotes_before = |end: usize| buf[..end].iter().filter(|&&b| b == b'"').count();
    let mut end = limit;
    let mut parity_after = 0usize; // quotes in [candidate, limit)
    let total = quotes_before(limit);
    while let Some(nl) = buf[..end].iter().rposition(|&b| b == b'\n') {
        parity_after += buf[nl + 1..end].iter().filter(|&&b| b == b'"').count();
        if (total - parity_after).is_multiple_of(2) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_inside_quotes_is_not_a_record_end() {
        let b = b"a,\"x\ny\"\nb,c\n\"d\n";
        assert_eq!(record_end(b, 0), Some(8));
        // The last newline is inside an open quote: the cut is before it.
        assert_eq!(record_end_before(b, b.len()), Some(12));
        assert_eq!(record_end_before(b"abc", 3), None);
    }

    /// A CSV with quoted newlines and separators, read in chunks of a few
    /// bytes, gives the whole file's rows; a ragged record in a later
    /// chunk is named by its row in the file, as a whole read names it.
    #[test]
    fn small_chunks_give_the_whole_file() {
        let tmp = crate::io::TempDir::new().unwrap();
        let path = tmp.path().join("log.csv");
        let mut text = String::from("id,note,amount\n");
        for i in 0..200 {
            let note = if i % 7 == 0 {
                format!("\"a,\nb \"\"{i}\"\"\"")
            } else {
                format!("n{i}")
            };
            text.push_str(&format!("{i},{note},{}.5\n", i * 3));
        }
        std::fs::write(&path, &text).unwrap();
        let whole = crate::ingest::read_frame(&path, None).unwrap();
        for batch in [16, 100, 1000, 1 << 20] {
            let mut parts: Vec<DataFrame> = Vec::new();
            let wanted = ["id", "note", "amount"];
            csv_batches(&path, None, &wanted, batch, &mut |_, df| {
                parts.push(df);
                Ok(())
            })
            .unwrap();
            assert!(
                batch > 1000 || parts.len() > 1,
                "{batch}: {} parts",
                parts.len()
            );
            let mut all = parts.remove(0);
            for p in parts {
                all.vstack_mut(&p).unwrap();
            }
            assert!(all.equals_missing(&whole), "batch {batch}");
        }
        text.push_str("200,x,1\n201,y,1,extra\n");
        std::fs::write(&path, &text).unwrap();
        let wanted = ["id", "note", "amount"];
        let whole = crate::ingest::read_frame(&path, None)
            .unwrap_err()
            .to_string();
        let chunked = csv_batches(&path, None, &wanted, 64, &mut |_, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(whole.contains("row 202: 4 fields"), "{whole}");
        assert_eq!(chunked, whole);
    }
}
