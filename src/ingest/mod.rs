//! Reading customer tables: CSV (BOM, CRLF, quoted fields, detected delimiter)
//! and Parquet, through polars. Cells are kept as text or numbers exactly as
//! read; deciding what a column *means* is [`schema`]'s job, so training and
//! scoring interpret the same file the same way.

pub mod calendar;
pub mod chunks;
pub mod dates;
pub mod formats;
mod frame;
pub mod interned;
pub mod numbers;
mod raw;
pub mod record;
pub mod schema;
mod typed;
mod whole;

pub use frame::{apply_numbers, detect_numbers, read_frame, HEAD_BYTES};
pub use raw::{finite, number_key, RawColumn, RawTable};
use typed::{append, number_columns, numbers_where_possible, sniff_numeric};

use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Cursor;
use std::path::Path;

pub use crate::io::is_parquet;

/// Read a whole CSV or Parquet file, every CSV column as text.
pub fn read_table(path: &Path, delimiter: Option<char>) -> Result<RawTable> {
    read_table_typed(path, delimiter, &|_| Vec::new())
}

/// [`read_table`], with the CSV columns `numeric` picks from the header
/// parsed as numbers (by polars, in parallel, no text cells; see
/// [`parse_csv_typed`]). Training passes the columns whose text it never
/// needs: a number cell then reads exactly as its text would, at a fraction
/// of the time and memory.
pub fn read_table_typed(
    path: &Path,
    delimiter: Option<char>,
    numeric: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<RawTable> {
    let source = path.display().to_string();
    if is_parquet(path) {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&source, e))?;
        return from_dataframe(&source, df, 1);
    }
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if size > CHUNKED_ABOVE_BYTES {
        if let Some(table) = whole::read(path, delimiter, numeric)? {
            return Ok(table);
        }
        return read_csv_chunked(path, delimiter, READ_CHUNK_ROWS, numeric);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::data(&source, "the file is empty"));
    }
    let sep = resolve_delimiter(&source, &bytes, delimiter)?;
    // A header that does not parse on its own (a quoted newline) is read
    // as text with the rest; the whole parse then names the problem.
    let names = header_names(&source, &bytes, sep).unwrap_or_default();
    // A record with too few fields would read as one with blanks: it is
    // named here, as the record-by-record reader names it.
    if let Some((record, message)) = first_bad_record(&bytes, sep) {
        return Err(Error::Data {
            file: source,
            column: None,
            row: Some(record),
            message,
        });
    }
    let numeric = sniff_numeric(&source, &bytes, sep, &numeric(&names));
    parse_csv_typed(&source, bytes, sep, 1, &numeric)
}

/// CSV files larger than this are parsed in chunks of rows (see
/// [`read_csv_chunked`]).
const CHUNKED_ABOVE_BYTES: u64 = 64 << 20;
/// Rows per chunk when a large CSV is read in chunks.
const READ_CHUNK_ROWS: usize = 100_000;

