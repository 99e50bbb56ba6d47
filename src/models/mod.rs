//! Churn models behind one interface: fit on a matrix and 0/1 labels,
//! predict P(churn), explain a row. Models know nothing of files or reports.

pub mod engine;
pub mod external;
pub mod logistic;

use crate::config::{ClassWeight, Config, Engine, ModelKind};
use external::{Backend, Bagging, ExternalForest};
use crate::error::Result;
use engine::{Forest, ForestSpec, MaxFeatures};
use logistic::Logistic;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// A fitted model of any family.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", content = "model", rename_all = "snake_case")]
pub enum FittedModel {
    DecisionTree(Forest),
    RandomForest(Forest),
    LogisticRegression(Logistic),
    /// A tree or forest grown by linfa-trees or smartcore (`--engine`).
    External { kind: ModelKind, forest: ExternalForest },
}

/// Does this family want standardised inputs?
pub fn needs_scaling(kind: ModelKind) -> bool {
    kind == ModelKind::LogisticRegression
}

/// Fit a model of `kind` with the hyperparameters of `cfg`.
/// `on_step` is called as work completes (trees), for progress bars.
pub fn fit(kind: ModelKind, cfg: &Config, x: ArrayView2<f64>, y: &[u8], seed: u64, on_step: &(dyn Fn() + Sync)) -> Result<FittedModel> {
    let class_weight = class_weights(cfg.train.class_weight, y);
    let backend = match cfg.train.engine {
        Engine::Native => None,
        Engine::Linfa => Some(Backend::Linfa),
        Engine::Smartcore => Some(Backend::Smartcore),
    };
    if let (Some(backend), true) = (backend, kind != ModelKind::LogisticRegression) {
        let forest = if kind == ModelKind::DecisionTree {
            ExternalForest::fit(backend, &cfg.decision_tree, None, x, y, seed, on_step)?
        } else {
            let f = &cfg.random_forest;
            let p = x.ncols();
            let bagging = Bagging { n_trees: f.n_trees, features_per_tree: MaxFeatures::parse(&f.max_features)?.count(p).max(p / 2) };
            ExternalForest::fit(backend, &f.tree, Some(bagging), x, y, seed, on_step)?
        };
        return Ok(FittedModel::External { kind, forest });
    }
    Ok(match kind {
        ModelKind::DecisionTree => {
            let t = &cfg.decision_tree;
            let spec = ForestSpec {
                n_trees: 1,
                grow: grow_params(t),
                max_features: MaxFeatures::All,
                bootstrap: false,
                subsample: 1.0,
                oob: false,
                max_bins: t.max_bins,
                class_weight,
            };
            FittedModel::DecisionTree(Forest::fit(&spec, x, y, seed, on_step)?)
        }
        ModelKind::RandomForest => {
            let f = &cfg.random_forest;
            let spec = ForestSpec {
                n_trees: f.n_trees,
                grow: grow_params(&f.tree),
                max_features: MaxFeatures::parse(&f.max_features)?,
                bootstrap: f.bootstrap,
                subsample: f.subsample,
                oob: f.oob_score,
                max_bins: f.tree.max_bins,
                class_weight,
            };
            FittedModel::RandomForest(Forest::fit(&spec, x, y, seed, on_step)?)
        }
        ModelKind::LogisticRegression => {
            let m = Logistic::fit(&cfg.logistic_regression, x, y)?;
            on_step();
            FittedModel::LogisticRegression(m)
        }
    })
}

/// Work units `fit` reports through `on_step`.
pub fn steps(kind: ModelKind, cfg: &Config) -> usize {
    match kind {
        ModelKind::RandomForest => cfg.random_forest.n_trees,
        _ => 1,
    }
}

fn grow_params(t: &crate::config::TreeParams) -> engine::tree::GrowParams {
    engine::tree::GrowParams {
        max_depth: t.max_depth,
        min_samples_leaf: t.min_samples_leaf,
        min_gain: t.min_gain,
        criterion: t.criterion,
        max_features: usize::MAX,
    }
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
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.explain_row(x, contrib),
            FittedModel::LogisticRegression(m) => m.explain_row(x, contrib),
            FittedModel::External { forest, .. } => forest.explain_row(x, contrib),
        }
    }

    /// [`FittedModel::explain_row`] for consecutive rows of `flat` (`p`
    /// values each; `contrib` likewise); forests walk them tree by tree.
    pub fn explain_block(&self, flat: &[f64], p: usize, contrib: &mut [f64]) -> Vec<f64> {
        match self {
            FittedModel::DecisionTree(f) | FittedModel::RandomForest(f) => f.explain_block(flat, p, contrib),
            _ => flat.chunks_exact(p).zip(contrib.chunks_exact_mut(p)).map(|(x, c)| self.explain_row(x, c)).collect(),
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
                let total: f64 = m.coefficients.iter().map(|c| c.abs()).sum::<f64>().max(f64::MIN_POSITIVE);
                m.coefficients.iter().map(|c| c.abs() / total).collect()
            }
            // Vote-only trees: no importances.
            FittedModel::External { forest, .. } => vec![0.0; forest.features.iter().flatten().max().map_or(0, |m| m + 1)],
        }
    }
}
