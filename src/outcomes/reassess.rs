//! Thresholds re-assessed after the fact (`churn-train thresholds`): a past
//! scoring run's flags judged against what happened, per threshold group
//! and per scoring month, beside the threshold the rule would choose on
//! these outcomes. A validator's question — "does the cut-off we set still
//! do what we set it for?" — answered with the realised precision, recall
//! and flag rate, and a drift flag when the rule's choice today differs
//! from the threshold used by more than a tolerance.

use crate::evaluate::threshold::{self, ThresholdRule};
use serde::Serialize;
use std::collections::BTreeMap;

/// What `churn-train thresholds` was asked.
#[derive(Debug, Clone)]
pub struct ReassessJob {
    /// A past churn-score run's scores.csv.
    pub scores: std::path::PathBuf,
    /// Outcomes: a table of customer id and label …
    pub labels: Option<std::path::PathBuf>,
    /// … or built from raw logs after the as-of date (the training rule).
    pub logs: Option<crate::logs::LogsConfig>,
    /// The labels' id column [default: id, else customer_id].
    pub id: Option<String>,
    /// The labels' outcome column [default: churned].
    pub label: Option<String>,
    pub positive: Option<String>,
    /// The model that made the scores (its thresholds and rule).
    pub model: Option<std::path::PathBuf>,
    /// The rule [default: the model's, else max_f1].
    pub rule: Option<ThresholdRule>,
    /// A scores column to group by [default: threshold_group when present].
    pub by: Option<String>,
    pub tolerance: f64,
    pub min_positives: usize,
    pub out: std::path::PathBuf,
    pub delimiter: Option<char>,
    pub quiet: bool,
}

/// One scored customer joined to their outcome.
#[derive(Debug, Clone)]
pub struct Judged {
    pub group: String,
    pub period: Option<String>,
    pub probability: f64,
    pub flagged: bool,
    pub churned: bool,
    /// The warning level the run gave (red, orange, yellow, green).
    pub level: String,
}

/// Realised figures of a set of flags.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Realised {
    pub customers: usize,
    pub churned: usize,
    pub flagged: usize,
    /// Churn rate among the flagged (`None`: nobody flagged).
    pub precision: Option<f64>,
    /// Share of the churners flagged (`None`: nobody churned).
    pub recall: Option<f64>,
    pub flag_rate: f64,
    /// Customers at the red level, and the churn rate among them.
    pub red: usize,
    pub red_precision: Option<f64>,
}

impl Realised {
    fn of<'a>(rows: impl Iterator<Item = (&'a Judged, bool)>) -> Realised {
        let (mut n, mut churned, mut flagged, mut hits) = (0, 0, 0, 0);
        let (mut red, mut red_hits) = (0, 0);
        for (r, flag) in rows {
            n += 1;
            churned += r.churned as usize;
            flagged += flag as usize;
            hits += (flag && r.churned) as usize;
            let is_red = r.level == "red";
            red += is_red as usize;
            red_hits += (is_red && r.churned) as usize;
        }
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        Realised {
            customers: n,
            churned,
            flagged,
            precision: ratio(hits, flagged),
            recall: ratio(hits, churned),
            flag_rate: ratio(flagged, n).unwrap_or(0.0),
            red,
            red_precision: ratio(red_hits, red),
        }
    }
}

/// One group's (or everyone's) re-assessment.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCheck {
    /// The threshold the scoring run used (the model's, or the lowest
    /// flagged probability when no model is given).
    pub used_threshold: Option<f64>,
    /// The run's own flags against the outcomes.
    pub realised: Realised,
    /// The same per scoring month (or period), when the scores say.
    pub by_period: BTreeMap<String, Realised>,
    /// What the rule would choose on these outcomes (`None`: fewer churners
    /// than the minimum).
    pub rule_threshold: Option<f64>,
    /// The figures had the rule's threshold been used.
    pub at_rule_threshold: Option<Realised>,
    /// The rule's choice differs from the threshold used by more than the
    /// tolerance.
    pub drift: bool,
}

/// The whole re-assessment (thresholds.json).
#[derive(Debug, Clone, Serialize)]
pub struct Reassessment {
    pub rule: String,
    pub tolerance: f64,
    pub min_group_positives: usize,
    /// Scored customers without an outcome (left out).
    pub without_outcome: usize,
    pub all: GroupCheck,
    pub groups: BTreeMap<String, GroupCheck>,
    /// Groups whose threshold drifted.
    pub drifted: Vec<String>,
}

impl Reassessment {
    /// Everyone's check (`(all)`), then each group's.
    pub fn checks(&self) -> impl Iterator<Item = (&str, &GroupCheck)> {
        let groups = self.groups.iter().map(|(g, c)| (g.as_str(), c));
        std::iter::once(("(all)", &self.all)).chain(groups)
    }

    /// The stdout table: one line per group and one for everyone.
    pub fn table(&self) -> String {
        let o = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.4}"));
        let mut out = format!(
            "{:<24} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9}  drift\n",
            "group",
            "customers",
            "churned",
            "flagged",
            "precision",
            "recall",
            "flag rate",
            "used",
            "rule"
        );
        for (g, c) in self.checks() {
            let r = &c.realised;
            out.push_str(&format!(
                "{g:<24} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9.4} {:>9} {:>9}  {}\n",
                r.customers,
                r.churned,
                r.flagged,
                o(r.precision),
                o(r.recall),
                r.flag_rate,
                o(c.used_threshold),
                o(c.rule_threshold),
                if c.drift { "DRIFT" } else { "" }
            ));
        }
        out
    }
}

