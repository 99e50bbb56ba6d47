//! Target leakage screen: before any model is fitted, every candidate
//! feature is judged on its own against the label, so a column computed
//! from the outcome (a closure date, another model's score, a status
//! updated after the churn event) is caught, named and left out instead of
//! producing a perfect-looking model.
//!
//! Three tests, each with a documented, configurable threshold (`[leakage]`):
//! - **name**: the column's name contains the target's name or the positive
//!   label (letters and digits only, case-insensitive; labels shorter than
//!   four characters or generic such as `yes`/`true` are not matched);
//! - **alone**: the column separates the classes almost perfectly on its
//!   own, |AUC − 0.5| ≥ `auc_margin` (0.48). A numeric column is ranked by
//!   its raw value, missing cells placed at either end (the larger gap
//!   counts); a categorical column by its levels' churn rates learned out of
//!   fold (five folds by row position), so a level seen once cannot score
//!   itself;
//! - **one class**: the column is missing (or holds one value) for at least
//!   `one_class_share` (99.5%) of one class's rows while at most
//!   `other_class_share` (50%) of the other class's rows look so — a date
//!   filled only for churners.
//!
//! The screen costs one sort per numeric column and one pass per
//! categorical column, columns in parallel, on at most 50,000 rows (every
//! k-th row of a larger table).

use crate::fast::FastMap;
use crate::features::{FeatureData, FeatureTable};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Thresholds of the screen (`[leakage]` in the TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeakageConfig {
    /// Run the screen at all.
    pub enabled: bool,
    /// Flag columns whose name contains the target's name or positive label.
    pub name_match: bool,
    /// Flag a column whose single-feature AUC is at least this far from 0.5.
    pub auc_margin: f64,
    /// Share of one class's rows that must be missing (or one value) ...
    pub one_class_share: f64,
    /// ... while at most this share of the other class's rows are.
    pub other_class_share: f64,
    /// Columns kept although suspect (`--allow-leaky`); recorded as such.
    pub allow: Vec<String>,
    /// Out-of-fold ROC AUC at or above which the run warns "check for leakage".
    pub warn_auc: f64,
}

impl Default for LeakageConfig {
    fn default() -> Self {
        LeakageConfig {
            enabled: true,
            name_match: true,
            auc_margin: 0.48,
            one_class_share: 0.995,
            other_class_share: 0.5,
            allow: Vec::new(),
            warn_auc: 0.995,
        }
    }
}

impl LeakageConfig {
    /// Check the thresholds once, before any data is read.
    pub fn validate(&self) -> crate::error::Result<()> {
        let bad = |what: &str, v: f64, lo: f64, hi: f64| {
            (!(lo..=hi).contains(&v)).then(|| {
                crate::error::Error::Config(format!(
                    "[leakage] {what} must be in [{lo}, {hi}], got {v}"
                ))
            })
        };
        let checks = [
            bad("auc_margin", self.auc_margin, 0.0, 0.5),
            bad("one_class_share", self.one_class_share, 0.5, 1.0),
            bad("other_class_share", self.other_class_share, 0.0, 1.0),
            bad("warn_auc", self.warn_auc, 0.5, 1.0),
        ];
        checks.into_iter().flatten().next().map_or(Ok(()), Err)
    }
}

/// A column the screen flagged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suspect {
    pub column: String,
    /// Every test it failed, joined by "; ".
    pub reason: String,
    /// Its single-feature ROC AUC (oriented: at least 0.5).
    pub auc: f64,
}

/// What the screen did (`data_report.json` `leakage`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct LeakageReport {
    /// Columns screened.
    pub screened: usize,
    /// Columns left out as suspects.
    pub suspects: Vec<Suspect>,
    /// Suspects kept on purpose (`--allow-leaky`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<Suspect>,
}

