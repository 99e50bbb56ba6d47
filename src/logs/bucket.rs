//! Customer buckets: the log rows of a customer go to the customer's
//! bucket, so each bucket can be aggregated alone (customers are
//! independent) and peak memory follows a bucket, not the log. In one run
//! the buckets are consecutive ranges of the customer table (bucket b of n
//! holds rows [b·rows/n, (b+1)·rows/n)): the buckets' outputs, one after
//! the other, are already in the customer table's order. Across runs — a
//! Spark task per bucket (`--bucket K/N`) — a customer's bucket is a hash
//! of the id, below. With one bucket the rows stay in memory; with more they are
//! written, typed, to raw column files ([`super::rows`]) in a temporary folder of the run that
//! is removed when the run ends, also after an error.
//!
//! That hash is Spark's: `pmod(hash(id), N)` for the id as trimmed text —
//! Murmur3 (x86, 32-bit, seed 42) as Spark's `hash()` computes it for a
//! string (its legacy tail: each trailing byte mixed as a signed int).
//! Fixed by this file, not by a library version, so the Spark job
//! (`spark/churn_spark.py`) buckets the logs with one built-in expression
//! and every run puts a customer in the same bucket.

use crate::error::{Error, Result};
use crate::io::TempDir;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The bucket column of the typed frames while they are split.
pub const BUCKET: &str = "bucket";
/// Most buckets a run may use.
pub const MAX_BUCKETS: usize = 1024;
/// Typed log bytes a bucket is sized for with `auto`, at most.
const AUTO_BUCKET_BYTES: u64 = 256 << 20;

/// How many customer buckets (`--partitions N|auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Partitions {
    /// From the logs' size and the memory available.
    #[default]
    Auto,
    Fixed(usize),
}

impl Partitions {
    pub fn is_auto(&self) -> bool {
        *self == Partitions::Auto
    }
}

impl std::str::FromStr for Partitions {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "auto" => Ok(Partitions::Auto),
            t => match t.parse::<usize>() {
                Ok(n) if (1..=MAX_BUCKETS).contains(&n) => Ok(Partitions::Fixed(n)),
                _ => Err(Error::Config(format!(
                    "--partitions '{s}': expected auto or a number from 1 to {MAX_BUCKETS}"
                ))),
            },
        }
    }
}

impl std::fmt::Display for Partitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Partitions::Auto => write!(f, "auto"),
            Partitions::Fixed(n) => write!(f, "{n}"),
        }
    }
}

text_serde!(Partitions);

/// The bucket count of a run. `auto`: the logs' typed size (CSV bytes as
/// they are, Parquet ×4 for its compression) over the smaller of 256 MiB
/// and a sixteenth of the memory available — aggregation needs a few times
/// a bucket's typed rows, and [`at_once`] buckets share it.
pub fn resolve(p: Partitions, logs: &[(u64, bool)]) -> usize {
    match p {
        Partitions::Fixed(n) => n,
        Partitions::Auto => {
            let typed: u64 = logs
                .iter()
                .map(|&(bytes, parquet)| if parquet { bytes * 4 } else { bytes })
                .sum();
            let budget = available_memory()
                .map_or(AUTO_BUCKET_BYTES, |m| (m / 16).min(AUTO_BUCKET_BYTES))
                .max(16 << 20)
                / at_once() as u64;
            (typed.div_ceil(budget) as usize).clamp(1, MAX_BUCKETS)
        }
    }
}

/// How many buckets are aggregated at the same time: one per core, at
/// most two (memory follows them).
pub fn at_once() -> usize {
    rayon::current_num_threads().clamp(1, 2)
}

/// MemAvailable of /proc/meminfo, in bytes (Linux; `None` elsewhere).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One bucket K of N (`--bucket K/N`): the customers a Spark task runs
/// `churn-train features` or `churn-score` for, on the logs of that bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slice {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for Slice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let parsed = s
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((k, n)) if n >= 1 && k < n => Ok(Slice { k, n }),
            _ => Err(Error::Config(format!(
                "--bucket '{s}': expected K/N with 0 ≤ K < N"
            ))),
        }
    }
}

impl std::fmt::Display for Slice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

text_serde!(Slice);

