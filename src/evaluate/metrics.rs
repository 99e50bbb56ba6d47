//! Classification metrics, computed exactly as scikit-learn does (checked in
//! tests against ../shared/reference/metrics_cases.json to 1e-9).
//!
//! Threshold metrics count a row as predicted churn when its score is
//! `>= threshold`. KS is the largest gap between the cumulative score
//! distributions of churners and non-churners, i.e. max(TPR − FPR).

pub use crate::stats::{order_desc, roc_auc, roc_curve};
use serde::{Deserialize, Serialize};

/// Confusion matrix at the threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub tn: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub tp: usize,
}

/// Every metric reported for a set of scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub ks: f64,
    /// The score at which the KS gap is largest.
    pub ks_score: f64,
    pub brier: f64,
    pub log_loss: f64,
    pub lift_top10: f64,
    pub capture_top10: f64,
    pub threshold: f64,
    pub confusion: Confusion,
    /// Expected maximum profit per customer (EMPC, [`super::profit`], the
    /// paper's parameters) and the share of customers its optimum contacts.
    /// Absent (NaN) in artifacts from before they were measured.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub empc: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub empc_rate: f64,
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

/// Names of the scalar metrics, in report order.
pub const METRIC_NAMES: [&str; 14] = [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "ks",
    "brier",
    "log_loss",
    "lift_top10",
    "capture_top10",
    "threshold",
    "empc",
    "empc_rate",
];

impl Metrics {
    /// All metrics of scores `p` against labels `y` at `threshold`.
    pub fn compute(y: &[u8], p: &[f64], threshold: f64) -> Metrics {
        let c = confusion(y, p, threshold);
        let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = div(c.tp, c.tp + c.fp);
        let recall = div(c.tp, c.tp + c.fn_);
        let f1 = div(2 * c.tp, 2 * c.tp + c.fp + c.fn_);
        // One ranking for the ROC AUC and the KS.
        let curve = roc_curve(y, p);
        let (ks, ks_score) = ks_of(&curve);
        let capture = capture_rate(y, p, 0.1);
        let base = div(y.iter().filter(|&&v| v == 1).count(), y.len());
        let k = top_count(y.len(), 0.1);
        let profit = super::profit::empc(y, p, &super::profit::ProfitParams::default());
        Metrics {
            accuracy: div(c.tp + c.tn, y.len()),
            precision,
            recall,
            f1,
            roc_auc: crate::stats::auc_of(&curve, y),
            pr_auc: average_precision(y, p),
            ks,
            ks_score,
            brier: brier(y, p),
            log_loss: log_loss(y, p),
            lift_top10: if base > 0.0 && k > 0 {
                capture * y.len() as f64 / k as f64
            } else {
                0.0
            },
            capture_top10: capture,
            threshold,
            confusion: c,
            empc: profit.empc,
            empc_rate: profit.rate,
        }
    }

    /// A scalar metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "accuracy" => self.accuracy,
            "precision" => self.precision,
            "recall" => self.recall,
            "f1" => self.f1,
            "roc_auc" => self.roc_auc,
            "pr_auc" => self.pr_auc,
            "ks" => self.ks,
            "brier" => self.brier,
            "log_loss" => self.log_loss,
            "lift_top10" => self.lift_top10,
            "capture_top10" => self.capture_top10,
            "threshold" => self.threshold,
            "empc" => self.empc,
            "empc_rate" => self.empc_rate,
            _ => return None,
        })
    }

    /// `Some(true)` if higher is better, `Some(false)` for losses, `None` if unknown.
    pub fn higher_is_better(name: &str) -> Option<bool> {
        match name {
            "brier" | "log_loss" => Some(false),
            "threshold" | "empc_rate" => None,
            n if METRIC_NAMES.contains(&n) => Some(true),
            _ => None,
        }
    }
}

/// Confusion matrix with `score >= threshold` as predicted churn.
pub fn confusion(y: &[u8], p: &[f64], threshold: f64) -> Confusion {
    let mut c = Confusion::default();
    for (&t, &s) in y.iter().zip(p) {
        match (t == 1, s >= threshold) {
            (true, true) => c.tp += 1,
            (true, false) => c.fn_ += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
        }
    }
    c
}

/// KS statistic and the score where it is reached.
pub fn ks(y: &[u8], p: &[f64]) -> (f64, f64) {
    ks_of(&roc_curve(y, p))
}

/// [`ks`] from a curve [`roc_curve`] already built.
pub fn ks_of(curve: &[(f64, f64, f64)]) -> (f64, f64) {
    curve.iter().fold((0.0, f64::NAN), |best, &(fpr, tpr, t)| {
        if tpr - fpr > best.0 {
            (tpr - fpr, t)
        } else {
            best
        }
    })
}

/// Average precision: Σ (R_k − R_{k−1}) P_k over descending distinct thresholds.
pub fn average_precision(y: &[u8], p: &[f64]) -> f64 {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    if pos == 0.0 {
        return f64::NAN;
    }
    let idx = order_desc(p);
    let (mut tp, mut seen, mut ap, mut last_recall) = (0.0, 0.0, 0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        tp += y[i] as f64;
        seen += 1.0;
        if k + 1 == idx.len() || p[idx[k + 1]] != p[i] {
            let recall = tp / pos;
            ap += (recall - last_recall) * (tp / seen);
            last_recall = recall;
        }
    }
    ap
}

/// Mean squared error of the probabilities.
pub fn brier(y: &[u8], p: &[f64]) -> f64 {
    y.iter()
        .zip(p)
        .map(|(&t, &s)| (s - t as f64).powi(2))
        .sum::<f64>()
        / y.len().max(1) as f64
}

/// Cross-entropy, probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
pub fn log_loss(y: &[u8], p: &[f64]) -> f64 {
    weighted_log_loss(y, p, 1.0)
}

/// [`log_loss`] with every 0 label weighing `negative_weight` (the inverse
/// of the share of them kept, when they were sampled); with weight 1 the
/// same bits as the unweighted mean.
pub fn weighted_log_loss(y: &[u8], p: &[f64], negative_weight: f64) -> f64 {
    let eps = 1e-15;
    let negatives = y.iter().filter(|&&t| t != 1).count() as f64;
    let total = (y.len() as f64 - negatives) + negative_weight * negatives;
    y.iter()
        .zip(p)
        .map(|(&t, &s)| {
            let s = s.clamp(eps, 1.0 - eps);
            if t == 1 {
                -s.ln()
            } else {
                -negative_weight * (1.0 - s).ln()
            }
        })
        .sum::<f64>()
        / total.max(1.0)
}

/// Rows in the top `share` of scores (rounded up).
pub fn top_count(n: usize, share: f64) -> usize {
    ((n as f64 * share) - 1e-9).ceil().max(0.0) as usize
}

/// Share of all churners found among the top `share` of scores.
pub fn capture_rate(y: &[u8], p: &[f64], share: f64) -> f64 {
    let pos = y.iter().filter(|&&v| v == 1).count();
    if pos == 0 {
        return 0.0;
    }
    let k = top_count(y.len(), share);
    let hit = order_desc(p).iter().take(k).filter(|&&i| y[i] == 1).count();
    hit as f64 / pos as f64
}

/// Mean and (population) standard deviation.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(),
    )
}
