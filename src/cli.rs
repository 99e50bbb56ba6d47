//! Command-line flags of both binaries (clap derive). Each flag overrides the
//! matching field of [`Config`]; `resolve` applies them over the TOML file.

use crate::config::{ClassWeight, Config, ModelKind, ThresholdRule};
use crate::error::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Train churn models with stratified cross-validation, save the best one.
///
/// With no arguments, trains on the embedded synthetic bank table in data/.
#[derive(Debug, Parser)]
#[command(name = "churn-train", version, args_conflicts_with_subcommands = true)]
pub struct TrainCli {
    #[command(subcommand)]
    pub command: Option<TrainCommand>,
    #[command(flatten)]
    pub args: TrainArgs,
}

/// Extra tasks of `churn-train`.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Write a synthetic bank customer table (the generator behind data/).
    Generate(GenerateArgs),
}

/// Options of `churn-train generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 20_000)]
    pub rows: usize,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Leave out the label column (a scoring batch).
    #[arg(long)]
    pub no_label: bool,
    /// Output file (CSV).
    #[arg(long, default_value = crate::config::DEFAULT_DATA)]
    pub out: PathBuf,
}

/// Options of a training run.
#[derive(Debug, Args, Default)]
pub struct TrainArgs {
    /// Customer table, CSV or Parquet [default: the embedded data/customers.csv].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Label column [default: churned].
    #[arg(long)]
    pub target: Option<String>,
    /// Label value that means "churned" (needed when the two values are not
    /// yes/no, 1/0 or true/false).
    #[arg(long)]
    pub positive: Option<String>,
    /// Customer id column (never a feature) [default: detected].
    #[arg(long)]
    pub id: Option<String>,
    /// Columns to leave out of the model.
    #[arg(long, value_delimiter = ',')]
    pub drop: Option<Vec<String>>,
    /// Numeric-coded columns to treat as categories.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// CSV delimiter [default: detected from the header].
    #[arg(long)]
    pub delimiter: Option<char>,
    /// TOML file that can set every option; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Models to fit [default: all three].
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<ModelKind>>,
    /// Cross-validation folds [default: 5].
    #[arg(long)]
    pub folds: Option<usize>,
    /// Random seed: same seed, same results, whatever the thread count [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threshold rule: max_f1, max_ks, recall:R or fixed:T [default: max_f1].
    #[arg(long)]
    pub threshold_rule: Option<ThresholdRule>,
    /// Metric that selects the saved model [default: roc_auc].
    #[arg(long)]
    pub select_metric: Option<String>,
    /// Class weights for the tree models [default: none].
    #[arg(long)]
    pub class_weight: Option<ClassWeight>,
    /// Run folder root [default: experiments].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Model artifact folder [default: models].
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// No progress output.
    #[arg(short, long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// Defaults ← TOML (`--config`) ← these flags, validated.
    pub fn resolve(self) -> Result<Config> {
        let mut c = Config::load(self.config.as_deref())?;
        let d = &mut c.data;
        set(&mut d.path, self.data.map(Some));
        set(&mut d.target, self.target);
        set(&mut d.positive, self.positive.map(Some));
        set(&mut d.id, self.id.map(Some));
        set(&mut d.drop, self.drop);
        set(&mut d.categorical, self.categorical);
        set(&mut d.delimiter, self.delimiter.map(Some));
        let t = &mut c.train;
        set(&mut t.models, self.models);
        set(&mut t.folds, self.folds);
        set(&mut t.seed, self.seed);
        set(&mut t.threshold_rule, self.threshold_rule);
        set(&mut t.select_metric, self.select_metric);
        set(&mut t.class_weight, self.class_weight);
        set(&mut t.out, self.out);
        set(&mut t.model_dir, self.model_dir);
        t.quiet |= self.quiet;
        c.validate()?;
        Ok(c)
    }
}

/// Overwrite `slot` when a flag was given.
pub(crate) fn set<T>(slot: &mut T, flag: Option<T>) {
    if let Some(v) = flag {
        *slot = v;
    }
}
