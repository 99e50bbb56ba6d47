//! Choosing the churn threshold from out-of-fold scores by a rule, so the
//! cut-off is scientific (from data) and reproducible.

use super::metrics::order_desc;
use serde::{Deserialize, Serialize};

/// How the decision threshold is chosen on the out-of-fold predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ThresholdRule {
    /// The threshold with the highest F1.
    MaxF1,
    /// The score where the KS gap is largest.
    MaxKs,
    /// The highest threshold that still reaches this recall.
    Recall(f64),
    /// A fixed probability.
    Fixed(f64),
    /// The threshold with the highest expected profit of a retention
    /// campaign (EMPC's parameters at the mean accept rate,
    /// [`super::profit`]).
    Profit,
    /// The lowest threshold whose flags still reach this precision (a
    /// flagged customer is a churner at least this often): the same
    /// meaning of a flag in a month or group where more customers leave
    /// as in one where fewer do.
    Precision(f64),
    /// Flag this share of the customers, the riskiest first (the contact
    /// capacity: a call centre that handles 5% a month is `capacity:0.05`).
    Capacity(f64),
}

impl std::str::FromStr for ThresholdRule {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!(
                "bad threshold rule '{s}': expected max_f1, max_ks, profit, recall:<0..1>, precision:<0..1>, capacity:<0..1> or fixed:<0..1>"
            )
        };
        let value = |v: &str| -> std::result::Result<f64, String> {
            let x: f64 = v.parse().map_err(|_| bad())?;
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(bad())
            }
        };
        match s.split_once(':') {
            None if s == "max_f1" => Ok(ThresholdRule::MaxF1),
            None if s == "max_ks" => Ok(ThresholdRule::MaxKs),
            None if s == "profit" => Ok(ThresholdRule::Profit),
            Some(("recall", v)) => Ok(ThresholdRule::Recall(value(v)?)),
            Some(("fixed", v)) => Ok(ThresholdRule::Fixed(value(v)?)),
            Some(("capacity", v)) => Ok(ThresholdRule::Capacity(value(v)?)),
            Some(("precision", v)) => Ok(ThresholdRule::Precision(value(v)?)),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThresholdRule::MaxF1 => write!(f, "max_f1"),
            ThresholdRule::MaxKs => write!(f, "max_ks"),
            ThresholdRule::Recall(r) => write!(f, "recall:{r}"),
            ThresholdRule::Fixed(t) => write!(f, "fixed:{t}"),
            ThresholdRule::Profit => write!(f, "profit"),
            ThresholdRule::Capacity(c) => write!(f, "capacity:{c}"),
            ThresholdRule::Precision(q) => write!(f, "precision:{q}"),
        }
    }
}

text_serde!(ThresholdRule);

/// What the `profit` rule weighs, the contact list's economics
/// (`[score.contact]`): a flagged churner who accepts (`accept_rate`)
/// brings their CLV; every contact costs its cost plus the incentive for
/// those who accept. CLV per customer from the per-period `margins` (NaN:
/// unknown, then `constant_clv`) and their churn probability.
#[derive(Clone, Copy)]
pub struct Economics<'a> {
    pub margins: &'a [f64],
    /// CLV from (margin, churn probability): [`crate::reference::value::clv`]
    /// under the run's `[score.clv]`.
    pub clv: &'a (dyn Fn(f64, f64) -> f64 + Sync),
    pub constant_clv: f64,
    pub accept_rate: f64,
    pub cost_per_contact: f64,
}

impl std::fmt::Debug for Economics<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Economics")
            .field("rows", &self.margins.len())
            .field("constant_clv", &self.constant_clv)
            .field("accept_rate", &self.accept_rate)
            .field("cost_per_contact", &self.cost_per_contact)
            .finish_non_exhaustive()
    }
}

impl Economics<'_> {
    /// The expected gain of contacting row `i` with score `p` and label `y`.
    fn gain(&self, i: usize, p: f64, y: u8) -> f64 {
        let value = match self.margins[i] {
            m if m.is_nan() => self.constant_clv,
            m => (self.clv)(m, p),
        };
        f64::from(y) * self.accept_rate * value - self.cost_per_contact
    }
}

/// The threshold `rule` picks for scores `p` and labels `y` (a row is flagged
/// when its score is `>= threshold`).
pub fn choose(rule: ThresholdRule, y: &[u8], p: &[f64]) -> f64 {
    choose_with(rule, y, p, None)
}

