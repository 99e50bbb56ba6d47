//! One binning of a table for many tree models over the same inputs (the
//! offers' product models, twenty of them on one customer matrix).
//!
//! Why: each model bins with cuts of its own, so scoring offers searched
//! the cuts of every model for every input it splits on: a fifth of the
//! whole scoring job. Here each cell is ranked once among the union of all
//! the models' cuts for its feature, and a model's bin is then a lookup by
//! that rank in a table of its own. The bins are exactly those
//! [`BinCuts::bin_rows`] gives (0 missing, else 1 + the model's cuts below
//! the value): the union is sorted, so the union entries below a value are
//! its first `rank`, and a model's cuts below the value are its cuts among
//! them.

use crate::binning::BinCuts;
use rayon::prelude::*;

/// The rank of a missing cell.
const MISSING: u16 = u16::MAX;

/// Rows ranked per parallel task.
const RANK_ROWS: usize = 4096;

/// The union of several models' cuts, and each model's bin by rank.
#[derive(Debug)]
pub struct SharedCuts {
    /// Per feature: every model's cuts, sorted, each value once.
    union: Vec<Vec<f64>>,
    /// Per model, per feature: the bin of a value of each rank
    /// (`union[f].len() + 1` entries).
    tables: Vec<Vec<Vec<u8>>>,
}

impl SharedCuts {
    /// Shared cuts of `models` (in this order); `None` when they do not
    /// bin the same number of features or a union outgrows 16-bit ranks.
    pub fn new(models: &[&BinCuts]) -> Option<SharedCuts> {
        let p = models.first()?.n_features();
        if models.iter().any(|c| c.n_features() != p) {
            return None;
        }
        let union: Vec<Vec<f64>> = (0..p)
            .map(|f| {
                let mut u: Vec<f64> = models.iter().flat_map(|c| c.of(f)).copied().collect();
                u.sort_by(f64::total_cmp);
                u.dedup_by(|a, b| a == b);
                u
            })
            .collect();
        if union.iter().any(|u| u.len() >= MISSING as usize) {
            return None;
        }
        let tables = models
            .iter()
            .map(|c| {
                (0..p)
                    .map(|f| {
                        let own = c.of(f);
                        let mut below = 0;
                        // Rank 0: no cut below; after union entry x: own cuts ≤ x.
                        std::iter::once(1u8)
                            .chain(union[f].iter().map(|&x| {
                                while below < own.len() && own[below] <= x {
                                    below += 1;
                                }
                                (1 + below) as u8
                            }))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Some(SharedCuts { union, tables })
    }

    /// Features binned.
    pub fn n_features(&self) -> usize {
        self.union.len()
    }

    /// Every cell's rank among the union of its feature (`flat` holds rows
    /// of [`SharedCuts::n_features`] values; a NaN is missing).
    pub fn rank_rows(&self, flat: &[f64]) -> Vec<u16> {
        let p = self.n_features().max(1);
        let mut ranks = vec![0u16; flat.len()];
        ranks
            .par_chunks_mut(RANK_ROWS * p)
            .zip(flat.par_chunks(RANK_ROWS * p))
            .for_each(|(ranks, values)| {
                for (row_ranks, row) in ranks.chunks_mut(p).zip(values.chunks(p)) {
                    for ((r, &v), union) in row_ranks.iter_mut().zip(row).zip(&self.union) {
                        *r = match v.is_nan() {
                            true => MISSING,
                            false => union.partition_point(|&c| c < v) as u16,
                        };
                    }
                }
            });
        ranks
    }

    /// Model `m`'s bins of ranked rows, as [`BinCuts::bin_rows`] gives them
    /// from the values (with `used`, the other features stay 0).
    pub fn bin_rows(&self, m: usize, ranks: &[u16], used: Option<&[bool]>, out: &mut Vec<u8>) {
        let p = self.n_features().max(1);
        out.clear();
        out.resize(ranks.len() / p * p, 0);
        let tables: Vec<(usize, &[u8])> = self.tables[m]
            .iter()
            .enumerate()
            .filter(|&(f, _)| used.is_none_or(|u| u[f]))
            .map(|(f, t)| (f, t.as_slice()))
            .collect();
        for (row_ranks, bins) in ranks.chunks_exact(p).zip(out.chunks_exact_mut(p)) {
            for &(f, table) in &tables {
                let r = row_ranks[f];
                if r != MISSING {
                    bins[f] = table[r as usize];
                }
            }
        }
    }
}
