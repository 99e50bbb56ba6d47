//! What a randomised campaign did: per treatment arm and outcome, against
//! the control (holdout) arm, the difference with its interval, the
//! relative lift with its interval, the p-value and the incremental count;
//! and whether the arms' sizes match the planned split (a sample-ratio
//! mismatch says the assignment is broken, and every effect with it).
//!
//! A binary outcome is a rate (Newcombe interval, pooled z-test, Katz
//! interval of the ratio); a numeric one is a mean (Welch). The statistics
//! are [`super::stats`]'; this module turns a table into them.

use super::columns::{levels, read_outcome, Outcome};
use super::stats::{self, Moments, Proportions};
use crate::error::{Error, Result};
use crate::ingest::RawTable;
use serde::Serialize;
use std::collections::BTreeMap;

/// A p-value of the sample-ratio test below this is a loud warning.
pub const SRM_ALARM: f64 = 0.001;

/// What `churn-train campaign` is asked.
#[derive(Debug, Clone)]
pub struct CampaignJob {
    pub data: std::path::PathBuf,
    /// With `--contacts`: the logs the outcome `churned` is built from.
    pub logs: Option<crate::logs::LogsConfig>,
    pub arm: String,
    pub control: String,
    pub outcomes: Vec<String>,
    /// The label that counts as 1 in binary outcomes (else 1/yes/true/y).
    pub positive: Option<String>,
    /// Customer id column: duplicated ids are an error.
    pub id: Option<String>,
    /// Columns to read the effects per level of (`--by`).
    pub by: Vec<String>,
    /// A past run's scores.csv, joined by `id`: warning accuracy on the
    /// control arm, and (without `--by`) effects per warning level and tier.
    pub scores: Option<std::path::PathBuf>,
    /// The outcome read as churn for accuracy [default: the first binary one].
    pub churn_outcome: Option<String>,
    /// The model that made the scores: its out-of-fold figures beside the
    /// realised ones.
    pub model: Option<std::path::PathBuf>,
    /// Planned shares, control first, then the treatment arms in name
    /// order (`None`: equal).
    pub split: Option<Vec<f64>>,
    pub alpha: f64,
    pub out: std::path::PathBuf,
    pub delimiter: Option<char>,
    pub quiet: bool,
}

/// One arm's effect on one outcome, against control.
#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    /// `rate` (binary outcome) or `mean`.
    pub kind: &'static str,
    pub n: usize,
    pub control_n: usize,
    pub value: f64,
    pub control_value: f64,
    pub diff: f64,
    pub diff_ci_low: Option<f64>,
    pub diff_ci_high: Option<f64>,
    /// diff / control value, with its interval (rates: the log interval
    /// of the ratio, less 1; means: the delta method on the log ratio).
    pub rel_lift: Option<f64>,
    pub rel_lift_ci_low: Option<f64>,
    pub rel_lift_ci_high: Option<f64>,
    pub p_value: Option<f64>,
    /// diff × the arm's customers: retained customers, visits, money.
    pub incremental: f64,
    /// Customers of the arm (and control) whose outcome cell was empty.
    pub missing: usize,
    /// In a `--by` cell: the p-value Holm-adjusted across the cells of
    /// one outcome and group column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_holm: Option<f64>,
    /// In a `--by` cell: fewer than [`MIN_CELL`] customers in the arm or
    /// the control, so not tested.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub too_small: bool,
}

/// arm → outcome → effect.
pub type ArmEffects = BTreeMap<String, BTreeMap<String, Effect>>;

/// A `--by` cell with fewer customers than this in an arm is not tested.
pub const MIN_CELL: usize = 30;

/// Standardised mean differences above this (in absolute value) say the
/// arms differ on an attribute: `balance` marks them.
pub const IMBALANCE: f64 = 0.1;

/// The sample-ratio check.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRatio {
    /// Planned shares in the arms' order (control first).
    pub split: Vec<f64>,
    pub counts: Vec<usize>,
    pub chi2: f64,
    pub p_value: f64,
    /// p below [`SRM_ALARM`]: the assignment is suspect.
    pub mismatch: bool,
}

