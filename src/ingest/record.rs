//! One CSV record checked before polars sees it: a nightly extract with one
//! broken line must not stop the batch, so scoring sets such a record aside
//! (a reject with its row number and reason) and reads on. Training fails
//! on the first one, with the same row number and reason.
//!
//! Checked: valid UTF-8, no NUL byte, quotes closed, and the header's field
//! count (separators inside quotes do not count). The limits that keep a
//! bad extract from exhausting memory are here too.

/// Longest record (line, or lines of one quoted field) read: longer ones are
/// skipped without being held in memory.
pub const MAX_RECORD_BYTES: usize = 16 << 20;
/// Most lines one record may span while a quote is open; beyond, the quote
/// is taken as unterminated and the lines after the first are read again.
pub const MAX_RECORD_LINES: usize = 1000;
/// Most columns a table may have.
pub const MAX_COLUMNS: usize = 4096;

/// Fields of a record, counting separators outside quotes, and whether its
/// quotes are balanced. Trailing CR/LF are not part of the last field.
pub fn fields(record: &[u8], sep: u8) -> (usize, bool) {
    // Most records quote nothing: count the separators in one vectorised
    // pass instead of testing every byte for a quote.
    if !record.contains(&b'"') {
        return (1 + record.iter().filter(|&&b| b == sep).count(), true);
    }
    let (mut n, mut quoted) = (1, false);
    for &b in record {
        if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            n += 1;
        }
    }
    (n, !quoted)
}

/// Why `record` cannot be parsed against a header of `expected` fields, if
/// it cannot.
pub fn problem(record: &[u8], sep: u8, expected: usize) -> Option<String> {
    if record.contains(&0) {
        return Some("a NUL byte in the record (binary data, not CSV)".into());
    }
    if let Err(e) = std::str::from_utf8(record) {
        return Some(format!(
            "not valid UTF-8 (byte {} of the record)",
            e.valid_up_to() + 1
        ));
    }
    match fields(record, sep) {
        (_, false) => Some("unterminated quote".into()),
        (n, true) if n != expected => Some(format!("{n} fields where the header has {expected}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_named() {
        assert_eq!(problem(b"1,2,3\n", b',', 3), None);
        assert_eq!(problem(b"1,\"a,b\",3\r\n", b',', 3), None);
        assert_eq!(problem(b"1,\"a\"\"b\",3\n", b',', 3), None);
        assert!(problem(b"1,2,3,4\n", b',', 3).unwrap().contains("4 fields"));
        assert!(problem(b"1,\"2,3\n", b',', 3)
            .unwrap()
            .contains("unterminated"));
        assert!(problem(b"1,\xff,3\n", b',', 3).unwrap().contains("UTF-8"));
        assert!(problem(b"1,\0,3\n", b',', 3).unwrap().contains("NUL"));
    }
}
