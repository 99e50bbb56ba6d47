//! A training run's thresholds per customer group (`--threshold-by`):
//! the groups of the cross-validated rows (for the thresholds, from the
//! out-of-fold scores) and of every row (for the warning cut-offs, from the
//! saved model's scores), fitted by [`fit_groups`], and the
//! figures metrics.json and report.html show for them.

use crate::clean::Dataset;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::evaluate::threshold::{self, ThresholdRule};
use crate::progress::Progress;
use crate::reference::thresholds::{
    self, Derived, GroupThreshold, GroupThresholds, Rates, ThresholdReport, TIER,
};
use crate::reference::WarningCutoffs;
use crate::reference::{value, ScoringReference};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The groups' thresholds and their out-of-fold figures.
pub struct Fitted {
    pub thresholds: GroupThresholds,
    pub report: ThresholdReport,
}

/// The value tiers scoring would give the rows of `data` with
/// probabilities `p` (only when `--threshold-by` names them).
fn tiers(
    cfg: &Config,
    scoring: &ScoringReference,
    data: &Dataset,
    p: &[f64],
) -> Result<Option<Vec<Arc<str>>>> {
    if !cfg.train.threshold_by.iter().any(|c| c == TIER) {
        return Ok(None);
    }
    let Some(seg) = &scoring.segments else {
        return Ok(None);
    };
    let clv = value::clvs(&cfg.score.clv, scoring.roles.as_ref(), &data.table, p);
    seg.assign(&data.table, &clv).map(Some)
}

/// What a group threshold is fitted from: the cross-validated rows (their
/// labels, out-of-fold scores and groups) for the threshold, every row
/// (labels, the saved model's scores, groups) for the warning cut-offs.
pub struct FitInput<'a> {
    pub cv_keys: &'a [String],
    pub cv_y: &'a [u8],
    pub oof: &'a [f64],
    pub all_keys: &'a [String],
    pub all_y: &'a [u8],
    pub scores: &'a [f64],
    /// What the `profit` rule weighs, for the cross-validated rows.
    pub economics: Option<threshold::Economics<'a>>,
    /// `capacity:S`'s share per group (`[train.capacity_quotas]`).
    pub quotas: &'a BTreeMap<String, f64>,
    /// `--threshold-shrink`: churners' worth of weight on the global threshold.
    pub shrink: f64,
}

/// Each group's share of a capacity: its `[train.capacity_quotas]` quota,
/// else the rest of the capacity in proportion to its expected churners
/// (the sum of its out-of-fold probabilities) among the groups without one.
fn capacity_shares<'k>(
    members: &BTreeMap<&'k str, Vec<usize>>,
    input: &FitInput,
) -> BTreeMap<&'k str, f64> {
    let expected: BTreeMap<&str, f64> = members
        .iter()
        .map(|(k, rows)| (*k, rows.iter().map(|&i| input.oof[i]).sum()))
        .collect();
    let quotas = input.quotas;
    let rest = (1.0 - quotas.values().sum::<f64>()).max(0.0);
    let unlisted: f64 = expected
        .iter()
        .filter(|(k, _)| !quotas.contains_key(**k))
        .map(|(_, e)| e)
        .sum();
    expected
        .iter()
        .map(|(k, e)| {
            let share = match quotas.get(*k) {
                Some(q) => *q,
                None => rest * e / unlisted.max(f64::MIN_POSITIVE),
            };
            (*k, share)
        })
        .collect()
}

/// Fewest churners a group's red level must hold for its precision to be
/// matched (else the share rule of [`WarningCutoffs::derive_for_group`]).
const MIN_RED_CHURNERS: usize = 10;

/// The out-of-fold churn rate among the customers at or above `red`: what
/// the global red level means, which each group's red level matches.
fn red_precision(input: &FitInput, red: f64) -> Option<f64> {
    let (mut k, mut churners) = (0usize, 0usize);
    for (&p, &y) in input.oof.iter().zip(input.cv_y) {
        if p >= red {
            (k, churners) = (k + 1, churners + usize::from(y));
        }
    }
    (k > 0).then(|| churners as f64 / k as f64)
}

