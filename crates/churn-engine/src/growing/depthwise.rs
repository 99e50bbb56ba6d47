//! Growing one CART tree on binned data with per-node histograms.
//!
//! Each node's histogram holds, per feature and bin, the row count, the
//! weight and the churn weight. When every feature is a candidate (a single
//! decision tree) only the smaller child's histogram is built and the larger
//! one is the parent's minus it (sibling subtraction); a forest, which looks
//! at a few random features per split, builds just those. Missing values have
//! their own bin and every split learns which side they go to.

use crate::binning::BinnedMatrix;
use crate::params::tree::{Criterion, TreeParams};
use crate::tree::{heavy_first, Node, Tree};
use rand::Rng;
use rayon::prelude::*;

/// Rows in a node above which histograms are built in parallel over features.
const PARALLEL_ROWS: usize = 50_000;

/// (row count, weight, churn weight)
type Stat = [f64; 3];

/// A leaf at `index` holding the churn share of stats `s`.
fn leaf(index: usize, s: &Stat) -> Node {
    Node::leaf(
        index,
        if s[1] > 0.0 {
            (s[2] / s[1]) as f32
        } else {
            0.0
        },
    )
}

/// Weighted impurity × weight of a node with these stats.
#[inline]
fn score(s: &Stat, c: Criterion) -> f64 {
    let (w, wy) = (s[1], s[2]);
    if w <= 0.0 {
        return 0.0;
    }
    match c {
        Criterion::Gini => 2.0 * wy * (w - wy) / w,
        Criterion::Entropy => {
            let p = (wy / w).clamp(0.0, 1.0);
            let h = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
            w * (h(p) + h(1.0 - p))
        }
    }
}

type Split = super::Split<3>;

fn sub(a: &Stat, b: &Stat) -> Stat {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The best split of one feature from its histogram `h`.
fn best_for_feature(f: usize, h: &[Stat], tot: &Stat, p: &TreeParams) -> Option<Split> {
    let msl = p.min_samples_leaf as f64;
    let parent = score(tot, p.criterion);
    // A bin with no rows (statistic 0) is no place to cut.
    super::best_split(f, h, 0, |left| {
        let right = sub(tot, left);
        if left[0] < msl || right[0] < msl || left[1] <= 0.0 || right[1] <= 0.0 {
            return None;
        }
        Some(parent - score(left, p.criterion) - score(&right, p.criterion))
    })
}

/// A node waiting to be split: its rows as a range, its depth, its
/// histogram when it was built (or derived from its sibling's) and its
/// totals.
struct Item {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    hist: Option<Vec<Stat>>,
    tot: Stat,
}

/// Grows trees over one binned matrix; holds the per-row weights.
pub struct Grower<'a> {
    pub bins: &'a BinnedMatrix,
    pub y: &'a [u8],
    offsets: Vec<usize>,
}

impl<'a> Grower<'a> {
    pub fn new(bins: &'a BinnedMatrix, y: &'a [u8]) -> Self {
        let mut offsets = vec![0];
        for &nb in &bins.n_bins {
            offsets.push(offsets.last().copied().unwrap_or(0) + nb);
        }
        Grower { bins, y, offsets }
    }

    fn build(&self, hist: &mut [Stat], feats: &[usize], rows: &[u32], w: &[f32]) {
        let fill = |f: usize, h: &mut [Stat]| {
            h.iter_mut().for_each(|e| *e = [0.0; 3]);
            let col = self.bins.column(f);
            for &r in rows {
                let r = r as usize;
                let e = &mut h[col[r] as usize];
                let wr = w[r] as f64;
                e[0] += 1.0;
                e[1] += wr;
                e[2] += wr * self.y[r] as f64;
            }
        };
        if rows.len() >= PARALLEL_ROWS && feats.len() > 1 {
            let parts: Vec<(usize, Vec<Stat>)> = feats
                .par_iter()
                .map(|&f| {
                    let mut h = vec![[0.0; 3]; self.offsets[f + 1] - self.offsets[f]];
                    fill(f, &mut h);
                    (f, h)
                })
                .collect();
            for (f, h) in parts {
                hist[self.offsets[f]..self.offsets[f + 1]].copy_from_slice(&h);
            }
        } else {
            for &f in feats {
                fill(f, &mut hist[self.offsets[f]..self.offsets[f + 1]]);
            }
        }
    }

    fn best(&self, hist: &[Stat], feats: &[usize], tot: &Stat, p: &TreeParams) -> Option<Split> {
        let mut best: Option<Split> = None;
        for &f in feats {
            if let Some(s) =
                best_for_feature(f, &hist[self.offsets[f]..self.offsets[f + 1]], tot, p)
            {
                // Ties go to the lower feature index, whatever the sampling order.
                if best
                    .is_none_or(|b| s.gain > b.gain || (s.gain == b.gain && s.feature < b.feature))
                {
                    best = Some(s);
                }
            }
        }
        best
    }

