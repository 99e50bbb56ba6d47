//! Warning accuracy after the fact: a past scoring run's scores.csv joined
//! by customer id to the campaign's outcome. Read on the control (holdout)
//! arm only — a treated customer's outcome was changed by the treatment, so
//! it says nothing of what the model foresaw: per warning level the
//! customers, churners and churn rate, the recall of red + orange, the
//! realised ROC AUC, PR AUC and KS, and calibration by score decile. When
//! the scores file holds several scoring dates (a column `as_of`, `period`,
//! `month` or `scored_at`: monthly runs stacked), each customer is judged by
//! the latest score, and each date's scores are judged on their own
//! (`by_period`): how far ahead the warnings saw.

use crate::error::{Error, Result};
use crate::evaluate::metrics::Metrics;
use crate::ingest::RawTable;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One customer's past score.
#[derive(Debug, Clone)]
pub struct Scored {
    pub probability: f64,
    pub level: String,
    pub tier: String,
    /// The scoring date or period, when the file says.
    pub period: Option<String>,
}

/// Names of a scores file's scoring-date column.
pub const PERIOD_COLUMNS: [&str; 4] = ["as_of", "period", "month", "scored_at"];

/// scores.csv by customer id: each customer's scores, earliest first.
pub fn read_scores(table: &RawTable) -> Result<HashMap<String, Vec<Scored>>> {
    let src = &table.source;
    let col = |n: &str| {
        table
            .column(n)
            .ok_or_else(|| Error::at(src, n, None, "column not found (a churn-score scores.csv?)"))
    };
    let (id, p, level, tier) = (
        col("id")?,
        col("churn_probability")?,
        col("warning_level")?,
        col("value_tier")?,
    );
    let period = PERIOD_COLUMNS.iter().find_map(|n| table.column(n));
    let mut out: HashMap<String, Vec<Scored>> = HashMap::with_capacity(id.len());
    for r in 0..id.len() {
        let Some(i) = id.text(r) else { continue };
        let probability = p
            .text(r)
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or_else(|| {
                Error::at(
                    src,
                    "churn_probability",
                    Some(table.row(r)),
                    "not a probability",
                )
            })?;
        out.entry(i).or_default().push(Scored {
            probability,
            level: level.text(r).unwrap_or_default(),
            tier: tier.text(r).unwrap_or_default(),
            period: period.and_then(|c| c.text(r)),
        });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| a.period.cmp(&b.period));
    }
    Ok(out)
}

/// One scoring date's warnings judged on their own.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodAccuracy {
    pub customers: usize,
    pub churned: usize,
    pub recall_red_orange: Option<f64>,
    /// Churn rate among the red and orange customers.
    pub precision_red_orange: Option<f64>,
    pub roc_auc: Option<f64>,
}

/// Each scoring date's accuracy (empty with fewer than two dates): the
/// campaign rows' (`ids`) scores of that date, judged by `judge_one`.
pub fn by_period<'a>(
    scores: &'a HashMap<String, Vec<Scored>>,
    ids: &[Option<String>],
    judge_one: impl Fn(&[Option<&'a Scored>]) -> Accuracy,
) -> BTreeMap<String, PeriodAccuracy> {
    let periods: std::collections::BTreeSet<&str> = scores
        .values()
        .flatten()
        .filter_map(|s| s.period.as_deref())
        .collect();
    if periods.len() < 2 {
        return BTreeMap::new();
    }
    periods
        .into_iter()
        .map(|p| {
            let scored: Vec<Option<&Scored>> = ids
                .iter()
                .map(|i| {
                    let all = scores.get(i.as_deref()?)?;
                    all.iter().find(|s| s.period.as_deref() == Some(p))
                })
                .collect();
            let a = judge_one(&scored);
            let flagged: Vec<&LevelCount> = ["red", "orange"]
                .iter()
                .filter_map(|l| a.by_level.get(*l))
                .collect();
            let (n, c) = flagged
                .iter()
                .fold((0, 0), |(n, c), l| (n + l.customers, c + l.churned));
            let figures = PeriodAccuracy {
                customers: a.customers,
                churned: a.churned,
                recall_red_orange: a.recall_red_orange,
                precision_red_orange: (n > 0).then(|| c as f64 / n as f64),
                roc_auc: a.roc_auc,
            };
            (p.to_string(), figures)
        })
        .collect()
}

/// Customers and churners at one warning level.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LevelCount {
    pub customers: usize,
    pub churned: usize,
    pub churn_rate: f64,
}

