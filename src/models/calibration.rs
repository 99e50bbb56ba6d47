//! Probability calibration (`--calibrate none|sigmoid|isotonic`), fitted on
//! pooled out-of-fold scores as scikit-learn's CalibratedClassifierCV with
//! one calibrator, stored in the artifact and applied in scoring before
//! thresholds and warning levels.
//!
//! `sigmoid` is Platt scaling on the score's logit, P = sigmoid(a·logit(p) +
//! b), fitted by Newton's method on Platt's smoothed targets (so a = 1, b = 0
//! leaves scores unchanged). `isotonic` is the pool-adjacent-violators
//! fit of the observed churn rate as a non-decreasing function of the
//! score, read between fitted points by linear interpolation and clipped at
//! the ends (as scikit-learn's IsotonicRegression with `out_of_bounds="clip"`).

use serde::{Deserialize, Serialize};

/// Which calibrator a run fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    #[default]
    None,
    Sigmoid,
    Isotonic,
}

/// A fitted calibrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    Sigmoid {
        a: f64,
        b: f64,
    },
    /// Fitted points: scores ascending, calibrated probabilities non-decreasing.
    Isotonic {
        x: Vec<f64>,
        y: Vec<f64>,
    },
}

const EPS: f64 = 1e-6;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPS, 1.0 - EPS);
    (p / (1.0 - p)).ln()
}

impl Calibrator {
    /// Fit `method` on scores `p` with 0/1 labels `y`; `None` for `none`
    /// or when there is nothing to fit on.
    pub fn fit(method: Calibration, y: &[u8], p: &[f64]) -> Option<Calibrator> {
        if y.is_empty() || y.len() != p.len() {
            return None;
        }
        match method {
            Calibration::None => None,
            Calibration::Sigmoid => Some(platt(y, p)),
            Calibration::Isotonic => Some(isotonic(y, p)),
        }
    }

    /// The calibrated probability of score `p`.
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Calibrator::Sigmoid { a, b } => 1.0 / (1.0 + (-(a * logit(p) + b)).exp()),
            Calibrator::Isotonic { x, y } => {
                if x.is_empty() {
                    return p;
                }
                let k = x.partition_point(|&v| v < p);
                if k == 0 {
                    return y[0];
                }
                if k == x.len() {
                    return y[x.len() - 1];
                }
                let (x0, x1, y0, y1) = (x[k - 1], x[k], y[k - 1], y[k]);
                if x1 > x0 {
                    y0 + (y1 - y0) * (p - x0) / (x1 - x0)
                } else {
                    y1
                }
            }
        }
    }

    /// Calibrate every score in place.
    pub fn apply_all(&self, p: &mut [f64]) {
        p.iter_mut().for_each(|v| *v = self.apply(*v));
    }
}

/// Platt scaling on logits with Platt's target smoothing.
fn platt(y: &[u8], p: &[f64]) -> Calibrator {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    let (t_pos, t_neg) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let s: Vec<f64> = p.iter().map(|&v| logit(v)).collect();
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..100 {
        // Gradient and Hessian of the log loss in (a, b).
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&si, &yi) in s.iter().zip(y) {
            let t = if yi == 1 { t_pos } else { t_neg };
            let q = 1.0 / (1.0 + (-(a * si + b)).exp());
            let (d, w) = (q - t, (q * (1.0 - q)).max(1e-12));
            ga += d * si;
            gb += d;
            haa += w * si * si;
            hab += w * si;
            hbb += w;
        }
        let (haa, hbb) = (haa + 1e-12, hbb + 1e-12);
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-10 && db.abs() < 1e-10 {
            break;
        }
    }
    Calibrator::Sigmoid { a, b }
}

/// Pool adjacent violators over scores sorted ascending (ties pooled first).
fn isotonic(y: &[u8], p: &[f64]) -> Calibrator {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    // Blocks: (min score, max score, label sum, rows).
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let v = p[order[i]];
        let (mut sum, mut n) = (0.0, 0.0);
        while i < order.len() && p[order[i]] == v {
            sum += y[order[i]] as f64;
            n += 1.0;
            i += 1;
        }
        blocks.push((v, v, sum, n));
        while blocks.len() >= 2 {
            let (l, r) = (blocks[blocks.len() - 2], blocks[blocks.len() - 1]);
            if l.2 / l.3 < r.2 / r.3 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (l.0, r.1, l.2 + r.2, l.3 + r.3);
        }
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for &(lo, hi, sum, n) in &blocks {
        let v = sum / n;
        xs.push(lo);
        ys.push(v);
        if hi > lo {
            xs.push(hi);
            ys.push(v);
        }
    }
    Calibrator::Isotonic { x: xs, y: ys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_is_monotone_and_pools_violators() {
        let p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let y = [0, 1, 0, 0, 1, 1];
        let Calibrator::Isotonic { x, y: v } = isotonic(&y, &p) else {
            panic!()
        };
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        assert!(x.windows(2).all(|w| w[0] <= w[1]));
        let c = Calibrator::Isotonic { x, y: v };
        // 0.2..0.4 pool to 1/3; the ends are clipped.
        assert!((c.apply(0.3) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.apply(0.0), 0.0);
        assert_eq!(c.apply(0.9), 1.0);
    }

    #[test]
    fn platt_leaves_calibrated_scores_nearly_alone_and_fixes_squashed_ones() {
        // Labels drawn so that P(y=1 | p) = p: a ≈ 1, b ≈ 0.
        let n = 20_000;
        let p: Vec<f64> = (0..n)
            .map(|i| 0.02 + 0.96 * (i as f64 + 0.5) / n as f64)
            .collect();
        let y: Vec<u8> = p
            .iter()
            .enumerate()
            .map(|(i, &q)| {
                (((i as u64).wrapping_mul(2654435761) % 10_000) as f64 / 10_000.0 < q) as u8
            })
            .collect();
        let Calibrator::Sigmoid { a, b } = platt(&y, &p) else {
            panic!()
        };
        assert!((a - 1.0).abs() < 0.1 && b.abs() < 0.1, "a {a} b {b}");
        // Squashed towards 0.5 (logit halved): Platt finds a ≈ 2.
        let squashed: Vec<f64> = p
            .iter()
            .map(|&q| 1.0 / (1.0 + (-0.5 * logit(q)).exp()))
            .collect();
        let Calibrator::Sigmoid { a, .. } = platt(&y, &squashed) else {
            panic!()
        };
        assert!((a - 2.0).abs() < 0.2, "a {a}");
    }
}
