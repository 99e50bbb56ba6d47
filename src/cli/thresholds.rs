//! `churn-train thresholds` flags → a [`ReassessJob`]: a past run's
//! scores.csv and its outcomes (a labels table, or raw logs after the
//! as-of date), the model that made the scores, the rule and tolerance.

use super::LogInputArgs;
use crate::config::{ThresholdRule, DEFAULT_MIN_GROUP_POSITIVES, RUNS_DIR};
use crate::error::{Error, Result};
use crate::logs::ChurnRule;
use crate::outcomes::reassess::ReassessJob;
use clap::Args;
use std::path::PathBuf;

/// Options of `churn-train thresholds`.
#[derive(Debug, Args)]
pub struct ThresholdsArgs {
    /// A past churn-score run's scores.csv (id, churn_probability,
    /// churn_flag [, threshold_group] [, as_of | period | month | scored_at]).
    #[arg(long)]
    pub scores: PathBuf,
    /// What happened: one row per customer, an id and an outcome column.
    #[arg(long, conflicts_with = "customers")]
    pub labels: Option<PathBuf>,
    #[command(flatten)]
    pub logs: LogInputArgs,
    /// The churn rule of the outcome built from logs [default: inactive].
    #[arg(long)]
    pub churn_rule: Option<ChurnRule>,
    /// The labels' id column [default: id, else customer_id].
    #[arg(long)]
    pub id: Option<String>,
    /// The labels' outcome column [default: churned].
    #[arg(long)]
    pub label: Option<String>,
    /// The outcome value that means churned [default: 1/yes/true/y].
    #[arg(long)]
    pub positive: Option<String>,
    /// The model that made the scores: the thresholds it used and its rule.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The rule to re-fit with [default: the model's, else max_f1].
    #[arg(long)]
    pub threshold_rule: Option<ThresholdRule>,
    /// A scores column to group by [default: threshold_group when present].
    #[arg(long)]
    pub by: Option<String>,
    /// Drift when the rule's threshold and the one used differ by more [default: 0.05].
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Groups with fewer churners are not re-fitted [default: 50].
    #[arg(long)]
    pub min_group_positives: Option<usize>,
    /// Run folder root [default: experiments].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Field delimiter of the CSV files [default: detected].
    #[arg(long)]
    pub delimiter: Option<char>,
    #[arg(short, long)]
    pub quiet: bool,
}

impl ThresholdsArgs {
    /// Flags → job.
    pub fn resolve(self) -> Result<ReassessJob> {
        let logs = match self.labels.is_none() {
            true => {
                let Some(logs) = self.logs.one_as_of(self.churn_rule) else {
                    return Err(Error::Config(
                        "thresholds: give --labels FILE, or the logs (--customers, --transactions [--events]) and the scoring run's --as-of date".into(),
                    ));
                };
                logs.validate()?;
                Some(logs)
            }
            false => None,
        };
        let tolerance = self.tolerance.unwrap_or(0.05);
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(Error::Config(format!("--tolerance {tolerance}: 0 or more")));
        }
        let min_positives = self
            .min_group_positives
            .unwrap_or(DEFAULT_MIN_GROUP_POSITIVES);
        if min_positives == 0 {
            return Err(Error::Config("--min-group-positives: at least 1".into()));
        }
        Ok(ReassessJob {
            scores: self.scores,
            labels: self.labels,
            logs,
            id: self.id,
            label: self.label,
            positive: self.positive,
            model: self.model,
            rule: self.threshold_rule,
            by: self.by,
            tolerance,
            min_positives,
            out: self.out.unwrap_or_else(|| RUNS_DIR.into()),
            delimiter: self.delimiter,
            quiet: self.quiet,
        })
    }
}
