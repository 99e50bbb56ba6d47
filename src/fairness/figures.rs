//! Fairness figures of one protected or sensitive column, in the spirit of
//! Fairlearn's `MetricFrame`: per group the rows, churn rate, mean score,
//! flagged rate at the threshold, true and false positive rates, precision
//! and warning-level shares; over the groups the disparate impact (lowest
//! flagged rate ÷ highest; below 0.8 fails the four-fifths rule) and the
//! equal-opportunity gap (highest − lowest true positive rate).
//!
//! Groups with fewer than [`MIN_GROUP_ROWS`] rows are shown but take no
//! part in the summary figures (their rates are noise), and say so.

use serde::Serialize;
use std::collections::BTreeMap;

/// Groups smaller than this are reported but not flagged.
pub const MIN_GROUP_ROWS: usize = 30;
/// The four-fifths rule: a disparate impact below this is flagged.
pub const FOUR_FIFTHS: f64 = 0.8;

/// One group's figures. Label-based ones are absent without labels (a
/// scoring batch) or where undefined (no churner in the group: no TPR).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    pub rows: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churn_rate: Option<f64>,
    pub mean_score: f64,
    pub flag_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fpr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    /// Share of the group at each warning level.
    pub levels: BTreeMap<String, f64>,
    /// Share of the group offered at least one product (scoring with offers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_rate: Option<f64>,
    /// Fewer than [`MIN_GROUP_ROWS`] rows: shown, not flagged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub small: bool,
}

/// The fairness figures of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnFairness {
    /// `protected`, `protected_allowed` (a feature by choice) or `sensitive`.
    pub role: super::Role,
    pub groups: BTreeMap<String, GroupFigures>,
    /// Lowest flagged rate ÷ highest, over groups of at least 30 rows.
    pub disparate_impact: Option<f64>,
    /// Disparate impact below 0.8.
    pub four_fifths_flag: bool,
    /// Highest − lowest true positive rate, over groups of at least 30 rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equal_opportunity_gap: Option<f64>,
    /// Lowest offer rate ÷ highest, over groups of at least 30 rows
    /// (scoring with offers): are offers withheld from a group?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_rate_ratio: Option<f64>,
    /// Why some groups take no part in the summary figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Features strongly associated with this column (possible proxies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub proxies: Vec<super::proxy::Proxy>,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    rows: usize,
    positives: usize,
    score: f64,
    flagged: usize,
    tp: usize,
    fp: usize,
    levels: BTreeMap<&'static str, usize>,
    /// Customers whose offers are known, and those offered at least one.
    offers_known: usize,
    offered: usize,
}

/// Running counts per group, so a scoring job adds chunk after chunk and
/// keeps a few numbers per group, not a row per customer.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// By group (hashed: a lookup per customer; figures come out sorted).
    groups: crate::fast::FastMap<String, Tally>,
    labelled: bool,
}

impl Tallies {
    /// One customer of `group` with score `p` (flagged: `p >= threshold`),
    /// warning `level` and, when known, whether they churned.
    pub fn add(
        &mut self,
        group: &str,
        p: f64,
        flagged: bool,
        level: &'static str,
        churned: Option<bool>,
    ) {
        if !self.groups.contains_key(group) {
            self.groups.insert(group.to_string(), Tally::default());
        }
        let Some(t) = self.groups.get_mut(group) else {
            return;
        };
        let churned = churned.inspect(|_| self.labelled = true).unwrap_or(false);
        t.rows += 1;
        t.score += p;
        t.flagged += flagged as usize;
        t.positives += churned as usize;
        t.tp += (flagged && churned) as usize;
        t.fp += (flagged && !churned) as usize;
        *t.levels.entry(level).or_default() += 1;
    }

    /// One customer of `group` whose offers are known: offered any product?
    pub fn add_offer(&mut self, group: &str, offered: bool) {
        if let Some(t) = self.groups.get_mut(group) {
            t.offers_known += 1;
            t.offered += offered as usize;
        }
    }

