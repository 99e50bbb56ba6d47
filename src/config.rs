//! One configuration for both binaries: built-in defaults, overlaid by a TOML
//! file (`--config`), overlaid by command-line flags; validated once, before
//! any data is read, so a typo fails in milliseconds rather than after a fit.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The embedded default customer table (made by [`crate::synth`]).
pub const DEFAULT_DATA: &str = "data/customers.csv";
/// The embedded default scoring batch (same generator, other seed, no label).
pub const DEFAULT_SCORE_DATA: &str = "data/score_sample.csv";
/// The default playbook shipped in `data/`.
pub const DEFAULT_PLAYBOOK: &str = "data/playbook.toml";

/// Everything a run can be told. Every field can be set in TOML; the CLI flags
/// of `churn-train` / `churn-score` override the matching fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data: DataConfig,
    pub train: TrainConfig,
    pub decision_tree: TreeParams,
    pub random_forest: ForestParams,
    pub logistic_regression: LogisticParams,
    pub score: ScoreConfig,
}

/// Which file to read and what its columns mean.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Customer table (CSV or Parquet). `None` = the embedded default.
    pub path: Option<PathBuf>,
    /// Label column.
    pub target: String,
    /// The label value meaning "churned", when it cannot be inferred.
    pub positive: Option<String>,
    /// Customer id column (never a feature; used to de-duplicate and in outputs).
    pub id: Option<String>,
    /// Columns to leave out of the model.
    pub drop: Vec<String>,
    /// Numeric-looking columns to treat as categories (codes).
    pub categorical: Vec<String>,
    /// CSV delimiter; detected from the header line when unset.
    pub delimiter: Option<char>,
    /// Snapshot / period column (e.g. `2024-06`): never a feature; the report
    /// shows results per period. Detected by name (period, snapshot, month, date) when unset.
    pub period: Option<String>,
    /// Columns to break results down by in the report (customer groups).
    /// Empty: categorical features with at most 12 levels, a tenure band, the value tier.
    pub groups: Vec<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            path: None,
            target: "churned".into(),
            positive: None,
            id: None,
            drop: vec![],
            categorical: vec![],
            delimiter: None,
            period: None,
            groups: vec![],
        }
    }
}

/// The model families `churn-train` can fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum ModelKind {
    DecisionTree,
    RandomForest,
    LogisticRegression,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [ModelKind::DecisionTree, ModelKind::RandomForest, ModelKind::LogisticRegression];

    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::DecisionTree => "decision_tree",
            ModelKind::RandomForest => "random_forest",
            ModelKind::LogisticRegression => "logistic_regression",
        }
    }
}

/// How the decision threshold is chosen on the out-of-fold predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ThresholdRule {
    /// The threshold with the highest F1.
    MaxF1,
    /// The score where the KS gap is largest.
    MaxKs,
    /// The highest threshold that still reaches this recall.
    Recall(f64),
    /// A fixed probability.
    Fixed(f64),
}

impl std::str::FromStr for ThresholdRule {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("bad threshold rule '{s}': expected max_f1, max_ks, recall:<0..1> or fixed:<0..1>");
        let value = |v: &str| -> std::result::Result<f64, String> {
            let x: f64 = v.parse().map_err(|_| bad())?;
            if (0.0..=1.0).contains(&x) { Ok(x) } else { Err(bad()) }
        };
        match s.split_once(':') {
            None if s == "max_f1" => Ok(ThresholdRule::MaxF1),
            None if s == "max_ks" => Ok(ThresholdRule::MaxKs),
            Some(("recall", v)) => Ok(ThresholdRule::Recall(value(v)?)),
            Some(("fixed", v)) => Ok(ThresholdRule::Fixed(value(v)?)),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThresholdRule::MaxF1 => write!(f, "max_f1"),
            ThresholdRule::MaxKs => write!(f, "max_ks"),
            ThresholdRule::Recall(r) => write!(f, "recall:{r}"),
            ThresholdRule::Fixed(t) => write!(f, "fixed:{t}"),
        }
    }
}

impl TryFrom<String> for ThresholdRule {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<ThresholdRule> for String {
    fn from(r: ThresholdRule) -> String {
        r.to_string()
    }
}

/// Which library grows decision trees and forests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The crate's histogram engine: fast, probabilities, reasons.
    Native,
    /// linfa-trees (labels only; forests by our bagging and vote share).
    Linfa,
    /// smartcore (labels only; forests by our bagging and vote share).
    Smartcore,
}

/// How classes are weighted when fitting trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row counts once.
    None,
    /// Rows weighted by n / (2 × class count), as scikit-learn's "balanced".
    Balanced,
}

/// The training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub models: Vec<ModelKind>,
    pub folds: usize,
    pub seed: u64,
    pub threshold_rule: ThresholdRule,
    /// Metric that picks the model to save (any metrics.json metric; higher is
    /// better except brier and log_loss).
    pub select_metric: String,
    pub out: PathBuf,
    pub model_dir: PathBuf,
    pub class_weight: ClassWeight,
    /// Tree backend for decision_tree and random_forest.
    pub engine: Engine,
    pub quiet: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            models: ModelKind::ALL.to_vec(),
            folds: 5,
            seed: 42,
            threshold_rule: ThresholdRule::MaxF1,
            select_metric: "roc_auc".into(),
            out: "experiments".into(),
            model_dir: "models".into(),
            class_weight: ClassWeight::None,
            engine: Engine::Native,
            quiet: false,
        }
    }
}

