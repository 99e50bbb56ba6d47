//! The customer table of a raw-log run: ids as trimmed text, the opening
//! date as a day number, the row order every snapshot follows, the static
//! attributes; a row without an id or date, or repeating an id, counted
//! and left out.

use super::names::{OPEN_DAY, SEQ};
use super::report::FileCounts;
use super::{bucket, typing, LogsConfig};
use crate::error::{Error, Result};
use crate::ingest;
use polars::prelude::*;
use std::path::Path;

/// The customers of bucket `slice.k` of `slice.n` (Spark's hash of the id).
pub(super) fn only_bucket(
    path: &Path,
    customers: DataFrame,
    slice: bucket::Slice,
) -> Result<DataFrame> {
    let src = path.display().to_string();
    let ids = (customers.column(super::ID))
        .and_then(|c| c.str().cloned())
        .map_err(|e| Error::polars(&src, e))?;
    let mask: BooleanChunked = ids
        .iter()
        .map(|id| Some(bucket::bucket_of(id.unwrap_or_default(), slice.n) as usize == slice.k))
        .collect();
    customers.filter(&mask).map_err(|e| Error::polars(&src, e))
}

/// The customer table's ids and their row numbers (`customer_id`,
/// `cust_seq`): the order the rows of a snapshot follow.
pub fn customer_order(cfg: &LogsConfig) -> Result<DataFrame> {
    let path = (cfg.customers.clone())
        .ok_or_else(|| Error::Config("--merge needs --customers (the rows' order)".into()))?;
    let (customers, _) = read_customers(&path, cfg)?;
    (customers.select([super::ID, SEQ])).map_err(|e| Error::polars(path.display().to_string(), e))
}

/// The customer table: id, opening day, row order, static attributes.
pub(super) fn read_customers(path: &Path, cfg: &LogsConfig) -> Result<(DataFrame, FileCounts)> {
    let src = path.display().to_string();
    let err = |e| Error::polars(&src, e);
    let c = &cfg.columns;
    let raw = ingest::read_frame(path, cfg.delimiter)?;
    require(&raw, &src, &c.customer_id)?;
    require(&raw, &src, &c.open_date)?;
    let rows_read = raw.height();
    let id = typing::id_text(&src, raw.column(&c.customer_id).map_err(err)?)?;
    let open = raw.column(&c.open_date).map_err(err)?;
    let open = typing::day(&src, open, cfg.date_format.as_deref(), OPEN_DAY)?;
    let (id_null, open_null) = (id.is_null(), open.is_null());
    let bad_date = (id_null.iter().zip(open_null.iter()))
        .filter(|&(i, o)| i == Some(false) && o == Some(true))
        .count();
    let mut counts = FileCounts {
        file: src.clone(),
        rows_read,
        missing_id: id.null_count(),
        bad_date,
        ..FileCounts::default()
    };
    let seq = IdxCa::from_vec(SEQ.into(), (0..rows_read as IdxSize).collect());
    let mut cols = vec![seq.into_column(), id, open];
    cols.extend(
        (raw.columns().iter())
            .filter(|col| {
                col.name().as_str() != c.customer_id && col.name().as_str() != c.open_date
            })
            .filter(|col| ![super::ID, super::AS_OF, super::LABEL].contains(&col.name().as_str()))
            .cloned(),
    );
    let typed = DataFrame::new_infer_height(cols).map_err(err)?;
    // A repeated id keeps its first row: mark first occurrences (the
    // customer table, one row per customer, not the log).
    let ids = typed.column(super::ID).and_then(|c| c.str().cloned());
    let days = typed.column(OPEN_DAY).and_then(|c| c.i32().cloned());
    let (ids, days) = (ids.map_err(err)?, days.map_err(err)?);
    let mut seen: std::collections::HashSet<&str, foldhash::fast::FixedState> =
        std::collections::HashSet::with_capacity_and_hasher(ids.len(), Default::default());
    let mut valid = 0;
    let first: BooleanChunked = (ids.iter().zip(days.iter()))
        .map(|(id, day)| match (id, day) {
            (Some(id), Some(_)) => {
                valid += 1;
                Some(seen.insert(id))
            }
            _ => Some(false),
        })
        .collect();
    let customers = typed.filter(&first).map_err(err)?;
    counts.duplicate_id = valid - customers.height();
    counts.rows_used = customers.height();
    if customers.height() == 0 {
        return Err(Error::data(&src, "the customer table has no usable rows"));
    }
    Ok((customers, counts))
}

/// Error unless the frame has column `name`.
pub(super) fn require(df: &DataFrame, src: &str, name: &str) -> Result<()> {
    if df.column(name).is_err() {
        return Err(Error::at(
            src,
            name,
            None,
            "required column is missing (map it in [logs.columns])",
        ));
    }
    Ok(())
}
