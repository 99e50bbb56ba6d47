//! Drift monitoring: the population stability index (PSI) of every input and
//! of the score against the training reference, accumulated chunk by chunk.
//! PSI > 0.1 is flagged `watch`, > 0.25 `shift`.

use crate::features::FeatureTable;
use crate::reference::{psi, ScoringReference, SHIFT, WATCH};
use rayon::prelude::*;
use serde::Serialize;

/// PSI of one column.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DriftRow {
    pub name: String,
    pub psi: f64,
    pub status: &'static str,
}

/// Share of training and of this batch's customers in one score bin.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BinShare {
    /// The bin: `≤0.123` (upper edge), `>0.456` for the last bin.
    pub bin: String,
    pub reference: f64,
    pub current: f64,
}

/// Running bin counts of a scoring job.
pub struct Drift {
    features: Vec<Vec<f64>>,
    score: Vec<f64>,
}

impl Drift {
    pub fn new(r: &ScoringReference) -> Drift {
        Drift {
            features: r
                .features
                .iter()
                .map(|h| vec![0.0; h.shares.len()])
                .collect(),
            score: vec![0.0; r.score.shares.len()],
        }
    }

    pub fn add(&mut self, r: &ScoringReference, table: &FeatureTable, scores: &[f64]) {
        // One column per task: binning every value of a chunk is serial work
        // between two parallel predictions.
        r.features
            .par_iter()
            .zip(&mut self.features)
            .for_each(|(h, acc)| {
                if let Some(col) = table.get(&h.name) {
                    acc.iter_mut().zip(h.counts(col)).for_each(|(a, c)| *a += c);
                }
            });
        self.score
            .iter_mut()
            .zip(r.score.numeric_counts(scores))
            .for_each(|(a, c)| *a += c);
    }

    /// PSI of the score, then of every feature (largest first).
    pub fn finish(&self, r: &ScoringReference) -> (DriftRow, Vec<DriftRow>) {
        let row = |name: &str, shares: &[f64], counts: &[f64]| {
            let v = psi(shares, counts);
            DriftRow {
                name: name.to_string(),
                psi: v,
                status: if v > SHIFT {
                    "shift"
                } else if v > WATCH {
                    "watch"
                } else {
                    "stable"
                },
            }
        };
        let score = row("churn_probability", &r.score.shares, &self.score);
        let mut features: Vec<DriftRow> = r
            .features
            .iter()
            .zip(&self.features)
            .map(|(h, c)| row(&h.name, &h.shares, c))
            .collect();
        features.sort_by(|a, b| b.psi.total_cmp(&a.psi).then(a.name.cmp(&b.name)));
        (score, features)
    }

    /// Score distribution of this batch against training, on the training
    /// score deciles (so each reference bin holds about 10%).
    pub fn score_distribution(&self, r: &ScoringReference) -> Vec<BinShare> {
        let edges = &r.score.edges;
        let total: f64 = self.score.iter().sum::<f64>().max(1.0);
        (0..=edges.len())
            .map(|b| BinShare {
                bin: if b < edges.len() {
                    format!("≤{:.3}", edges[b])
                } else {
                    format!(">{:.3}", edges.last().copied().unwrap_or(0.0))
                },
                reference: r.score.shares[b],
                current: self.score[b] / total,
            })
            .collect()
    }
}
