//! Value tiers: k-means (linfa-clustering, k = 4) on standardised value and
//! activity features plus CLV, fitted on the training customers and stored in
//! the artifact so a customer's tier does not move because the batch changed.
//!
//! Clusters are named by ranking their centroids (z-scores): `value` is the
//! mean of the value features (balances, products, tenure, income, CLV),
//! `activity` the mean of the activity features (transactions, logins,
//! active flag, recent trend).
//! 1. high-value: the largest value + activity;
//! 2. dormant: of the rest, the largest value − activity (worth a lot, gone quiet);
//! 3. potential: of the last two, the more active (growth signals);
//! 4. low-value: the remaining one.

use crate::error::{Error, Result};
use crate::features::{median, FeatureData, FeatureTable};
use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::Array2;
use rand::{Rng, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const TIERS: [&str; 4] = ["high-value", "potential", "dormant", "low-value"];

/// Customers kept to fit the tiers: on a batch (`--refit-segments`), and
/// at training when there are more (k-means on every row of a large table
/// was a third of a 1M-row training job; the sample's centroids differ
/// little, and every customer is still assigned exactly, by its nearest).
/// 50,000 customers pin four centroids in a handful of standardised
/// dimensions far below the spread between tiers; k-means on 200,000 was
/// still 2 s of a 1M-row training job.
pub const REFIT_SAMPLE_ROWS: usize = 50_000;

/// Column names that suggest value, and activity, when none are configured.
const VALUE_HINTS: [&str; 9] = [
    "balance", "aum", "asset", "product", "tenure", "salary", "income", "revenue", "profit",
];
const ACTIVITY_HINTS: [&str; 8] = [
    "active",
    "txn",
    "transaction",
    "login",
    "visit",
    "frequency",
    "trend",
    "recency",
];

/// The fitted segment model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentModel {
    pub value_columns: Vec<String>,
    pub activity_columns: Vec<String>,
    /// Per feature (value columns, activity columns, then CLV): fill value, mean, std.
    pub fill: Vec<f64>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub centroids: Vec<Vec<f64>>,
    /// Tier name of each centroid.
    pub names: Vec<String>,
}

/// Numeric columns whose names match the hints (recency counts against activity,
/// so it is left to explicit configuration).
pub fn detect(table: &FeatureTable) -> (Vec<String>, Vec<String>) {
    let numeric = |n: &&String| matches!(table.get(n), Some(FeatureData::Numeric(_)));
    let has = |n: &str, hints: &[&str]| hints.iter().any(|h| n.to_ascii_lowercase().contains(h));
    let activity: Vec<String> = table
        .names
        .iter()
        .filter(numeric)
        .filter(|n| {
            has(n, &ACTIVITY_HINTS)
                && !n.to_ascii_lowercase().contains("recency")
                && !n.to_ascii_lowercase().contains("days_since")
        })
        .cloned()
        .collect();
    let value: Vec<String> = table
        .names
        .iter()
        .filter(numeric)
        .filter(|n| has(n, &VALUE_HINTS) && !activity.contains(n))
        .cloned()
        .collect();
    (value, activity)
}

impl SegmentModel {
    /// Fit on the training customers.
    pub fn fit(
        table: &FeatureTable,
        clv: &[f64],
        value: Vec<String>,
        activity: Vec<String>,
        seed: u64,
    ) -> Result<SegmentModel> {
        if value.is_empty() {
            return Err(Error::Config(
                "value tiers need at least one numeric value column (score.value_columns)".into(),
            ));
        }
        let cols = Self::columns(table, clv, &value, &activity)?;
        let fill: Vec<f64> = cols
            .iter()
            .map(|c| {
                median(
                    &mut c
                        .iter()
                        .copied()
                        .filter(|x| !x.is_nan())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut m = SegmentModel {
            value_columns: value,
            activity_columns: activity,
            fill,
            mean: vec![],
            std: vec![],
            centroids: vec![],
            names: vec![],
        };
        let raw = m.matrix_raw(&cols);
        let scaler = crate::features::Scaler::fit(&raw);
        (m.mean, m.std) = (scaler.mean, scaler.std);
        let z = m.standardise(raw);
        if z.nrows() < TIERS.len() {
            return Err(Error::Model("value tiers need at least 4 customers".into()));
        }
        let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed);
        let km = KMeans::params_with_rng(TIERS.len(), rng)
            .n_runs(4)
            .max_n_iterations(300)
            .fit(&DatasetBase::from(z))
            .map_err(|e| Error::Model(format!("k-means: {e}")))?;
        m.centroids = km
            .centroids()
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect();
        m.names = m.name_clusters();
        Ok(m)
    }

    fn columns(
        table: &FeatureTable,
        clv: &[f64],
        value: &[String],
        activity: &[String],
    ) -> Result<Vec<Vec<f64>>> {
        Ok(Self::column_slices(table, clv, value, activity)?
            .into_iter()
            .map(<[f64]>::to_vec)
            .collect())
    }

    /// [`SegmentModel::columns`], borrowed.
    fn column_slices<'a>(
        table: &'a FeatureTable,
        clv: &'a [f64],
        value: &[String],
        activity: &[String],
    ) -> Result<Vec<&'a [f64]>> {
        let mut out = Vec::new();
        for name in value.iter().chain(activity) {
            match table.get(name) {
                Some(FeatureData::Numeric(v)) => out.push(v.as_slice()),
                Some(_) => {
                    return Err(Error::Config(format!(
                        "value tier column '{name}' is not numeric"
                    )))
                }
                None => {
                    return Err(Error::Config(format!(
                        "value tier column '{name}' is not in the data"
                    )))
                }
            }
        }
        out.push(clv);
        Ok(out)
    }

