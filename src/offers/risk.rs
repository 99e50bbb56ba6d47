//! The customer's risk-tolerance level C1–C5 (conservative … aggressive).
//!
//! A questionnaire answer, when the bank has one (`--risk-column`), is taken
//! as it is: 1–5, C1–C5 or the five names. Otherwise the level is estimated
//! from capacity by a points rule — conservative on purpose, as regulators
//! ask of an estimate: start at C2; +1 for a long horizon (age below
//! `young_below`), −1 from `retired_from`; +1 for income ≥ `high_income`,
//! −1 below `low_income`; +1 for a balance ≥ `high_balance`; −1 for tenure
//! below `min_tenure`; −1 for a credit score below `low_credit_score`; −1
//! for any overdue payment, −2 from `many_overdue`. The result is capped at
//! `cap` (C3), and a customer with fewer than `min_known` of the six inputs
//! known (or no age) gets C1.

use serde::{Deserialize, Serialize};

/// The five level names, C1 first.
pub const NAMES: [&str; 5] = [
    "conservative",
    "moderately conservative",
    "moderate",
    "moderately aggressive",
    "aggressive",
];

/// Where a customer's level came from.
pub const QUESTIONNAIRE: &str = "questionnaire";
pub const ESTIMATED: &str = "estimated";

/// The estimation rule's thresholds (`[risk]` in the catalog).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskRule {
    pub young_below: f64,
    pub retired_from: f64,
    pub high_income: f64,
    pub low_income: f64,
    pub high_balance: f64,
    pub min_tenure: f64,
    pub low_credit_score: f64,
    pub many_overdue: f64,
    /// Highest level an estimate can give.
    pub cap: u8,
    /// Fewest known inputs (of age, income, balance, tenure, credit score,
    /// overdue payments) for an estimate above C1.
    pub min_known: usize,
}

impl Default for RiskRule {
    fn default() -> Self {
        RiskRule {
            young_below: 35.0,
            retired_from: 65.0,
            high_income: 60_000.0,
            low_income: 20_000.0,
            high_balance: 50_000.0,
            min_tenure: 12.0,
            low_credit_score: 580.0,
            many_overdue: 3.0,
            cap: 3,
            min_known: 3,
        }
    }
}

/// The rule's inputs for one customer (NaN = unknown or no such column).
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub age: f64,
    pub income: f64,
    pub balance: f64,
    pub tenure: f64,
    pub credit_score: f64,
    pub overdue: f64,
}

impl RiskRule {
    pub fn check(&self) -> std::result::Result<(), String> {
        if !(1..=5).contains(&self.cap) {
            return Err(format!("risk.cap {} is outside 1-5", self.cap));
        }
        if self.min_known > 6 {
            return Err("risk.min_known must be at most 6".into());
        }
        Ok(())
    }

    /// The estimated level (1..=cap) of a customer.
    pub fn estimate(&self, c: &Capacity) -> u8 {
        let known = [
            c.age,
            c.income,
            c.balance,
            c.tenure,
            c.credit_score,
            c.overdue,
        ]
        .iter()
        .filter(|v| !v.is_nan())
        .count();
        if c.age.is_nan() || known < self.min_known {
            return 1;
        }
        // NaN comparisons are false: an unknown input moves nothing.
        let b = |x: bool| x as i32;
        let points = 2 + b(c.age < self.young_below) - b(c.age >= self.retired_from)
            + b(c.income >= self.high_income)
            - b(c.income < self.low_income)
            + b(c.balance >= self.high_balance)
            - b(c.tenure < self.min_tenure)
            - b(c.credit_score < self.low_credit_score)
            - b(c.overdue > 0.0)
            - b(c.overdue >= self.many_overdue);
        points.clamp(1, self.cap as i32) as u8
    }
}

/// A questionnaire answer as a level: 1–5, C1–C5 or a name (any case,
/// spaces, hyphens or underscores between words); `None` otherwise.
pub fn parse_level(cell: &str) -> Option<u8> {
    let t = cell.trim().to_ascii_lowercase().replace(['-', '_'], " ");
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let digits = t.strip_prefix('c').unwrap_or(&t);
    if let Ok(x) = digits.parse::<f64>() {
        return (x.fract() == 0.0 && (1.0..=5.0).contains(&x)).then_some(x as u8);
    }
    NAMES.iter().position(|n| *n == t).map(|i| i as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questionnaire_spellings() {
        for (t, v) in [
            ("3", 3),
            ("C5", 5),
            ("c1", 1),
            ("Moderately Aggressive", 4),
            ("moderately-conservative", 2),
            ("5.0", 5),
        ] {
            assert_eq!(parse_level(t), Some(v), "{t}");
        }
        for t in ["", "C7", "0", "2.5", "bold"] {
            assert_eq!(parse_level(t), None, "{t}");
        }
    }

    #[test]
    fn estimates_are_capped_and_thin_data_is_conservative() {
        let rule = RiskRule::default();
        let rich = Capacity {
            age: 30.0,
            income: 90_000.0,
            balance: 200_000.0,
            tenure: 60.0,
            credit_score: 800.0,
            overdue: 0.0,
        };
        assert_eq!(rule.estimate(&rich), 3);
        let thin = Capacity {
            income: f64::NAN,
            balance: f64::NAN,
            tenure: f64::NAN,
            credit_score: f64::NAN,
            ..rich
        };
        assert_eq!(rule.estimate(&thin), 1);
        let strained = Capacity {
            age: 70.0,
            income: 15_000.0,
            overdue: 4.0,
            ..rich
        };
        assert_eq!(rule.estimate(&strained), 1);
    }
}
