//! The gradient boosting family: its validated hyperparameters ([`params`])
//! fitted by the native engine ([`crate::models::engine::boost`]) through
//! linfa's `ParamGuard` + `Fit`.

pub use churn_engine::params::boosting as params;

// Checked and fitted through `learner::TreeFamily` (linfa's `ParamGuard` + `Fit`).
