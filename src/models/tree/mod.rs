//! The decision tree family: a one-tree, unsampled forest of the native
//! engine ([`ForestParams::single_tree`](crate::models::ForestParams::single_tree)),
//! fitted through the forest family's `Fit`; its hyperparameters are in
//! [`params`] (also the per-tree limits of a random forest).

pub use churn_engine::params::tree as params;
