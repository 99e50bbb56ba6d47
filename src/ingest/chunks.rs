//! Streaming CSV in chunks of whole records, so scoring memory stays flat in
//! the number of rows. Records are cut at newlines outside quotes (a quoted
//! field may hold newlines); each chunk is parsed by polars with the header.

use super::{parse_csv, parse_csv_typed, resolve_delimiter, RawTable};
use crate::error::{Error, Result};
use std::io::BufRead;

/// An iterator of [`RawTable`] chunks over a CSV stream.
pub struct CsvChunks<R: BufRead> {
    reader: R,
    source: String,
    header: Vec<u8>,
    sep: u8,
    chunk_rows: usize,
    next_row: usize,
    done: bool,
    /// Columns polars may parse as numbers (see [`parse_csv_typed`]).
    numeric: Vec<String>,
}

impl<R: BufRead> CsvChunks<R> {
    /// Read the header line and decide the delimiter.
    pub fn new(
        mut reader: R,
        source: &str,
        delimiter: Option<char>,
        chunk_rows: usize,
    ) -> Result<Self> {
        let mut header = Vec::new();
        read_record(&mut reader, &mut header).map_err(|e| Error::io(source, e))?;
        if header.starts_with(b"\xef\xbb\xbf") {
            header.drain(..3);
        }
        if header.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::data(source, "the file is empty (no header line)"));
        }
        if !header.ends_with(b"\n") {
            header.push(b'\n');
        }
        let sep = resolve_delimiter(source, &header, delimiter)?;
        Ok(CsvChunks {
            reader,
            source: source.to_string(),
            header,
            sep,
            chunk_rows: chunk_rows.max(1),
            next_row: 1,
            done: false,
            numeric: Vec::new(),
        })
    }

    /// Parse these columns as numbers (scoring: the schema's numeric inputs).
    pub fn with_numeric(mut self, columns: Vec<String>) -> Self {
        self.numeric = columns;
        self
    }

    /// Column names of the header (as polars reads them).
    pub fn header_names(&self) -> Result<Vec<String>> {
        Ok(parse_csv(&self.source, self.header.clone(), self.sep, 1)?.names)
    }
}

impl<R: BufRead> Iterator for CsvChunks<R> {
    type Item = Result<RawTable>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = self.header.clone();
        let mut rows = 0;
        while rows < self.chunk_rows {
            let start = buf.len();
            match read_record(&mut self.reader, &mut buf) {
                Err(e) => return Some(Err(Error::io(&self.source, e))),
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(_) => {
                    if buf[start..].iter().all(u8::is_ascii_whitespace) {
                        buf.truncate(start);
                        continue;
                    }
                    if !buf.ends_with(b"\n") {
                        buf.push(b'\n');
                    }
                    rows += 1;
                }
            }
        }
        if rows == 0 {
            return None;
        }
        let first = self.next_row;
        self.next_row += rows;
        Some(parse_csv_typed(
            &self.source,
            buf,
            self.sep,
            first,
            &self.numeric,
        ))
    }
}

/// Append one record (one or more lines, while a quote is open) to `buf`.
fn read_record<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    let mut quotes = 0usize;
    loop {
        let start = buf.len();
        let n = reader.read_until(b'\n', buf)?;
        total += n;
        quotes += buf[start..].iter().filter(|&&b| b == b'"').count();
        if n == 0 || quotes.is_multiple_of(2) {
            return Ok(total);
        }
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
}
