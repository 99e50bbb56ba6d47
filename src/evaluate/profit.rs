//! The profit view of a churn model: EMPC, the expected maximum profit
//! measure for customer churn (Verbraken, Verbeke & Baesens 2013), as the
//! `empulse` package computes it, and the share of customers its optimum
//! contacts.
//!
//! A retention campaign contacts the share of customers a threshold flags.
//! A contacted churner accepts the incentive and stays with probability γ;
//! with CLV, incentive d and contact cost f (δ = d/CLV, φ = f/CLV) and the
//! churn rate π₀, the profit per customer at a threshold that flags F₀ of
//! the churners and F₁ of the rest is
//! `CLV·[(γ(1 − δ) − φ)·π₀F₀ − (δ + φ)·π₁F₁]`. γ is unknown, drawn from
//! Beta(α, β); EMPC is the expected profit when, for each γ, the best
//! threshold is used: ∫ max_t P(t, γ) dBeta(γ). Each threshold's profit is
//! a line in γ, so the maximum is their upper envelope, whose pieces
//! integrate in closed form with the regularised incomplete beta function.
//! Equal to empulse 0.13.1 to 1e-9 on tests/fixtures/empc_oracle.json.

use serde::{Deserialize, Serialize};
use statrs::function::beta::beta_reg;

/// EMPC's parameters (defaults: the paper's and empulse's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfitParams {
    /// Beta(alpha, beta): the share of contacted churners who stay.
    pub alpha: f64,
    pub beta: f64,
    /// The value of a retained customer.
    pub clv: f64,
    /// The incentive's cost, paid by those who accept.
    pub incentive_cost: f64,
    pub contact_cost: f64,
}

impl Default for ProfitParams {
    fn default() -> Self {
        ProfitParams {
            alpha: 6.0,
            beta: 14.0,
            clv: 200.0,
            incentive_cost: 10.0,
            contact_cost: 1.0,
        }
    }
}

impl ProfitParams {
    /// The profit line of one threshold, per customer: (slope in γ,
    /// intercept), from its shares of churners `f0` and of the rest `f1`.
    fn line(&self, pi0: f64, f0: f64, f1: f64) -> (f64, f64) {
        let (delta, phi) = (self.incentive_cost / self.clv, self.contact_cost / self.clv);
        let pi1 = 1.0 - pi0;
        (
            self.clv * (1.0 - delta) * pi0 * f0,
            -self.clv * (phi * pi0 * f0 + (delta + phi) * pi1 * f1),
        )
    }
}

/// EMPC and the expected share of customers its optimum contacts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Empc {
    pub empc: f64,
    pub rate: f64,
}

/// The ROC points (share of churners, share of the rest flagged) at each
/// distinct score, from flagging nobody to everybody.
fn roc_points(y: &[u8], score: &[f64]) -> Vec<(f64, f64)> {
    let order = crate::stats::order_desc(score);
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (k, &i) in order.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        if order.get(k + 1).is_none_or(|&j| score[j] != score[i]) {
            out.push((tp / pos, fp / neg));
        }
    }
    out
}

/// EMPC of scores `score` (higher = likelier churn) against labels `y`
/// (1 = churn); NaN without churners or without stayers.
pub fn empc(y: &[u8], score: &[f64], p: &ProfitParams) -> Empc {
    let pos = y.iter().filter(|&&v| v == 1).count();
    if pos == 0 || pos == y.len() {
        return Empc {
            empc: f64::NAN,
            rate: f64::NAN,
        };
    }
    let pi0 = pos as f64 / y.len() as f64;
    // Lines in increasing slope (the share of churners flagged only grows);
    // the upper envelope keeps, for each γ, the best threshold.
    let mut hull: Vec<(f64, f64, f64)> = Vec::new(); // slope, intercept, share flagged
    for (f0, f1) in roc_points(y, score) {
        let (a, b) = p.line(pi0, f0, f1);
        let share = pi0 * f0 + (1.0 - pi0) * f1;
        if let Some(last) = hull.last() {
            if a == last.0 {
                if b <= last.1 {
                    continue;
                }
                hull.pop();
            }
        }
        while hull.len() >= 2 {
            let (l1, l2) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            // l2 is never on top if l3 overtakes l1 no later than l2 does.
            if (l1.1 - b) / (a - l1.0) <= (l1.1 - l2.1) / (l2.0 - l1.0) {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push((a, b, share));
    }
    let (alpha, beta) = (p.alpha, p.beta);
    let mean = alpha / (alpha + beta);
    let cdf = |x: f64, a: f64| beta_reg(a, beta, x.clamp(0.0, 1.0));
    let (mut total, mut rate) = (0.0, 0.0);
    for (k, &(a, b, share)) in hull.iter().enumerate() {
        let lo = match k {
            0 => 0.0,
            _ => (hull[k - 1].1 - b) / (a - hull[k - 1].0),
        };
        let hi = match hull.get(k + 1) {
            None => 1.0,
            Some(next) => (b - next.1) / (next.0 - a),
        };
        let (lo, hi) = (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0));
        if hi <= lo {
            continue;
        }
        let mass = cdf(hi, alpha) - cdf(lo, alpha);
        total += a * mean * (cdf(hi, alpha + 1.0) - cdf(lo, alpha + 1.0)) + b * mass;
        rate += share * mass;
    }
    Empc { empc: total, rate }
}

/// The expected profit of flagging `tp` churners and `fp` others, per
/// customer of `n` with `pos` churners, at the mean accept rate: what the
/// `profit` threshold rule maximises.
pub fn expected_profit(p: &ProfitParams, tp: f64, fp: f64, pos: f64, n: f64) -> f64 {
    let pi0 = pos / n;
    let (a, b) = p.line(pi0, tp / pos.max(1.0), fp / (n - pos).max(1.0));
    a * p.alpha / (p.alpha + p.beta) + b
}