/// Read a CSV file chunk by chunk and join the chunks' columns, so the file's
/// bytes and its parsed cells are never all in memory together (a large
/// table then needs about half the peak memory of a whole-file parse). The
/// cells are the same as [`read_table_typed`]'s.
pub fn read_csv_chunked(
    path: &Path,
    delimiter: Option<char>,
    chunk_rows: usize,
    numeric: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<RawTable> {
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let chunks = chunks::CsvChunks::new(
        std::io::BufReader::with_capacity(1 << 20, file),
        &source,
        delimiter,
        chunk_rows,
    )?;
    let names = chunks.header_names()?;
    let head = whole::head(path)?;
    let sep = resolve_delimiter(&source, &head, delimiter)?;
    let candidates = typed::without_grouped(&source, &head, sep, &numeric(&names));
    let mut chunks = chunks.with_numeric(candidates.clone());
    let mut table = RawTable {
        source: source.clone(),
        columns: Vec::new(),
        names,
        first_row: 1,
        rows: None,
        skipped: Vec::new(),
    };
    while let Some(chunk) = chunks.next() {
        let chunk = chunk?;
        // Training stops at a broken record, naming it as scoring would.
        if let Some((row, why)) = chunk.skipped.first() {
            return Err(Error::Data {
                file: source.clone(),
                column: None,
                row: Some(*row),
                message: why.clone(),
            });
        }
        if table.columns.is_empty() {
            // The first chunk (typed by parse_cell where polars refused)
            // decides which columns later chunks ask polars to type.
            chunks.set_numeric(number_columns(&chunk, &candidates));
            table.columns = chunk.columns;
            continue;
        }
        for (all, part) in table.columns.iter_mut().zip(chunk.columns) {
            append(all, part).map_err(|e| Error::polars(&source, e))?;
        }
    }
    if table.columns.is_empty() {
        table.columns = vec![RawColumn::Text(StringChunked::default()); table.names.len()];
    }
    Ok(table)
}

/// Parse CSV bytes (header line included) into a table of text cells.
pub fn parse_csv(source: &str, bytes: Vec<u8>, sep: u8, first_row: usize) -> Result<RawTable> {
    parse_csv_typed(source, bytes, sep, first_row, &[])
}

/// [`parse_csv`], with the columns named in `numeric` parsed as numbers by
/// polars (in parallel, no text cells) — scoring knows its schema. A chunk
/// with a cell that does not parse as a number is read again as text, so
/// every bad cell still reaches validation and gets its reason; its columns
/// without such a cell are then typed by [`schema::parse_cell`].
pub fn parse_csv_typed(
    source: &str,
    bytes: Vec<u8>,
    sep: u8,
    first_row: usize,
    numeric: &[String],
) -> Result<RawTable> {
    if !numeric.is_empty() {
        let schema: Schema = numeric
            .iter()
            .map(|n| Field::new(n.as_str().into(), DataType::Float64))
            .collect();
        if let Ok(df) = csv_options(sep)
            .with_schema_overwrite(Some(Arc::new(schema)))
            .into_reader_with_file_handle(Cursor::new(&bytes[..]))
            .finish()
        {
            return from_dataframe(source, df, first_row);
        }
    }
    let df = text_frame(source, &bytes, sep, first_row)?;
    let mut table = from_dataframe(source, df, first_row)?;
    if !numeric.is_empty() {
        numbers_where_possible(&mut table, numeric);
    }
    Ok(table)
}

/// CSV bytes as a frame of text columns; a ragged record is named by row.
pub(crate) fn text_frame(
    source: &str,
    bytes: &[u8],
    sep: u8,
    first_row: usize,
) -> Result<DataFrame> {
    csv_options(sep)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| match first_bad_record(bytes, sep) {
            Some((record, message)) => Error::Data {
                file: source.into(),
                column: None,
                row: Some(first_row + record - 1),
                message,
            },
            None => Error::polars(source, e),
        })
}

/// The column names of the header line at the start of `bytes`.
pub(crate) fn header_names(source: &str, bytes: &[u8], sep: u8) -> Result<Vec<String>> {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(parse_csv(source, [first, b"\n"].concat(), sep, 1)?.names)
}

/// How every CSV is read: a header, every column as text unless overridden.
pub(crate) fn csv_options(sep: u8) -> CsvReadOptions {
    let parse = CsvParseOptions::default()
        .with_separator(sep)
        .with_missing_is_null(true);
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse)
        .with_raise_if_empty(true)
}