/// Letters and digits of `s`, lower-cased: names compared across separators.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The name test: the reason, when `name` contains the target or the label.
fn name_reason(name: &str, target: &str, positive: &str) -> Option<String> {
    let n = squash(name);
    let t = squash(target);
    if t.len() >= 3 && n.contains(&t) {
        return Some(format!("name contains the target '{target}'"));
    }
    let p = squash(positive);
    let generic = ["yes", "true", "churn", "churned", "positive"];
    let numeric = p.chars().all(|c| c.is_ascii_digit());
    (p.len() >= 4 && !numeric && !generic.contains(&p.as_str()) && n.contains(&p))
        .then(|| format!("name contains the positive label '{positive}'"))
}

/// Mann–Whitney AUC of `scores` (ties count half), `y` the 0/1 labels;
/// `missing` = (positives, negatives) without a score, ranked as one tied
/// group below everything (`low`) or above everything.
fn rank_auc(mut pairs: Vec<(f64, u8)>, missing: (f64, f64), low: bool) -> f64 {
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let pos = pairs.iter().filter(|p| p.1 == 1).count() as f64 + missing.0;
    let neg = pairs.len() as f64 + missing.0 + missing.1 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    // Sum over positives of (negatives below + half the tied negatives).
    let mut wins = 0.0;
    let mut below = if low { missing.1 } else { 0.0 };
    if low {
        wins += missing.0 * missing.1 / 2.0;
    }
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        let (mut p, mut n) = (0.0, 0.0);
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            if pairs[j].1 == 1 {
                p += 1.0
            } else {
                n += 1.0
            }
            j += 1;
        }
        wins += p * (below + n / 2.0);
        below += n;
        i = j;
    }
    if !low {
        wins += missing.0 * (below + missing.1 / 2.0);
    }
    wins / (pos * neg)
}

/// Single-feature AUC of a numeric column (oriented to ≥ 0.5), missing
/// cells at whichever end separates better.
fn numeric_auc(v: &[f64], y: &[u8]) -> f64 {
    let mut missing = (0.0, 0.0);
    let mut pairs = Vec::with_capacity(v.len());
    for (&x, &l) in v.iter().zip(y) {
        if x.is_nan() {
            if l == 1 {
                missing.0 += 1.0
            } else {
                missing.1 += 1.0
            }
        } else {
            pairs.push((x, l));
        }
    }
    let gap = |a: f64| (a - 0.5).abs();
    let low = rank_auc(pairs.clone(), missing, true);
    let auc = if missing.0 + missing.1 > 0.0 {
        let high = rank_auc(pairs, missing, false);
        if gap(high) > gap(low) {
            high
        } else {
            low
        }
    } else {
        low
    };
    0.5 + gap(auc)
}

/// Rows the screen reads at most (a larger table is sampled evenly).
const SAMPLE_ROWS: usize = 50_000;

/// Folds of the categorical screen (rows by position).
const FOLDS: usize = 5;

/// Each row's level as a small integer (missing is a level of its own).
fn level_ids(v: &[crate::features::Category]) -> (Vec<usize>, usize) {
    let mut ids: FastMap<&str, usize> = FastMap::default();
    let codes = v
        .iter()
        .map(|c| {
            let key = c.as_deref().unwrap_or("\u{0}missing");
            let next = ids.len();
            *ids.entry(key).or_insert(next)
        })
        .collect();
    (codes, ids.len())
}

/// Single-feature AUC of a categorical column: every row scored by its
/// level's churn rate in the other folds (the other folds' overall rate for
/// a level they never saw).
fn categorical_auc(codes: &[usize], levels: usize, y: &[u8]) -> f64 {
    // counts[fold][level] = (positives, rows)
    let mut counts = vec![vec![(0.0f64, 0.0f64); levels]; FOLDS];
    for (r, (&c, &l)) in codes.iter().zip(y).enumerate() {
        let e = &mut counts[r % FOLDS][c];
        e.0 += f64::from(l);
        e.1 += 1.0;
    }
    let mut total = vec![(0.0, 0.0); levels];
    for fold in &counts {
        for (t, e) in total.iter_mut().zip(fold) {
            t.0 += e.0;
            t.1 += e.1;
        }
    }
    let fold_sum = |f: usize| {
        counts[f]
            .iter()
            .fold((0.0, 0.0), |a, e| (a.0 + e.0, a.1 + e.1))
    };
    let all = total.iter().fold((0.0, 0.0), |a, e| (a.0 + e.0, a.1 + e.1));
    let base: Vec<f64> = (0..FOLDS)
        .map(|f| {
            let s = fold_sum(f);
            (all.0 - s.0) / (all.1 - s.1).max(1.0)
        })
        .collect();
    let pairs = codes
        .iter()
        .zip(y)
        .enumerate()
        .map(|(r, (&c, &l))| {
            let f = r % FOLDS;
            let (p, n) = (total[c].0 - counts[f][c].0, total[c].1 - counts[f][c].1);
            (if n > 0.0 { p / n } else { base[f] }, l)
        })
        .collect();
    let auc = rank_auc(pairs, (0.0, 0.0), true);
    0.5 + (auc - 0.5).abs()
}

