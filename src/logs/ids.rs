//! Customer ids → the customer's row number and bucket, for every log row.
//!
//! Why not a polars join: a log is read in batches, and a join builds its
//! hash table on the customer side for every batch — with 5M customers and
//! a hundred batches, half a billion inserts, the log's cost growing with
//! the customer count times the log size. Here the table is built once
//! (row positions only, hashed by the id text, and by the integer when
//! every id is a plain integer) and each log row is one probe.

use super::names::SEQ;
use crate::error::{Error, Result};
use hashbrown::HashTable;
use polars::prelude::*;
use std::hash::BuildHasher;

/// The customers' ids, row numbers and buckets, and their hash tables.
pub struct Ids {
    /// The ids, one chunk (positions index it).
    text: StringChunked,
    ints: Option<Vec<i64>>,
    /// Row number and bucket by position (one load for both).
    seq_bucket: Vec<(IdxSize, u32)>,
    /// Text ids (when not every id is a plain integer).
    by_text: HashTable<u32>,
    /// Integer ids spread over a range of at most a few times their number:
    /// the position of id x at `x - min` — one independent load per log
    /// row, where a hash probe costs two dependent cache misses once the
    /// table outgrows the cache (millions of customers).
    dense: Option<(i64, Vec<u32>)>,
    /// Other integer ids.
    by_int: HashTable<u32>,
}

/// Integer ids are addressed directly when their range is at most this
/// many times their number (4 bytes per slot).
const DENSE_SPREAD: i128 = 4;

fn hash<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0).hash_one(v)
}

impl Ids {
    /// The ids of `customers` (`customer_id` text, `cust_seq`), in
    /// `partitions` buckets of consecutive rows ([`super::bucket::bounds`]).
    pub fn of(src: &str, customers: &DataFrame, partitions: usize) -> Result<Ids> {
        let err = |e| Error::polars(src, e);
        let ids = customers.column(super::ID).and_then(|c| c.str().cloned());
        let text = ids.map_err(err)?.rechunk().into_owned();
        let column = |name: &str| -> Result<Vec<u32>> {
            let c = customers
                .column(name)
                .and_then(|c| c.cast(&DataType::UInt32));
            let c = c.map_err(err)?;
            let c = c.u32().map_err(err)?;
            Ok(c.into_no_null_iter().collect())
        };
        let seq = column(SEQ)?;
        let edges = super::bucket::bounds(seq.len(), partitions);
        let bucket: Vec<u32> = (0..partitions)
            .flat_map(|b| (edges[b]..edges[b + 1]).map(move |_| b as u32))
            .collect();
        let ints: Option<Vec<i64>> = text
            .iter()
            .map(|t| {
                let t = t?;
                t.parse::<i64>().ok().filter(|v| v.to_string() == t)
            })
            .collect();
        let mut by_text = HashTable::new();
        if let (None, Some(arr)) = (&ints, text.downcast_iter().next()) {
            by_text.reserve(arr.len(), |&q: &u32| hash(arr.value(q as usize)));
            for p in 0..arr.len() {
                let h = hash(arr.value(p));
                by_text.insert_unique(h, p as u32, |&q| hash(arr.value(q as usize)));
            }
        }
        let dense = ints.as_deref().and_then(dense_positions);
        let mut by_int = HashTable::new();
        if let (Some(v), None) = (&ints, &dense) {
            by_int.reserve(v.len(), |&q: &u32| hash(&v[q as usize]));
            for (p, x) in v.iter().enumerate() {
                by_int.insert_unique(hash(x), p as u32, |&q| hash(&v[q as usize]));
            }
        }
        Ok(Ids {
            text,
            ints,
            seq_bucket: (seq.into_iter().zip(bucket))
                .map(|(s, b)| (s as IdxSize, b))
                .collect(),
            by_text,
            dense,
            by_int,
        })
    }

    /// The customer of each cell of a log's raw id column: its position
    /// in the customer table, [`MISSING`] (no id: null or blank) or
    /// [`UNKNOWN`] (an id the table lacks). Text is trimmed; when every
    /// customer id is a plain integer (`42`, not `042`), integer cells and
    /// the text of plain integers are probed by value — the same matches
    /// as through text, without copying the column.
    pub fn find(&self, src: &str, c: &Column) -> Result<Vec<u32>> {
        let err = |e| Error::polars(src, e);
        let by_int = |x: i64| {
            if let Some((min, at)) = &self.dense {
                let slot = x.checked_sub(*min).and_then(|o| usize::try_from(o).ok());
                return slot.and_then(|o| at.get(o)).copied().unwrap_or(UNKNOWN);
            }
            let v = self.ints.as_deref().unwrap_or_default();
            let found = self.by_int.find(hash(&x), |&q| v[q as usize] == x);
            found.map_or(UNKNOWN, |&p| p)
        };
        if c.dtype().is_integer() && self.ints.is_some() {
            let ints = c.cast(&DataType::Int64).map_err(err)?;
            let ints = ints.i64().map_err(err)?;
            return Ok(ints.iter().map(|x| x.map_or(MISSING, by_int)).collect());
        }
        let text = c.cast(&DataType::String).map_err(err)?;
        let text = text.str().map_err(err)?;
        let arr = self.text.downcast_iter().next();
        let by_text = |t: &str| {
            let found =
                arr.and_then(|arr| (self.by_text).find(hash(t), |&q| arr.value(q as usize) == t));
            found.map_or(UNKNOWN, |&p| p)
        };
        let ints = self.ints.is_some();
        Ok(text
            .iter()
            .map(|t| match t.map(str::trim) {
                None | Some("") => MISSING,
                Some(t) if ints => plain_integer(t).map_or(UNKNOWN, by_int),
                Some(t) => by_text(t),
            })
            .collect())
    }

    /// The row number and bucket of the customer at position `p`.
    pub fn seq_bucket(&self, p: u32) -> (IdxSize, u32) {
        self.seq_bucket[p as usize]
    }
}

/// The direct table of integer ids `v` (distinct), when their range is
/// narrow enough: (smallest id, position by `id - smallest`, [`UNKNOWN`]
/// where no id is).
fn dense_positions(v: &[i64]) -> Option<(i64, Vec<u32>)> {
    let (min, max) = (*v.iter().min()?, *v.iter().max()?);
    let span = i128::from(max) - i128::from(min) + 1;
    if span > DENSE_SPREAD * v.len() as i128 + 1024 {
        return None;
    }
    let mut at = vec![UNKNOWN; usize::try_from(span).ok()?];
    for (p, &x) in v.iter().enumerate() {
        at[(x - min) as usize] = p as u32;
    }
    Some((min, at))
}

/// A log row's id cell is empty.
pub const MISSING: u32 = u32::MAX;
/// A log row's id is not in the customer table.
pub const UNKNOWN: u32 = u32::MAX - 1;

/// `t` as an integer when it is one written plainly (as `i64` prints it:
/// no sign but `-`, no leading zero, not `-0`).
fn plain_integer(t: &str) -> Option<i64> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && t != "-0";
    plain.then(|| t.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::plain_integer;

    #[test]
    fn plain_integers_are_the_ones_i64_prints() {
        for t in ["0", "42", "-7", "9223372036854775807"] {
            assert_eq!(plain_integer(t).map(|v| v.to_string()).as_deref(), Some(t));
        }
        for t in [
            "042",
            "+5",
            "-0",
            "",
            "-",
            "4 2",
            "1e3",
            "9223372036854775808",
        ] {
            assert_eq!(plain_integer(t), None, "{t}");
        }
    }
}
