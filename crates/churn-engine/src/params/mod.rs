//! The validated hyperparameters of the engine's families, each with its
//! defaults, builder methods and `check(key)` (errors name the
//! configuration key). The application's configuration holds them as
//! they are (`[decision_tree]`, `[random_forest]`, `[gradient_boosting]`).

pub mod boosting;
pub mod forest;
pub mod tree;