    /// Grow a tree on `rows` (rows with weight > 0) with per-row weights
    /// `w`, trying `max_features` random features at each split.
    /// Adds each split's impurity decrease to `importance`.
    /// The (row count, weight, churn weight) of `rows`.
    fn totals(&self, rows: &[u32], w: &[f32]) -> Stat {
        rows.iter().fold([0.0; 3], |acc, &r| {
            let wr = w[r as usize] as f64;
            [
                acc[0] + 1.0,
                acc[1] + wr,
                acc[2] + wr * self.y[r as usize] as f64,
            ]
        })
    }

    pub fn grow<R: Rng>(
        &self,
        mut rows: Vec<u32>,
        w: &[f32],
        p: &TreeParams,
        max_features: usize,
        rng: &mut R,
        importance: &mut [f64],
    ) -> Tree {
        let n_feat = self.bins.n_cols;
        let full = max_features >= n_feat;
        let total_bins = *self.offsets.last().unwrap_or(&0);
        let all: Vec<usize> = (0..n_feat).collect();
        let mut feats = all.clone();
        let mut scratch = vec![[0.0; 3]; if full { 0 } else { total_bins }];
        let root_hist = full.then(|| {
            let mut h = vec![[0.0; 3]; total_bins];
            self.build(&mut h, &all, &rows, w);
            h
        });
        let tot = self.totals(&rows, w);
        let root_weight = tot[1].max(f64::MIN_POSITIVE);
        let mut nodes = vec![leaf(0, &tot)];
        let mut rows_in = vec![tot[0]];
        let mut stack = vec![Item {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            hist: root_hist,
            tot,
        }];
        while let Some(it) = stack.pop() {
            let pure = it.tot[2] <= 0.0 || it.tot[2] >= it.tot[1];
            if pure
                || (p.max_depth > 0 && it.depth >= p.max_depth)
                || it.tot[0] < 2.0 * p.min_samples_leaf as f64
            {
                continue;
            }
            let node_rows = &rows[it.start..it.end];
            let split = match &it.hist {
                Some(h) => self.best(h, &all, &it.tot, p),
                None => {
                    let k = max_features.min(n_feat);
                    for i in 0..k {
                        let j = rng.random_range(i..n_feat);
                        feats.swap(i, j);
                    }
                    self.build(&mut scratch, &feats[..k], node_rows, w);
                    self.best(&scratch, &feats[..k], &it.tot, p)
                }
            };
            let Some(s) = split.filter(|s| s.gain > 1e-12 && s.gain / root_weight >= p.min_gain)
            else {
                continue;
            };
            let goes_left = s.goes_left(self.bins.column(s.feature));
            let mid = it.start + partition(&mut rows[it.start..it.end], goes_left);
            let right_tot = sub(&it.tot, &s.left);
            let left_id = nodes.len();
            nodes.push(leaf(left_id, &s.left));
            nodes.push(leaf(left_id + 1, &right_tot));
            rows_in.extend([s.left[0], right_tot[0]]);
            let n = &mut nodes[it.node];
            n.feature = s.feature as u16;
            n.bin = s.bin;
            n.missing_left = s.missing_left;
            n.left = left_id as u32;
            importance[s.feature] += s.gain;
            let (left_hist, right_hist) = match it.hist {
                Some(mut parent) => {
                    let left_small = mid - it.start <= it.end - mid;
                    let small_rows = if left_small {
                        &rows[it.start..mid]
                    } else {
                        &rows[mid..it.end]
                    };
                    let mut small = vec![[0.0; 3]; total_bins];
                    self.build(&mut small, &all, small_rows, w);
                    parent
                        .iter_mut()
                        .zip(&small)
                        .for_each(|(a, b)| *a = sub(a, b));
                    if left_small {
                        (Some(small), Some(parent))
                    } else {
                        (Some(parent), Some(small))
                    }
                }
                None => (None, None),
            };
            let depth = it.depth + 1;
            stack.push(Item {
                node: left_id + 1,
                start: mid,
                end: it.end,
                depth,
                hist: right_hist,
                tot: right_tot,
            });
            stack.push(Item {
                node: left_id,
                start: it.start,
                end: mid,
                depth,
                hist: left_hist,
                tot: s.left,
            });
        }
        Tree {
            nodes: heavy_first(&nodes, &rows_in),
        }
    }
}

/// Stable-enough in-place partition; returns the number of `true` rows (now first).
fn partition(rows: &mut [u32], mut pred: impl FnMut(u32) -> bool) -> usize {
    let mut k = 0;
    for i in 0..rows.len() {
        if pred(rows[i]) {
            rows.swap(i, k);
            k += 1;
        }
    }
    k
}