    fn matrix_raw(&self, cols: &[Vec<f64>]) -> Array2<f64> {
        let n = cols.first().map_or(0, Vec::len);
        Array2::from_shape_fn((n, cols.len()), |(i, j)| {
            if cols[j][i].is_nan() {
                self.fill[j]
            } else {
                cols[j][i]
            }
        })
    }

    fn standardise(&self, mut x: Array2<f64>) -> Array2<f64> {
        crate::features::Scaler {
            mean: self.mean.clone(),
            std: self.std.clone(),
        }
        .apply(&mut x);
        x
    }

    fn name_clusters(&self) -> Vec<String> {
        let nv = self.value_columns.len();
        let na = self.activity_columns.len();
        let score = |c: &[f64]| {
            let value = (c[..nv].iter().sum::<f64>() + c[nv + na]) / (nv + 1) as f64;
            let activity = if na > 0 {
                c[nv..nv + na].iter().sum::<f64>() / na as f64
            } else {
                0.0
            };
            (value, activity)
        };
        let s: Vec<(f64, f64)> = self.centroids.iter().map(|c| score(c)).collect();
        let mut left: Vec<usize> = (0..s.len()).collect();
        let mut names = vec![String::new(); s.len()];
        let mut take = |key: &dyn Fn(usize) -> f64, name: &str, left: &mut Vec<usize>| {
            if let Some(pos) =
                (0..left.len()).max_by(|&a, &b| key(left[a]).total_cmp(&key(left[b])))
            {
                names[left.remove(pos)] = name.to_string();
            }
        };
        take(&|i| s[i].0 + s[i].1, "high-value", &mut left);
        take(&|i| s[i].0 - s[i].1, "dormant", &mut left);
        take(&|i| s[i].1, "potential", &mut left);
        take(&|_| 0.0, "low-value", &mut left);
        names
    }

    /// The tier of every row of `table` (which holds the segment columns).
    pub fn assign(&self, table: &FeatureTable, clv: &[f64]) -> Result<Vec<Arc<str>>> {
        use rayon::prelude::*;
        let cols = Self::column_slices(table, clv, &self.value_columns, &self.activity_columns)?;
        // Each row standardised as `standardise` does and sent to its
        // nearest centroid, rows in parallel; no matrix of every row.
        let nearest = |i: usize| {
            let z: Vec<f64> = cols
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let x = if c[i].is_nan() { self.fill[j] } else { c[i] };
                    (x - self.mean[j]) / self.std[j]
                })
                .collect();
            let d = |c: &Vec<f64>| c.iter().zip(&z).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
            (0..self.centroids.len())
                .min_by(|&a, &b| d(&self.centroids[a]).total_cmp(&d(&self.centroids[b])))
                .unwrap_or(0)
        };
        let tiers: Vec<usize> = (0..clv.len()).into_par_iter().map(nearest).collect();
        // Rows share their tier's name (one allocation per tier, not per row).
        let names: Vec<Arc<str>> = self.names.iter().map(|n| Arc::from(n.as_str())).collect();
        Ok(tiers.into_iter().map(|t| names[t].clone()).collect())
    }
}

/// A uniform sample (reservoir, seeded) of the tier inputs of a stream of
/// chunks: `--refit-segments` fits the tiers on the whole batch, which a
/// streaming job never holds in memory.
pub struct SegmentSample {
    value: Vec<String>,
    activity: Vec<String>,
    /// Per sampled customer: value columns, activity columns, CLV.
    rows: Vec<Vec<f64>>,
    seen: usize,
    rng: ChaCha8Rng,
}

impl SegmentSample {
    /// An empty sample of the `fitted` tiers' columns, or of those detected
    /// in `table` when the model has no tiers; `seed` draws the sample.
    pub fn new(fitted: Option<&SegmentModel>, table: &FeatureTable, seed: u64) -> SegmentSample {
        let fitted = fitted.map(|g| (g.value_columns.clone(), g.activity_columns.clone()));
        let (value, activity) = fitted.unwrap_or_else(|| detect(table));
        Self::of_columns(value, activity, seed)
    }

    /// An empty sample of these columns.
    pub fn of_columns(value: Vec<String>, activity: Vec<String>, seed: u64) -> SegmentSample {
        SegmentSample {
            value,
            activity,
            rows: Vec::new(),
            seen: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Offer every customer of a chunk (with its CLV) to the sample.
    pub fn add(&mut self, table: &FeatureTable, clv: &[f64]) -> Result<()> {
        let cols = SegmentModel::column_slices(table, clv, &self.value, &self.activity)?;
        for i in 0..clv.len() {
            let slot = if self.rows.len() < REFIT_SAMPLE_ROWS {
                self.rows.push(Vec::new());
                self.rows.len() - 1
            } else {
                self.rng.random_range(0..=self.seen)
            };
            if let Some(row) = self.rows.get_mut(slot) {
                row.clear();
                row.extend(cols.iter().map(|c| c[i]));
            }
            self.seen += 1;
        }
        Ok(())
    }

    /// Customers in the sample.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Is the sample empty?
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Customers offered so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Fit the tiers on the sample.
    pub fn fit(self, seed: u64) -> Result<SegmentModel> {
        let k = self.value.len() + self.activity.len();
        let column = |j: usize| self.rows.iter().map(|r| r[j]).collect::<Vec<f64>>();
        let mut table = FeatureTable::default();
        for (j, name) in self.value.iter().chain(&self.activity).enumerate() {
            table.push(name.clone(), FeatureData::Numeric(column(j)));
        }
        SegmentModel::fit(&table, &column(k), self.value, self.activity, seed)
    }
}
