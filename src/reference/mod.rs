//! What training fits *for* scoring, besides the model: warning-level
//! cut-offs derived from the training scores, reference distributions of
//! every input and of the score for drift (PSI) monitoring, the value-tier
//! segment model ([`segment`]) and the CLV definition ([`value`]). Fitted
//! once on the training customers so that levels and tiers are stable
//! between batches.
//!
//! Why a module of its own: training builds it, the artifact stores it and
//! scoring (and the training report) read it, so it sits below all of them
//! and imports none of them.

pub mod roles;
pub mod segment;
pub mod thresholds;
pub mod value;

use crate::error::Result;
use crate::fast::{FastMap, FastSet};
use crate::features::{Category, Deciles, FeatureData, FeatureTable, Level};
use roles::Roles;
use segment::{SegmentModel, SegmentSample};
use serde::{Deserialize, Serialize};
use value::ClvConfig;

/// PSI above this is flagged `watch`.
pub const WATCH: f64 = 0.1;
/// PSI above this is flagged `shift`.
pub const SHIFT: f64 = 0.25;

/// Quantile bins of the numeric reference histograms.
pub const DRIFT_BINS: usize = 10;

/// Probability cut-offs: red ≥ `red`, orange ≥ `orange`, yellow ≥ `yellow`, else green.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarningCutoffs {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

impl WarningCutoffs {
    /// From the training threshold `t` and training scores: orange at the
    /// threshold (every flagged customer), red for the riskiest 5% (or the
    /// threshold, if higher), yellow from the base churn rate (above-average
    /// risk) up to the threshold.
    pub fn derive(threshold: f64, scores: &[f64], base_rate: f64) -> WarningCutoffs {
        Self::derive_at(threshold, scores, base_rate, 0.95)
    }

    /// A group's cut-offs when its red level cannot be matched on
    /// precision (train::thresholds): as
    /// [`WarningCutoffs::derive`], with the red share scaled by the
    /// group's churn rate against everyone's (`5% × rate / overall`,
    /// between 1% and 50%), so that red means about the same risk in a
    /// month (or group) where more customers leave as in one where fewer
    /// do.
    pub fn derive_for_group(
        threshold: f64,
        scores: &[f64],
        base_rate: f64,
        overall_rate: f64,
    ) -> WarningCutoffs {
        let share = (0.05 * base_rate / overall_rate.max(f64::MIN_POSITIVE)).clamp(0.01, 0.5);
        Self::derive_at(threshold, scores, base_rate, 1.0 - share)
    }

    /// A group's cut-offs with red at `red` (never below the threshold).
    pub fn with_red(threshold: f64, red: f64, base_rate: f64) -> WarningCutoffs {
        WarningCutoffs {
            red: red.max(threshold),
            orange: threshold,
            yellow: base_rate.min(threshold),
        }
    }

    /// The cut-offs with red from the `quantile` of `scores`.
    fn derive_at(threshold: f64, scores: &[f64], base_rate: f64, quantile: f64) -> WarningCutoffs {
        // The quantile's score: the element a full sort would put at that
        // index, found by selection.
        let mut s = scores.to_vec();
        let k = ((s.len() as f64) * quantile) as usize;
        let q95 = if k < s.len() {
            *s.select_nth_unstable_by(k, f64::total_cmp).1
        } else {
            threshold
        };
        Self::with_red(threshold, q95, base_rate)
    }

    pub fn level(&self, p: f64) -> &'static str {
        if p >= self.red {
            "red"
        } else if p >= self.orange {
            "orange"
        } else if p >= self.yellow {
            "yellow"
        } else {
            "green"
        }
    }
}

/// A reference distribution: bin shares of training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub name: String,
    /// Upper edges of numeric bins (value <= edge), empty for categories.
    #[serde(default)]
    pub edges: Vec<f64>,
    /// Category levels (categorical columns), empty for numbers.
    #[serde(default)]
    pub levels: Vec<String>,
    /// Shares per bin: numeric bins, then one for missing (or: levels, other, missing).
    pub shares: Vec<f64>,
    /// Smallest training value (numeric columns): a negative value where
    /// training had none is impossible data and is rejected at scoring.
    #[serde(default)]
    pub min: Option<f64>,
}