/// The one-class test on per-row codes (missing and each value a code):
/// the reason when one class is nearly all one code that the other class
/// mostly is not.
fn one_class_reason(
    codes: &[usize],
    levels: usize,
    missing: Option<usize>,
    y: &[u8],
    cfg: &LeakageConfig,
) -> Option<String> {
    let mut counts = vec![[0usize; 2]; levels];
    let mut n = [0usize; 2];
    for (&c, &l) in codes.iter().zip(y) {
        counts[c][l as usize] += 1;
        n[l as usize] += 1;
    }
    if n[0] == 0 || n[1] == 0 {
        return None;
    }
    let class = ["non-churners", "churners"];
    for c in 0..2 {
        let (mode, count) = counts
            .iter()
            .enumerate()
            .map(|(i, k)| (i, k[c]))
            .max_by_key(|&(i, k)| (k, std::cmp::Reverse(i)))?;
        let share = count as f64 / n[c] as f64;
        let other = counts[mode][1 - c] as f64 / n[1 - c] as f64;
        if share >= cfg.one_class_share && other <= cfg.other_class_share {
            let what = if Some(mode) == missing {
                "missing"
            } else {
                "one value"
            };
            return Some(format!(
                "{what} for {:.1}% of {} but {:.1}% of {}",
                100.0 * share,
                class[c],
                100.0 * other,
                class[1 - c]
            ));
        }
    }
    None
}

/// Numeric cells as codes for the one-class test: missing is 0, each
/// distinct value another code (by its bits).
fn numeric_codes(v: &[f64]) -> (Vec<usize>, usize) {
    let mut ids: FastMap<u64, usize> = FastMap::default();
    ids.insert(f64::NAN.to_bits(), 0);
    let codes = v
        .iter()
        .map(|&x| {
            let key = if x.is_nan() {
                f64::NAN.to_bits()
            } else {
                x.to_bits()
            };
            let next = ids.len();
            *ids.entry(key).or_insert(next)
        })
        .collect();
    (codes, ids.len())
}

/// Judge one column: its AUC alone and, when suspect, why.
fn judge(
    name: &str,
    data: &FeatureData,
    y: &[u8],
    target: &str,
    positive: &str,
    cfg: &LeakageConfig,
) -> (f64, Vec<String>) {
    let (auc, one_class) = match data {
        FeatureData::Numeric(v) => {
            let (codes, levels) = numeric_codes(v);
            (
                numeric_auc(v, y),
                one_class_reason(&codes, levels, Some(0), y, cfg),
            )
        }
        FeatureData::Categorical(v) => {
            let (codes, levels) = level_ids(v);
            let missing = v.iter().position(Option::is_none).map(|r| codes[r]);
            (
                categorical_auc(&codes, levels, y),
                one_class_reason(&codes, levels, missing, y, cfg),
            )
        }
    };
    let mut reasons = Vec::new();
    if auc - 0.5 >= cfg.auc_margin {
        reasons.push(format!("AUC {auc:.3} alone"));
    }
    reasons.extend(one_class);
    if cfg.name_match {
        reasons.extend(name_reason(name, target, positive));
    }
    (auc, reasons)
}