/// One calibration bin (score deciles).
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub predicted: f64,
    pub observed: f64,
    pub customers: usize,
}

/// campaign.json `accuracy`.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// The outcome read as churn, and whether it was inverted (a
    /// retention outcome: churned = not retained).
    pub outcome: String,
    pub inverted: bool,
    /// Campaign customers with a score, and without.
    pub matched: usize,
    pub unmatched: usize,
    /// Control customers with a score and an outcome: what is judged.
    pub customers: usize,
    pub churned: usize,
    pub by_level: BTreeMap<String, LevelCount>,
    /// Share of the churners that were red or orange.
    pub recall_red_orange: Option<f64>,
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub ks: Option<f64>,
    pub calibration: Vec<Calibration>,
    /// With `--model`: the model's own out-of-fold figures from its
    /// artifact, what the realised ones are read against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_oof: Option<OofFigures>,
    /// Each scoring date's warnings, when the scores hold several.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_period: BTreeMap<String, PeriodAccuracy>,
    pub note: String,
}

/// A model's out-of-fold ROC AUC, PR AUC and KS (from its artifact).
#[derive(Debug, Clone, Serialize)]
pub struct OofFigures {
    pub model: String,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub ks: f64,
}

/// The out-of-fold figures of the artifact's chosen model.
pub fn oof_figures(art: &crate::artifact::Artifact) -> Option<OofFigures> {
    let m = art.cv_metrics.get(&art.model_name)?;
    Some(OofFigures {
        model: format!("{} ({})", art.run_id, art.model_name),
        roc_auc: m.roc_auc,
        pr_auc: m.pr_auc,
        ks: m.ks,
    })
}

/// Is an outcome named for staying (churned = not it)?
pub fn is_retention(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    ["retain", "stay", "renew", "active", "kept"]
        .iter()
        .any(|w| l.contains(w))
}

/// Accuracy on the `control` rows: `churn[r]` is 1/0 (NaN missing),
/// `scored[r]` the row's past score.
pub fn judge(
    outcome: &str,
    inverted: bool,
    churn: &[f64],
    scored: &[Option<&Scored>],
    control: &[usize],
) -> Accuracy {
    let matched = scored.iter().filter(|s| s.is_some()).count();
    let rows: Vec<(u8, &Scored)> = control
        .iter()
        .filter_map(|&r| Some((churn[r], scored[r]?)))
        .filter(|(c, _)| !c.is_nan())
        .map(|(c, s)| (c as u8, s))
        .collect();
    let y: Vec<u8> = rows.iter().map(|r| r.0).collect();
    let p: Vec<f64> = rows.iter().map(|r| r.1.probability).collect();
    let mut by_level: BTreeMap<String, LevelCount> = BTreeMap::new();
    for (c, s) in &rows {
        let l = by_level.entry(s.level.clone()).or_default();
        l.customers += 1;
        l.churned += *c as usize;
    }
    for l in by_level.values_mut() {
        l.churn_rate = l.churned as f64 / l.customers.max(1) as f64;
    }
    let churned = y.iter().filter(|&&c| c == 1).count();
    let both = churned > 0 && churned < y.len();
    let caught = rows
        .iter()
        .filter(|(c, s)| *c == 1 && matches!(s.level.as_str(), "red" | "orange"))
        .count();
    let m = both.then(|| Metrics::compute(&y, &p, 0.5));
    // Score deciles: equal-count bins of the sorted scores.
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let calibration = (0..10)
        .filter_map(|k| {
            let part = &order[k * order.len() / 10..(k + 1) * order.len() / 10];
            (!part.is_empty()).then(|| Calibration {
                predicted: part.iter().map(|&i| p[i]).sum::<f64>() / part.len() as f64,
                observed: part.iter().map(|&i| f64::from(y[i])).sum::<f64>() / part.len() as f64,
                customers: part.len(),
            })
        })
        .collect();
    Accuracy {
        outcome: outcome.to_string(),
        inverted,
        matched,
        unmatched: scored.len() - matched,
        customers: y.len(),
        churned,
        by_level,
        recall_red_orange: (churned > 0).then(|| caught as f64 / churned as f64),
        roc_auc: m.as_ref().map(|m| m.roc_auc),
        pr_auc: m.as_ref().map(|m| m.pr_auc),
        ks: m.as_ref().map(|m| m.ks),
        calibration,
        model_oof: None,
        by_period: BTreeMap::new(),
        note: "control arm only: a treated customer's outcome was changed by the treatment".into(),
    }
}