/// The first row of each of `n` consecutive ranges of `rows` rows, and
/// `rows`: bucket b is rows bounds[b] .. bounds[b + 1].
pub fn bounds(rows: usize, n: usize) -> Vec<usize> {
    (0..=n).map(|b| b * rows / n).collect()
}

/// The bucket of a customer id among `n`: Spark's `pmod(hash(id), n)`.
pub fn bucket_of(id: &str, n: usize) -> u32 {
    let h = i64::from(spark_hash(id.as_bytes()));
    h.rem_euclid(n as i64) as u32
}

/// Spark's `hash()` of a string: `Murmur3_x86_32.hashUnsafeBytes`, seed 42.
pub fn spark_hash(bytes: &[u8]) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mix_k1 = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mix_h1 = |h: u32, k: u32| {
        (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64)
    };
    let mut h: u32 = 42;
    let aligned = bytes.len() - bytes.len() % 4;
    for w in bytes[..aligned].chunks_exact(4) {
        h = mix_h1(h, mix_k1(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &b in &bytes[aligned..] {
        h = mix_h1(h, mix_k1(i32::from(b as i8) as u32));
    }
    h ^= bytes.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// The run's temporary folder of bucket files (removed when dropped, also
/// after an error): under `parent`, else the system's temporary folder.
pub fn temp_dir(parent: Option<&Path>) -> Result<TempDir> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    TempDir::new_in(&parent).map_err(|e| bucket_error(&parent, e))
}

fn bucket_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::data(
        path.display().to_string(),
        format!("cannot write the customer-bucket files: {e}"),
    )
}

/// Write `frame` to the spill file `path` (typed, uncompressed Parquet).
pub fn spill(path: &Path, frame: &mut DataFrame) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| bucket_error(path, e))?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(frame)
        .map_err(|e| bucket_error(path, e))?;
    Ok(())
}

/// Read back a spill file, as one chunk: the aggregation reads a bucket's
/// columns as slices.
pub fn unspill(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut frame = ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::polars(path.display().to_string(), e))?;
    frame.rechunk_mut();
    Ok(frame)
}

/// Where one log's bucketed rows are kept.
enum Place {
    Memory(Vec<Vec<DataFrame>>),
    Disk {
        paths: Vec<PathBuf>,
        writers: Vec<Option<super::rows::RowWriter>>,
    },
}

/// One log's rows, split by bucket as batches arrive.
pub struct Pieces {
    place: Place,
    schema: Option<Schema>,
}

impl Pieces {
    /// `n` buckets of the log `name`, in `dir` when there is more than one.
    pub fn new(n: usize, dir: Option<&TempDir>, name: &str) -> Pieces {
        let place = match dir {
            Some(d) if n > 1 => Place::Disk {
                paths: (0..n)
                    .map(|b| d.path().join(format!("{name}-{b}.rows")))
                    .collect(),
                writers: (0..n).map(|_| None).collect(),
            },
            _ => Place::Memory(vec![Vec::new(); n.max(1)]),
        };
        Pieces {
            place,
            schema: None,
        }
    }

    /// Add a typed batch (with the [`BUCKET`] column) to its buckets.
    pub fn push(&mut self, frame: DataFrame) -> Result<()> {
        let err = |e| Error::polars("log buckets", e);
        let Place::Disk { paths, writers } = &mut self.place else {
            let Place::Memory(m) = &mut self.place else {
                unreachable!()
            };
            for (b, part) in split(frame, m.len()).map_err(err)?.into_iter().enumerate() {
                let Some(mut part) = part else { continue };
                part.align_chunks_par();
                if self.schema.is_none() {
                    self.schema = Some(part.schema().as_ref().clone());
                }
                m[b].push(part);
            }
            return Ok(());
        };
        let (mut frame, rows) = bucket_rows(frame, paths.len()).map_err(err)?;
        frame.rechunk_mut();
        if self.schema.is_none() {
            self.schema = Some(frame.schema().as_ref().clone());
        }
        for (b, rows) in rows.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
            if writers[b].is_none() {
                let w = super::rows::RowWriter::create(&paths[b]);
                writers[b] = Some(w.map_err(|e| bucket_error(&paths[b], e))?);
            }
            if let Some(w) = &mut writers[b] {
                (w.write(&frame, Some(rows))).map_err(|e| bucket_error(&paths[b], e))?;
            }
        }
        Ok(())
    }

    /// Close the bucket files; the pieces become readable by bucket.
    pub fn finish(mut self) -> Result<Buckets> {
        if let Place::Disk { paths, writers } = &mut self.place {
            for (w, p) in writers.iter_mut().zip(paths.iter()) {
                if let Some(w) = w.take() {
                    w.finish().map_err(|e| bucket_error(p, e))?;
                }
            }
        }
        Ok(Buckets {
            place: self.place,
            schema: self.schema,
        })
    }
}