/// Screen the columns of `table` (those `screen` accepts) against labels
/// `y`: the suspects, and the columns to drop (suspects not allowed).
pub fn screen(
    table: &FeatureTable,
    y: &[u8],
    target: &str,
    positive: &str,
    cfg: &LeakageConfig,
    screened: &dyn Fn(&str) -> bool,
) -> LeakageReport {
    let mut report = LeakageReport::default();
    if !cfg.enabled {
        return report;
    }
    let picked: Vec<usize> = (0..table.names.len())
        .filter(|&i| screened(&table.names[i]))
        .collect();
    report.screened = picked.len();
    // On a large table, every k-th row: an AUC of 50,000 rows is within
    // ±0.01 of the whole table's, inside the gap between a leak (≥ 0.98)
    // and an honest driver.
    let n = y.len();
    let sample: Option<Vec<usize>> =
        (n > SAMPLE_ROWS).then(|| (0..n).step_by(n.div_ceil(SAMPLE_ROWS)).collect());
    let ys: Vec<u8> = match &sample {
        Some(rows) => rows.iter().map(|&r| y[r]).collect(),
        None => y.to_vec(),
    };
    let judged: Vec<(usize, f64, Vec<String>)> = picked
        .par_iter()
        .map(|&i| {
            let sampled;
            let data = match &sample {
                Some(rows) => {
                    sampled = table.columns[i].select(rows);
                    &sampled
                }
                None => &table.columns[i],
            };
            let (auc, why) = judge(&table.names[i], data, &ys, target, positive, cfg);
            (i, auc, why)
        })
        .collect();
    for (i, auc, why) in judged {
        if why.is_empty() {
            continue;
        }
        let s = Suspect {
            column: table.names[i].clone(),
            reason: why.join("; "),
            auc,
        };
        if cfg.allow.contains(&s.column) {
            report.allowed.push(s);
        } else {
            report.suspects.push(s);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_auc_counts_ties_half_and_missing_at_either_end() {
        let y = [0, 0, 1, 1];
        assert_eq!(numeric_auc(&[1.0, 2.0, 3.0, 4.0], &y), 1.0);
        assert_eq!(numeric_auc(&[4.0, 3.0, 2.0, 1.0], &y), 1.0);
        assert_eq!(numeric_auc(&[1.0, 1.0, 1.0, 1.0], &y), 0.5);
        // Present only for churners: perfectly separated by missingness.
        assert_eq!(numeric_auc(&[f64::NAN, f64::NAN, 3.0, 9.0], &y), 1.0);
        let p = [0.1, 0.4, 0.35, 0.8];
        let want = crate::stats::roc_auc(&[0, 0, 1, 1], &p);
        assert!(
            (rank_auc(p.iter().copied().zip(y).collect(), (0.0, 0.0), true) - want).abs() < 1e-12
        );
    }

    #[test]
    fn names_match_across_separators_not_generic_labels() {
        let r = name_reason("Naive_Bayes_Attrition_Flag_1", "Attrition_Flag", "Attrited");
        assert!(r.unwrap().contains("Attrition_Flag"));
        assert!(name_reason("closed_attrited_date", "flag", "Attrited Customer").is_none());
        assert!(name_reason("attritedcustomer_score", "flag", "Attrited Customer").is_some());
        assert!(name_reason("yes_votes", "Churn", "Yes").is_none());
        assert!(name_reason("Balance", "Exited", "1").is_none());
    }

    #[test]
    fn out_of_fold_levels_do_not_score_themselves() {
        // A distinct level per row (an id written as text): in-sample rates
        // would separate perfectly; out of fold every level is unseen.
        let y: Vec<u8> = (0..200).map(|i| (i % 3 == 0) as u8).collect();
        let codes: Vec<usize> = (0..200).collect();
        let auc = categorical_auc(&codes, 200, &y);
        assert!(auc < 0.7, "{auc}");
        // A label copy as a category is caught.
        let codes: Vec<usize> = y.iter().map(|&l| l as usize).collect();
        assert!(categorical_auc(&codes, 2, &y) > 0.99);
    }
}
