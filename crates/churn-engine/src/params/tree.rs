//! Decision tree hyperparameters (`[decision_tree]`, and the per-tree limits
//! of `[random_forest.tree]`), validated once when the configuration is read.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Split quality measure for trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Gini,
    Entropy,
}

/// What limits a tree (defaults as the reference scikit-learn run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
        TreeParams {
            max_depth: 8,
            min_samples_leaf: 20,
            min_gain: 0.0,
            criterion: Criterion::Gini,
            max_bins: 255,
        }
    }
}

impl TreeParams {
    pub fn max_depth(mut self, v: usize) -> Self {
        self.max_depth = v;
        self
    }

    pub fn min_samples_leaf(mut self, v: usize) -> Self {
        self.min_samples_leaf = v;
        self
    }

    pub fn criterion(mut self, v: Criterion) -> Self {
        self.criterion = v;
        self
    }

    /// Reject values that cannot grow a tree; errors name the config `key`
    /// (e.g. `decision_tree`).
    pub fn check(&self, key: &str) -> Result<()> {
        if self.min_samples_leaf == 0 {
            return Err(Error::Config(format!(
                "{key}.min_samples_leaf must be at least 1"
            )));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(Error::Config(format!("{key}.max_bins must be in 2..=255")));
        }
        if !(self.min_gain >= 0.0) {
            return Err(Error::Config(format!("{key}.min_gain must be >= 0")));
        }
        Ok(())
    }
}