impl Histogram {
    /// Reference histogram of numeric values (NaN = missing): decile edges.
    pub fn numeric(name: &str, values: &[f64]) -> Histogram {
        // The deciles of the values, by selection (a million values are
        // not sorted per column).
        Self::numeric_with(name, values, crate::stats::cuts_of(values, DRIFT_BINS))
    }

    /// [`Histogram::numeric`] with the values' deciles already cut
    /// ([`crate::stats::cuts_of`]); repeated edges are kept once.
    pub fn numeric_with(name: &str, values: &[f64], mut edges: Vec<f64>) -> Histogram {
        let min = values
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .min_by(f64::total_cmp);
        edges.dedup();
        let mut h = Histogram {
            name: name.into(),
            edges,
            levels: vec![],
            shares: vec![],
            min,
        };
        h.shares = h
            .numeric_counts(values)
            .into_iter()
            .map(|c| c / values.len().max(1) as f64)
            .collect();
        h
    }

    /// Reference histogram of categories (`None` = missing).
    pub fn categorical(name: &str, values: &[Category]) -> Histogram {
        let mut levels: Vec<String> = values
            .iter()
            .flatten()
            .map(Level)
            .collect::<FastSet<Level>>()
            .into_iter()
            .map(|l| l.0.to_string())
            .collect();
        levels.sort_unstable();
        levels.dedup();
        levels.truncate(crate::features::MAX_LEVELS);
        let mut h = Histogram {
            name: name.into(),
            edges: vec![],
            levels,
            shares: vec![],
            min: None,
        };
        h.shares = h
            .category_counts(values)
            .into_iter()
            .map(|c| c / values.len().max(1) as f64)
            .collect();
        h
    }

    /// Counts of `values` in this histogram's numeric bins (+ missing).
    pub fn numeric_counts(&self, values: &[f64]) -> Vec<f64> {
        // Whole counts (exact, as the sums of ones were), the bin by
        // comparing with every edge rather than a branchy binary search.
        let mut c = vec![0u64; self.edges.len() + 2];
        for &x in values {
            let b = if x.is_nan() {
                self.edges.len() + 1
            } else {
                self.edges.iter().filter(|&&e| e < x).count()
            };
            c[b] += 1;
        }
        c.into_iter().map(|n| n as f64).collect()
    }

    /// Counts of `values` in this histogram's levels (+ other, + missing).
    pub fn category_counts(&self, values: &[Category]) -> Vec<f64> {
        let mut c = vec![0.0; self.levels.len() + 2];
        // Each distinct value is looked up among the levels once.
        let mut bins: FastMap<Level, usize> = FastMap::default();
        for v in values {
            let b = match v {
                None => self.levels.len() + 1,
                Some(s) => *bins.entry(Level(s)).or_insert_with(|| {
                    crate::features::spelling::find(&self.levels, s).unwrap_or(self.levels.len())
                }),
            };
            c[b] += 1.0;
        }
        c
    }

    /// Counts of a column of a table in this histogram's bins.
    pub fn counts(&self, data: &FeatureData) -> Vec<f64> {
        match data {
            FeatureData::Numeric(v) => self.numeric_counts(v),
            FeatureData::Categorical(v) => self.category_counts(v),
        }
    }
}

