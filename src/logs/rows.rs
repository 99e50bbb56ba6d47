//! A bucket's typed log rows on disk, between the reading pass and the
//! aggregation: each batch's columns as their raw little-endian values
//! (and a byte per row marking nulls, for a column that has some).
//!
//! Why not Parquet: these files are written and read once by the same run,
//! with a schema the run itself fixed (integers and floats only). Parquet's
//! writer tries a dictionary for every column, estimates cardinalities and
//! computes statistics — a third of the reading pass at 1M customers — for
//! files no other program reads.

use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Write;
use std::path::Path;

/// Bytes of one value of a supported dtype.
fn width(dtype: &DataType) -> Option<usize> {
    match dtype {
        DataType::Int32 | DataType::UInt32 => Some(4),
        DataType::Float64 | DataType::UInt64 | DataType::Int64 => Some(8),
        _ => None,
    }
}

/// One bucket file being written.
pub struct RowWriter {
    out: std::io::BufWriter<std::fs::File>,
}

impl RowWriter {
    pub fn create(path: &Path) -> std::io::Result<RowWriter> {
        let file = std::fs::File::create(path)?;
        Ok(RowWriter {
            out: std::io::BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// Append a batch's rows (every column of a supported dtype), or
    /// those at `rows` of it (in that order): a bucket's share of a batch
    /// gathered as it is written, not copied first.
    pub fn write(&mut self, frame: &DataFrame, rows: Option<&[IdxSize]>) -> std::io::Result<()> {
        let unsupported = |c: &Column| {
            std::io::Error::other(format!("column {} of type {}", c.name(), c.dtype()))
        };
        let n = rows.map_or(frame.height(), <[IdxSize]>::len);
        self.out.write_all(&(n as u64).to_le_bytes())?;
        let mut buf = Vec::new();
        for c in frame.columns() {
            let s = c.as_materialized_series().rechunk();
            buf.clear();
            if s.null_count() > 0 {
                buf.push(1);
                let valid = s.is_not_null();
                let valid = |i: usize| u8::from(valid.get(i) == Some(true));
                match rows {
                    None => buf.extend((0..s.len()).map(valid)),
                    Some(r) => buf.extend(r.iter().map(|&i| valid(i as usize))),
                }
            } else {
                buf.push(0);
            }
            let err = |e: PolarsError| std::io::Error::other(e.to_string());
            match s.dtype() {
                DataType::Int32 => extend(&mut buf, s.i32().map_err(err)?, rows, i32::to_le_bytes),
                DataType::UInt32 => extend(&mut buf, s.u32().map_err(err)?, rows, u32::to_le_bytes),
                DataType::Int64 => extend(&mut buf, s.i64().map_err(err)?, rows, i64::to_le_bytes),
                DataType::UInt64 => extend(&mut buf, s.u64().map_err(err)?, rows, u64::to_le_bytes),
                DataType::Float64 => {
                    extend(&mut buf, s.f64().map_err(err)?, rows, f64::to_le_bytes)
                }
                _ => return Err(unsupported(c)),
            }
            self.out.write_all(&buf)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The values of `ca` (one chunk; a null's slot as stored), or those at
/// `rows`, as bytes.
fn extend<T: PolarsNumericType, const N: usize>(
    buf: &mut Vec<u8>,
    ca: &ChunkedArray<T>,
    rows: Option<&[IdxSize]>,
    bytes: fn(T::Native) -> [u8; N],
) {
    let Some(arr) = ca.downcast_iter().next() else {
        return;
    };
    let values = arr.values().as_slice();
    buf.reserve(rows.map_or(values.len(), <[IdxSize]>::len) * N);
    match rows {
        None => values
            .iter()
            .for_each(|&v| buf.extend_from_slice(&bytes(v))),
        Some(r) => (r.iter()).for_each(|&i| buf.extend_from_slice(&bytes(values[i as usize]))),
    }
}

/// One column being read back: values, and validity once a null is seen.
struct Reading {
    bytes: Vec<u8>,
    valid: Option<Vec<bool>>,
    rows: usize,
}

/// Read back a bucket file written with `schema`'s columns, as one chunk.
pub fn read(path: &Path, schema: &Schema) -> Result<DataFrame> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let short = || Error::data(path.display().to_string(), "the bucket file is cut short");
    let mut cols: Vec<Reading> = (schema.iter())
        .map(|_| Reading {
            bytes: Vec::new(),
            valid: None,
            rows: 0,
        })
        .collect();
    let mut rest: &[u8] = &data;
    let mut take = |n: usize| -> Result<&[u8]> {
        if rest.len() < n {
            return Err(short());
        }
        let (s, r) = rest.split_at(n);
        rest = r;
        Ok(s)
    };
    let mut pending = Vec::new();
    let total = total_rows(&data, schema).ok_or_else(short)?;
    for ((_, dtype), col) in schema.iter().zip(cols.iter_mut()) {
        col.bytes.reserve_exact(total * width(dtype).unwrap_or(0));
    }
    let mut read_rows = 0;
    while read_rows < total {
        let rows = u64::from_le_bytes(take(8)?.try_into().map_err(|_| short())?) as usize;
        for ((_, dtype), col) in schema.iter().zip(cols.iter_mut()) {
            let w = width(dtype).ok_or_else(short)?;
            let nulls = take(1)?[0] == 1;
            pending.clear();
            if nulls {
                pending.extend(take(rows)?.iter().map(|&b| b == 1));
            }
            if nulls && col.valid.is_none() {
                col.valid = Some(vec![true; col.rows]);
            }
            if let Some(v) = &mut col.valid {
                if nulls {
                    v.extend_from_slice(&pending);
                } else {
                    v.extend(std::iter::repeat_n(true, rows));
                }
            }
            col.bytes.extend_from_slice(take(rows * w)?);
            col.rows += rows;
        }
        read_rows += rows;
    }
    let columns = (schema.iter().zip(cols))
        .map(|((name, dtype), c)| column(name.clone(), dtype, c))
        .collect::<Result<Vec<_>>>()?;
    DataFrame::new_infer_height(columns).map_err(|e| Error::polars(path.display().to_string(), e))
}

/// The rows of a bucket file: the sum of its batches' row counts, found by
/// walking the batch headers (`None` when the file is cut short).
fn total_rows(data: &[u8], schema: &Schema) -> Option<usize> {
    let (mut at, mut total) = (0usize, 0usize);
    while at < data.len() {
        let rows = u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?) as usize;
        at += 8;
        for (_, dtype) in schema.iter() {
            let nulls = *data.get(at)? == 1;
            at += 1 + if nulls { rows } else { 0 } + rows * width(dtype)?;
        }
        (at <= data.len()).then_some(())?;
        total += rows;
    }
    Some(total)
}

/// A column of `dtype` from its read bytes.
fn column(name: PlSmallStr, dtype: &DataType, c: Reading) -> Result<Column> {
    fn typed<T: PolarsNumericType, const N: usize>(
        name: PlSmallStr,
        c: &Reading,
        from: fn([u8; N]) -> T::Native,
    ) -> Column {
        let values = c.bytes.chunks_exact(N).map(|b| {
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            from(a)
        });
        match &c.valid {
            None => ChunkedArray::<T>::from_vec(name, values.collect()).into_column(),
            Some(v) => ChunkedArray::<T>::from_iter_options(
                name,
                values.zip(v).map(|(x, &ok)| ok.then_some(x)),
            )
            .into_column(),
        }
    }
    Ok(match dtype {
        DataType::Int32 => typed::<Int32Type, 4>(name, &c, i32::from_le_bytes),
        DataType::UInt32 => typed::<UInt32Type, 4>(name, &c, u32::from_le_bytes),
        DataType::Int64 => typed::<Int64Type, 8>(name, &c, i64::from_le_bytes),
        DataType::UInt64 => typed::<UInt64Type, 8>(name, &c, u64::from_le_bytes),
        DataType::Float64 => typed::<Float64Type, 8>(name, &c, f64::from_le_bytes),
        _ => {
            return Err(Error::Config(format!(
                "bucket column {name} of type {dtype}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches with and without nulls (-0.0, NaN kept bit for bit) read
    /// back as the stacked frame.
    #[test]
    fn rows_read_back_as_written() {
        let tmp = crate::io::TempDir::new().unwrap();
        let path = tmp.path().join("b.rows");
        let a = df!("d" => [1i32, 2], "x" => [Some(-0.0f64), Some(f64::NAN)], "s" => [7u32, 8])
            .unwrap();
        let b = df!("d" => [3i32], "x" => [None::<f64>], "s" => [9u32]).unwrap();
        let mut w = RowWriter::create(&path).unwrap();
        w.write(&a, None).unwrap();
        w.write(&b, None).unwrap();
        w.finish().unwrap();
        let back = read(&path, a.schema()).unwrap();
        let mut want = a.clone();
        want.vstack_mut(&b).unwrap();
        assert!(back.equals_missing(&want));
        let bits: Vec<Option<u64>> = (back.column("x").unwrap().f64().unwrap().iter())
            .map(|v| v.map(f64::to_bits))
            .collect();
        assert_eq!(
            bits,
            [Some((-0.0f64).to_bits()), Some(f64::NAN.to_bits()), None]
        );
        std::fs::write(&path, &std::fs::read(&path).unwrap()[..20]).unwrap();
        assert!(read(&path, a.schema()).is_err());
    }
}
