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
    /// Flag this share of the customers, the riskiest first (the contact
    /// capacity: a call centre that handles 5% a month is `capacity:0.05`).
    Capacity(f64),
}

impl std::str::FromStr for ThresholdRule {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!(
                "bad threshold rule '{s}': expected max_f1, max_ks, profit, recall:<0..1>, capacity:<0..1> or fixed:<0..1>"
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
        }
    }
}

impl TryFrom<String> for ThresholdRule {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<ThresholdRule> for String {
    fn from(r: ThresholdRule) -> String {
        r.to_string()
    }
}

/// The threshold `rule` picks for scores `p` and labels `y` (a row is flagged
/// when its score is `>= threshold`).
pub fn choose(rule: ThresholdRule, y: &[u8], p: &[f64]) -> f64 {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    if let ThresholdRule::Fixed(t) = rule {
        return t;
    }
    let idx = order_desc(p);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut best = (f64::NEG_INFINITY, 0.5);
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if k + 1 < idx.len() && p[idx[k + 1]] == p[i] {
            continue;
        }
        let t = p[i];
        let value = match rule {
            ThresholdRule::MaxF1 => 2.0 * tp / (tp + pos + fp),
            ThresholdRule::MaxKs => tp / pos.max(1.0) - fp / neg.max(1.0),
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
        assert_eq!(choose(ThresholdRule::Recall(1.0), &y, &p), 0.3);
        // F1 at 0.8: 2*2/(2+3+0)=0.8; at 0.3: 2*3/(3+3+1)=0.857
        assert_eq!(choose(ThresholdRule::MaxF1, &y, &p), 0.3);
        assert_eq!(choose(ThresholdRule::MaxKs, &y, &p), 0.3);
    }
}
