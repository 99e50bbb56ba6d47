//! Curves and tables behind the report charts: precision–recall, gains and
//! lift by decile, calibration, score histograms by class.

use super::metrics::order_desc;

/// Points (x, y) of a line chart.
pub type Curve = Vec<(f64, f64)>;

/// Precision–recall points (recall, precision), one per distinct score.
pub fn pr_curve(y: &[u8], p: &[f64]) -> Vec<(f64, f64)> {
    pr_curve_in(y, p, &order_desc(p))
}

/// [`pr_curve`] with the scores' order ([`order_desc`]) already known.
pub fn pr_curve_in(y: &[u8], p: &[f64], idx: &[usize]) -> Vec<(f64, f64)> {
    let pos = y.iter().filter(|&&v| v == 1).count().max(1) as f64;
    let (mut tp, mut seen) = (0.0, 0.0);
    let mut out = Vec::new();
    for (k, &i) in idx.iter().enumerate() {
        tp += y[i] as f64;
        seen += 1.0;
        if k + 1 == idx.len() || p[idx[k + 1]] != p[i] {
            out.push((tp / pos, tp / seen));
        }
    }
    out
}

/// Per decile of score (highest first): (cumulative share of churners
/// captured, lift of the decile = its churn rate / overall churn rate).
pub fn deciles(y: &[u8], p: &[f64]) -> Vec<(f64, f64)> {
    deciles_in(y, &order_desc(p))
}

/// [`deciles`] with the scores' order ([`order_desc`]) already known.
pub fn deciles_in(y: &[u8], idx: &[usize]) -> Vec<(f64, f64)> {
    let n = y.len();
    let pos = y.iter().filter(|&&v| v == 1).count().max(1) as f64;
    let base = pos / n.max(1) as f64;
    let mut out = Vec::new();
    let mut captured = 0.0;
    for d in 0..10 {
        let (a, b) = (d * n / 10, (d + 1) * n / 10);
        let hits = idx[a..b].iter().filter(|&&i| y[i] == 1).count() as f64;
        captured += hits;
        let rate = if b > a { hits / (b - a) as f64 } else { 0.0 };
        out.push((captured / pos, rate / base.max(1e-12)));
    }
    out
}

/// Equal-width probability bin of score `s` (1.0 falls in the last bin).
fn bin_of(s: f64, bins: usize) -> usize {
    ((s * bins as f64) as usize).min(bins - 1)
}

/// One calibration bin: mean predicted, observed churn rate, count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalBin {
    pub predicted: f64,
    pub observed: f64,
    pub count: usize,
}

/// Reliability curve on `bins` equal-width probability bins (empty bins left out).
pub fn calibration(y: &[u8], p: &[f64], bins: usize) -> Vec<CalBin> {
    let mut acc = vec![(0.0, 0.0, 0usize); bins];
    for (&t, &s) in y.iter().zip(p) {
        let b = bin_of(s, bins);
        acc[b].0 += s;
        acc[b].1 += t as f64;
        acc[b].2 += 1;
    }
    acc.into_iter()
        .filter(|a| a.2 > 0)
        .map(|(sp, sy, c)| CalBin {
            predicted: sp / c as f64,
            observed: sy / c as f64,
            count: c,
        })
        .collect()
}

/// Share of each class's rows in `bins` equal-width score bins: (churners, non-churners).
pub fn histograms(y: &[u8], p: &[f64], bins: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut h1, mut h0) = (vec![0.0; bins], vec![0.0; bins]);
    for (&t, &s) in y.iter().zip(p) {
        let b = bin_of(s, bins);
        if t == 1 {
            h1[b] += 1.0
        } else {
            h0[b] += 1.0
        }
    }
    let (n1, n0) = (
        h1.iter().sum::<f64>().max(1.0),
        h0.iter().sum::<f64>().max(1.0),
    );
    (
        h1.iter().map(|v| v / n1).collect(),
        h0.iter().map(|v| v / n0).collect(),
    )
}

/// KS curves: x = share of customers (highest score first), cumulative share
/// of churners and of non-churners, and the point of the largest gap. The
/// gap is taken only between distinct scores (as in
/// [`ks`](super::metrics::ks)), so the marked value equals the reported KS.
pub fn ks_curves(y: &[u8], p: &[f64]) -> (Curve, Curve, (f64, f64, f64)) {
    ks_curves_in(y, p, &order_desc(p))
}

/// [`ks_curves`] with the scores' order ([`order_desc`]) already known.
pub fn ks_curves_in(y: &[u8], p: &[f64], idx: &[usize]) -> (Curve, Curve, (f64, f64, f64)) {
    let pos = y.iter().filter(|&&v| v == 1).count().max(1) as f64;
    let neg = (y.len() as f64 - pos).max(1.0);
    let n = y.len().max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let (mut c1, mut c0) = (vec![(0.0, 0.0)], vec![(0.0, 0.0)]);
    let mut best = (0.0, 0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        let x = (k + 1) as f64 / n;
        c1.push((x, tp / pos));
        c0.push((x, fp / neg));
        let group_end = k + 1 == idx.len() || p[idx[k + 1]] != p[i];
        if group_end && tp / pos - fp / neg > best.2 - best.1 {
            best = (x, fp / neg, tp / pos);
        }
    }
    (c1, c0, best)
}

/// At most `max` points of a curve (keeps the last), for small reports.
pub fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(max.max(1)).max(1);
    let last = points.last().copied();
    let mut out: Vec<(f64, f64)> = points.into_iter().step_by(step).collect();
    if let Some(l) = last.filter(|l| out.last() != Some(l)) {
        out.push(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_and_calibration() {
        let y: Vec<u8> = (0..100).map(|i| (i < 20) as u8).collect();
        let p: Vec<f64> = (0..100).map(|i| 1.0 - i as f64 / 100.0).collect();
        let d = deciles(&y, &p);
        assert_eq!(d[0], (0.5, 5.0));
        assert_eq!(d[1].0, 1.0);
        assert!((d[9].0 - 1.0).abs() < 1e-12);
        let c = calibration(&y, &p, 10);
        assert_eq!(c.iter().map(|b| b.count).sum::<usize>(), 100);
        let (h1, h0) = histograms(&y, &p, 10);
        assert!(
            (h1.iter().sum::<f64>() - 1.0).abs() < 1e-12
                && (h0.iter().sum::<f64>() - 1.0).abs() < 1e-12
        );
    }

    #[test]
    fn ks_gap_is_the_reported_ks_even_with_tied_scores() {
        // Inside the tie at 0.8 the churners come first; splitting the tie
        // would show a gap of 2/3 where the ranking has none.
        for (y, p) in [
            (vec![1, 1, 0, 0, 1, 0], vec![0.8, 0.8, 0.8, 0.8, 0.2, 0.2]),
            (
                vec![1, 0, 1, 0, 0, 1, 0, 0],
                vec![0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.1, 0.1],
            ),
        ] {
            let (_, _, gap) = ks_curves(&y, &p);
            assert!(
                (gap.2 - gap.1 - super::super::metrics::ks(&y, &p).0).abs() < 1e-12,
                "{y:?}"
            );
        }
    }
}