/// Split quality measure for trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Gini,
    Entropy,
}

/// Decision tree hyperparameters (defaults as the reference scikit-learn run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeParams {
    /// Maximum depth; 0 = unlimited.
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// Minimum impurity decrease (as a share of the root's weight) to split.
    pub min_gain: f64,
    pub criterion: Criterion,
    /// Quantile bins per feature (2..=255).
    pub max_bins: usize,
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams { max_depth: 8, min_samples_leaf: 20, min_gain: 0.0, criterion: Criterion::Gini, max_bins: 255 }
    }
}

/// Random forest hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestParams {
    pub n_trees: usize,
    /// Per-tree limits (max_depth 0 = grow until min_samples_leaf stops it).
    /// A partial `[random_forest.tree]` section changes only the keys it
    /// sets: the rest keep the forest's defaults (fully grown trees), not
    /// the single decision tree's.
    #[serde(deserialize_with = "forest_tree")]
    pub tree: TreeParams,
    /// Features tried per split: "sqrt", "log2", "all", or a share like "0.3".
    pub max_features: String,
    /// Bootstrap sample (true) or sampling without replacement of `subsample` rows.
    pub bootstrap: bool,
    /// Share of rows drawn per tree.
    pub subsample: f64,
    /// Compute out-of-bag AUC while fitting.
    pub oob_score: bool,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 200,
            tree: TreeParams { max_depth: 0, min_samples_leaf: 5, ..TreeParams::default() },
            max_features: "sqrt".into(),
            bootstrap: true,
            subsample: 1.0,
            oob_score: true,
        }
    }
}

/// Keys a `[random_forest.tree]` section may set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreePatch {
    max_depth: Option<usize>,
    min_samples_leaf: Option<usize>,
    min_gain: Option<f64>,
    criterion: Option<Criterion>,
    max_bins: Option<usize>,
}

fn forest_tree<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<TreeParams, D::Error> {
    let p = TreePatch::deserialize(d)?;
    let mut t = ForestParams::default().tree;
    set(&mut t.max_depth, p.max_depth);
    set(&mut t.min_samples_leaf, p.min_samples_leaf);
    set(&mut t.min_gain, p.min_gain);
    set(&mut t.criterion, p.criterion);
    set(&mut t.max_bins, p.max_bins);
    Ok(t)
}

/// Logistic regression hyperparameters (linfa-logistic, L2 penalty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticParams {
    pub alpha: f64,
    pub max_iterations: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams { alpha: 1.0, max_iterations: 300 }
    }
}

pub use crate::score::config::ScoreConfig;

impl Config {
    /// Defaults overlaid by the TOML file at `path`, if any.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message())))
    }

    /// Check every value once, before any work starts.
    pub fn validate(&self) -> Result<()> {
        let t = &self.train;
        if t.folds < 2 {
            return Err(Error::Config(format!("folds must be at least 2, got {}", t.folds)));
        }
        if t.models.is_empty() {
            return Err(Error::Config("no models selected".into()));
        }
        crate::evaluate::metrics::Metrics::higher_is_better(&t.select_metric)
            .ok_or_else(|| Error::Config(format!("unknown select_metric '{}'", t.select_metric)))?;
        self.decision_tree.validate("decision_tree")?;
        self.random_forest.tree.validate("random_forest.tree")?;
        let f = &self.random_forest;
        if f.n_trees == 0 {
            return Err(Error::Config("random_forest.n_trees must be at least 1".into()));
        }
        if !(f.subsample > 0.0 && f.subsample <= 1.0) {
            return Err(Error::Config("random_forest.subsample must be in (0, 1]".into()));
        }
        crate::models::engine::MaxFeatures::parse(&f.max_features)?;
        if !(self.logistic_regression.alpha >= 0.0) {
            return Err(Error::Config("logistic_regression.alpha must be >= 0".into()));
        }
        self.score.validate()
    }

    /// The data file to train on: the configured one or the embedded default.
    pub fn data_path(&self) -> PathBuf {
        self.data.path.clone().unwrap_or_else(|| embedded(DEFAULT_DATA))
    }
}

impl TreeParams {
    fn validate(&self, section: &str) -> Result<()> {
        if self.min_samples_leaf == 0 {
            return Err(Error::Config(format!("{section}.min_samples_leaf must be at least 1")));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(Error::Config(format!("{section}.max_bins must be in 2..=255")));
        }
        if !(self.min_gain >= 0.0) {
            return Err(Error::Config(format!("{section}.min_gain must be >= 0")));
        }
        Ok(())
    }
}

/// Resolve a file shipped in the repository: relative to the working directory
/// when it exists there, else relative to the crate's own directory.
pub fn embedded(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Overwrite `slot` when a value was given (a flag over the TOML, a TOML
/// field over the defaults).
pub(crate) fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_forest_tree_section_keeps_forest_defaults() {
        let c: Config = toml::from_str("[random_forest.tree]\nmin_samples_leaf = 3\n").unwrap();
        assert_eq!(c.random_forest.tree.min_samples_leaf, 3);
        assert_eq!(c.random_forest.tree.max_depth, ForestParams::default().tree.max_depth);
        assert!(toml::from_str::<Config>("[random_forest.tree]\nmax_dept = 3\n").is_err(), "typos are refused");
    }
}
