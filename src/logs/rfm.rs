//! RFM scores: recency, frequency (transactions in 365 days) and monetary
//! value (amount in 365 days) each scored 1–5 by quintile — 5 is the most
//! recent, most frequent, highest-spending fifth. The four cut points per
//! measure are fitted on the training table and stored in the artifact, so
//! scoring sorts a customer with the training cuts (a batch's own quintiles
//! would move with every batch). `rfm_cell` is the three digits, e.g. `534`.

use crate::error::{Error, Result};
use polars::prelude::*;
use polars_lazy::prelude::*;
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

/// Σ (x > cut) as an integer expression.
fn above(name: &str, cuts: &[f64; 4]) -> Expr {
    cuts.iter()
        .map(|&c| col(name).gt(lit(c)).cast(DataType::Int32))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0))
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
    pub fn apply(&self, src: &str, table: DataFrame) -> Result<DataFrame> {
        let r = lit(5) - above(RECENCY, &self.recency);
        let f = lit(1) + above(FREQUENCY, &self.frequency);
        let m = lit(1) + above(MONETARY, &self.monetary);
        table
            .lazy()
            .with_columns([r.alias("r_score"), f.alias("f_score"), m.alias("m_score")])
            .with_column(
                (col("r_score") * lit(100) + col("f_score") * lit(10) + col("m_score"))
                    .cast(DataType::String)
                    .alias(CELL),
            )
            .with_columns([
                col("r_score").cast(DataType::Float64),
                col("f_score").cast(DataType::Float64),
                col("m_score").cast(DataType::Float64),
            ])
            .collect()
            .map_err(|e| Error::polars(src, e))
    }
}
