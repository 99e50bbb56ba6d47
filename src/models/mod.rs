//! Churn models behind one interface: fit on a matrix and 0/1 labels,
//! predict P(churn), explain a row. Models know nothing of files, reports or
//! evaluation.
//!
//! One folder per family: `params.rs` holds its validated hyperparameters
//! (a config section each), `mod.rs` fits it through linfa's `ParamGuard` +
//! `Fit` on a [`Learner`]. [`engine`] is the native histogram tree engine
//! the tree families share; [`external`] the linfa-trees / smartcore
//! backends. A new family adds a folder, a [`ModelKind`], a
//! [`FamilyParams`] variant and a [`FittedModel`] variant.

pub mod engine;
pub mod external;
pub mod forest;
pub mod learner;
pub mod logistic;
pub mod tree;

use crate::error::Result;
use engine::Forest;
use external::{Backend, Bagging, ExternalForest};
pub use forest::params::{ForestParams, MaxFeatures};
pub use learner::{Learner, ValidLearner};
use linfa::prelude::*;
pub use logistic::params::LogisticParams;
use logistic::Logistic;
use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};
pub use tree::params::{Criterion, TreeParams};

/// The model families `churn-train` can fit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    PartialOrd,
    Ord,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum ModelKind {
    DecisionTree,
    RandomForest,
    LogisticRegression,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::LogisticRegression,
    ];

    /// The name used in files, reports and as the configuration section.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::DecisionTree => "decision_tree",
            ModelKind::RandomForest => "random_forest",
            ModelKind::LogisticRegression => "logistic_regression",
        }
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

/// The hyperparameters of one family, as configured.
#[derive(Debug, Clone, Copy)]
pub enum FamilyParams<'a> {
    DecisionTree(&'a TreeParams),
    RandomForest(&'a ForestParams),
    LogisticRegression(&'a LogisticParams),
}

impl FamilyParams<'_> {
    pub fn kind(self) -> ModelKind {
        match self {
            FamilyParams::DecisionTree(_) => ModelKind::DecisionTree,
            FamilyParams::RandomForest(_) => ModelKind::RandomForest,
            FamilyParams::LogisticRegression(_) => ModelKind::LogisticRegression,
        }
    }

    /// Work units a fit reports through its progress tick (trees).
    pub fn steps(self) -> usize {
        match self {
            FamilyParams::RandomForest(f) => f.n_trees,
            _ => 1,
        }
    }
}

/// How a run fits every family: the tree backend and the class weights.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub engine: Engine,
    pub class_weight: ClassWeight,
}

/// Does this family want standardised inputs?
pub fn needs_scaling(kind: ModelKind) -> bool {
    kind == ModelKind::LogisticRegression
}

/// Fit one family with its hyperparameters `params` on `x` and 0/1 labels
/// `y` (1 = churn). `on_step` is called as work completes (trees), for
/// progress bars.
pub fn fit(
    params: FamilyParams,
    opts: FitOptions,
    x: ArrayView2<f64>,
    y: &[u8],
    seed: u64,
    on_step: &(dyn Fn() + Sync),
) -> Result<FittedModel> {
    let kind = params.kind();
    let backend = match opts.engine {
        Engine::Native => None,
        Engine::Linfa => Some(Backend::Linfa),
        Engine::Smartcore => Some(Backend::Smartcore),
    };
    match (backend, params) {
        (Some(backend), FamilyParams::DecisionTree(t)) => {
            let forest = ExternalForest::fit(backend, t, None, x, y, seed, on_step)?;
            return Ok(FittedModel::External { kind, forest });
        }
        (Some(backend), FamilyParams::RandomForest(f)) => {
            let p = x.ncols();
            let bagging = Bagging {
                n_trees: f.n_trees,
                features_per_tree: f.max_features.count(p).max(p / 2),
            };
            let forest = ExternalForest::fit(backend, &f.tree, Some(bagging), x, y, seed, on_step)?;
            return Ok(FittedModel::External { kind, forest });
        }
        _ => {}
    }
    let data = DatasetBase::new(x, y.iter().map(|&v| v == 1).collect::<Array1<bool>>());
    let class_weight = class_weights(opts.class_weight, y);
    let learner = |p| {
        Learner::new(p, kind.name())
            .class_weight(class_weight)
            .seed(seed)
            .on_step(on_step)
    };
    Ok(match params {
        FamilyParams::DecisionTree(t) => {
            FittedModel::DecisionTree(learner(&ForestParams::single_tree(*t)).fit(&data)?)
        }
        FamilyParams::RandomForest(f) => FittedModel::RandomForest(learner(f).fit(&data)?),
        FamilyParams::LogisticRegression(l) => {
            let m = Learner::new(l, kind.name())
                .seed(seed)
                .on_step(on_step)
                .fit(&data)?;
            FittedModel::LogisticRegression(m)
        }
    })
}

