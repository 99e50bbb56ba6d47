//! PostgreSQL's binary COPY format, written straight into a byte buffer.
//!
//! The `postgres` crate's `BinaryCopyInWriter` takes every cell as a boxed
//! `ToSql` trait object; for a million rows of fifteen cells that boxing
//! was a second of the sink's CPU on a 2-core machine the server shares.
//! The format is small and documented ("COPY", file formats, binary): a
//! header, then per row a 16-bit field count and per field a 32-bit length
//! and the value in the type's binary send format, then a -1 trailer.

use super::table::Value;
use std::time::SystemTime;

/// Signature, flags (no OIDs) and an empty header extension.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of the data.
pub const TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// Microseconds from PostgreSQL's epoch (2000-01-01 UTC) to `t`: the binary
/// form of a TIMESTAMPTZ.
pub fn pg_micros(t: SystemTime) -> i64 {
    const PG_EPOCH_SECS: i64 = 946_684_800;
    let micros = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    };
    micros - PG_EPOCH_SECS * 1_000_000
}

/// Appends one field; `Value::Time` is `at` (microseconds, [`pg_micros`]).
pub fn field(out: &mut Vec<u8>, v: &Value, at: i64) {
    match v {
        Value::Text(t) => {
            out.extend_from_slice(&(t.len() as i32).to_be_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        // An unknown number (CLV with no value source) is NULL.
        Value::Real(x) if x.is_nan() => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Value::Real(x) => eight(out, x.to_be_bytes()),
        Value::Int(x) => eight(out, x.to_be_bytes()),
        Value::Time => eight(out, at.to_be_bytes()),
    }
}

fn eight(out: &mut Vec<u8>, bytes: [u8; 8]) {
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&bytes);
}

/// Appends one row: its field count, `seq` when given (the staging table's
/// order column), the cells, then `tail` (fields already encoded, e.g. the
/// run's stamp, `tail_fields` of them).
pub fn row(out: &mut Vec<u8>, seq: Option<i64>, cells: &[Value], tail: &[u8], tail_fields: usize) {
    let n = seq.is_some() as usize + cells.len() + tail_fields;
    out.extend_from_slice(&(n as i16).to_be_bytes());
    if let Some(s) = seq {
        field(out, &Value::Int(s), 0);
    }
    for c in cells {
        field(out, c, 0);
    }
    out.extend_from_slice(tail);
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres::types::private::BytesMut;
    use postgres::types::{ToSql, Type};

    /// The crate's own encoding of one value, with its length prefix.
    fn theirs(v: &(dyn ToSql + Sync), ty: Type) -> Vec<u8> {
        let mut b = BytesMut::new();
        v.to_sql_checked(&ty, &mut b).unwrap();
        let mut out = (b.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(&b);
        out
    }

    #[test]
    fn fields_match_the_postgres_crate_encoding() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_764_720_000_123_456);
        let cases: [(Value, Vec<u8>); 5] = [
            (
                Value::Text("C0001 é".into()),
                theirs(&"C0001 é", Type::TEXT),
            ),
            (Value::Text(String::new()), theirs(&"", Type::TEXT)),
            (Value::Real(-0.125), theirs(&-0.125f64, Type::FLOAT8)),
            (Value::Int(-7), theirs(&-7i64, Type::INT8)),
            (Value::Time, theirs(&t, Type::TIMESTAMPTZ)),
        ];
        for (v, want) in cases {
            let mut got = Vec::new();
            field(&mut got, &v, pg_micros(t));
            assert_eq!(got, want, "{v:?}");
        }
        let mut r = Vec::new();
        row(&mut r, Some(3), &[Value::Int(1)], &[9, 9], 1);
        assert_eq!(&r[..2], &3i16.to_be_bytes());
        assert_eq!(r.len(), 2 + 12 + 12 + 2);
        assert_eq!(HEADER.len(), 19);
    }
}