/// The lowest score of `p` at or above which the churn rate of `y`
/// reaches `target` (the largest such top set, cut between distinct
/// scores), when that set holds [`MIN_RED_CHURNERS`] churners.
fn matched_red(y: &[u8], p: &[f64], target: f64) -> Option<f64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    let (mut churners, mut best) = (0usize, None);
    for (k, &i) in order.iter().enumerate() {
        churners += usize::from(y[i]);
        let boundary = order.get(k + 1).is_none_or(|&j| p[j] < p[i]);
        if boundary && churners >= MIN_RED_CHURNERS && churners as f64 >= target * (k + 1) as f64 {
            best = Some(p[i]);
        }
    }
    best
}

/// Each group's threshold by `rule` (global ones for small groups).
pub fn fit_groups(
    by: &[String],
    rule: ThresholdRule,
    min_positives: usize,
    input: &FitInput,
    global: (f64, WarningCutoffs),
) -> GroupThresholds {
    let all = thresholds::members(input.all_keys);
    let overall =
        input.all_y.iter().map(|&v| v as f64).sum::<f64>() / input.all_y.len().max(1) as f64;
    let n = input.oof.len() as f64;
    let members = thresholds::members(input.cv_keys);
    let share = capacity_shares(&members, input);
    let red_target = red_precision(input, global.1.red);
    let groups = members
        .into_iter()
        .map(|(key, rows)| {
            let y: Vec<u8> = rows.iter().map(|&i| input.cv_y[i]).collect();
            let p: Vec<f64> = rows.iter().map(|&i| input.oof[i]).collect();
            let positives = y.iter().filter(|&&v| v == 1).count();
            let fallback = positives < min_positives.max(1) || positives == y.len();
            let (threshold, warning) = match fallback {
                true => global,
                false => {
                    let own = match rule {
                        ThresholdRule::Capacity(c) => {
                            let quota = c * n * share[key];
                            ThresholdRule::Capacity((quota / p.len() as f64).min(1.0))
                        }
                        r => r,
                    };
                    let margins: Option<Vec<f64>> = input
                        .economics
                        .map(|e| rows.iter().map(|&i| e.margins[i]).collect());
                    let economics = input
                        .economics
                        .zip(margins.as_deref())
                        .map(|(e, margins)| threshold::Economics { margins, ..e });
                    let own_t = threshold::choose_with(own, &y, &p, economics.as_ref());
                    // Shrunk towards the global threshold by the group's
                    // churners against `shrink` (0: the group's own).
                    let w = positives as f64 / (positives as f64 + input.shrink);
                    let t = w * own_t + (1.0 - w) * global.0;
                    let rows_all = all.get(key).map_or(&[][..], Vec::as_slice);
                    let s: Vec<f64> = rows_all.iter().map(|&i| input.scores[i]).collect();
                    let rate = rows_all.iter().map(|&i| input.all_y[i] as f64).sum::<f64>()
                        / rows_all.len().max(1) as f64;
                    // Red means the same risk in every group: the global
                    // red level's churn rate out of fold, matched on the
                    // group's own (else a share scaled by its churn rate).
                    let warning = match red_target.and_then(|r| matched_red(&y, &p, r)) {
                        Some(red) => WarningCutoffs::with_red(t, red, rate),
                        None => WarningCutoffs::derive_for_group(t, &s, rate, overall),
                    };
                    (t, warning)
                }
            };
            let g = GroupThreshold {
                threshold,
                warning,
                rows: rows.len(),
                positives,
                fallback,
            };
            (key.to_string(), g)
        })
        .collect();
    GroupThresholds {
        by: by.to_vec(),
        rule: rule.to_string(),
        min_positives,
        groups,
        calendar: Vec::new(),
    }
}

