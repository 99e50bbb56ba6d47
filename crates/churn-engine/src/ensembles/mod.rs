//! The ensembles built from the grown trees: the random forest (and, with
//! one unsampled tree, the decision tree) and gradient boosting.

pub mod boost;
pub mod forest;