/// Row weights per class.
pub fn class_weights(cw: ClassWeight, y: &[u8]) -> [f64; 2] {
    match cw {
        ClassWeight::None => [1.0, 1.0],
        ClassWeight::Balanced => {
            let pos = y.iter().filter(|&&v| v == 1).count().max(1) as f64;
            let neg = (y.len() as f64 - pos).max(1.0);
            let n = y.len() as f64;
            [n / (2.0 * neg), n / (2.0 * pos)]
        }
    }
}

/// A fitted model of any family.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", content = "model", rename_all = "snake_case")]
pub enum FittedModel {
    DecisionTree(Forest),
    RandomForest(Forest),
    LogisticRegression(Logistic),
    /// A tree or forest grown by linfa-trees or smartcore (`--engine`).
    External {
        kind: ModelKind,
        forest: ExternalForest,
    },
}

impl FittedModel {
    pub fn kind(&self) -> ModelKind {
        match self {
            FittedModel::DecisionTree(_) => ModelKind::DecisionTree,
            FittedModel::RandomForest(_) => ModelKind::RandomForest,
            FittedModel::LogisticRegression(_) => ModelKind::LogisticRegression,
            FittedModel::External { kind, .. } => *kind,
        }
    }

    /// P(churn) for every row of the encoded matrix.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.predict_proba(x),
            FittedModel::LogisticRegression(m) => m.predict_proba(x),
            FittedModel::External { forest, .. } => forest.predict_proba(x),
        }
    }

    /// P(churn) of one encoded row (exactly as `predict_proba`), and how much
    /// each encoded feature pushes it up, written into `contrib`
    /// (probability points for trees, log-odds for logistic regression).
    pub fn explain_row(&self, x: &[f64], contrib: &mut [f64]) -> f64 {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => {
                f.explain_row(x, contrib)
            }
            FittedModel::LogisticRegression(m) => m.explain_row(x, contrib),
            FittedModel::External { forest, .. } => forest.explain_row(x, contrib),
        }
    }

    /// [`FittedModel::explain_row`] for consecutive rows of `flat` (`p`
    /// values each; `contrib` likewise); forests walk them tree by tree.
    pub fn explain_block(&self, flat: &[f64], p: usize, contrib: &mut [f64]) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => {
                f.explain_block(flat, p, contrib)
            }
            _ => flat
                .chunks_exact(p)
                .zip(contrib.chunks_exact_mut(p))
                .map(|(x, c)| self.explain_row(x, c))
                .collect(),
        }
    }

    /// Encoded features the model takes (`None` for linfa/smartcore trees,
    /// which do not record it).
    pub fn n_features(&self) -> Option<usize> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => Some(f.n_features),
            FittedModel::LogisticRegression(m) => Some(m.coefficients.len()),
            FittedModel::External { .. } => None,
        }
    }

    /// Global importance per encoded feature (sums to 1).
    pub fn importances(&self) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.importances.clone(),
            FittedModel::LogisticRegression(m) => {
                let total: f64 = m
                    .coefficients
                    .iter()
                    .map(|c| c.abs())
                    .sum::<f64>()
                    .max(f64::MIN_POSITIVE);
                m.coefficients.iter().map(|c| c.abs() / total).collect()
            }
            // Vote-only trees: no importances.
            FittedModel::External { forest, .. } => {
                vec![0.0; forest.features.iter().flatten().max().map_or(0, |m| m + 1)]
            }
        }
    }
}
