//! The fast path for a large training table: polars parses the whole file
//! at once, on every core, straight from the page cache (memory-mapped,
//! numbers typed, no text cells for them), while one pass over the bytes
//! checks the file holds nothing the record-by-record reader
//! ([`super::read_csv_chunked`]) would have stopped at.
//!
//! Why a check beside polars: polars fills a record with too few fields
//! with missing cells and takes a NUL byte as text, where training must stop
//! and name the record. The check counts, outside quotes, the separators and
//! the lines, and looks for NUL bytes and an unclosed quote: every record has
//! the header's field count exactly when the separators are the header's
//! count times the records polars read and the lines are those records plus
//! the header (polars refuses a record with too many fields itself). Any
//! doubt — a byte-order mark, a blank line, a refused parse, a count that
//! does not add up — hands the file to the record-by-record reader, whose
//! cells are the same and whose errors name the record.

use super::{csv_options, from_dataframe, header_names, resolve_delimiter, typed, RawTable};
use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Read;
use std::path::Path;

/// Bytes read from the file's start to decide the delimiter and sniff which
/// columns are numbers (cut at the last newline).
const HEAD_BYTES: usize = 1 << 20;
/// Bytes checked per read in [`tally`].
const BLOCK_BYTES: usize = 8 << 20;

/// The file read whole, or `None` when it is for the record-by-record reader.
pub(super) fn read(
    path: &Path,
    delimiter: Option<char>,
    numeric: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<Option<RawTable>> {
    let source = path.display().to_string();
    let head = head(path)?;
    if head.starts_with(b"\xef\xbb\xbf") || !head.contains(&b'\n') {
        return Ok(None);
    }
    let sep = resolve_delimiter(&source, &head, delimiter)?;
    let Ok(names) = header_names(&source, &head, sep) else {
        return Ok(None);
    };
    let numeric = typed::sniff_numeric(&source, &head, sep, &numeric(&names));
    let schema: Schema = numeric
        .iter()
        .map(|n| Field::new(n.as_str().into(), DataType::Float64))
        .collect();
    let (parsed, tally) = std::thread::scope(|s| {
        let tally = s.spawn(|| tally(path, sep));
        let parsed = csv_options(sep)
            .with_schema_overwrite(Some(Arc::new(schema)))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish());
        (parsed, tally.join())
    });
    let tally = match tally {
        Ok(t) => t.map_err(|e| Error::io(path, e))?,
        Err(_) => return Ok(None),
    };
    let Ok(df) = parsed else {
        return Ok(None);
    };
    let records = df.height() as u64;
    let fields = names.len() as u64;
    let consistent = !tally.nul
        && !tally.open_quote
        && tally.lines == records + 1
        && tally.separators == (records + 1) * (fields - 1);
    if !consistent || records == 0 {
        return Ok(None);
    }
    from_dataframe(&source, df, 1).map(Some)
}

/// The file's first [`HEAD_BYTES`], cut after the last newline in them.
pub(super) fn head(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    if head.len() == HEAD_BYTES {
        let end = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        head.truncate(end);
    }
    Ok(head)
}

/// How many bytes of `bytes` are `a`, and how many are `b`, in one pass:
/// byte-wide counters over 64-byte lanes (which the compiler turns into
/// vector compares), emptied before they can overflow: a fraction of the
/// time of two filtered counts, on a core polars' parse wants (docs/benchmarks.md, "Design measurements").
fn count_two(bytes: &[u8], a: u8, b: u8) -> (u64, u64) {
    const LANES: usize = 64;
    let (mut na, mut nb) = (0u64, 0u64);
    let mut blocks = bytes.chunks_exact(LANES);
    // 255 blocks at most per round: a counter gains at most one a block.
    let mut round: Vec<&[u8]> = Vec::with_capacity(255);
    loop {
        round.clear();
        round.extend(blocks.by_ref().take(255));
        if round.is_empty() {
            break;
        }
        let (mut ca, mut cb) = ([0u8; LANES], [0u8; LANES]);
        for block in round
            .iter()
            .filter_map(|b| <&[u8; LANES]>::try_from(*b).ok())
        {
            for i in 0..LANES {
                ca[i] += (block[i] == a) as u8;
                cb[i] += (block[i] == b) as u8;
            }
        }
        na += ca.iter().map(|&c| c as u64).sum::<u64>();
        nb += cb.iter().map(|&c| c as u64).sum::<u64>();
    }
    for &c in blocks.remainder() {
        na += (c == a) as u64;
        nb += (c == b) as u64;
    }
    (na, nb)
}

/// What one pass over the file counts outside quotes.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    separators: u64,
    /// Lines with content (a last line without its newline counts).
    lines: u64,
    nul: bool,
    open_quote: bool,
}

