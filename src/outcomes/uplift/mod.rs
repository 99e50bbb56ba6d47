//! Uplift: for whom does contact help? Learners that estimate each
//! customer's change in outcome under treatment ([`learners`]), the
//! metrics scikit-uplift defines ([`metrics`]), and the figures a CRM team
//! reads off a ranking ([`Figures`], [`Decile`]): how much better the top
//! of the list responds to treatment than the bottom.
//!
//! Everything here takes `success` — 1 for the outcome the bank wants (a
//! customer kept, a product taken) — and a score where higher means contact
//! helps more; the flow turns a churn outcome and its uplift around.

pub mod artifact;
pub mod learners;
pub mod metrics;

use serde::{Deserialize, Serialize};

/// A ranking's uplift figures (scikit-uplift's definitions); `None` where
/// a figure is undefined (an arm absent from the top k, no successes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub qini_auc: Option<f64>,
    pub uplift_auc: Option<f64>,
    pub uplift_at_10: Option<f64>,
    pub uplift_at_20: Option<f64>,
    pub uplift_at_30: Option<f64>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Figures {
    pub fn of(success: &[u8], score: &[f64], treated: &[bool]) -> Figures {
        let at = |k| finite(metrics::uplift_at_k(success, score, treated, k));
        Figures {
            qini_auc: finite(metrics::qini_auc(success, score, treated)),
            uplift_auc: finite(metrics::uplift_auc(success, score, treated)),
            uplift_at_10: at(0.1),
            uplift_at_20: at(0.2),
            uplift_at_30: at(0.3),
        }
    }
}

/// A tenth of the customers ranked by score (decile 1 = the highest
/// scores): what treatment did there, and the four kinds of customer it
/// implies. The kinds are estimated under the usual assumption that one
/// decile holds persuadables or do-not-disturbs, not both: with success
/// rates a (treated) and b (control), a ≥ b gives persuadables a − b,
/// sure things b and lost causes 1 − a; a < b gives do-not-disturbs b − a,
/// sure things a and lost causes 1 − b.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decile {
    pub decile: usize,
    pub n: usize,
    pub treated: usize,
    pub control: usize,
    /// Mean predicted score of the decile.
    pub predicted: f64,
    pub success_treated: f64,
    pub success_control: f64,
    /// The realised uplift: success_treated − success_control.
    pub realised: f64,
    pub persuadable: f64,
    pub sure_thing: f64,
    pub lost_cause: f64,
    pub do_not_disturb: f64,
}

/// The rows of `rows` in arm `arm` and their success rate.
pub fn arm_rate(success: &[u8], treated: &[bool], rows: &[usize], arm: bool) -> (usize, f64) {
    let (k, s) = rows
        .iter()
        .filter(|&&r| treated[r] == arm)
        .fold((0usize, 0usize), |(k, s), &r| {
            (k + 1, s + success[r] as usize)
        });
    (k, s as f64 / k as f64)
}

/// The ten deciles of `score` (highest first; ties in row order).
pub fn deciles(success: &[u8], score: &[f64], treated: &[bool]) -> Vec<Decile> {
    let n = score.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    (0..10)
        .filter_map(|d| {
            let rows = &order[d * n / 10..(d + 1) * n / 10];
            if rows.is_empty() {
                return None;
            }
            let rate = |arm| arm_rate(success, treated, rows, arm);
            let ((nt, a), (nc, b)) = (rate(true), rate(false));
            let (persuadable, do_not_disturb) = ((a - b).max(0.0), (b - a).max(0.0));
            Some(Decile {
                decile: d + 1,
                n: rows.len(),
                treated: nt,
                control: nc,
                predicted: rows.iter().map(|&r| score[r]).sum::<f64>() / rows.len() as f64,
                success_treated: a,
                success_control: b,
                realised: a - b,
                persuadable,
                sure_thing: a.min(b),
                lost_cause: 1.0 - a.max(b),
                do_not_disturb,
            })
        })
        .collect()
}

/// The Qini curve at each percent of the ranking (x = share of customers,
/// y = incremental successes), for the report's chart.
pub fn qini_points(success: &[u8], score: &[f64], treated: &[bool]) -> Vec<(f64, f64)> {
    let curve = metrics::qini_curve(success, score, treated);
    let n = success.len().max(1) as f64;
    let mut out = Vec::with_capacity(101);
    let mut k = 0;
    for pct in 0..=100 {
        let x = pct as f64 / 100.0 * n;
        while k + 1 < curve.len() && curve[k + 1].0 <= x {
            k += 1;
        }
        out.push((pct as f64 / 100.0, curve[k].1));
    }
    out
}
