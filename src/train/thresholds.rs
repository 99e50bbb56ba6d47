//! A training run's thresholds per customer group (`--threshold-by`):
//! the groups of the cross-validated rows (for the thresholds, from the
//! out-of-fold scores) and of every row (for the warning cut-offs, from the
//! saved model's scores), fitted by [`GroupThresholds::fit`], and the
//! figures metrics.json and report.html show for them.

use crate::clean::Dataset;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::reference::thresholds::{
    self, Derived, FitInput, GroupThresholds, Rates, ThresholdReport, TIER,
};
use crate::reference::{value, ScoringReference};
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

/// Each row's calendar month from its period (only for seasonal groups).
fn months(by: &[String], data: &Dataset) -> std::result::Result<Option<Vec<u32>>, String> {
    let (true, Some(periods)) = (thresholds::seasonal(by), &data.period) else {
        return Ok(None);
    };
    periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            thresholds::month_of(p).ok_or_else(|| {
                format!(
                    "season: the period '{p}' of row {} is not a date YYYY-MM[-DD]",
                    i + 1
                )
            })
        })
        .collect::<std::result::Result<Vec<u32>, String>>()
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
    let cv_months = months(by, cv_data).map_err(fail)?;
    let all_months = months(by, data).map_err(fail)?;
    let cv_derived = Derived {
        tiers: cv_tiers.as_deref(),
        months: cv_months.as_deref(),
    };
    let all_derived = Derived {
        tiers: all_tiers.as_deref(),
        months: all_months.as_deref(),
    };
    thresholds::check_levels(by, &cv_data.table, cv_derived).map_err(fail)?;
    let cv_keys = thresholds::keys(by, &cv_data.table, cv_derived).map_err(fail)?;
    let all_keys = thresholds::keys(by, &data.table, all_derived).map_err(fail)?;
    let margins = super::profit_margins(cfg, cv_data);
    let clv = super::clv_of(cfg);
    let input = FitInput {
        economics: margins.as_deref().map(|m| super::economics(cfg, m, &clv)),
        cv_keys: &cv_keys,
        cv_y: &cv_data.y,
        oof,
        all_keys: &all_keys,
        all_y: &data.y,
        scores,
    };
    let t = &cfg.train;
    let gt = GroupThresholds::fit(
        by,
        t.threshold_rule,
        t.min_group_positives,
        &input,
        (threshold, scoring.warning),
    );
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
