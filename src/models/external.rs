//! The linfa-trees and smartcore tree backends (`--engine linfa|smartcore`),
//! kept so users can compare engines through the same evaluation, and as test
//! oracles for the native engine.
//!
//! Neither library gives class probabilities from its trees, so a decision
//! tree scores 0 or 1 (its label), and a forest is our bagging of their trees
//! (bootstrap rows, a random feature subspace per tree since they cannot
//! sample features per split) scoring the share of trees voting churn.

use crate::error::{Error, Result};
use crate::models::tree::params::{Criterion, TreeParams};
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters, SplitCriterion,
};

type SmartTree = DecisionTreeClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// Which external library grows the trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Linfa,
    Smartcore,
}

/// One fitted external tree.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub enum ExternalTree {
    Linfa(linfa_trees::DecisionTree<f64, bool>),
    Smartcore(SmartTree),
}

/// Trees of an external library, each on its own feature subset.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalForest {
    pub backend: Backend,
    pub features: Vec<Vec<usize>>,
    pub trees: Vec<ExternalTree>,
}

/// How to bag: `None` = one tree on all rows and features.
pub struct Bagging {
    pub n_trees: usize,
    pub features_per_tree: usize,
}

impl ExternalForest {
    pub fn fit(
        backend: Backend,
        params: &TreeParams,
        bagging: Option<Bagging>,
        x: ArrayView2<f64>,
        y: &[u8],
        seed: u64,
        on_tree: &(dyn Fn() + Sync),
    ) -> Result<ExternalForest> {
        let (n, p) = x.dim();
        let n_trees = bagging.as_ref().map_or(1, |b| b.n_trees);
        let fitted: Vec<(Vec<usize>, ExternalTree)> = (0..n_trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(t as u64 + 1);
                let (rows, feats): (Vec<usize>, Vec<usize>) = match &bagging {
                    None => ((0..n).collect(), (0..p).collect()),
                    Some(b) => {
                        let rows = (0..n).map(|_| rng.random_range(0..n)).collect();
                        let mut f: Vec<usize> = (0..p).collect();
                        for i in 0..b.features_per_tree.min(p) {
                            let j = rng.random_range(i..p);
                            f.swap(i, j);
                        }
                        f.truncate(b.features_per_tree.clamp(1, p));
                        f.sort();
                        (rows, f)
                    }
                };
                let xs = x.select(Axis(0), &rows).select(Axis(1), &feats);
                let ys: Vec<u8> = rows.iter().map(|&r| y[r]).collect();
                let tree = fit_tree(backend, params, xs, &ys)?;
                on_tree();
                Ok((feats, tree))
            })
            .collect::<Result<_>>()?;
        let (features, trees) = fitted.into_iter().unzip();
        Ok(ExternalForest {
            backend,
            features,
            trees,
        })
    }

    /// Share of trees voting churn (0/1 for a single tree).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        let mut votes = vec![0.0; x.nrows()];
        for (feats, tree) in self.features.iter().zip(&self.trees) {
            let xs = x.select(Axis(1), feats);
            for (v, l) in votes.iter_mut().zip(predict_tree(tree, xs)) {
                *v += l as f64;
            }
        }
        let k = self.trees.len().max(1) as f64;
        votes.iter().map(|v| v / k).collect()
    }

    /// Vote-based contributions are not defined: the row's probability and zeros.
    pub fn explain_row(&self, x: &[f64], contrib: &mut [f64]) -> f64 {
        contrib.iter_mut().for_each(|c| *c = 0.0);
        let row =
            ndarray::ArrayView2::from_shape((1, x.len()), x).map(|v| self.predict_proba(v)[0]);
        row.unwrap_or(0.0)
    }
}

fn fit_tree(backend: Backend, t: &TreeParams, x: Array2<f64>, y: &[u8]) -> Result<ExternalTree> {
    let depth = (t.max_depth > 0).then_some(t.max_depth);
    Ok(match backend {
        Backend::Linfa => {
            let targets: Array1<bool> = y.iter().map(|&v| v == 1).collect();
            let quality = match t.criterion {
                Criterion::Gini => linfa_trees::SplitQuality::Gini,
                Criterion::Entropy => linfa_trees::SplitQuality::Entropy,
            };
            let model = linfa_trees::DecisionTree::params()
                .split_quality(quality)
                .max_depth(depth)
                .min_weight_leaf(t.min_samples_leaf as f32)
                .min_weight_split(2.0 * t.min_samples_leaf as f32)
                .fit(&Dataset::new(x, targets))
                .map_err(|e| Error::Model(format!("linfa-trees: {e}")))?;
            ExternalTree::Linfa(model)
        }
        Backend::Smartcore => {
            let (n, p) = x.dim();
            let data: Vec<f64> = x.iter().copied().collect();
            let m = DenseMatrix::new(n, p, data, false)
                .map_err(|e| Error::Model(format!("smartcore: {e}")))?;
            let labels: Vec<u32> = y.iter().map(|&v| v as u32).collect();
            let mut params = DecisionTreeClassifierParameters::default()
                .with_criterion(match t.criterion {
                    Criterion::Gini => SplitCriterion::Gini,
                    Criterion::Entropy => SplitCriterion::Entropy,
                })
                .with_min_samples_leaf(t.min_samples_leaf)
                .with_min_samples_split(2 * t.min_samples_leaf);
            if let Some(d) = depth {
                params = params.with_max_depth(d.min(u16::MAX as usize) as u16);
            }
            ExternalTree::Smartcore(
                SmartTree::fit(&m, &labels, params)
                    .map_err(|e| Error::Model(format!("smartcore: {e}")))?,
            )
        }
    })
}

fn predict_tree(tree: &ExternalTree, x: Array2<f64>) -> Vec<u8> {
    match tree {
        ExternalTree::Linfa(m) => m.predict(&x).iter().map(|&b| b as u8).collect(),
        ExternalTree::Smartcore(m) => {
            let (n, p) = x.dim();
            let data: Vec<f64> = x.iter().copied().collect();
            DenseMatrix::new(n, p, data, false)
                .ok()
                .and_then(|d| m.predict(&d).ok())
                .map(|v| v.into_iter().map(|l| l as u8).collect())
                .unwrap_or_else(|| vec![0; n])
        }
    }
}
