//! The random forest family (and, with one tree, the decision tree): its
//! validated hyperparameters ([`params`]) fitted by the native engine
//! through linfa's `ParamGuard` + `Fit`.

pub use churn_engine::params::forest as params;

// Checked and fitted through `learner::TreeFamily` (linfa's `ParamGuard` + `Fit`).

use churn_engine::Forest;

/// The model card's line on a forest (or a single tree).
pub fn structure(f: &Forest) -> String {
    format!("{} tree(s); reasons in probability points", f.trees.len())
}
