//! Growing trees on per-node histograms: depth-wise CART for forests and
//! single trees ([`depthwise`]), leaf-wise for gradient boosting
//! ([`leafwise`]). Both find a node's best split with one scan
//! ([`best_split`]): bins in order with the rows so far on the left,
//! missing values (bin 0) tried on either side; each grower decides what
//! a candidate is worth (impurity or gradient gain) and which it refuses.

pub mod depthwise;
pub mod leafwise;

/// The best split of a node found so far: a feature, the last bin on the
/// left, where missing values go, its gain and the left side's statistics
/// (`N` of them per histogram bin).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split<const N: usize> {
    pub feature: usize,
    pub bin: u8,
    pub missing_left: bool,
    pub gain: f64,
    pub left: [f64; N],
}

/// The best split of feature `feature` from its histogram `h`. The
/// candidates come in the order both growers try them: for each bin `b` ≥ 1
/// (all rows in bins 1..=b on the left), missing values (bin 0) on the
/// right, then on the left. A bin that is empty by statistic `empty` is
/// skipped unless it is the last, and missing values are tried on the left
/// only when there are some. `gain_of(left)` prices a candidate by its
/// left side's statistics (sums added in bin order, so every grower sees
/// the same bits), or refuses it with `None`; the first of the best gains
/// wins.
#[inline]
pub(crate) fn best_split<const N: usize>(
    feature: usize,
    h: &[[f64; N]],
    empty: usize,
    mut gain_of: impl FnMut(&[f64; N]) -> Option<f64>,
) -> Option<Split<N>> {
    let miss = h[0];
    let mut cum = [0.0; N];
    let mut best: Option<Split<N>> = None;
    for b in 1..h.len() {
        for k in 0..N {
            cum[k] += h[b][k];
        }
        if h[b][empty] == 0.0 && b + 1 < h.len() {
            continue;
        }
        for missing_left in [false, true] {
            if missing_left && miss[empty] == 0.0 {
                continue;
            }
            let left = match missing_left {
                true => std::array::from_fn(|k| cum[k] + miss[k]),
                false => cum,
            };
            if let Some(gain) = gain_of(&left) {
                let candidate = Split {
                    feature,
                    bin: b as u8,
                    missing_left,
                    gain,
                    left,
                };
                Split::keep(&mut best, candidate);
            }
        }
    }
    best
}

impl<const N: usize> Split<N> {
    /// Whether a row goes left, by its bin in the split feature's column
    /// `col`: missing values (bin 0) to the side the split learned.
    #[inline]
    pub fn goes_left<'c>(&self, col: &'c [u8]) -> impl Fn(u32) -> bool + 'c {
        let (bin, missing_left) = (self.bin, self.missing_left);
        move |r: u32| {
            let b = col[r as usize];
            if b == 0 {
                missing_left
            } else {
                b <= bin
            }
        }
    }

    /// Keep the better of `best` and this candidate (a tie keeps the
    /// earlier one).
    #[inline]
    pub fn keep(best: &mut Option<Self>, candidate: Self) {
        if best.is_none_or(|s| candidate.gain > s.gain) {
            *best = Some(candidate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_come_in_bin_order_with_missing_on_both_sides() {
        // Bin 0 missing (1 row), bin 2 empty (skipped), bin 3 the last.
        let h = [[1.0, 0.5], [2.0, 1.0], [0.0, 0.0], [3.0, 1.5]];
        let mut seen = Vec::new();
        let none = best_split(7, &h, 0, |left| {
            seen.push(*left);
            None
        });
        assert!(none.is_none(), "every candidate refused");
        assert_eq!(seen, vec![[2.0, 1.0], [3.0, 1.5], [5.0, 2.5], [6.0, 3.0]]);
        // The first of equal gains wins; its bin and side are kept.
        let best = best_split(7, &h, 0, |left| {
            Some(if left[0] >= 5.0 { 1.0 } else { 0.5 })
        });
        let best = best.unwrap();
        assert_eq!(
            (best.feature, best.bin, best.missing_left, best.left),
            (7, 3, false, [5.0, 2.5])
        );
        // No missing rows: the left-missing candidates are not tried.
        let h = [[0.0, 0.0], [2.0, 1.0], [3.0, 1.5]];
        let mut n = 0;
        best_split(0, &h, 0, |_| {
            n += 1;
            None
        });
        assert_eq!(n, 2);
    }
}
