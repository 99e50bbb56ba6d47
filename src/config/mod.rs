//! One configuration for both binaries: built-in defaults, overlaid by a TOML
//! file (`--config`), overlaid by command-line flags; validated once, before
//! any data is read, so a typo fails in milliseconds rather than after a fit.

pub use crate::clean::leakage::LeakageConfig;
pub use crate::clean::DataConfig;
use crate::error::{Error, Result};
pub use crate::evaluate::threshold::ThresholdRule;
pub use crate::fairness::FairnessConfig;
pub use crate::logs::LogsConfig;
pub use crate::models::{
    BoostingParams, Calibration, ClassWeight, Criterion, Engine, EnsembleParams, ForestParams,
    LogisticParams, ModelKind, TreeParams,
};
use crate::models::{FamilyParams, FitOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The embedded default customer table (made by [`crate::synth`]).
pub const DEFAULT_DATA: &str = "data/customers.csv";
/// The embedded sample of raw logs (`generate --logs`).
pub const DEFAULT_LOGS: &str = "data/logs";
/// The embedded product-holdings panel (`churn-train offers`).
pub const DEFAULT_HOLDINGS: &str = "data/holdings";
/// Where `generate --campaign` writes by default.
pub const DEFAULT_CAMPAIGN: &str = "data/campaign";
/// The embedded product catalog.
pub const DEFAULT_PRODUCTS: &str = "data/products.toml";
/// The embedded default scoring batch (same generator, other seed, no label).
pub const DEFAULT_SCORE_DATA: &str = "data/score_sample.csv";
/// The default playbook shipped in `data/`.
pub const DEFAULT_PLAYBOOK: &str = "data/playbook.toml";
/// Where run folders go unless told.
pub const RUNS_DIR: &str = "experiments";
/// Where model artifacts and their `latest` links go unless told.
pub const MODEL_DIR: &str = "models";

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
    pub gradient_boosting: BoostingParams,
    pub ensemble: EnsembleParams,
    pub score: ScoreConfig,
    pub fairness: FairnessConfig,
    pub logs: LogsConfig,
    /// Omitted when default, so artifacts from before the section existed
    /// keep their checksum.
    #[serde(skip_serializing_if = "is_default")]
    pub leakage: LeakageConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub ingest: IngestConfig,
    /// Column roles set or removed by hand (`[roles] balance = "Bal_Avg"`,
    /// `spend = ""`): see [`crate::reference::roles`].
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, String>,
}

pub use crate::ingest::formats::IngestConfig;

/// `--min-group-positives` unless given.
pub const DEFAULT_MIN_GROUP_POSITIVES: usize = 50;

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

fn is_default_min_positives(n: &usize) -> bool {
    *n == DEFAULT_MIN_GROUP_POSITIVES
}

/// A section left at its defaults (not written into artifacts).
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub models: Vec<ModelKind>,
    pub folds: usize,
    pub seed: u64,
    pub threshold_rule: ThresholdRule,
    /// Columns whose groups get thresholds of their own (`--threshold-by`;
    /// `value_tier` for the value tiers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub threshold_by: Vec<String>,
    /// `capacity:S` per group: the share of the capacity each listed
    /// threshold group gets (the rest goes to the others by expected
    /// churners).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub capacity_quotas: std::collections::BTreeMap<String, f64>,
    /// Named windows (CSV start,end,name) for `--threshold-by calendar`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<PathBuf>,
    /// Each group's threshold shrunk towards the global one with this many
    /// churners' weight (`t = (n·own + k·global) / (n + k)`; 0: none).
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub threshold_shrink: f64,
    /// A group with fewer positives keeps the global threshold.
    #[serde(skip_serializing_if = "is_default_min_positives")]
    pub min_group_positives: usize,
    /// Metric that picks the model to save (any metrics.json metric; higher is
    /// better except brier and log_loss).
    pub select_metric: String,
    pub out: PathBuf,
    pub model_dir: PathBuf,
    pub class_weight: ClassWeight,
    /// Tree backend for decision_tree and random_forest.
    pub engine: Engine,
    /// Probability calibration fitted on the out-of-fold scores.
    pub calibrate: Calibration,
    pub quiet: bool,
    /// Sign the artifact with the key in this file (`--sign-key`); never
    /// written into the artifact.
    #[serde(skip)]
    pub sign_key: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            models: ModelKind::ALL.to_vec(),
            folds: 5,
            seed: 42,
            threshold_rule: ThresholdRule::MaxF1,
            threshold_by: Vec::new(),
            calendar: None,
            threshold_shrink: 0.0,
            capacity_quotas: Default::default(),
            min_group_positives: DEFAULT_MIN_GROUP_POSITIVES,
            select_metric: "roc_auc".into(),
            out: RUNS_DIR.into(),
            model_dir: MODEL_DIR.into(),
            class_weight: ClassWeight::None,
            engine: Engine::Native,
            calibrate: Calibration::None,
            quiet: false,
            sign_key: None,
        }
    }
}

mod contact;
mod logs;
mod offers;
mod score;
mod serve;
pub use contact::ContactConfig;
pub use offers::{OffersJob, OffersSettings};
pub use score::{ClvConfig, OutputFormat, ScoreConfig, SegmentRule};
pub use serve::{ServeConfig, TlsFiles};

