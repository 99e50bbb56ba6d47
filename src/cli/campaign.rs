//! `churn-train campaign` flags → a [`CampaignJob`]: a campaign table
//! (`--data`), or contacts (`--contacts`) whose outcome `churned` is built
//! from raw logs with the training label rule.

use super::LogInputArgs;
use crate::config::RUNS_DIR;
use crate::error::Result;
use crate::logs::{ChurnRule, LogsConfig};
use crate::outcomes::campaign::CampaignJob;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Options of `churn-train campaign`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CampaignArgs {
    #[command(subcommand)]
    pub plan: Option<CampaignCommand>,
    /// The campaign's table, CSV or Parquet: one row per customer.
    #[arg(long, conflicts_with = "contacts")]
    pub data: Option<PathBuf>,
    /// The contacted customers (id, arm [, action, cost, ...]), their
    /// outcome `churned` built from the logs (--customers, --transactions
    /// [--events], --as-of the campaign's start) with the training label rule.
    #[arg(long)]
    pub contacts: Option<PathBuf>,
    #[command(flatten)]
    pub logs: LogInputArgs,
    /// The churn rule of the outcome built from logs [default: inactive].
    #[arg(long)]
    pub churn_rule: Option<ChurnRule>,
    /// Column holding each customer's arm.
    #[arg(long)]
    pub arm: Option<String>,
    /// The control (holdout) arm's label.
    #[arg(long)]
    pub control: Option<String>,
    /// Outcome column(s): binary → a rate, numeric → a mean.
    #[arg(long, value_delimiter = ',')]
    pub outcome: Vec<String>,
    /// The label counted as 1 in a binary outcome [default: 1/yes/true/y].
    #[arg(long)]
    pub positive: Option<String>,
    /// Customer id column (duplicated ids are an error).
    #[arg(long)]
    pub id: Option<String>,
    /// The same figures per level of these columns (Holm-adjusted
    /// p-values per outcome; cells under 30 customers an arm not tested).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// A past churn-score run's scores.csv (joined by --id): the warnings'
    /// accuracy on the control arm, effects per warning level and tier.
    #[arg(long)]
    pub scores: Option<PathBuf>,
    /// The outcome read as churn for accuracy [default: the first binary
    /// outcome; one named retained/stayed/renewed/active is inverted].
    #[arg(long)]
    pub churn_outcome: Option<String>,
    /// The model that made --scores: its out-of-fold ROC AUC, PR AUC and KS
    /// beside the realised ones.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Planned shares, control first then the treatment arms in name
    /// order, e.g. 1:1 or 1:4 [default: equal].
    #[arg(long)]
    pub split: Option<String>,
    /// Two-sided level of the intervals and tests.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Where the run folder goes [default: experiments].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub delimiter: Option<char>,
    #[arg(short, long)]
    pub quiet: bool,
}

/// `churn-train campaign plan`.
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Customers needed per arm to detect a difference in a rate.
    Plan {
        /// The control arm's expected rate (e.g. churn 0.2).
        #[arg(long)]
        baseline: f64,
        /// The smallest difference worth detecting (e.g. -0.03).
        #[arg(long, allow_hyphen_values = true)]
        mde: f64,
        #[arg(long, default_value_t = 0.8)]
        power: f64,
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
    },
}

impl CampaignArgs {
    /// Flags → job.
    pub fn resolve(self) -> Result<CampaignJob> {
        use crate::error::Error;
        let need = |v: Option<String>, flag: &str| {
            v.ok_or_else(|| Error::Config(format!("campaign: --{flag} is required")))
        };
        let logs = match self.contacts.is_some() {
            true => Some(self.logs_config()?),
            false => None,
        };
        let mut outcome = self.outcome.clone();
        if logs.is_some() && outcome.is_empty() {
            outcome.push(crate::logs::LABEL.into());
        }
        if outcome.is_empty() {
            return Err(Error::Config(
                "campaign: --outcome COL[,COL...] is required".into(),
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::Config(format!(
                "campaign: --alpha must be in (0, 1), got {}",
                self.alpha
            )));
        }
        let split = self
            .split
            .map(|s| {
                s.split(':')
                    .map(|p| p.trim().parse::<f64>().ok().filter(|x| *x > 0.0))
                    .collect::<Option<Vec<f64>>>()
                    .ok_or_else(|| {
                        Error::Config(format!("--split {s:?}: positive shares such as 1:1 or 1:4"))
                    })
            })
            .transpose()?;
        Ok(CampaignJob {
            data: self.data.or(self.contacts).ok_or_else(|| {
                Error::Config(
                    "campaign: --data FILE (or --contacts FILE with logs) is required".into(),
                )
            })?,
            logs,
            arm: need(self.arm, "arm")?,
            control: need(self.control, "control")?,
            outcomes: outcome,
            positive: self.positive,
            id: self.id,
            by: self.by.iter().map(|c| c.trim().to_string()).collect(),
            scores: self.scores,
            churn_outcome: self.churn_outcome,
            model: self.model,
            split,
            alpha: self.alpha,
            out: self.out.unwrap_or_else(|| RUNS_DIR.into()),
            delimiter: self.delimiter,
            quiet: self.quiet,
        })
    }
}

impl CampaignArgs {
    /// The logs the contacts' outcome is built from: one as-of date, the
    /// customer and transaction logs.
    fn logs_config(&self) -> Result<LogsConfig> {
        let Some(logs) = self.logs.one_as_of(self.churn_rule) else {
            return Err(crate::error::Error::Config(
                "campaign --contacts: the outcome comes from logs: give --customers, --transactions and one --as-of (the campaign's start)".into(),
            ));
        };
        if self.id.is_none() {
            return Err(crate::error::Error::Config(
                "campaign --contacts: give --id, the contacts' customer id column".into(),
            ));
        }
        logs.validate()?;
        Ok(logs)
    }
}