/// campaign.json.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    pub data: String,
    pub arm_column: String,
    pub control: String,
    pub alpha: f64,
    /// Customers per arm (control first, then the rest in name order).
    pub sizes: Vec<(String, usize)>,
    pub srm: Option<SampleRatio>,
    /// arm → outcome → effect.
    pub arms: BTreeMap<String, BTreeMap<String, Effect>>,
    /// Positive label of each binary outcome.
    pub positive_labels: BTreeMap<String, String>,
    /// Per `--by` column, level, arm and outcome: the effect in that cell.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, BTreeMap<String, ArmEffects>>,
    /// Per arm and attribute: the standardised mean difference against
    /// control (categorical attributes per level, `col=level`).
    pub balance: BTreeMap<String, BTreeMap<String, f64>>,
    /// Attributes whose |SMD| exceeds [`IMBALANCE`] in some arm.
    pub imbalanced: Vec<String>,
    /// With `--scores`: the warnings' accuracy after the fact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<super::accuracy::Accuracy>,
    /// With `--contacts`: how the outcome was built from the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_from_logs: Option<LogsOutcome>,
}

/// The outcome `churned` of contacted customers, built from logs.
#[derive(Debug, Clone, Serialize)]
pub struct LogsOutcome {
    pub as_of: String,
    pub horizon: String,
    pub churn_rule: String,
    /// Contacted customers the logs do not know: no outcome (missing).
    pub customers_not_in_logs: usize,
}

/// The effect of the rows `arm` against the rows `control` on `o`.
fn effect(o: &Outcome, arm: &[usize], control: &[usize], alpha: f64) -> Effect {
    let known = |rows: &[usize]| -> Vec<f64> {
        rows.iter()
            .map(|&r| o.values[r])
            .filter(|x| !x.is_nan())
            .collect()
    };
    let (a, c) = (known(arm), known(control));
    let missing = arm.len() + control.len() - a.len() - c.len();
    let (ma, mc) = (Moments::of(&a), Moments::of(&c));
    let diff = ma.mean - mc.mean;
    let mut e = Effect {
        kind: o.kind,
        n: a.len(),
        control_n: c.len(),
        value: ma.mean,
        control_value: mc.mean,
        diff,
        diff_ci_low: None,
        diff_ci_high: None,
        rel_lift: (mc.mean != 0.0).then(|| diff / mc.mean),
        rel_lift_ci_low: None,
        rel_lift_ci_high: None,
        p_value: None,
        incremental: diff * a.len() as f64,
        missing,
        p_holm: None,
        too_small: false,
    };
    if a.is_empty() || c.is_empty() {
        return e;
    }
    if o.kind == "rate" {
        let p = Proportions {
            x1: a.iter().sum(),
            n1: ma.n,
            x0: c.iter().sum(),
            n0: mc.n,
        };
        let ci = p.newcombe(alpha);
        (e.diff_ci_low, e.diff_ci_high) = (Some(ci.low), Some(ci.high));
        e.p_value = p.z_test().map(|z| z.1);
        if let Some(r) = p.ratio_interval(alpha) {
            (e.rel_lift_ci_low, e.rel_lift_ci_high) = (Some(r.low - 1.0), Some(r.high - 1.0));
        }
    } else if let Some(w) = stats::welch(ma, mc, alpha) {
        (e.diff_ci_low, e.diff_ci_high) = (Some(w.interval.low), Some(w.interval.high));
        e.p_value = Some(w.p_value);
        if ma.mean > 0.0 && mc.mean > 0.0 {
            let se =
                (ma.var / (ma.n * ma.mean * ma.mean) + mc.var / (mc.n * mc.mean * mc.mean)).sqrt();
            let z = stats::z_crit(alpha);
            let log = (ma.mean / mc.mean).ln();
            e.rel_lift_ci_low = Some((log - z * se).exp() - 1.0);
            e.rel_lift_ci_high = Some((log + z * se).exp() - 1.0);
        }
    }
    e
}