impl Config {
    /// Defaults overlaid by the TOML file at `path`, if any.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message())))
    }

    /// Check every training value once, before any work starts.
    pub fn validate_train(&self) -> Result<()> {
        let t = &self.train;
        if t.folds < 2 {
            return Err(Error::Config(format!(
                "folds must be at least 2, got {}",
                t.folds
            )));
        }
        if t.models.is_empty() {
            return Err(Error::Config("no models selected".into()));
        }
        let by_calendar = t.threshold_by.iter().any(|c| c == "calendar");
        let features = !self.logs.calendar.is_empty();
        if by_calendar && t.calendar.is_none() || t.calendar.is_some() && !by_calendar && !features
        {
            return Err(Error::Config(
                "--calendar FILE serves --threshold-by calendar or --calendar-features".into(),
            ));
        }
        // The calendar's dates are checked here too (from a flag or the
        // TOML file), not first after the models are fitted.
        if let Some(path) = &t.calendar {
            crate::ingest::calendar::read(path)?;
        }
        if features && !self.logs.is_set() {
            return Err(Error::Config(
                "--calendar-features: the features come with log snapshots (--customers, --transactions)".into(),
            ));
        }
        if !t.capacity_quotas.is_empty() {
            let sum: f64 = t.capacity_quotas.values().sum();
            let bad = t
                .capacity_quotas
                .iter()
                .find(|(_, q)| !(0.0..=1.0).contains(*q));
            if let Some((g, q)) = bad {
                return Err(Error::Config(format!(
                    "[train.capacity_quotas] {g} = {q}: a share between 0 and 1"
                )));
            }
            if sum > 1.0 + 1e-9
                || !matches!(t.threshold_rule, ThresholdRule::Capacity(_))
                || t.threshold_by.is_empty()
            {
                return Err(Error::Config(format!(
                    "[train.capacity_quotas]: shares of a capacity:S rule's groups (--threshold-by), summing to at most 1 (they sum to {sum})"
                )));
            }
        }
        if !(t.threshold_shrink.is_finite() && t.threshold_shrink >= 0.0) {
            return Err(Error::Config(format!(
                "--threshold-shrink {}: churners' weight, 0 or more",
                t.threshold_shrink
            )));
        }
        if t.min_group_positives == 0 {
            return Err(Error::Config("--min-group-positives: at least 1".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &t.threshold_by {
            if c.trim().is_empty() || !seen.insert(c) {
                return Err(Error::Config(format!(
                    "--threshold-by '{}': each column once, none empty",
                    t.threshold_by.join(",")
                )));
            }
        }
        crate::reference::roles::check_names(self.roles.keys())?;
        crate::evaluate::metrics::Metrics::higher_is_better(&t.select_metric)
            .ok_or_else(|| Error::Config(format!("unknown select_metric '{}'", t.select_metric)))?;
        self.decision_tree.check(ModelKind::DecisionTree.name())?;
        self.random_forest.check(ModelKind::RandomForest.name())?;
        self.logistic_regression
            .check(ModelKind::LogisticRegression.name())?;
        self.gradient_boosting
            .check(ModelKind::GradientBoosting.name())?;
        self.ensemble.check("ensemble", &t.models)?;
        self.logs.validate()?;
        self.leakage.validate()?;
        self.ingest.validate()?;
        // Training fits the value tiers and CLV scoring will use.
        self.score.validate()
    }

    /// Check every scoring value once, before any work starts (the
    /// training sections are not used by a scoring job).
    pub fn validate_score(&self) -> Result<()> {
        if self.logs.is_set() {
            if self.score.data.is_some() {
                return Err(Error::Config(
                    "score either --data or raw logs (--customers, --transactions), not both"
                        .into(),
                ));
            }
            if self.logs.as_of.len() != 1 || self.logs.snapshots.is_some() {
                return Err(Error::Config(
                    "scoring from logs needs exactly one --as-of date".into(),
                ));
            }
            self.logs.validate()?;
        }
        self.score.validate()
    }

    /// The configured hyperparameters of family `kind` as JSON (its TOML
    /// section; the model card shows them).
    pub fn family_json(&self, kind: ModelKind) -> serde_json::Result<String> {
        match kind {
            ModelKind::DecisionTree => serde_json::to_string(&self.decision_tree),
            ModelKind::RandomForest => serde_json::to_string(&self.random_forest),
            ModelKind::LogisticRegression => serde_json::to_string(&self.logistic_regression),
            ModelKind::GradientBoosting => serde_json::to_string(&self.gradient_boosting),
            ModelKind::Vote | ModelKind::Stack => serde_json::to_string(&self.ensemble),
        }
    }

    /// The configured hyperparameters of family `kind`.
    pub fn family(&self, kind: ModelKind) -> FamilyParams<'_> {
        match kind {
            ModelKind::DecisionTree => FamilyParams::DecisionTree(&self.decision_tree),
            ModelKind::RandomForest => FamilyParams::RandomForest(&self.random_forest),
            ModelKind::LogisticRegression => {
                FamilyParams::LogisticRegression(&self.logistic_regression)
            }
            ModelKind::GradientBoosting => FamilyParams::GradientBoosting(&self.gradient_boosting),
            ModelKind::Vote | ModelKind::Stack => FamilyParams::Ensemble {
                kind,
                bases: self
                    .ensemble
                    .resolve(&self.train.models)
                    .into_iter()
                    .map(|b| self.family(b))
                    .collect(),
                inner_folds: self.ensemble.inner_folds,
            },
        }
    }

    /// How this run fits every family.
    pub fn fit_options(&self) -> FitOptions {
        FitOptions {
            engine: self.train.engine,
            class_weight: self.train.class_weight,
        }
    }

    /// The data file to train on: the configured one or the embedded default.
    pub fn data_path(&self) -> PathBuf {
        self.data
            .path
            .clone()
            .unwrap_or_else(|| embedded(DEFAULT_DATA))
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
        assert_eq!(
            c.random_forest.tree.max_depth,
            ForestParams::default().tree.max_depth
        );
        assert!(
            toml::from_str::<Config>("[random_forest.tree]\nmax_dept = 3\n").is_err(),
            "typos are refused"
        );
    }
}