/// Each row's date from its period (only for season, quarter and
/// calendar groups).
fn days(by: &[String], data: &Dataset) -> std::result::Result<Option<Vec<i32>>, String> {
    let (true, Some(periods)) = (thresholds::dated(by), &data.period) else {
        return Ok(None);
    };
    periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            thresholds::day_of(p, 0)
                .filter(|_| p.contains('-'))
                .ok_or_else(|| {
                    format!(
                        "season: the period '{p}' of row {} is not a date YYYY-MM[-DD]",
                        i + 1
                    )
                })
        })
        .collect::<std::result::Result<Vec<i32>, String>>()
        .map(Some)
}

/// Fit the group thresholds of a run, or `None` without `--threshold-by`.
pub fn fit(
    cfg: &Config,
    (data, cv_data): (&Dataset, &Dataset),
    scoring: &ScoringReference,
    (oof, scores, threshold): (&[f64], &[f64], f64),
    progress: &Progress,
) -> Result<Option<Fitted>> {
    let by = &cfg.train.threshold_by;
    if by.is_empty() {
        return Ok(None);
    }
    let fail = |m: String| Error::data(&data.report.file, format!("--threshold-by {m}"));
    let cv_tiers = tiers(cfg, scoring, cv_data, oof)?;
    let all_tiers = tiers(cfg, scoring, data, scores)?;
    let cv_days = days(by, cv_data).map_err(fail)?;
    let all_days = days(by, data).map_err(fail)?;
    let calendar = match &cfg.train.calendar {
        Some(path) => crate::ingest::calendar::read(path)?,
        None => Vec::new(),
    };
    let cv_derived = Derived {
        tiers: cv_tiers.as_deref(),
        days: cv_days.as_deref(),
        calendar: &calendar,
    };
    let all_derived = Derived {
        tiers: all_tiers.as_deref(),
        days: all_days.as_deref(),
        calendar: &calendar,
    };
    thresholds::check_levels(by, &cv_data.table, cv_derived).map_err(fail)?;
    let cv_keys = thresholds::keys(by, &cv_data.table, cv_derived).map_err(fail)?;
    let all_keys = thresholds::keys(by, &data.table, all_derived).map_err(fail)?;
    let margins = super::economics::profit_margins(cfg, cv_data);
    let clv = super::economics::clv_of(cfg);
    let input = FitInput {
        economics: margins
            .as_deref()
            .map(|m| super::economics::economics(cfg, m, &clv)),
        quotas: &cfg.train.capacity_quotas,
        shrink: cfg.train.threshold_shrink,
        cv_keys: &cv_keys,
        cv_y: &cv_data.y,
        oof,
        all_keys: &all_keys,
        all_y: &data.y,
        scores,
    };
    let t = &cfg.train;
    let mut gt = fit_groups(
        by,
        t.threshold_rule,
        t.min_group_positives,
        &input,
        (threshold, scoring.warning),
    );
    gt.calendar = calendar;
    for name in t
        .capacity_quotas
        .keys()
        .filter(|k| !gt.groups.contains_key(*k))
    {
        progress.warn(format!(
            "[train.capacity_quotas] {name}: no such threshold group (the groups: {})",
            gt.groups.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    for (name, g) in gt.groups.iter().filter(|g| g.1.fallback) {
        progress.warn(format!(
            "threshold group {name}: {} churners, fewer than {} (--min-group-positives): the global threshold serves it",
            g.positives, t.min_group_positives
        ));
    }
    let (groups, with_groups) = thresholds::stats(&gt, &cv_keys, &cv_data.y, oof, threshold);
    let report = ThresholdReport {
        by: by.clone(),
        min_group_positives: t.min_group_positives,
        with_groups,
        global: Rates::of(&cv_data.y, oof, |_| threshold),
        groups,
    };
    Ok(Some(Fitted {
        thresholds: gt,
        report,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_is_the_largest_top_set_at_the_target_churn_rate() {
        // Scores 1.00, 0.99, …; churners: every one of the top 20, then
        // every fourth.
        let p: Vec<f64> = (0..200).map(|i| 1.0 - i as f64 * 0.005).collect();
        let y: Vec<u8> = (0..200).map(|i| u8::from(i < 20 || i % 4 == 0)).collect();
        let red = matched_red(&y, &p, 0.5).unwrap();
        let k = p.iter().filter(|&&v| v >= red).count();
        let churners = (0..k).filter(|&i| y[i] == 1).count();
        assert!(churners as f64 >= 0.5 * k as f64, "{k} {churners}");
        let rate_to = |j: usize| (0..=j).filter(|&i| y[i] == 1).count() as f64 / (j + 1) as f64;
        assert!(
            (k..200).all(|j| rate_to(j) < 0.5),
            "no larger set reaches 0.5"
        );
        // Ties are never cut: the set is every customer at or above red.
        let tied: Vec<f64> = p.iter().map(|v| (v * 10.0).floor() / 10.0).collect();
        let red = matched_red(&y, &tied, 0.5).unwrap();
        let k = tied.iter().filter(|&&v| v >= red).count();
        assert!(k < 200 && tied[k] < red && rate_to(k - 1) >= 0.5, "{k}");
        // A rate only the top 21 reach (all churners: the top 20 and the 21st).
        let red = matched_red(&y, &p, 0.99).unwrap();
        assert_eq!(p.iter().filter(|&&v| v >= red).count(), 21);
        let few: Vec<u8> = (0..200).map(|i| u8::from(i < 5)).collect();
        assert_eq!(matched_red(&few, &p, 0.5), None, "fewer than 10 churners");
    }

    #[test]
    fn each_group_gets_its_rule_and_small_groups_the_global_threshold() {
        // Group a: churners score 0.6+, group b: 0.3+; b has 2 churners.
        let mut keys_ = Vec::new();
        let (mut y, mut p) = (Vec::new(), Vec::new());
        for i in 0..100 {
            keys_.push("a".to_string());
            y.push((i % 2) as u8);
            p.push(if i % 2 == 1 {
                0.6 + i as f64 * 1e-3
            } else {
                0.1 + i as f64 * 1e-3
            });
        }
        for i in 0..20 {
            keys_.push("b".to_string());
            y.push((i < 2) as u8);
            p.push(if i < 2 { 0.3 } else { 0.05 });
        }
        let global = (
            0.5,
            WarningCutoffs {
                red: 0.8,
                orange: 0.5,
                yellow: 0.2,
            },
        );
        let input = FitInput {
            cv_keys: &keys_,
            cv_y: &y,
            oof: &p,
            all_keys: &keys_,
            all_y: &y,
            scores: &p,
            economics: None,
            quotas: &BTreeMap::new(),
            shrink: 0.0,
        };
        let by = vec!["g".to_string()];
        let gt = fit_groups(&by, ThresholdRule::Recall(1.0), 10, &input, global);
        let a = gt.own("a").unwrap();
        assert!((a.threshold - 0.601).abs() < 1e-12, "{}", a.threshold);
        // Shrunk with 50 churners' weight on the global 0.5: a has 50.
        let shrunk = FitInput {
            shrink: 50.0,
            ..input
        };
        let s = fit_groups(&by, ThresholdRule::Recall(1.0), 10, &shrunk, global);
        assert!((s.own("a").unwrap().threshold - (0.601 + 0.5) / 2.0).abs() < 1e-12);
        assert_eq!(a.warning.orange, a.threshold);
        assert!(gt.own("b").is_none() && gt.groups["b"].fallback);
        assert!(gt.own("never seen").is_none());
        let (s, all) = thresholds::stats(&gt, &keys_, &y, &p, global.0);
        assert_eq!(s["a"].recall, 1.0);
        assert_eq!(s["b"].threshold, 0.5);
        assert_eq!(s["b"].global.recall, 0.0);
        assert!(all.recall > 0.9);
        // Capacity: 10% of 120 rows shared by expected churners.
        let gt = fit_groups(&by, ThresholdRule::Capacity(0.1), 1, &input, global);
        let (_, all) = thresholds::stats(&gt, &keys_, &y, &p, global.0);
        assert!(
            all.flag_rate <= 0.1 + 1e-9 && all.flag_rate > 0.05,
            "{}",
            all.flag_rate
        );
    }
}