/// Count the file's separators and lines outside quotes, in blocks (memory
/// stays flat); a block without quotes is counted by vectorised scans.
fn tally(path: &Path, sep: u8) -> std::io::Result<Tally> {
    let mut file = std::fs::File::open(path)?;
    let mut block = vec![0u8; BLOCK_BYTES];
    let mut t = Tally::default();
    let mut last = b'\n';
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        let b = &block[..n];
        t.nul |= b.contains(&0);
        if !t.open_quote && !b.contains(&b'"') {
            let (separators, lines) = count_two(b, sep, b'\n');
            t.separators += separators;
            t.lines += lines;
        } else {
            for &c in b {
                match c {
                    b'"' => t.open_quote = !t.open_quote,
                    b'\n' if !t.open_quote => t.lines += 1,
                    c if c == sep && !t.open_quote => t.separators += 1,
                    _ => {}
                }
            }
        }
        last = b[n - 1];
    }
    if last != b'\n' {
        t.lines += 1;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_two_counts_every_byte_across_rounds_and_the_tail() {
        // Past one round (255 × 64 bytes) with a ragged tail, and a run of
        // one byte long enough to overflow a byte-wide counter kept whole.
        let mut bytes: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 13) as u8 + b'a').collect();
        bytes.extend(std::iter::repeat_n(b',', 70_001));
        bytes.extend(b"x,\ny\n");
        let count = |x: u8| bytes.iter().filter(|&&c| c == x).count() as u64;
        assert_eq!(count_two(&bytes, b',', b'\n'), (count(b','), count(b'\n')));
        assert_eq!(count_two(&bytes, b'a', b'm'), (count(b'a'), count(b'm')));
        assert_eq!(count_two(b"", b',', b'\n'), (0, 0));
    }

    fn write(text: &str) -> (crate::io::TempDir, std::path::PathBuf) {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn all(names: &[String]) -> Vec<String> {
        names.to_vec()
    }

    #[test]
    fn sound_files_are_read_whole_with_the_cells_of_the_text_read() {
        let mut text = String::from("id,x,note,y\r\n");
        for i in 0..300 {
            let note = if i % 50 == 7 {
                format!("\"a,\nb {i}\"")
            } else {
                format!("n{}", i % 4)
            };
            let x = if i % 9 == 0 {
                String::new()
            } else {
                format!("{i}.5")
            };
            text.push_str(&format!("c{i},{x},{note},{}\r\n", i % 2));
        }
        let (_dir, path) = write(text.trim_end());
        let whole = read(&path, None, &all).unwrap().expect("read whole");
        let rows = super::super::read_csv_chunked(&path, None, 64, &all).unwrap();
        assert_eq!(whole.names, rows.names);
        assert!(matches!(
            whole.columns[1],
            super::super::RawColumn::Number(_)
        ));
        for (c, (a, b)) in whole.columns.iter().zip(&rows.columns).enumerate() {
            for r in 0..300 {
                assert_eq!(a.cell(r), b.cell(r), "column {c}, row {r}");
            }
        }
    }

    #[test]
    fn doubtful_files_go_to_the_record_reader() {
        for (why, text) in [
            ("short record", "id,x,y\na,1,0\nb,2\nc,3,1\n"),
            ("long record", "id,x,y\na,1,0\nb,2,1,9\nc,3,1\n"),
            ("NUL byte", "id,x,y\na,1,0\nb,\0,1\n"),
            ("open quote", "id,x,y\na,1,0\nb,\"2,1\n"),
            ("blank line", "id,x,y\na,1,0\n\nc,3,1\n"),
            ("byte-order mark", "\u{feff}id,x,y\na,1,0\nc,3,1\n"),
            ("invalid UTF-8", "id,x,y\na,1,0\n\u{7f}b,2,1\n"),
        ] {
            let mut bytes = text.as_bytes().to_vec();
            if let Some(at) = bytes.iter().position(|&b| b == 0x7f) {
                bytes[at] = 0xff;
            }
            let dir = crate::io::TempDir::new().unwrap();
            let path = dir.path().join("t.csv");
            std::fs::write(&path, bytes).unwrap();
            assert!(read(&path, None, &all).unwrap().is_none(), "{why}");
        }
    }

    #[test]
    fn tally_counts_outside_quotes_across_blocks() {
        let text = "a,b\n\"x,\ny\",2\n3,4";
        let (_dir, path) = write(text);
        let t = tally(&path, b',').unwrap();
        assert_eq!(
            t,
            Tally {
                separators: 3,
                lines: 3,
                nul: false,
                open_quote: false
            }
        );
    }
}