/// One log's rows by bucket, ready to be read one bucket at a time.
pub struct Buckets {
    place: Place,
    schema: Option<Schema>,
}

impl Buckets {
    /// The rows of bucket `b`, in file order (empty with the log's columns
    /// when it has none; `None` when the log had no usable row at all).
    pub fn load(&self, b: usize) -> Result<Option<DataFrame>> {
        let Some(schema) = &self.schema else {
            return Ok(None);
        };
        let frame = match &self.place {
            Place::Memory(m) => {
                let mut it = m[b].iter();
                match it.next() {
                    None => DataFrame::empty_with_schema(schema),
                    Some(first) => {
                        let mut all = first.clone();
                        for f in it {
                            all.vstack_mut(f)
                                .map_err(|e| Error::polars("log buckets", e))?;
                        }
                        all.rechunk_mut();
                        all
                    }
                }
            }
            Place::Disk { paths, .. } => {
                let p = &paths[b];
                if !p.exists() {
                    DataFrame::empty_with_schema(schema)
                } else {
                    super::rows::read(p, schema)?
                }
            }
        };
        Ok(Some(frame))
    }
}

/// `frame` without its [`BUCKET`] column, and the rows of each of the
/// `n` buckets, in row order.
fn bucket_rows(frame: DataFrame, n: usize) -> PolarsResult<(DataFrame, Vec<Vec<IdxSize>>)> {
    let bucket = frame.column(BUCKET)?.u32()?.clone();
    let frame = frame.drop(BUCKET)?;
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); n];
    for (i, b) in bucket.into_no_null_iter().enumerate() {
        rows[b as usize].push(i as IdxSize);
    }
    Ok((frame, rows))
}

/// `frame` split by its [`BUCKET`] column into `n` parts (without it), in
/// row order within each; `None` for a bucket without rows.
fn split(frame: DataFrame, n: usize) -> PolarsResult<Vec<Option<DataFrame>>> {
    if n == 1 {
        let frame = frame.drop(BUCKET)?;
        return Ok(vec![(frame.height() > 0).then_some(frame)]);
    }
    let (frame, rows) = bucket_rows(frame, n)?;
    rows.into_iter()
        .map(|r| {
            if r.is_empty() {
                return Ok(None);
            }
            let idx = IdxCa::from_vec("idx".into(), r);
            Ok(Some(frame.take(&idx)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sparks_and_spreads() {
        for (id, h, b) in SPARK {
            assert_eq!(spark_hash(id.as_bytes()), h, "{id}");
            assert_eq!(bucket_of(id, 7), b, "{id}");
        }
        let mut seen = [0usize; 7];
        for i in 0..7000 {
            seen[bucket_of(&i.to_string(), 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }

    /// Spark 3.5.3's `SELECT hash(id)` (and `pmod(hash(id), 7)`).
    const SPARK: [(&str, i32, u32); 12] = [
        ("", 142593372, 5),
        ("a", 1485273170, 3),
        ("ab", -97053317, 3),
        ("abc", 1322437556, 6),
        ("abcd", -396302900, 0),
        ("abcde", 814637928, 6),
        ("1", 1625004744, 6),
        ("42", -2140846185, 5),
        ("1000001", -1730439555, 2),
        ("C-no-rows", -376566945, 1),
        ("Müller-ß", -957225797, 4),
        ("ç", -1626837833, 2),
    ];

    #[test]
    fn partitions_parse() {
        assert_eq!("auto".parse::<Partitions>().unwrap(), Partitions::Auto);
        assert_eq!("7".parse::<Partitions>().unwrap(), Partitions::Fixed(7));
        assert!("0".parse::<Partitions>().is_err());
        assert!("many".parse::<Partitions>().is_err());
        assert_eq!(resolve(Partitions::Fixed(3), &[(1 << 40, false)]), 3);
        assert_eq!(resolve(Partitions::Auto, &[(1000, true)]), 1);
    }
}
