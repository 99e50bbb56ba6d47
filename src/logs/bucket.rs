//! Customer buckets: the log rows of a customer go to the bucket a stable
//! hash of the customer id names, so each bucket can be aggregated alone
//! (customers are independent) and peak memory follows a bucket, not the
//! log. With one bucket the rows stay in memory; with more they are
//! written, typed, to Parquet files in a temporary folder of the run that
//! is removed when the run ends, also after an error.
//!
//! The hash is FNV-1a (64-bit) of the id's UTF-8 bytes, modulo the bucket
//! count: fixed by this file, not by a library version, so a Spark job or
//! a later run puts a customer in the same bucket.

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

impl TryFrom<String> for Partitions {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Partitions> for String {
    fn from(p: Partitions) -> String {
        p.to_string()
    }
}

/// The bucket count of a run. `auto`: the logs' typed size (CSV bytes as
/// they are, Parquet ×4 for its compression) over the smaller of 256 MiB
/// and a sixteenth of the memory available — aggregation needs a few times
/// a bucket's typed rows.
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
                .max(16 << 20);
            (typed.div_ceil(budget) as usize).clamp(1, MAX_BUCKETS)
        }
    }
}

/// MemAvailable of /proc/meminfo, in bytes (Linux; `None` elsewhere).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The bucket of a customer id among `n`.
pub fn bucket_of(id: &str, n: usize) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % n as u64) as u32
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

/// Where one log's bucketed rows are kept.
enum Place {
    Memory(Vec<Vec<DataFrame>>),
    Disk {
        paths: Vec<PathBuf>,
        writers: Vec<Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>>,
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
                    .map(|b| d.path().join(format!("{name}-{b}.parquet")))
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
        let n = match &self.place {
            Place::Memory(m) => m.len(),
            Place::Disk { paths, .. } => paths.len(),
        };
        let split = split(frame, n).map_err(|e| Error::polars("log buckets", e))?;
        for (b, part) in split.into_iter().enumerate() {
            let Some(part) = part else { continue };
            if self.schema.is_none() {
                self.schema = Some(part.schema().as_ref().clone());
            }
            match &mut self.place {
                Place::Memory(m) => m[b].push(part),
                Place::Disk { paths, writers } => {
                    if writers[b].is_none() {
                        let file = std::fs::File::create(&paths[b])
                            .map_err(|e| bucket_error(&paths[b], e))?;
                        let w = ParquetWriter::new(file)
                            .with_compression(ParquetCompression::Uncompressed)
                            .batched(part.schema())
                            .map_err(|e| bucket_error(&paths[b], e))?;
                        writers[b] = Some(w);
                    }
                    if let Some(w) = &mut writers[b] {
                        w.write_batch(&part)
                            .map_err(|e| bucket_error(&paths[b], e))?;
                    }
                }
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
                    let file = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
                    ParquetReader::new(file)
                        .finish()
                        .map_err(|e| Error::polars(p.display().to_string(), e))?
                }
            }
        };
        Ok(Some(frame))
    }
}

/// `frame` split by its [`BUCKET`] column into `n` parts (without it), in
/// row order within each; `None` for a bucket without rows.
fn split(frame: DataFrame, n: usize) -> PolarsResult<Vec<Option<DataFrame>>> {
    let bucket = frame.column(BUCKET)?.u32()?.clone();
    let frame = frame.drop(BUCKET)?;
    if n == 1 {
        return Ok(vec![(frame.height() > 0).then_some(frame)]);
    }
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); n];
    for (i, b) in bucket.into_no_null_iter().enumerate() {
        rows[b as usize].push(i as IdxSize);
    }
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
    fn the_hash_is_fixed_and_spreads() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c (a published test vector).
        assert_eq!(bucket_of("a", u32::MAX as usize + 1) as u64, 0x8601ec8c);
        let mut seen = [0usize; 7];
        for i in 0..7000 {
            seen[bucket_of(&i.to_string(), 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }

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
