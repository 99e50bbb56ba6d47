//! The `[score]` section of the configuration: what a scoring job reads and
//! writes, how CLV is computed, which columns define value tiers, and
//! warning-level overrides (global or per segment).

use crate::error::{Error, Result};
pub use crate::reference::value::ClvConfig;
use crate::reference::WarningCutoffs;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Output format of the per-customer scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Csv,
    Parquet,
}

/// Warning cut-offs for a customer segment: rows where `column` lies in
/// [min, max] (or whose value tier is `tier`) use these instead of the global ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub name: String,
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub tier: Option<String>,
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

/// A scores table name (`--table`): letters, digits, underscores.
fn check_table_name(name: &str) -> Result<()> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 60;
    match ok {
        true => Ok(()),
        false => Err(Error::Config(format!(
            "--table '{name}': use letters, digits and underscores (at most 60, not starting with a digit)"
        ))),
    }
}

fn is_default_table(t: &str) -> bool {
    t == "churn_scores"
}

/// Everything a scoring job can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreConfig {
    /// Model artifact (a file or the `models/latest` link).
    pub model: PathBuf,
    /// Customers to score: a file, a directory of parts, or `-` for stdin.
    pub data: Option<PathBuf>,
    /// Score file, or `-` for stdout.
    pub out: Option<PathBuf>,
    pub format: OutputFormat,
    /// Scores table of a database `out` (`sqlite:PATH`, `postgres://…`).
    // Fields added after format version 1 are left out of the stored
    // configuration at their defaults: older artifacts keep their checksum.
    #[serde(skip_serializing_if = "is_default_table")]
    pub table: String,
    /// Run id (the run folder's name and the database rows' run_id);
    /// `score-<time>` when unset. Re-running an id replaces its rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub chunk_rows: usize,
    /// A batch with a larger share of rejected rows fails (a broken
    /// extract), after writing rejects.csv; 1 disables the guard.
    pub max_reject_rate: f64,
    /// Earlier scores, for tier migration.
    pub previous: Option<PathBuf>,
    pub playbook: Option<PathBuf>,
    /// Offers artifact (`None`: the model folder's `offers-latest` when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers: Option<PathBuf>,
    /// Uplift artifact (`churn-train uplift`): the `uplift` column, and the
    /// contact list's value by retention uplift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplift: Option<PathBuf>,
    /// The month whose thresholds serve a model with seasonal threshold
    /// groups (`--season`: 1–12 or a date; default: the as-of date of log
    /// scoring, else today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// Score without offers even when an offers artifact is present.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_offers: bool,
    /// Refit the value tiers on this batch instead of using the stored ones.
    pub refit_segments: bool,
    /// Value features for tiers (empty: detected from the column names).
    pub value_columns: Vec<String>,
    pub activity_columns: Vec<String>,
    pub clv: ClvConfig,
    /// Override of the artifact's warning cut-offs.
    pub warning: Option<WarningCutoffs>,
    /// Per-segment cut-offs; the first matching rule wins.
    pub segments: Vec<SegmentRule>,
    pub quiet: bool,
    /// Serve only models signed with the key in this file (`--verify-key`).
    #[serde(skip)]
    pub verify_key: Option<PathBuf>,
    /// Where scoring run folders go (`experiments` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_dir: Option<PathBuf>,
    /// The contact list under a capacity or budget (`[score.contact]`).
    #[serde(skip_serializing_if = "super::ContactConfig::is_default")]
    pub contact: super::ContactConfig,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            model: "models/latest".into(),
            data: None,
            out: None,
            format: OutputFormat::Csv,
            table: "churn_scores".into(),
            run_id: None,
            chunk_rows: 25_000,
            max_reject_rate: 0.05,
            previous: None,
            playbook: None,
            offers: None,
            uplift: None,
            season: None,
            no_offers: false,
            refit_segments: false,
            value_columns: vec![],
            activity_columns: vec![],
            clv: ClvConfig::default(),
            warning: None,
            segments: vec![],
            quiet: false,
            verify_key: None,
            runs_dir: None,
            contact: super::ContactConfig::default(),
        }
    }
}

impl ScoreConfig {
    /// Where scoring run folders go.
    pub fn runs_dir(&self) -> &std::path::Path {
        self.runs_dir
            .as_deref()
            .unwrap_or(std::path::Path::new(super::RUNS_DIR))
    }

    pub fn validate(&self) -> Result<()> {
        check_table_name(&self.table)?;
        if let Some(s) = &self.season {
            if crate::reference::thresholds::month_of(s).is_none() {
                return Err(Error::Config(format!(
                    "--season '{s}': a month 1–12 or a date YYYY-MM[-DD]"
                )));
            }
        }
        self.contact.validate().map_err(Error::Config)?;
        if let Some(id) = &self.run_id {
            if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\']) {
                return Err(Error::Config(format!(
                    "--run-id '{id}': a non-empty name without slashes, not starting with a dot"
                )));
            }
        }
        if self.chunk_rows == 0 {
            return Err(Error::Config("score.chunk_rows must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.max_reject_rate) {
            return Err(Error::Config(format!(
                "score.max_reject_rate must be between 0 and 1, got {}",
                self.max_reject_rate
            )));
        }
        let c = &self.clv;
        if c.periods == 0 || !(c.discount_rate > -1.0) || !(c.label_periods > 0.0) {
            return Err(Error::Config(
                "score.clv needs periods >= 1, discount_rate > -1 and label_periods > 0".into(),
            ));
        }
        let cut = |name: &str, w: (f64, f64, f64)| {
            if !(w.0 >= w.1 && w.1 >= w.2 && w.2 >= 0.0 && w.0 <= 1.0) {
                return Err(Error::Config(format!(
                    "{name}: need 1 >= red >= orange >= yellow >= 0"
                )));
            }
            Ok(())
        };
        if let Some(w) = &self.warning {
            cut("score.warning", (w.red, w.orange, w.yellow))?;
        }
        for s in &self.segments {
            cut(
                &format!("score.segments '{}'", s.name),
                (s.red, s.orange, s.yellow),
            )?;
            if s.column.is_none() && s.tier.is_none() {
                return Err(Error::Config(format!(
                    "score.segments '{}': set column (with min/max) or tier",
                    s.name
                )));
            }
        }
        Ok(())
    }
}