/// Population stability index of observed `counts` against reference `shares`
/// (shares floored at 1e-4 so empty bins stay finite).
pub fn psi(reference: &[f64], counts: &[f64]) -> f64 {
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    reference
        .iter()
        .zip(counts)
        .map(|(&r, &c)| {
            let (e, a) = (r.max(1e-4), (c / total).max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// Everything scoring needs from training besides model and pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringReference {
    pub warning: WarningCutoffs,
    pub features: Vec<Histogram>,
    pub score: Histogram,
    pub base_rate: f64,
    pub segments: Option<SegmentModel>,
    /// The columns' value roles decided at training (CLV and tiers read
    /// them); absent in artifacts from before roles, which keep the older
    /// name match ([`value::margins`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Roles>,
    /// Thresholds per customer group (`--threshold-by`); absent, one
    /// threshold serves everyone (artifacts from before keep their bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<thresholds::GroupThresholds>,
}

impl ScoringReference {
    /// Reference histograms of every input column (numbers cut at their
    /// `deciles`, [`crate::features::deciles`] of `table`).
    pub fn histograms(table: &FeatureTable, deciles: &Deciles) -> Vec<Histogram> {
        use rayon::prelude::*;
        table
            .names
            .par_iter()
            .zip(&table.columns)
            .zip(deciles)
            .map(|((n, c), d)| match (c, d) {
                (FeatureData::Numeric(v), Some(d)) => Histogram::numeric_with(n, v, d.clone()),
                (FeatureData::Numeric(v), None) => Histogram::numeric(n, v),
                (FeatureData::Categorical(v), _) => Histogram::categorical(n, v),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_on_same_and_large_on_shift() {
        let v: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let h = Histogram::numeric("x", &v);
        assert!(psi(&h.shares, &h.numeric_counts(&v)) < 1e-9);
        let shifted: Vec<f64> = v.iter().map(|x| x + 500.0).collect();
        assert!(psi(&h.shares, &h.numeric_counts(&shifted)) > 0.25);
    }

    #[test]
    fn levels() {
        let w = WarningCutoffs::derive(
            0.4,
            &(0..100).map(|i| i as f64 / 100.0).collect::<Vec<_>>(),
            0.2,
        );
        assert_eq!((w.red, w.orange, w.yellow), (0.95, 0.4, 0.2));
        assert_eq!(
            [w.level(0.97), w.level(0.5), w.level(0.3), w.level(0.1)],
            ["red", "orange", "yellow", "green"]
        );
    }
}

/// What the reference is built with (the training run's settings).
#[derive(Debug, Clone, Copy)]
pub struct ReferenceParams<'a> {
    /// Value and activity columns of the tiers (both empty: the roles').
    pub value_columns: &'a [String],
    pub activity_columns: &'a [String],
    pub roles: &'a Roles,
    pub clv: &'a ClvConfig,
    pub seed: u64,
}

impl ScoringReference {
    /// Build from the training customers and the refitted model's scores.
    pub fn build(
        params: ReferenceParams,
        table: &FeatureTable,
        y: &[u8],
        scores: &[f64],
        threshold: f64,
        deciles: &Deciles,
    ) -> Result<ScoringReference> {
        let base_rate = y.iter().map(|&v| v as f64).sum::<f64>() / y.len().max(1) as f64;
        let (value, activity) = if params.value_columns.is_empty() {
            (
                params.roles.value_columns(),
                params.roles.activity_columns(),
            )
        } else {
            (
                params.value_columns.to_vec(),
                params.activity_columns.to_vec(),
            )
        };
        let segments = || -> Result<Option<SegmentModel>> {
            if value.is_empty() {
                return Ok(None);
            }
            let clv = value::clvs(params.clv, Some(params.roles), table, scores);
            Ok(Some(if clv.len() > segment::REFIT_SAMPLE_ROWS {
                let mut sample = SegmentSample::of_columns(value, activity, params.seed);
                sample.add(table, &clv)?;
                sample.fit(params.seed)?
            } else {
                SegmentModel::fit(table, &clv, value, activity, params.seed)?
            }))
        };
        // The tiers' k-means (a sample, iterated) and the histograms (every
        // row, a pass per column) share the cores.
        let (segments, (features, score)) = rayon::join(segments, || {
            (
                Self::histograms(table, deciles),
                Histogram::numeric("churn_probability", scores),
            )
        });
        Ok(ScoringReference {
            warning: WarningCutoffs::derive(threshold, scores, base_rate),
            features,
            score,
            base_rate,
            segments: segments?,
            roles: Some(params.roles.clone()),
            thresholds: None,
        })
    }
}
