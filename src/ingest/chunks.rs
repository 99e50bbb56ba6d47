//! Streaming CSV in chunks of whole records, so scoring memory stays flat in
//! the number of rows. Records are cut at newlines outside quotes (a quoted
//! field may hold newlines); each chunk is parsed by polars with the header.
//!
//! A record polars could not parse (wrong field count, unterminated quote,
//! invalid UTF-8, a NUL byte, longer than [`MAX_RECORD_BYTES`]) is set aside
//! with its row number and reason ([`RawTable::skipped`]) and the records
//! after it are read as usual — at a chunk's end as anywhere else.

use super::record::{self, MAX_COLUMNS, MAX_RECORD_BYTES, MAX_RECORD_LINES};
use super::{parse_csv, parse_csv_typed, resolve_delimiter, RawColumn, RawTable};
use crate::error::{Error, Result};
use std::io::BufRead;

/// An iterator of [`RawTable`] chunks over a CSV stream.
pub struct CsvChunks<R: BufRead> {
    reader: R,
    source: String,
    header: Vec<u8>,
    sep: u8,
    /// Fields of the header.
    expected: usize,
    chunk_rows: usize,
    next_row: usize,
    done: bool,
    /// Lines read past an unterminated quote, to be read again (a stack).
    pending: Vec<Vec<u8>>,
    /// Columns polars may parse as numbers (see [`parse_csv_typed`]).
    numeric: Vec<String>,
    /// See [`CsvChunks::with_numbers_while_they_parse`].
    numbers_while_they_parse: Vec<String>,
}

/// One line as read.
enum Line {
    /// The line, with its newline if it had one.
    Text(Vec<u8>),
    /// Longer than [`MAX_RECORD_BYTES`]: skipped up to its newline.
    TooLong,
    End,
}

/// Read one line, holding at most `MAX_RECORD_BYTES` of it; a longer line
/// is skipped to its newline, or with `stop_long` not read further at all
/// (a header that long means the file is no CSV: a 10 GB file of zeros is
/// then not read to its end).
fn read_line<R: BufRead>(reader: &mut R, stop_long: bool) -> std::io::Result<Line> {
    let mut out = Vec::new();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(match (too_long, out.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Text(out),
            });
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long && out.len() + take <= MAX_RECORD_BYTES {
            out.extend_from_slice(&buf[..take]);
        } else {
            too_long = true;
            out = Vec::new();
            if stop_long {
                return Ok(Line::TooLong);
            }
        }
        reader.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(out)
            });
        }
    }
}

/// A record as assembled from lines.
enum Record {
    Text(Vec<u8>),
    Bad(String),
    End,
}

