//! Gradient boosting hyperparameters (`[gradient_boosting]`), validated once
//! when the configuration is read. Names and defaults are LightGBM's (31
//! leaves, learning rate 0.1, 100 rounds, 20 rows per leaf, 255 bins), so a
//! side-by-side run with LightGBM's defaults is like for like.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Gradient boosting hyperparameters (binary log-loss, leaf-wise trees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoostingParams {
    /// Boosting rounds (trees); with early stopping, the most rounds.
    pub n_rounds: usize,
    /// Shrinkage η: each leaf holds −η·G/(H+λ).
    pub learning_rate: f64,
    /// Leaves per tree; the leaf with the largest gain splits next.
    pub num_leaves: usize,
    /// Maximum depth; 0 = unlimited (LightGBM's −1).
    pub max_depth: usize,
    /// Fewest training rows in a leaf.
    pub min_data_in_leaf: usize,
    /// Smallest sum of hessians in a leaf.
    pub min_sum_hessian: f64,
    /// L2 penalty λ on leaf values.
    pub lambda_l2: f64,
    /// Smallest gain a split must bring.
    pub min_gain_to_split: f64,
    /// Share of features a tree may split on (drawn per tree).
    pub feature_fraction: f64,
    /// Share of rows a tree is grown on, redrawn every `bagging_freq` rounds
    /// (0 = no bagging).
    pub bagging_fraction: f64,
    pub bagging_freq: usize,
    /// Weight of churners relative to stayers (on top of `--class-weight`).
    pub scale_pos_weight: f64,
    /// Quantile bins per feature (2..=255).
    pub max_bins: usize,
    /// Stop when the validation log loss has not improved for this many
    /// rounds (0 = off, as LightGBM without a validation set); the model
    /// keeps the best round. On by default: a bank's tables are small
    /// enough for 100 rounds at rate 0.1 to overfit (held-out AUC in the
    /// boosting benchmark).
    pub early_stopping_rounds: usize,
    /// Stratified share of each training fold held out for early stopping.
    pub validation_share: f64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams {
            n_rounds: 100,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: 0,
            min_data_in_leaf: 20,
            min_sum_hessian: 1e-3,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            feature_fraction: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            scale_pos_weight: 1.0,
            max_bins: 255,
            early_stopping_rounds: 20,
            validation_share: 0.1,
        }
    }
}

impl BoostingParams {
    pub fn n_rounds(mut self, v: usize) -> Self {
        self.n_rounds = v;
        self
    }

    pub fn early_stopping_rounds(mut self, v: usize) -> Self {
        self.early_stopping_rounds = v;
        self
    }

    /// Reject values that cannot boost; errors name the config `key` (e.g.
    /// `gradient_boosting.num_leaves`).
    pub fn check(&self, key: &str) -> Result<()> {
        let bad =
            |field: &str, rule: &str| Err(Error::Config(format!("{key}.{field} must be {rule}")));
        let share = |v: f64| v > 0.0 && v <= 1.0;
        if self.n_rounds == 0 {
            return bad("n_rounds", "at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "a positive number");
        }
        if self.num_leaves < 2 || self.num_leaves > 1 << 16 {
            return bad("num_leaves", "in 2..=65536");
        }
        if self.min_data_in_leaf == 0 {
            return bad("min_data_in_leaf", "at least 1");
        }
        if !(self.min_sum_hessian >= 0.0 && self.min_sum_hessian.is_finite()) {
            return bad("min_sum_hessian", ">= 0");
        }
        if !(self.lambda_l2 >= 0.0 && self.lambda_l2.is_finite()) {
            return bad("lambda_l2", ">= 0");
        }
        if !(self.min_gain_to_split >= 0.0 && self.min_gain_to_split.is_finite()) {
            return bad("min_gain_to_split", ">= 0");
        }
        if !share(self.feature_fraction) {
            return bad("feature_fraction", "in (0, 1]");
        }
        if !share(self.bagging_fraction) {
            return bad("bagging_fraction", "in (0, 1]");
        }
        if !(self.scale_pos_weight > 0.0 && self.scale_pos_weight.is_finite()) {
            return bad("scale_pos_weight", "a positive number");
        }
        if !(2..=255).contains(&self.max_bins) {
            return bad("max_bins", "in 2..=255");
        }
        if !(self.validation_share > 0.0 && self.validation_share <= 0.5) {
            return bad("validation_share", "in (0, 0.5]");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_values_name_their_key() {
        type Case = (&'static str, fn(&mut BoostingParams));
        let cases: [Case; 5] = [
            ("num_leaves", |p| p.num_leaves = 1),
            ("learning_rate", |p| p.learning_rate = 0.0),
            ("bagging_fraction", |p| p.bagging_fraction = 1.5),
            ("feature_fraction", |p| p.feature_fraction = 0.0),
            ("n_rounds", |p| p.n_rounds = 0),
        ];
        for (key, set) in cases {
            let mut p = BoostingParams::default();
            set(&mut p);
            let e = p.check("gradient_boosting").unwrap_err().to_string();
            assert!(e.contains(&format!("gradient_boosting.{key}")), "{e}");
        }
        assert!(BoostingParams::default().check("gradient_boosting").is_ok());
    }
}