/// The settings of a re-assessment.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub rule: ThresholdRule,
    pub tolerance: f64,
    pub min_positives: usize,
}

fn check(rows: &[&Judged], used: Option<f64>, s: Settings) -> GroupCheck {
    let realised = Realised::of(rows.iter().map(|r| (*r, r.flagged)));
    let mut periods: BTreeMap<&str, Vec<&Judged>> = BTreeMap::new();
    for r in rows {
        if let Some(p) = &r.period {
            periods.entry(p).or_default().push(r);
        }
    }
    let by_period = periods
        .into_iter()
        .map(|(p, v)| {
            (
                p.to_string(),
                Realised::of(v.iter().map(|r| (*r, r.flagged))),
            )
        })
        .collect();
    let enough = realised.churned >= s.min_positives.max(1) && realised.churned < rows.len();
    let rule_threshold = enough.then(|| {
        let y: Vec<u8> = rows.iter().map(|r| r.churned as u8).collect();
        let p: Vec<f64> = rows.iter().map(|r| r.probability).collect();
        threshold::choose(s.rule, &y, &p)
    });
    let at_rule_threshold =
        rule_threshold.map(|t| Realised::of(rows.iter().map(|r| (*r, r.probability >= t))));
    let drift = matches!((used, rule_threshold), (Some(u), Some(t)) if (u - t).abs() > s.tolerance);
    GroupCheck {
        used_threshold: used,
        realised,
        by_period,
        rule_threshold,
        at_rule_threshold,
        drift,
    }
}

/// The lowest probability flagged among `rows` (the threshold a run used,
/// as far as its flags tell).
fn inferred(rows: &[&Judged]) -> Option<f64> {
    rows.iter()
        .filter(|r| r.flagged)
        .map(|r| r.probability)
        .min_by(f64::total_cmp)
}

/// Re-assess the flags of `rows` (`used`: a group's threshold from the
/// model, `None` to infer it from the flags).
pub fn reassess(
    rows: &[Judged],
    used: &dyn Fn(&str) -> Option<f64>,
    s: Settings,
    without_outcome: usize,
) -> Reassessment {
    let all: Vec<&Judged> = rows.iter().collect();
    let mut by_group: BTreeMap<&str, Vec<&Judged>> = BTreeMap::new();
    for r in rows {
        by_group.entry(&r.group).or_default().push(r);
    }
    let groups: BTreeMap<String, GroupCheck> = by_group
        .into_iter()
        .map(|(g, v)| {
            let u = used(g).or_else(|| inferred(&v));
            (g.to_string(), check(&v, u, s))
        })
        .collect();
    let drifted = groups
        .iter()
        .filter(|g| g.1.drift)
        .map(|g| g.0.clone())
        .collect();
    Reassessment {
        rule: s.rule.to_string(),
        tolerance: s.tolerance,
        min_group_positives: s.min_positives,
        without_outcome,
        all: check(&all, used("").or_else(|| inferred(&all)), s),
        groups,
        drifted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realised_figures_per_group_and_month_and_drift_from_the_rule() {
        let mut rows = Vec::new();
        // Group a: churners at 0.6–0.9, the run flagged at 0.5: fine.
        // Group b: churners at 0.2–0.3, the run flagged at 0.5: drifted.
        for i in 0..40 {
            for (g, churner_p) in [("a", 0.6), ("b", 0.2)] {
                let churned = i % 4 == 0;
                let p = if churned {
                    churner_p + i as f64 * 0.005
                } else {
                    0.1
                };
                rows.push(Judged {
                    group: g.into(),
                    period: Some(if i < 20 { "2024-01" } else { "2024-02" }.into()),
                    probability: p,
                    flagged: p >= 0.5,
                    churned,
                    level: if p >= 0.5 { "red" } else { "green" }.into(),
                });
            }
        }
        let s = Settings {
            rule: ThresholdRule::Recall(1.0),
            tolerance: 0.15,
            min_positives: 5,
        };
        let r = reassess(&rows, &|g| (g != "x").then_some(0.5), s, 3);
        let a = &r.groups["a"];
        assert_eq!(a.realised.recall, Some(1.0));
        assert_eq!(a.realised.precision, Some(1.0));
        assert_eq!(a.by_period.len(), 2);
        assert_eq!(a.by_period["2024-01"].customers, 20);
        assert!((a.rule_threshold.unwrap() - 0.6).abs() < 1e-12);
        assert!(!a.drift, "0.6 is within 0.15 of 0.5");
        let b = &r.groups["b"];
        assert_eq!(b.realised.flagged, 0);
        assert_eq!(b.realised.precision, None);
        assert!(b.drift && r.drifted == ["b"]);
        assert_eq!(b.at_rule_threshold.as_ref().unwrap().recall, Some(1.0));
        assert_eq!(r.without_outcome, 3);
        assert_eq!(r.all.realised.customers, 80);
    }
}