/// The campaign's report from its table.
pub fn analyse(job: &CampaignJob, raw: &RawTable) -> Result<CampaignReport> {
    let src = &raw.source;
    // The arm column is looked for first: its absence is the first error.
    raw.column(&job.arm)
        .ok_or_else(|| Error::at(src, &job.arm, None, "arm column not found"))?;
    check_ids(job, raw)?;
    let (control, by_arm) = arms(job, raw)?;
    let mut sizes = vec![(job.control.clone(), control.len())];
    sizes.extend(by_arm.iter().map(|(a, rows)| (a.clone(), rows.len())));
    let split = job.split.clone().unwrap_or_else(|| vec![1.0; sizes.len()]);
    if split.len() != sizes.len() {
        return Err(Error::Config(format!(
            "--split has {} shares but the data has {} arms (control first: {})",
            split.len(),
            sizes.len(),
            sizes
                .iter()
                .map(|s| s.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let counts: Vec<f64> = sizes.iter().map(|s| s.1 as f64).collect();
    let srm = stats::sample_ratio(&counts, &split).map(|(chi2, p)| SampleRatio {
        split: split.clone(),
        counts: sizes.iter().map(|s| s.1).collect(),
        chi2,
        p_value: p,
        mismatch: p < SRM_ALARM,
    });
    let outcomes: Vec<Outcome> = job
        .outcomes
        .iter()
        .map(|n| read_outcome(raw, n, job.positive.as_deref()))
        .collect::<Result<_>>()?;
    let mut arms: BTreeMap<String, BTreeMap<String, Effect>> = BTreeMap::new();
    let mut positive_labels = BTreeMap::new();
    for (name, o) in job.outcomes.iter().zip(&outcomes) {
        if let Some(p) = &o.positive {
            positive_labels.insert(name.clone(), p.clone());
        }
        for (arm, rows) in &by_arm {
            arms.entry(arm.clone())
                .or_default()
                .insert(name.clone(), effect(o, rows, &control, job.alpha));
        }
    }
    let mut groups = BTreeMap::new();
    for col in &job.by {
        let cells = levels(raw, col)?;
        groups.insert(
            col.clone(),
            by_group(job, &outcomes, &cells, &by_arm, &control),
        );
    }
    let accuracy = match &job.scores {
        None => None,
        Some(path) => Some(warning_accuracy(
            job,
            raw,
            path,
            &outcomes,
            (&by_arm, &control),
            &mut groups,
        )?),
    };
    let skip: Vec<&str> = [Some(&job.arm), job.id.as_ref()]
        .into_iter()
        .flatten()
        .chain(&job.outcomes)
        .map(String::as_str)
        .collect();
    let (balance, imbalanced) = balance(raw, &skip, &by_arm, &control);
    Ok(CampaignReport {
        data: src.clone(),
        arm_column: job.arm.clone(),
        control: job.control.clone(),
        alpha: job.alpha,
        sizes,
        srm,
        arms,
        positive_labels,
        groups,
        balance,
        imbalanced,
        accuracy,
        outcome_from_logs: None,
    })
}

/// An error naming the row when a customer id appears twice.
fn check_ids(job: &CampaignJob, raw: &RawTable) -> Result<()> {
    let src = &raw.source;
    if let Some(id) = &job.id {
        let col = raw
            .column(id)
            .ok_or_else(|| Error::at(src, id, None, "id column not found"))?;
        let mut seen = std::collections::HashSet::new();
        for r in 0..col.len() {
            if let Some(v) = col.text(r) {
                if !seen.insert(v.clone()) {
                    return Err(Error::at(
                        src,
                        id,
                        Some(raw.row(r)),
                        format!("id {v:?} appears twice"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Each treatment arm's rows, by label.
type Arms = BTreeMap<String, Vec<usize>>;

/// The control arm's rows and each treatment arm's; errors for rows
/// without an arm, a control label not in the data, or no treatment arm.
fn arms(job: &CampaignJob, raw: &RawTable) -> Result<(Vec<usize>, Arms)> {
    let src = &raw.source;
    let arm_col = raw
        .column(&job.arm)
        .ok_or_else(|| Error::at(src, &job.arm, None, "arm column not found"))?;
    let (mut by_arm, no_arm) = super::columns::rows_by_label(arm_col);
    if no_arm > 0 {
        return Err(Error::at(
            src,
            &job.arm,
            None,
            format!("{no_arm} row(s) have no arm"),
        ));
    }
    let control = by_arm.remove(&job.control).ok_or_else(|| {
        Error::at(
            src,
            &job.arm,
            None,
            format!(
                "control label {:?} not found (arms: {})",
                job.control,
                by_arm
                    .keys()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if by_arm.is_empty() {
        return Err(Error::at(
            src,
            &job.arm,
            None,
            "no treatment arm besides the control",
        ));
    }
    Ok((control, by_arm))
}

/// The warnings' accuracy on the holdout, joining a past scoring run
/// (`--scores`) by customer id; without `--by`, the effects per warning
/// level and value tier are added to `groups`.
fn warning_accuracy(
    job: &CampaignJob,
    raw: &RawTable,
    path: &std::path::Path,
    outcomes: &[Outcome],
    (by_arm, control): (&Arms, &[usize]),
    groups: &mut BTreeMap<String, BTreeMap<String, ArmEffects>>,
) -> Result<super::accuracy::Accuracy> {
    let src = &raw.source;
    let scores = super::accuracy::read_scores(&crate::ingest::read_table(path, None)?)?;
    let id = job.id.as_ref().ok_or_else(|| {
        Error::Config("campaign: --scores joins by customer id: give --id COL".into())
    })?;
    let ids = raw
        .column(id)
        .ok_or_else(|| Error::at(src, id, None, "id column not found"))?;
    let keys: Vec<Option<String>> = (0..ids.len())
        .map(|r| ids.text(r).map(|i| i.trim().to_string()))
        .collect();
    // Each customer's latest score.
    let scored: Vec<Option<&super::accuracy::Scored>> = keys
        .iter()
        .map(|i| scores.get(i.as_deref()?)?.last())
        .collect();
    if job.by.is_empty() {
        let of = |f: fn(&super::accuracy::Scored) -> &String| -> Vec<String> {
            scored
                .iter()
                .map(|s| s.map_or("unscored".to_string(), |s| f(s).clone()))
                .collect()
        };
        groups.insert(
            "warning_level".into(),
            by_group(job, outcomes, &of(|s| &s.level), by_arm, control),
        );
        groups.insert(
            "value_tier".into(),
            by_group(job, outcomes, &of(|s| &s.tier), by_arm, control),
        );
    }
    let k =
        match &job.churn_outcome {
            Some(c) => job.outcomes.iter().position(|o| o == c).ok_or_else(|| {
                Error::Config(format!("--churn-outcome {c}: not one of --outcome"))
            })?,
            None => outcomes
                .iter()
                .position(|o| o.kind == "rate")
                .ok_or_else(|| {
                    Error::Config(
                        "campaign: --scores needs a binary outcome (churned or retained)".into(),
                    )
                })?,
        };
    if outcomes[k].kind != "rate" {
        return Err(Error::Config(format!(
            "--churn-outcome {}: not a binary outcome",
            job.outcomes[k]
        )));
    }
    let inverted = super::accuracy::is_retention(&job.outcomes[k]);
    let churn: Vec<f64> = outcomes[k]
        .values
        .iter()
        .map(|&v| if inverted && !v.is_nan() { 1.0 - v } else { v })
        .collect();
    let outcome = &job.outcomes[k];
    let mut a = super::accuracy::judge(outcome, inverted, &churn, &scored, control);
    a.by_period = super::accuracy::by_period(&scores, &keys, |s| {
        super::accuracy::judge(outcome, inverted, &churn, s, control)
    });
    if let Some(m) = &job.model {
        a.model_oof = super::accuracy::oof_figures(&crate::artifact::Artifact::load(m)?);
    }
    Ok(a)
}

/// The effects per level of one `--by` column; cells too small are marked,
/// the others' p-values Holm-adjusted per outcome.
fn by_group(
    job: &CampaignJob,
    outcomes: &[Outcome],
    level: &[String],
    by_arm: &Arms,
    control: &[usize],
) -> BTreeMap<String, ArmEffects> {
    let mut names: Vec<&String> = level.iter().collect();
    names.sort_unstable();
    names.dedup();
    let within = |rows: &[usize], l: &str| -> Vec<usize> {
        rows.iter().copied().filter(|&r| level[r] == l).collect()
    };
    let mut out: BTreeMap<String, ArmEffects> = BTreeMap::new();
    for l in names {
        let c = within(control, l);
        for (arm, rows) in by_arm {
            let a = within(rows, l);
            for (name, o) in job.outcomes.iter().zip(outcomes) {
                let mut e = effect(o, &a, &c, job.alpha);
                if e.n < MIN_CELL || e.control_n < MIN_CELL {
                    e.too_small = true;
                    (e.diff_ci_low, e.diff_ci_high, e.p_value) = (None, None, None);
                    (e.rel_lift_ci_low, e.rel_lift_ci_high) = (None, None);
                }
                let cell = out
                    .entry(l.clone())
                    .or_default()
                    .entry(arm.clone())
                    .or_default();
                cell.insert(name.clone(), e);
            }
        }
    }
    for name in &job.outcomes {
        let mut cells: Vec<&mut Effect> = out
            .values_mut()
            .flat_map(|arms| arms.values_mut())
            .filter_map(|o| o.get_mut(name))
            .filter(|e| e.p_value.is_some())
            .collect();
        let p: Vec<f64> = cells.iter().map(|e| e.p_value.unwrap_or(1.0)).collect();
        for (e, adj) in cells.iter_mut().zip(stats::holm(&p)) {
            e.p_holm = Some(adj);
        }
    }
    out
}

/// Standardised mean differences of every attribute (not `skip`) between
/// each arm and control: numbers as they are, text per level (≤ 20
/// levels) as indicators; and the attributes beyond [`IMBALANCE`].
fn balance(
    raw: &RawTable,
    skip: &[&str],
    by_arm: &Arms,
    control: &[usize],
) -> (BTreeMap<String, BTreeMap<String, f64>>, Vec<String>) {
    let features = super::columns::attributes(raw, skip);
    let pick = |v: &[f64], rows: &[usize]| -> Moments {
        Moments::of(
            &rows
                .iter()
                .map(|&r| v[r])
                .filter(|x| !x.is_nan())
                .collect::<Vec<_>>(),
        )
    };
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut imbalanced = Vec::new();
    for (name, v) in &features {
        let c = pick(v, control);
        for (arm, rows) in by_arm {
            let a = pick(v, rows);
            let pooled = ((a.var + c.var) / 2.0).sqrt();
            let smd = if pooled > 0.0 {
                (a.mean - c.mean) / pooled
            } else {
                0.0
            };
            if smd.is_finite() {
                out.entry(arm.clone())
                    .or_default()
                    .insert(name.clone(), smd);
                if smd.abs() > IMBALANCE && !imbalanced.contains(name) {
                    imbalanced.push(name.clone());
                }
            }
        }
    }
    (out, imbalanced)
}

impl CampaignReport {
    /// The console table: one line per arm and outcome, then the SRM check.
    pub fn table(&self) -> String {
        let pct = 100.0 * (1.0 - self.alpha);
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        let mut t = format!(
            "{:<14} {:<16} {:>8} {:>10} {:>10} {:>10} {:>22} {:>10}\n",
            "arm",
            "outcome",
            "n",
            "value",
            "control",
            "diff",
            format!("{pct:.0}% interval"),
            "p"
        );
        for (arm, outcomes) in &self.arms {
            for (name, e) in outcomes {
                t += &format!(
                    "{arm:<14} {name:<16} {:>8} {:>10.4} {:>10.4} {:>10.4} {:>22} {:>10}\n",
                    e.n,
                    e.value,
                    e.control_value,
                    e.diff,
                    format!("[{}, {}]", f(e.diff_ci_low), f(e.diff_ci_high)),
                    e.p_value.map_or("-".into(), |p| format!("{p:.4}"))
                );
            }
        }
        if let Some(s) = &self.srm {
            t += &format!(
                "sample ratio: chi2 {:.3}, p {:.4}{}\n",
                s.chi2,
                s.p_value,
                if s.mismatch {
                    " — MISMATCH: the assignment is suspect"
                } else {
                    ""
                }
            );
        }
        t
    }
}