impl<R: BufRead> CsvChunks<R> {
    /// Read the header line and decide the delimiter.
    pub fn new(
        mut reader: R,
        source: &str,
        delimiter: Option<char>,
        chunk_rows: usize,
    ) -> Result<Self> {
        let mut header = match read_line(&mut reader, true).map_err(|e| Error::io(source, e))? {
            Line::Text(h) => h,
            Line::End => Vec::new(),
            Line::TooLong => {
                return Err(Error::data(
                    source,
                    format!(
                        "the header line is longer than {} MiB: not a CSV file",
                        MAX_RECORD_BYTES >> 20
                    ),
                ))
            }
        };
        if header.starts_with(b"\xef\xbb\xbf") {
            header.drain(..3);
        }
        if header.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::data(source, "the file is empty (no header line)"));
        }
        if header.contains(&0) || std::str::from_utf8(&header).is_err() {
            return Err(Error::data(
                source,
                "the header line is not UTF-8 text (binary data, not a CSV file)",
            ));
        }
        if !header.ends_with(b"\n") {
            header.push(b'\n');
        }
        let sep = resolve_delimiter(source, &header, delimiter)?;
        let expected = record::fields(&header, sep).0;
        if expected > MAX_COLUMNS {
            return Err(Error::data(
                source,
                format!("{expected} columns: more than the {MAX_COLUMNS} a table may have"),
            ));
        }
        Ok(CsvChunks {
            reader,
            source: source.to_string(),
            header,
            sep,
            expected,
            chunk_rows: chunk_rows.max(1),
            next_row: 1,
            done: false,
            pending: Vec::new(),
            numeric: Vec::new(),
            numbers_while_they_parse: Vec::new(),
        })
    }

    /// Parse these columns as numbers (scoring: the schema's numeric inputs).
    pub fn with_numeric(mut self, columns: Vec<String>) -> Self {
        self.set_numeric(columns);
        self
    }

    /// Change the columns parsed as numbers from the next chunk on.
    pub fn set_numeric(&mut self, columns: Vec<String>) {
        self.numeric = columns;
    }

    /// Parse these columns as numbers too, until a chunk has a cell in one
    /// that is not a number; that column is read as text from then on
    /// (holding flags: most extracts write 1/0, which parse far cheaper as
    /// numbers than as text, but some write yes/no, and re-parsing every
    /// chunk of such a file as text after a failed typed parse would cost
    /// more than reading text from the start).
    pub fn with_numbers_while_they_parse(mut self, columns: Vec<String>) -> Self {
        self.numbers_while_they_parse = columns;
        self
    }

    /// Column names of the header (as polars reads them).
    pub fn header_names(&self) -> Result<Vec<String>> {
        Ok(parse_csv(&self.source, self.header.clone(), self.sep, 1)?.names)
    }

    fn line(&mut self) -> std::io::Result<Line> {
        match self.pending.pop() {
            Some(l) => Ok(Line::Text(l)),
            None => read_line(&mut self.reader, false),
        }
    }

    /// The next record: lines joined while a quote is open. A quote still
    /// open at the end of the input, or after [`MAX_RECORD_LINES`] lines or
    /// [`MAX_RECORD_BYTES`], or closed into a record that does not parse,
    /// makes the first line a bad record; the lines after it are read again.
    fn record(&mut self) -> std::io::Result<Record> {
        let first = match self.line()? {
            Line::End => return Ok(Record::End),
            Line::TooLong => {
                return Ok(Record::Bad(format!(
                    "a line longer than {} MiB",
                    MAX_RECORD_BYTES >> 20
                )))
            }
            Line::Text(l) => l,
        };
        let mut quotes = first.iter().filter(|&&b| b == b'"').count();
        if quotes % 2 == 0 {
            return Ok(Record::Text(first));
        }
        let mut more: Vec<Vec<u8>> = Vec::new();
        let mut bytes = first.len();
        loop {
            if more.len() + 1 >= MAX_RECORD_LINES || bytes > MAX_RECORD_BYTES {
                break;
            }
            match self.line()? {
                Line::Text(l) => {
                    quotes += l.iter().filter(|&&b| b == b'"').count();
                    bytes += l.len();
                    more.push(l);
                    if quotes % 2 == 0 {
                        let mut all = first.clone();
                        more.iter().for_each(|l| all.extend_from_slice(l));
                        // A quote closed lines later by another broken
                        // line is no multi-line field: keep the lines.
                        if record::problem(&all, self.sep, self.expected).is_none() {
                            return Ok(Record::Text(all));
                        }
                        break;
                    }
                }
                Line::TooLong | Line::End => break,
            }
        }
        // Unterminated: only the first line is bad.
        self.pending.extend(more.into_iter().rev());
        Ok(Record::Bad("unterminated quote".into()))
    }
}

