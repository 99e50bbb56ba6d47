//! Quantisation of features into at most 255 bins per column.
//!
//! Cut points are quantiles of the training values (midpoints between
//! distinct values when there are few), bin 0 is reserved for missing values,
//! and the binned matrix is column-major `u8`, so a histogram pass over a
//! node's rows reads one byte per row and feature.

pub mod shared;

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Values sampled per feature to find quantiles on very large tables.
const QUANTILE_SAMPLE: usize = 200_000;

/// Per-feature cut points: value `v` falls in bin `1 + #{cuts < v}`; NaN in bin 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "CutsRepr", into = "CutsRepr")]
pub struct BinCuts {
    cuts: Vec<Vec<f64>>,
    /// Each feature's cuts padded with +∞ to [`SEARCH`] entries: a bin is
    /// found in branch-free halving steps over a fixed-size array, as many
    /// as the feature's cuts need (eight for 128–254 cuts, one for a flag),
    /// the hot step of binning a table.
    search: SearchTable,
}

/// Entries of a padded cut array: the most cuts there can be (254) and
/// at least one +∞ (8 halving steps cover 255 entries).
const SEARCH: usize = 256;

#[derive(Clone, PartialEq)]
struct SearchTable(Vec<Padded>);

/// One feature's padded cuts and its first halving step (0 without cuts).
#[derive(Clone, PartialEq)]
struct Padded {
    cuts: [f64; SEARCH],
    first_step: usize,
}

impl std::fmt::Debug for SearchTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SearchTable({} features)", self.0.len())
    }
}

/// Stored form: the cut points only.
#[derive(Serialize, Deserialize)]
struct CutsRepr {
    cuts: Vec<Vec<f64>>,
}

impl From<CutsRepr> for BinCuts {
    fn from(r: CutsRepr) -> BinCuts {
        BinCuts::new(r.cuts)
    }
}

impl From<BinCuts> for CutsRepr {
    fn from(c: BinCuts) -> CutsRepr {
        CutsRepr { cuts: c.cuts }
    }
}

/// A column-major matrix of bin indices.
pub struct BinnedMatrix {
    pub n_rows: usize,
    pub n_cols: usize,
    pub data: Vec<u8>,
    /// Bins per feature, missing bin included.
    pub n_bins: Vec<usize>,
}

impl BinnedMatrix {
    /// The bins of feature `f` for every row.
    #[inline]
    pub fn column(&self, f: usize) -> &[u8] {
        &self.data[f * self.n_rows..(f + 1) * self.n_rows]
    }
}

impl BinCuts {
    /// Cut points per feature (ascending; at most 254 are used for search,
    /// which is all [`BinCuts::fit`] makes; longer lists are refused when a
    /// model is loaded).
    pub fn new(cuts: Vec<Vec<f64>>) -> BinCuts {
        let search = cuts
            .iter()
            .map(|c| {
                let mut padded = [f64::INFINITY; SEARCH];
                padded.iter_mut().zip(c).for_each(|(p, &v)| *p = v);
                // k steps cover 2^k − 1 entries: k = the bit length of len.
                let k = usize::BITS - c.len().min(SEARCH - 1).leading_zeros();
                Padded {
                    cuts: padded,
                    first_step: (1usize << k) >> 1,
                }
            })
            .collect();
        BinCuts {
            cuts,
            search: SearchTable(search),
        }
    }

    /// Feature `f`'s cut points.
    pub fn of(&self, f: usize) -> &[f64] {
        &self.cuts[f]
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.cuts.len()
    }

    /// Whether every feature has at most the 254 cut points 255 bins allow.
    pub fn fits_in_bins(&self) -> bool {
        self.cuts.iter().all(|c| c.len() < SEARCH - 1)
    }

    /// Learn cut points from training rows `x` (rows × features).
    pub fn fit(x: ArrayView2<f64>, max_bins: usize) -> BinCuts {
        let max_bins = max_bins.clamp(2, 255);
        let cuts = (0..x.ncols())
            .into_par_iter()
            .map(|f| {
                let col = x.column(f);
                let step = col.len().div_ceil(QUANTILE_SAMPLE).max(1);
                let mut v: Vec<f64> = col
                    .iter()
                    .step_by(step)
                    .copied()
                    .filter(|x| !x.is_nan())
                    .collect();
                feature_cuts(&mut v, max_bins)
            })
            .collect();
        BinCuts::new(cuts)
    }

    /// Number of bins of feature `f`, missing bin included.
    pub fn n_bins(&self, f: usize) -> usize {
        self.cuts[f].len() + 2
    }

    /// The bin of value `v` for feature `f`.
    #[inline]
    pub fn bin(&self, f: usize, v: f64) -> u8 {
        bin_of(&self.search.0[f], v)
    }

    /// The raw-value threshold equivalent to "bin <= b" for feature `f`.
    pub fn threshold(&self, f: usize, b: u8) -> f64 {
        self.cuts[f]
            .get(b as usize - 1)
            .copied()
            .unwrap_or(f64::INFINITY)
    }

