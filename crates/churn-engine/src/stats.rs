//! Ranking statistics shared by evaluation and by the tree engine (a forest
//! reports its out-of-bag ROC AUC): they sit below both, so a model never
//! imports the evaluation stage. [`crate::evaluate::metrics`] re-exports
//! them beside the other metrics.

/// Row indices by descending score (`f64::total_cmp`); ties keep their
/// original order.
///
/// A stable least-significant-digit radix sort of the scores' order-keeping
/// bit patterns, 16 bits a pass, passing over digits every score shares
/// (a comparison sort of a million scores was ~0.1 s, and a training run
/// ranks the same out-of-fold scores for every metric and chart).
pub fn order_desc(p: &[f64]) -> Vec<usize> {
    // Descending total order as ascending u64: flip what total_cmp would
    // put first to the end.
    let key = |x: f64| {
        let b = x.to_bits();
        !(if b >> 63 == 1 { !b } else { b | 1 << 63 })
    };
    // Fewer rows: a comparison sort beats clearing the digit counts.
    if p.len() < RADIX_FROM {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by_key(|&i| key(p[i]));
        return order;
    }
    // (key, row) pairs move together, so every pass reads in order.
    let mut pairs: Vec<(u64, usize)> = p.iter().map(|&x| key(x)).zip(0..).collect();
    let mut next = vec![(0u64, 0usize); p.len()];
    let (all_or, all_and) = pairs
        .iter()
        .fold((0u64, u64::MAX), |(o, a), &(k, _)| (o | k, a & k));
    let mut start = vec![0usize; 1 << 16];
    for shift in (0..64).step_by(16) {
        if ((all_or ^ all_and) >> shift) & 0xffff == 0 {
            continue; // every key has this digit
        }
        let digit = |k: u64| ((k >> shift) & 0xffff) as usize;
        start.iter_mut().for_each(|s| *s = 0);
        for &(k, _) in &pairs {
            start[digit(k)] += 1;
        }
        let mut sum = 0;
        for s in start.iter_mut() {
            (*s, sum) = (sum, sum + *s);
        }
        for &pair in &pairs {
            let d = digit(pair.0);
            next[start[d]] = pair;
            start[d] += 1;
        }
        std::mem::swap(&mut pairs, &mut next);
    }
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// The values a sort of `values` would put at ranks `q * n / parts`, for
/// q = 1 .. parts (ranks past the end left out), found by selection, each
/// in the part above the last: no sort of every value. `values` (no NaN)
/// is reordered.
pub fn quantile_cuts(values: &mut [f64], parts: usize) -> Vec<f64> {
    let (n, mut from) = (values.len(), 0);
    (1..parts)
        .map(|q| q * n / parts)
        .filter(|&k| k < n)
        .map(|k| {
            let e = *values[from..]
                .select_nth_unstable_by(k - from, f64::total_cmp)
                .1;
            from = k;
            e
        })
        .collect()
}

/// [`quantile_cuts`] of the values that are not missing (NaN).
pub fn cuts_of(values: &[f64], parts: usize) -> Vec<f64> {
    let mut present: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    quantile_cuts(&mut present, parts)
}

/// The quintile cuts within decile cuts of the same values: the k-th
/// smallest at q·n/5 is the one at 2q·n/10, the 2nd, 4th, 6th and 8th
/// decile cut. `None` unless all nine deciles are there.
pub fn quintiles_of_deciles(deciles: &[f64]) -> Option<Vec<f64>> {
    (deciles.len() == 9).then(|| vec![deciles[1], deciles[3], deciles[5], deciles[7]])
}

/// Rows from which [`order_desc`] sorts by radix.
const RADIX_FROM: usize = 1 << 14;

/// ROC curve points (fpr, tpr, threshold), one per distinct score, starting at (0, 0).
pub fn roc_curve(y: &[u8], p: &[f64]) -> Vec<(f64, f64, f64)> {
    roc_curve_in(y, p, &order_desc(p))
}

/// [`roc_curve`] with the scores' order ([`order_desc`]) already known:
/// one sort of a score vector serves every curve drawn from it.
pub fn roc_curve_in(y: &[u8], p: &[f64], idx: &[usize]) -> Vec<(f64, f64, f64)> {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    let mut out = vec![(0.0, 0.0, f64::INFINITY)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if k + 1 == idx.len() || p[idx[k + 1]] != p[i] {
            out.push((
                if neg > 0.0 { fp / neg } else { 0.0 },
                if pos > 0.0 { tp / pos } else { 0.0 },
                p[i],
            ));
        }
    }
    out
}

/// Area under the ROC curve (ties count half), NaN with one class only.
pub fn roc_auc(y: &[u8], p: &[f64]) -> f64 {
    auc_of(&roc_curve(y, p), y)
}

/// [`roc_auc`] from a curve [`roc_curve`] already built for labels `y`
/// (one ranking serves the AUC and the KS).
pub fn auc_of(curve: &[(f64, f64, f64)], y: &[u8]) -> f64 {
    let pos = y.iter().filter(|&&v| v == 1).count();
    if pos == 0 || pos == y.len() {
        return f64::NAN;
    }
    curve
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_desc_is_the_stable_comparison_order() {
        let mut p: Vec<f64> = (0..40_000u64)
            .map(|i| ((i * 2_654_435_761) % 997) as f64 / 97.0 - 3.0)
            .collect();
        p.extend([
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            -1e300,
        ]);
        p.extend([0.5; 7]);
        let want_of = |p: &[f64]| {
            let mut want: Vec<usize> = (0..p.len()).collect();
            want.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            want
        };
        let want = want_of(&p);
        assert_eq!(order_desc(&p), want);
        assert_eq!(order_desc(&p[..100]), want_of(&p[..100]));
        assert_eq!(order_desc(&[]), Vec::<usize>::new());
        assert_eq!(order_desc(&[0.3; 4]), vec![0, 1, 2, 3]);
    }
}