impl<R: BufRead> Iterator for CsvChunks<R> {
    type Item = Result<RawTable>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = self.header.clone();
        let (mut rows, mut numbers, mut skipped) = (0, Vec::new(), Vec::new());
        let first = self.next_row;
        while rows < self.chunk_rows {
            let row = self.next_row + rows;
            match self.record() {
                Err(e) => return Some(Err(Error::io(&self.source, e))),
                Ok(Record::End) => {
                    self.done = true;
                    break;
                }
                Ok(Record::Bad(reason)) => skipped.push((row, reason)),
                Ok(Record::Text(mut r)) => {
                    if r.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if !r.ends_with(b"\n") {
                        r.push(b'\n');
                    }
                    match record::problem(&r, self.sep, self.expected) {
                        Some(reason) => skipped.push((row, reason)),
                        None => {
                            buf.extend_from_slice(&r);
                            numbers.push(row);
                        }
                    }
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return None;
        }
        self.next_row += rows;
        let typed = [&self.numeric[..], &self.numbers_while_they_parse[..]].concat();
        let table = parse_csv_typed(&self.source, buf, self.sep, first, &typed);
        if let Ok(t) = &table {
            let numbers = |c: &String| matches!(t.column(c), Some(RawColumn::Number(_)));
            self.numbers_while_they_parse.retain(numbers);
        }
        Some(table.map(|mut t| {
            if !skipped.is_empty() {
                t.rows = Some(numbers);
                t.skipped = skipped;
            }
            t
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_quoted_newlines_and_row_numbers() {
        let csv = "\u{feff}id;note\r\n1;\"a\nb\"\r\n2;c\r\n3;d\r\n";
        let chunks: Vec<_> = CsvChunks::new(csv.as_bytes(), "t.csv", None, 2)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].names, vec!["id", "note"]);
        assert_eq!(chunks[0].n_rows(), 2);
        assert_eq!(chunks[0].columns[1].text(0).as_deref(), Some("a\nb"));
        assert_eq!(chunks[1].first_row, 3);
    }

    #[test]
    fn a_column_is_read_as_numbers_until_a_chunk_has_text_in_it() {
        // Chunks of 2: numbers, then "yes" in `a` (b stays numbers), then
        // numbers again, which `a` now reads as text.
        let csv = "a,b\n1,0\n0,1\nyes,1\n0,0\n1,1\n0,1\n";
        let flags = vec!["a".to_string(), "b".to_string()];
        let chunks: Vec<RawTable> = CsvChunks::new(csv.as_bytes(), "t.csv", None, 2)
            .unwrap()
            .with_numbers_while_they_parse(flags)
            .map(|c| c.unwrap())
            .collect();
        let kinds: Vec<[bool; 2]> = chunks
            .iter()
            .map(|c| [0, 1].map(|k| matches!(c.columns[k], RawColumn::Number(_))))
            .collect();
        assert_eq!(kinds, [[true, true], [false, true], [false, true]]);
        assert_eq!(chunks[1].columns[0].text(0).as_deref(), Some("yes"));
        assert_eq!(chunks[2].columns[0].text(0).as_deref(), Some("1"));
    }

    #[test]
    fn bad_records_are_set_aside_and_reading_goes_on() {
        // Row 2 ragged, row 3 opens a quote it never closes, row 5 has a NUL,
        // row 6 is not UTF-8; a chunk of 3 ends on the bad row 3.
        let csv = b"id,note\n1,a\n2,b,extra\n3,\"open\n4,d\n5,\0\n6,\xff\n7,\"x\ny\"\n";
        let chunks: Vec<_> = CsvChunks::new(&csv[..], "t.csv", None, 3)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let rows: Vec<usize> = chunks
            .iter()
            .flat_map(|c| (0..c.n_rows()).map(|r| c.row(r)))
            .collect();
        assert_eq!(rows, [1, 4, 7]);
        let skipped: Vec<(usize, String)> = chunks.iter().flat_map(|c| c.skipped.clone()).collect();
        let at: Vec<usize> = skipped.iter().map(|s| s.0).collect();
        assert_eq!(at, [2, 3, 5, 6]);
        assert!(skipped[0].1.contains("3 fields where the header has 2"));
        assert!(skipped[1].1.contains("unterminated quote"));
        assert!(skipped[2].1.contains("NUL"));
        assert!(skipped[3].1.contains("UTF-8"));
        let last = chunks.last().unwrap();
        assert_eq!(
            last.columns[1].text(last.n_rows() - 1).as_deref(),
            Some("x\ny")
        );
    }
}
