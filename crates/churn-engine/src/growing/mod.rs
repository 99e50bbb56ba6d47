//! Growing trees on per-node histograms: depth-wise CART for forests and
//! single trees ([`depthwise`]), leaf-wise for gradient boosting
//! ([`leafwise`]). Both find a node's best split with one scan
//! ([`candidates`]): bins in order with the rows so far on the left,
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

/// Every split candidate of one feature's histogram `h`, in the order both
/// growers try them: for each bin `b` ≥ 1 (all rows in bins 1..=b on the
/// left), missing values (bin 0) on the right, then on the left. A bin
/// that is empty by statistic `empty` is skipped unless it is the last,
/// and missing values are tried on the left only when there are some.
/// `try_split(bin, missing_left, left)` gets each candidate's left side;
/// sums are added in bin order, so every grower sees the same bits.
#[inline]
pub(crate) fn candidates<const N: usize>(
    h: &[[f64; N]],
    empty: usize,
    mut try_split: impl FnMut(u8, bool, [f64; N]),
) {
    let miss = h[0];
    let mut cum = [0.0; N];
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
            try_split(b as u8, missing_left, left);
        }
    }
}

impl<const N: usize> Split<N> {
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
        candidates(&h, 0, |b, m, left| seen.push((b, m, left)));
        assert_eq!(
            seen,
            vec![
                (1, false, [2.0, 1.0]),
                (1, true, [3.0, 1.5]),
                (3, false, [5.0, 2.5]),
                (3, true, [6.0, 3.0]),
            ]
        );
        // No missing rows: the left-missing candidates are not tried.
        let h = [[0.0, 0.0], [2.0, 1.0], [3.0, 1.5]];
        let mut n = 0;
        candidates(&h, 0, |_, m, _| n += usize::from(!m) + 10 * usize::from(m));
        assert_eq!(n, 2);
    }
}
