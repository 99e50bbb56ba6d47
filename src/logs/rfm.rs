//! RFM scores: recency, frequency (transactions in 365 days) and monetary
//! value (amount in 365 days) each scored 1–5 by quintile — 5 is the most
//! recent, most frequent, highest-spending fifth. The four cut points per
//! measure are fitted on the training table and stored in the artifact, so
//! scoring sorts a customer with the training cuts (a batch's own quintiles
//! would move with every batch). `rfm_cell` is the three digits, e.g. `534`.

use super::fold::lt;
use crate::error::{Error, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub const CELL: &str = "rfm_cell";
const RECENCY: &str = "recency_days";
const FREQUENCY: &str = "txn_count_365d";
const MONETARY: &str = "txn_amount_365d";

/// Quintile cut points (20, 40, 60, 80%) of the three measures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RfmCuts {
    pub recency: [f64; 4],
    pub frequency: [f64; 4],
    pub monetary: [f64; 4],
}

/// The 20/40/60/80% quantiles (nearest rank) of a column.
fn quintiles(src: &str, table: &DataFrame, name: &str) -> Result<[f64; 4]> {
    let c = table.column(name).map_err(|e| Error::polars(src, e))?;
    let c = c
        .cast(&DataType::Float64)
        .map_err(|e| Error::polars(src, e))?;
    let mut v: Vec<f64> = c
        .f64()
        .map_err(|e| Error::polars(src, e))?
        .into_no_null_iter()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return Err(Error::data(
            src,
            "no customer in the snapshot: RFM cut points cannot be fitted",
        ));
    }
    v.sort_unstable_by(f64::total_cmp);
    Ok([0.2, 0.4, 0.6, 0.8]
        .map(|q| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]))
}

/// Σ (x > cut) per row of column `name` (null where x is), in polars'
/// order of floats (NaN above every cut).
fn above(src: &str, table: &DataFrame, name: &str, cuts: &[f64; 4]) -> Result<Vec<Option<i32>>> {
    let c = table.column(name).map_err(|e| Error::polars(src, e))?;
    let c = c.f64().map_err(|e| Error::polars(src, e))?;
    Ok(c.iter()
        .map(|x| x.map(|x| cuts.iter().map(|&cut| i32::from(lt(cut, x))).sum()))
        .collect())
}

/// The three columns the cut points are fitted on.
pub fn measures(src: &str, table: &DataFrame) -> Result<DataFrame> {
    table
        .select([RECENCY, FREQUENCY, MONETARY])
        .map_err(|e| Error::polars(src, e))
}

impl RfmCuts {
    /// Fit the cut points on a snapshot table.
    pub fn fit(src: &str, table: &DataFrame) -> Result<RfmCuts> {
        Ok(RfmCuts {
            recency: quintiles(src, table, RECENCY)?,
            frequency: quintiles(src, table, FREQUENCY)?,
            monetary: quintiles(src, table, MONETARY)?,
        })
    }

    /// Add `r_score`, `f_score`, `m_score` (numbers) and `rfm_cell` (text).
    pub fn apply(&self, src: &str, mut table: DataFrame) -> Result<DataFrame> {
        let r = above(src, &table, RECENCY, &self.recency)?;
        let f = above(src, &table, FREQUENCY, &self.frequency)?;
        let m = above(src, &table, MONETARY, &self.monetary)?;
        let score = |v: &[Option<i32>], name: &str, of: fn(i32) -> i32| {
            let v = v.iter().map(|x| x.map(|x| f64::from(of(x))));
            Float64Chunked::from_iter_options(name.into(), v).into_column()
        };
        let cell: StringChunked = (r.iter().zip(&f).zip(&m))
            .map(|((r, f), m)| Some((5 - (*r)?) * 100 + (1 + (*f)?) * 10 + 1 + (*m)?))
            .map(|c| c.map(|c| c.to_string()))
            .collect();
        for c in [
            score(&r, "r_score", |x| 5 - x),
            score(&f, "f_score", |x| 1 + x),
            score(&m, "m_score", |x| 1 + x),
            cell.with_name(CELL.into()).into_column(),
        ] {
            table.with_column(c).map_err(|e| Error::polars(src, e))?;
        }
        Ok(table)
    }
}