    /// The figures of the groups added so far.
    pub fn finish(&self, role: super::Role) -> ColumnFairness {
        let ratio = |a: usize, b: usize| (self.labelled && b > 0).then(|| a as f64 / b as f64);
        let groups: BTreeMap<String, GroupFigures> = self
            .groups
            .iter()
            .map(|(g, t)| {
                let n = t.rows as f64;
                let figures = GroupFigures {
                    rows: t.rows,
                    churn_rate: ratio(t.positives, t.rows),
                    mean_score: t.score / n,
                    flag_rate: t.flagged as f64 / n,
                    tpr: ratio(t.tp, t.positives),
                    fpr: ratio(t.fp, t.rows - t.positives),
                    precision: ratio(t.tp, t.flagged),
                    levels: t
                        .levels
                        .iter()
                        .map(|(l, &c)| (l.to_string(), c as f64 / n))
                        .collect(),
                    offer_rate: (t.offers_known > 0)
                        .then(|| t.offered as f64 / t.offers_known as f64),
                    small: t.rows < MIN_GROUP_ROWS,
                };
                (g.clone(), figures)
            })
            .collect();
        let large: Vec<&GroupFigures> = groups.values().filter(|g| !g.small).collect();
        let spread = |v: Vec<f64>| -> Option<(f64, f64)> {
            (v.len() >= 2).then(|| {
                (
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            })
        };
        let disparate_impact = spread(large.iter().map(|g| g.flag_rate).collect())
            .map(|(lo, hi)| if hi > 0.0 { lo / hi } else { 1.0 });
        let equal_opportunity_gap =
            spread(large.iter().filter_map(|g| g.tpr).collect()).map(|(lo, hi)| hi - lo);
        let offer_rate_ratio = spread(large.iter().filter_map(|g| g.offer_rate).collect())
            .map(|(lo, hi)| if hi > 0.0 { lo / hi } else { 1.0 });
        let small: Vec<&str> = groups
            .iter()
            .filter(|(_, g)| g.small)
            .map(|(k, _)| k.as_str())
            .collect();
        let note = (!small.is_empty()).then(|| {
            format!("groups under {MIN_GROUP_ROWS} rows are shown but not part of the summary figures: {}", small.join(", "))
        });
        ColumnFairness {
            role,
            groups,
            disparate_impact,
            four_fifths_flag: disparate_impact.is_some_and(|d| d < FOUR_FIFTHS),
            equal_opportunity_gap,
            offer_rate_ratio,
            note,
            proxies: Vec::new(),
        }
    }
}

/// The figures of the groups `labels` (one per row) for scores `p`, flagged
/// at `p >= threshold`, warning level `level(p)`, with 0/1 churn labels `y`
/// when known.
pub fn column_figures(
    role: super::Role,
    labels: &[impl AsRef<str>],
    y: Option<&[u8]>,
    p: &[f64],
    threshold: f64,
    level: impl Fn(f64) -> &'static str,
) -> ColumnFairness {
    let mut t = Tallies::default();
    for (i, g) in labels.iter().enumerate() {
        t.add(
            g.as_ref(),
            p[i],
            p[i] >= threshold,
            level(p[i]),
            y.map(|y| y[i] == 1),
        );
    }
    t.finish(role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fairness::Role;

    /// A table small enough to count by hand.
    #[test]
    fn figures_match_a_hand_count() {
        // Group a: 40 rows, 10 churners; 12 flagged of which 8 churners.
        // Group b: 40 rows, 20 churners; 30 flagged of which 18 churners.
        // Group c: 5 rows (small), all flagged, 1 churner.
        let mut labels = Vec::new();
        let (mut y, mut p) = (Vec::new(), Vec::new());
        let mut add = |g: &str, churn: u8, score: f64, k: usize| {
            for _ in 0..k {
                labels.push(g.to_string());
                y.push(churn);
                p.push(score);
            }
        };
        add("a", 1, 0.9, 8);
        add("a", 1, 0.1, 2);
        add("a", 0, 0.6, 4);
        add("a", 0, 0.2, 26);
        add("b", 1, 0.7, 18);
        add("b", 1, 0.3, 2);
        add("b", 0, 0.5, 12);
        add("b", 0, 0.1, 8);
        add("c", 1, 0.8, 1);
        add("c", 0, 0.8, 4);
        let level = |s: f64| if s >= 0.5 { "orange" } else { "green" };
        let f = column_figures(Role::Protected, &labels, Some(&y), &p, 0.5, level);
        let a = &f.groups["a"];
        assert_eq!(a.rows, 40);
        assert_eq!(a.churn_rate, Some(10.0 / 40.0));
        assert_eq!(a.flag_rate, 12.0 / 40.0);
        assert_eq!(a.tpr, Some(8.0 / 10.0));
        assert_eq!(a.fpr, Some(4.0 / 30.0));
        assert_eq!(a.precision, Some(8.0 / 12.0));
        assert!(
            (a.mean_score - (8.0 * 0.9 + 2.0 * 0.1 + 4.0 * 0.6 + 26.0 * 0.2) / 40.0).abs() < 1e-12
        );
        assert_eq!(a.levels["orange"], 12.0 / 40.0);
        let b = &f.groups["b"];
        assert_eq!((b.flag_rate, b.tpr), (30.0 / 40.0, Some(18.0 / 20.0)));
        assert!(f.groups["c"].small && !a.small);
        // Summary over a and b only: 0.3 / 0.75 = 0.4 (< 0.8: flagged); TPR gap 0.9 − 0.8.
        assert!((f.disparate_impact.unwrap() - 0.4).abs() < 1e-12);
        assert!(f.four_fifths_flag);
        assert!((f.equal_opportunity_gap.unwrap() - 0.1).abs() < 1e-12);
        assert!(f.note.as_deref().unwrap().contains('c'));

        // Without labels: no label-based figures, the same flagged rates.
        let u = column_figures(Role::Protected, &labels, None, &p, 0.5, level);
        assert_eq!(
            (
                u.groups["a"].tpr,
                u.groups["a"].churn_rate,
                u.equal_opportunity_gap
            ),
            (None, None, None)
        );
        assert_eq!(u.disparate_impact, f.disparate_impact);
    }
}