/// The first data record (1-based) that cannot be parsed — wrong field
/// count, unterminated quote, invalid UTF-8, a NUL byte — with the reason
/// ([`record::problem`]). Quotes may hold separators and newlines.
fn first_bad_record(bytes: &[u8], sep: u8) -> Option<(usize, String)> {
    let (mut start, mut quoted, mut expected, mut record) = (0, false, None, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                let r = &bytes[start..=i];
                start = i + 1;
                match expected {
                    None => expected = Some(record::fields(r, sep).0),
                    Some(_) if r.iter().all(u8::is_ascii_whitespace) => {}
                    Some(e) => {
                        record += 1;
                        if let Some(why) = record::problem(r, sep, e) {
                            return Some((record, why));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let rest = &bytes[start..];
    match expected {
        Some(e) if !rest.iter().all(u8::is_ascii_whitespace) => {
            record::problem(rest, sep, e).map(|why| (record + 1, why))
        }
        _ => None,
    }
}

/// Decide the CSV delimiter: the configured one, or the most frequent of
/// `, ; \t |` outside quotes on the header line.
pub fn resolve_delimiter(source: &str, bytes: &[u8], configured: Option<char>) -> Result<u8> {
    if let Some(c) = configured {
        return u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            Error::data(
                source,
                format!("delimiter '{c}' is not a single ASCII character"),
            )
        });
    }
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut in_quotes = false;
    for &b in header {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            if let Some(i) = candidates.iter().position(|&c| c == b) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    Ok(candidates[best])
}

/// Drop a UTF-8 byte-order mark.
pub fn strip_bom(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    bytes
}

/// Convert a polars frame to raw columns: strings stay text, numbers become
/// f64, anything else is rendered as text.
pub fn from_dataframe(source: &str, df: DataFrame, first_row: usize) -> Result<RawTable> {
    if df.width() > record::MAX_COLUMNS {
        return Err(Error::data(
            source,
            format!(
                "{} columns: more than the {} a table may have",
                df.width(),
                record::MAX_COLUMNS
            ),
        ));
    }
    // Columns convert in parallel, each dropped as it is converted.
    use rayon::prelude::*;
    let (names, columns): (Vec<String>, Vec<RawColumn>) = df
        .into_columns()
        .into_par_iter()
        .map(|col| Ok((col.name().trim().to_string(), raw_column(source, col)?)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    if let Some(dup) = names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
    {
        return Err(Error::at(
            source,
            dup.1,
            None,
            "the column name appears twice in the header",
        ));
    }
    Ok(RawTable {
        source: source.to_string(),
        names,
        columns,
        first_row,
        rows: None,
        skipped: Vec::new(),
    })
}

/// One polars column as a raw column: numbers (and booleans) as f64 with
/// NaN for a null, copied chunk by chunk; anything else as text.
fn raw_column(source: &str, col: Column) -> Result<RawColumn> {
    let s = col.as_materialized_series();
    if s.dtype().is_primitive_numeric() || s.dtype() == &DataType::Boolean {
        let f = s
            .cast(&DataType::Float64)
            .map_err(|e| Error::polars(source, e))?;
        let f = f.f64().map_err(|e| Error::polars(source, e))?;
        let mut out = Vec::with_capacity(f.len());
        for arr in f.downcast_iter() {
            match arr.validity().filter(|v| v.unset_bits() > 0) {
                None => out.extend_from_slice(arr.values()),
                Some(valid) => out.extend(arr.values().iter().zip(valid.iter()).map(|(&x, ok)| {
                    if ok {
                        x
                    } else {
                        f64::NAN
                    }
                })),
            }
        }
        return Ok(RawColumn::Number(out));
    }
    let t = s
        .cast(&DataType::String)
        .map_err(|e| Error::polars(source, e))?;
    Ok(RawColumn::Text(
        t.str()
            .map_err(|e| Error::polars(source, e))?
            .rechunk()
            .into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parsed_by_polars_are_the_cells_of_the_text_parse() {
        let csv = "id,x,y\na,1,\"2.5\"\nb,,NaN\nc,-3e2,inf\nd,0.125,7\n";
        let numeric = vec!["x".to_string(), "y".to_string()];
        let text = parse_csv("t.csv", csv.as_bytes().to_vec(), b',', 1).unwrap();
        let typed = parse_csv_typed("t.csv", csv.as_bytes().to_vec(), b',', 1, &numeric).unwrap();
        assert!(
            matches!(typed.columns[1], RawColumn::Number(_)),
            "x should be read as numbers"
        );
        for c in 0..3 {
            for r in 0..4 {
                assert_eq!(
                    typed.columns[c].cell(r),
                    text.columns[c].cell(r),
                    "column {c}, row {r}"
                );
            }
        }
        // A cell that is not a number: the chunk is read as text, so
        // validation sees the bad cell (and rejects its row with a reason).
        let bad = parse_csv_typed(
            "t.csv",
            "id,x\na,1\nb,oops\n".as_bytes().to_vec(),
            b',',
            1,
            &numeric,
        )
        .unwrap();
        assert_eq!(bad.columns[1].cell(1), schema::Cell::Text("oops"));
    }

    #[test]
    fn typed_reads_give_the_cells_of_the_text_read() {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("id,x,late,region,w\n");
        for i in 0..57 {
            // x: numbers, blanks, spaced blanks and NA markers; late: numbers
            // in the first chunks, one text cell later; w: "1.50"-style text.
            let x = match i % 7 {
                0 => String::new(),
                1 => " ".into(),
                2 => "N/A".into(),
                _ => format!("-{}.25", 3 * i),
            };
            let late = if i == 40 {
                "abc".into()
            } else {
                format!("{i}")
            };
            let region = ["North", "South", "1"][i % 3];
            text.push_str(&format!("{i},{x},{late},{region},{i}.50\n"));
        }
        std::fs::write(&path, text).unwrap();
        let all = |names: &[String]| names.to_vec();
        let same = |a: &RawTable, b: &RawTable| {
            assert_eq!(a.names, b.names);
            for (c, (x, y)) in a.columns.iter().zip(&b.columns).enumerate() {
                for r in 0..57 {
                    assert_eq!(x.cell(r), y.cell(r), "column {c}, row {r}");
                }
            }
        };
        let text = read_table(&path, None).unwrap();
        let typed = read_table_typed(&path, None, &all).unwrap();
        same(&text, &typed);
        for chunk_rows in [10, 25, 100] {
            let chunked = read_csv_chunked(&path, None, chunk_rows, &all).unwrap();
            same(&text, &chunked);
            assert!(matches!(chunked.columns[1], RawColumn::Number(_)));
            assert!(matches!(chunked.columns[3], RawColumn::Text(_)));
            // Numbers in some chunks, text in one: text, the numbers kept.
            assert!(matches!(chunked.columns[2], RawColumn::Text(_)));
            assert_eq!(chunked.columns[2].cell(40), schema::Cell::Text("abc"));
        }
        // Columns not asked for stay text, exactly as written.
        let some = read_csv_chunked(&path, None, 10, &|_| vec!["x".into()]).unwrap();
        assert_eq!(some.columns[4].text(3).as_deref(), Some("3.50"));
    }

    #[test]
    fn chunked_read_gives_the_same_cells() {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("\u{feff}id;note;x\r\n");
        for i in 0..57 {
            let x = if i % 5 == 0 {
                String::new()
            } else {
                format!("{i}.5")
            };
            text.push_str(&format!("{i};\"a;\nb {i}\";{x}\r\n"));
        }
        std::fs::write(&path, text).unwrap();
        let whole = read_table(&path, None).unwrap();
        let chunked = read_csv_chunked(&path, None, 10, &|_| Vec::new()).unwrap();
        assert_eq!(whole.names, chunked.names);
        assert_eq!((whole.n_rows(), chunked.n_rows()), (57, 57));
        for (a, b) in whole.columns.iter().zip(&chunked.columns) {
            let cells = |c: &RawColumn| (0..57).map(|r| c.text(r)).collect::<Vec<_>>();
            assert_eq!(cells(a), cells(b));
        }
        assert_eq!(chunked.columns[1].text(3).as_deref(), Some("a;\nb 3"));
    }
}
