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

pub mod boosting;
pub mod calibration;
pub use churn_engine as engine;
pub mod ensemble;
pub mod external;
pub mod forest;
pub mod learner;
pub mod logistic;
pub mod tree;

use crate::error::Result;
pub use boosting::params::BoostingParams;
pub use calibration::{Calibration, Calibrator};
use engine::{Boosted, Forest};
pub use ensemble::{Ensemble, EnsembleParams};
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
    GradientBoosting,
    /// Mean of the other models' probabilities.
    Vote,
    /// Logistic meta-model on the other models' out-of-fold logits.
    Stack,
}

impl ModelKind {
    /// The single-model families (a run's default).
    pub const ALL: [ModelKind; 4] = [
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::LogisticRegression,
        ModelKind::GradientBoosting,
    ];

    /// Is this a fusion of other models (vote, stack)?
    pub fn is_ensemble(self) -> bool {
        matches!(self, ModelKind::Vote | ModelKind::Stack)
    }

    /// The name used in files, reports and as the configuration section.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::DecisionTree => "decision_tree",
            ModelKind::RandomForest => "random_forest",
            ModelKind::LogisticRegression => "logistic_regression",
            ModelKind::GradientBoosting => "gradient_boosting",
            ModelKind::Vote => "vote",
            ModelKind::Stack => "stack",
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
#[derive(Debug, Clone)]
pub enum FamilyParams<'a> {
    DecisionTree(&'a TreeParams),
    RandomForest(&'a ForestParams),
    LogisticRegression(&'a LogisticParams),
    GradientBoosting(&'a BoostingParams),
    /// A vote or stack over base families; a stack's meta-model learns
    /// from `inner_folds`-fold out-of-fold probabilities.
    Ensemble {
        kind: ModelKind,
        bases: Vec<FamilyParams<'a>>,
        inner_folds: usize,
    },
}

impl FamilyParams<'_> {
    pub fn kind(&self) -> ModelKind {
        match self {
            FamilyParams::DecisionTree(_) => ModelKind::DecisionTree,
            FamilyParams::RandomForest(_) => ModelKind::RandomForest,
            FamilyParams::LogisticRegression(_) => ModelKind::LogisticRegression,
            FamilyParams::GradientBoosting(_) => ModelKind::GradientBoosting,
            FamilyParams::Ensemble { kind, .. } => *kind,
        }
    }

    /// Work units a fit reports through its progress tick (trees, rounds).
    pub fn steps(&self) -> usize {
        match self {
            FamilyParams::RandomForest(f) => f.n_trees,
            FamilyParams::GradientBoosting(b) => b.n_rounds,
            FamilyParams::Ensemble {
                kind,
                bases,
                inner_folds,
            } => {
                let fits = if *kind == ModelKind::Stack {
                    inner_folds + 1
                } else {
                    1
                };
                fits * bases.iter().map(FamilyParams::steps).sum::<usize>()
            }
            _ => 1,
        }
    }

    /// Does this family fill every core within one fit (so its
    /// cross-validation folds are better run one after another)?
    pub fn parallel_within(&self, rows: usize) -> bool {
        match self {
            FamilyParams::RandomForest(_) | FamilyParams::Ensemble { .. } => true,
            FamilyParams::GradientBoosting(_) => rows >= 100_000,
            _ => false,
        }
    }
}

/// The unit of a model's contributions to a row's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Probability points (trees, forests, a vote).
    Probability,
    /// Log-odds (logistic regression, gradient boosting, a stack).
    LogOdds,
}

/// How a run fits every family: the tree backend and the class weights.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub engine: Engine,
    pub class_weight: ClassWeight,
}

/// Does this family want standardised inputs? (An ensemble standardises
/// for its logistic members; trees split the same either way.)
pub fn needs_scaling(kind: ModelKind) -> bool {
    matches!(
        kind,
        ModelKind::LogisticRegression | ModelKind::Vote | ModelKind::Stack
    )
}

/// Fit one family with its hyperparameters `params` on `x` and 0/1 labels
/// `y` (1 = churn). `on_step` is called as work completes (trees), for
/// progress bars.
pub fn fit(
    params: &FamilyParams,
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
    // One learner per family type: the run's weights, seed and progress tick.
    macro_rules! learner {
        ($p:expr) => {
            Learner::new($p, kind.name())
                .class_weight(class_weight)
                .seed(seed)
                .on_step(on_step)
        };
    }
    Ok(match params {
        FamilyParams::DecisionTree(t) => {
            FittedModel::DecisionTree(learner!(&ForestParams::single_tree(**t)).fit(&data)?)
        }
        FamilyParams::RandomForest(f) => FittedModel::RandomForest(learner!(*f).fit(&data)?),
        FamilyParams::LogisticRegression(l) => {
            let m = Learner::new(*l, kind.name())
                .seed(seed)
                .on_step(on_step)
                .fit(&data)?;
            FittedModel::LogisticRegression(m)
        }
        FamilyParams::GradientBoosting(b) => {
            FittedModel::GradientBoosting(learner!(*b).fit(&data)?)
        }
        FamilyParams::Ensemble {
            kind,
            bases,
            inner_folds,
        } => FittedModel::Ensemble(Ensemble::fit(
            *kind,
            bases,
            *inner_folds,
            opts,
            x,
            y,
            seed,
            on_step,
        )?),
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
    GradientBoosting(Boosted),
    /// A vote or a stack over fitted base models.
    Ensemble(Ensemble),
    /// A tree or forest grown by linfa-trees or smartcore (`--engine`).
    External {
        kind: ModelKind,
        forest: ExternalForest,
    },
}

impl FittedModel {
    /// The model card's line on the fitted model, from its family.
    pub fn structure(&self) -> String {
        match self {
            FittedModel::GradientBoosting(b) => boosting::structure(b),
            FittedModel::Ensemble(e) => e.structure(),
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => forest::structure(f),
            FittedModel::LogisticRegression(m) => m.structure(),
            FittedModel::External { kind, .. } => {
                format!("{} grown by an external engine", kind.name())
            }
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            FittedModel::DecisionTree(_) => ModelKind::DecisionTree,
            FittedModel::RandomForest(_) => ModelKind::RandomForest,
            FittedModel::LogisticRegression(_) => ModelKind::LogisticRegression,
            FittedModel::GradientBoosting(_) => ModelKind::GradientBoosting,
            FittedModel::Ensemble(e) => e.kind,
            FittedModel::External { kind, .. } => *kind,
        }
    }

    /// The unit of [`FittedModel::explain_row`]'s contributions.
    pub fn contribution_unit(&self) -> Unit {
        match self {
            FittedModel::LogisticRegression(_) | FittedModel::GradientBoosting(_) => Unit::LogOdds,
            FittedModel::Ensemble(e) if e.kind == ModelKind::Stack => Unit::LogOdds,
            _ => Unit::Probability,
        }
    }

    /// Rounds early stopping chose (gradient boosting with early stopping).
    pub fn chosen_rounds(&self) -> Option<usize> {
        match self {
            FittedModel::GradientBoosting(b) => b.early_stopping.as_ref().map(|e| e.best_rounds),
            _ => None,
        }
    }

    /// P(churn) for every row of the encoded matrix.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.predict_proba(x),
            FittedModel::LogisticRegression(m) => m.predict_proba(x),
            FittedModel::GradientBoosting(b) => b.predict_proba(x),
            FittedModel::Ensemble(e) => e.predict_proba(x),
            FittedModel::External { forest, .. } => forest.predict_proba(x),
        }
    }

    /// The bin cuts of a native tree model (None for other kinds): models
    /// over the same inputs can bin them once ([`engine::binning::shared`]).
    pub fn bin_cuts(&self) -> Option<&engine::binning::BinCuts> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => Some(&f.cuts),
            FittedModel::GradientBoosting(b) => Some(&b.cuts),
            _ => None,
        }
    }

    /// [`FittedModel::predict_proba`] of rows ranked by
    /// [`SharedCuts::rank_rows`](engine::binning::shared::SharedCuts::rank_rows)
    /// among cuts shared with other models; this model's cuts are
    /// `shared`'s `model`-th. The same probabilities, bit for bit.
    pub fn predict_proba_shared(
        &self,
        x: ArrayView2<f64>,
        shared: &engine::binning::shared::SharedCuts,
        model: usize,
        ranks: &[u16],
    ) -> Vec<f64> {
        let bins = engine::forest::Bins::Shared {
            shared,
            model,
            ranks,
        };
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => {
                f.predict_proba_with(bins, x)
            }
            FittedModel::GradientBoosting(b) => b.predict_proba_with(bins, x),
            _ => self.predict_proba(x),
        }
    }

    /// P(churn) of one encoded row (exactly as `predict_proba`), and how much
    /// each encoded feature pushes it up, written into `contrib`
    /// (in [`FittedModel::contribution_unit`]).
    pub fn explain_row(&self, x: &[f64], contrib: &mut [f64]) -> f64 {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => {
                f.explain_row(x, contrib)
            }
            FittedModel::LogisticRegression(m) => m.explain_row(x, contrib),
            FittedModel::GradientBoosting(_) | FittedModel::Ensemble(_) => {
                self.explain_block(x, x.len(), contrib)[0]
            }
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
            FittedModel::GradientBoosting(b) => b.explain_block(flat, p, contrib),
            FittedModel::Ensemble(e) => e.explain_block(flat, p, contrib),
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
            FittedModel::GradientBoosting(b) => Some(b.n_features),
            FittedModel::Ensemble(e) => e.bases.iter().find_map(FittedModel::n_features),
            FittedModel::External { .. } => None,
        }
    }

    /// Global importance per encoded feature (sums to 1).
    pub fn importances(&self) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.importances.clone(),
            FittedModel::GradientBoosting(b) => b.importances.clone(),
            FittedModel::Ensemble(e) => e.importances(),
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
