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
    seq: Vec<IdxSize>,
    bucket: Vec<u32>,
    by_text: HashTable<u32>,
    by_int: HashTable<u32>,
}

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
        let mut by_text = HashTable::with_capacity(text.len());
        if let Some(arr) = text.downcast_iter().next() {
            for p in 0..arr.len() {
                let h = hash(arr.value(p));
                by_text.insert_unique(h, p as u32, |&q| hash(arr.value(q as usize)));
            }
        }
        let mut by_int = HashTable::new();
        if let Some(v) = &ints {
            by_int.reserve(v.len(), |&q: &u32| hash(&v[q as usize]));
            for (p, x) in v.iter().enumerate() {
                by_int.insert_unique(hash(x), p as u32, |&q| hash(&v[q as usize]));
            }
        }
        Ok(Ids {
            text,
            ints,
            seq: seq.into_iter().map(|s| s as IdxSize).collect(),
            bucket,
            by_text,
            by_int,
        })
    }

    /// The typed ids of a batch's column `c`: the integer when the column
    /// holds integers and every customer id is a plain integer (`42`, not
    /// `042`: the same matches as through text), else the trimmed text
    /// (null when empty).
    pub fn key(&self, src: &str, c: &Column) -> Result<Column> {
        if c.dtype().is_integer() && self.ints.is_some() {
            let ints = c.cast(&DataType::Int64);
            let ints = ints.map_err(|e| Error::polars(src, e))?;
            return Ok(ints.with_name(super::ID.into()));
        }
        super::typing::id_text(src, c)
    }

    /// The row number (null: no such customer) and bucket of each id of
    /// `ids` (as [`Self::key`] typed it).
    pub fn lookup(&self, src: &str, ids: &Column) -> Result<(IdxCa, UInt32Chunked)> {
        let err = |e| Error::polars(src, e);
        let pos: Vec<Option<u32>> = match ids.dtype() {
            DataType::Int64 => {
                let v = self.ints.as_deref().unwrap_or_default();
                let ids = ids.i64().map_err(err)?;
                ids.iter()
                    .map(|x| {
                        let x = x?;
                        self.by_int.find(hash(&x), |&q| v[q as usize] == x).copied()
                    })
                    .collect()
            }
            _ => {
                let ids = ids.str().map_err(err)?;
                let Some(arr) = self.text.downcast_iter().next() else {
                    return Ok((
                        IdxCa::full_null(SEQ.into(), ids.len()),
                        UInt32Chunked::full_null(super::bucket::BUCKET.into(), ids.len()),
                    ));
                };
                ids.iter()
                    .map(|t| {
                        let t = t?;
                        let found = self.by_text.find(hash(t), |&q| arr.value(q as usize) == t);
                        found.copied()
                    })
                    .collect()
            }
        };
        let seq: IdxCa = pos
            .iter()
            .map(|p| p.map(|p| self.seq[p as usize]))
            .collect();
        let bucket: UInt32Chunked = pos
            .iter()
            .map(|p| p.map(|p| self.bucket[p as usize]))
            .collect();
        Ok((
            seq.with_name(SEQ.into()),
            bucket.with_name(super::bucket::BUCKET.into()),
        ))
    }
}