/// [`choose`], with the `profit` rule weighing `economics` (row `i` of
/// `economics.margins` is row `i` of `y` and `p`); without, `profit` is
/// EMPC's expected profit at its default parameters.
pub fn choose_with(rule: ThresholdRule, y: &[u8], p: &[f64], economics: Option<&Economics>) -> f64 {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    if let ThresholdRule::Fixed(t) = rule {
        return t;
    }
    let idx = order_desc(p);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut best = (f64::NEG_INFINITY, 0.5);
    let mut gain = 0.0;
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if let Some(e) = economics {
            gain += e.gain(i, p[i], y[i]);
        }
        if k + 1 < idx.len() && p[idx[k + 1]] == p[i] {
            continue;
        }
        let t = p[i];
        let value = match rule {
            ThresholdRule::MaxF1 => 2.0 * tp / (tp + pos + fp),
            ThresholdRule::MaxKs => tp / pos.max(1.0) - fp / neg.max(1.0),
            ThresholdRule::Profit if economics.is_some() => gain,
            ThresholdRule::Profit => super::profit::expected_profit(
                &super::profit::ProfitParams::default(),
                tp,
                fp,
                pos,
                pos + neg,
            ),
            ThresholdRule::Recall(r) => {
                if tp / pos.max(1.0) >= r {
                    return t;
                }
                continue;
            }
            // The lowest cut still at the precision; none reaching it:
            // nobody flagged (just above the top score).
            ThresholdRule::Precision(q) => {
                if tp / (tp + fp) >= q {
                    best = (0.0, t);
                } else if !best.0.is_finite() {
                    best.1 = p[idx[0]].next_up();
                }
                continue;
            }
            // The last cut (tied scores kept together) within the share; a
            // tie at the top larger than the share: nobody (just above it).
            ThresholdRule::Capacity(c) => {
                if tp + fp > c * (pos + neg) + 1e-9 {
                    return if best.0.is_finite() {
                        best.1
                    } else {
                        t.next_up()
                    };
                }
                best = (0.0, t);
                continue;
            }
            ThresholdRule::Fixed(_) => unreachable!("handled above"),
        };
        if value > best.0 {
            best = (value, t);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let y = [0, 0, 1, 1, 0, 1];
        let p = [0.1, 0.2, 0.3, 0.8, 0.4, 0.9];
        assert_eq!(choose(ThresholdRule::Fixed(0.5), &y, &p), 0.5);
        // Capacity: at most the share (1.2 of 6 rows: one; 2.04: two).
        assert_eq!(choose(ThresholdRule::Capacity(0.2), &y, &p), 0.9);
        assert_eq!(choose(ThresholdRule::Capacity(0.34), &y, &p), 0.8);
        assert_eq!(
            choose(ThresholdRule::Capacity(0.1), &y, &p),
            0.9f64.next_up()
        );
        assert_eq!(choose(ThresholdRule::Capacity(1.0), &y, &p), 0.1);
        assert_eq!("capacity:0.05".parse(), Ok(ThresholdRule::Capacity(0.05)));
        assert_eq!(choose(ThresholdRule::Recall(0.6), &y, &p), 0.8);
        // Precision: 0.9 (1/1), 0.8 (2/2), 0.4 (2/3), 0.3 (3/4), 0.2 (3/5).
        assert_eq!(choose(ThresholdRule::Precision(0.7), &y, &p), 0.3);
        assert_eq!(choose(ThresholdRule::Precision(0.76), &y, &p), 0.8);
        assert_eq!(choose(ThresholdRule::Precision(1.0), &y, &p), 0.8);
        assert_eq!(choose(ThresholdRule::Recall(1.0), &y, &p), 0.3);
        // F1 at 0.8: 2*2/(2+3+0)=0.8; at 0.3: 2*3/(3+3+1)=0.857
        assert_eq!(choose(ThresholdRule::MaxF1, &y, &p), 0.3);
        assert_eq!(choose(ThresholdRule::MaxKs, &y, &p), 0.3);
    }

    #[test]
    fn profit_weighs_each_customers_value_and_the_contact_costs() {
        let y = [1, 0, 1, 0];
        let p = [0.9, 0.8, 0.5, 0.4];
        let clv = |m: f64, _p: f64| m * 10.0;
        let with = |margins: &[f64]| {
            let e = Economics {
                margins,
                clv: &clv,
                constant_clv: 200.0,
                accept_rate: 0.3,
                cost_per_contact: 5.0,
            };
            choose_with(ThresholdRule::Profit, &y, &p, Some(&e))
        };
        // The churner at 0.5 is worth 1,000: contacting down to 0.5 pays
        // (55 − 5 + 295); worth 1, it does not (55 is the best).
        assert_eq!(with(&[f64::NAN, f64::NAN, 100.0, f64::NAN]), 0.5);
        assert_eq!(with(&[f64::NAN, f64::NAN, 0.1, f64::NAN]), 0.9);
    }
}