    /// Bin consecutive rows of `flat` (`p` raw values each, NaN = missing)
    /// into `out`, row-major: the form trees are walked on when predicting.
    ///
    /// A block of rows at a time, feature by feature within the block: one
    /// feature's padded cuts (2 KiB) stay in L1 cache while its values are
    /// binned; row by row, a model's tables did not fit. Measured on
    /// scoring with 20 offers models (a third of its time was binning):
    /// 20% fewer samples here.
    ///
    /// With `used`, only the features it marks are binned (the others stay
    /// 0): a gradient-boosted offers model splits on 20–38 of its 70 inputs.
    pub fn bin_rows(&self, flat: &[f64], p: usize, used: Option<&[bool]>, out: &mut Vec<u8>) {
        const BLOCK: usize = 64;
        let p = p.max(1);
        let flat = &flat[..flat.len() / p * p];
        out.clear();
        out.resize(flat.len(), 0);
        let wanted = |f: usize| used.is_none_or(|u| u[f]);
        for (rows, bins) in flat.chunks(BLOCK * p).zip(out.chunks_mut(BLOCK * p)) {
            for (f, search) in self.search.0.iter().enumerate().take(p) {
                if !wanted(f) {
                    continue;
                }
                let values = rows[f..].iter().step_by(p);
                for (b, &v) in bins[f..].iter_mut().step_by(p).zip(values) {
                    *b = bin_of(search, v);
                }
            }
        }
    }

    /// Bin every row of `x`.
    pub fn transform(&self, x: ArrayView2<f64>) -> BinnedMatrix {
        let (n, p) = x.dim();
        let mut data = vec![0u8; n * p];
        data.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(f, out)| {
                let search = &self.search.0[f];
                for (o, &v) in out.iter_mut().zip(x.column(f)) {
                    *o = bin_of(search, v);
                }
            });
        BinnedMatrix {
            n_rows: n,
            n_cols: p,
            data,
            n_bins: (0..p).map(|f| self.n_bins(f)).collect(),
        }
    }
}

/// The bin of `v` among padded cuts: 0 when missing, else 1 + #{cuts < v}
/// (the padding's +∞ is never below a value).
#[inline(always)]
fn bin_of(search: &Padded, v: f64) -> u8 {
    let (mut at, mut step) = (0, search.first_step);
    while step > 0 {
        // at + step − 1 ≤ 2·first_step − 2 ≤ 254: the mask only spares
        // the bounds check.
        let below = search.cuts[(at + step - 1) & (SEARCH - 1)] < v;
        // Half the steps go each way: a branch would mispredict half the time.
        at += std::hint::select_unpredictable(below, step, 0);
        step /= 2;
    }
    if v.is_nan() {
        0
    } else {
        at as u8 + 1
    }
}

/// Cut points of one feature from its (non-missing) values.
fn feature_cuts(v: &mut [f64], max_bins: usize) -> Vec<f64> {
    v.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<f64> = Vec::new();
    for &x in v.iter() {
        if distinct.last() != Some(&x) {
            distinct.push(x);
        }
    }
    if distinct.len() <= max_bins {
        return distinct
            .windows(2)
            .map(|w| w[0] + (w[1] - w[0]) / 2.0)
            .collect();
    }
    let mut cuts: Vec<f64> = Vec::with_capacity(max_bins - 1);
    for q in 1..max_bins {
        let c = v[q * v.len() / max_bins];
        if cuts.last() != Some(&c) && c < distinct[distinct.len() - 1] {
            cuts.push(c);
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bins_match_thresholds() {
        let x = array![[1.0], [2.0], [2.0], [f64::NAN], [5.0]];
        let cuts = BinCuts::fit(x.view(), 255);
        assert_eq!(cuts.of(0), vec![1.5, 3.5]);
        let b = cuts.transform(x.view());
        assert_eq!(b.column(0), &[1, 2, 2, 0, 3]);
        for v in [0.0, 1.5, 2.0, 3.0, 9.0] {
            for bin in 1..=3u8 {
                assert_eq!(cuts.bin(0, v) <= bin, v <= cuts.threshold(0, bin));
            }
        }
    }

    #[test]
    fn padded_search_counts_the_cuts_below_for_every_length() {
        // 0 to 254 cuts: each searched in as few steps as its length needs.
        for len in (0..=254).step_by(7).chain([1, 2, 3, 4, 127, 128, 253, 254]) {
            let cuts: Vec<f64> = (0..len).map(|i| i as f64 * 2.0).collect();
            let table = BinCuts::new(vec![cuts.clone()]);
            for k in -3..(2 * len as i32 + 3) {
                let v = k as f64 * 0.75;
                let want = 1 + cuts.partition_point(|&c| c < v);
                assert_eq!(table.bin(0, v) as usize, want, "{len} cuts, value {v}");
            }
            assert_eq!(table.bin(0, f64::NAN), 0);
            assert_eq!(table.bin(0, f64::INFINITY) as usize, 1 + len);
            let mut rows = Vec::new();
            table.bin_rows(&[f64::NAN, -1.0, 1e9], 1, None, &mut rows);
            assert_eq!(rows, vec![0, 1, 1 + len as u8]);
        }
    }

    #[test]
    fn many_values_are_quantised() {
        let x = ndarray::Array2::from_shape_fn((10_000, 1), |(i, _)| i as f64);
        let cuts = BinCuts::fit(x.view(), 16);
        assert_eq!(cuts.of(0).len(), 15);
        let b = cuts.transform(x.view());
        let top = b.column(0).iter().filter(|&&v| v == 16).count();
        assert!((600..=650).contains(&top), "{top}");
    }
}
