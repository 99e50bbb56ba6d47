//! The gradient boosting family: its validated hyperparameters ([`params`])
//! fitted by the native engine ([`crate::models::engine::boost`]) through
//! linfa's `ParamGuard` + `Fit`.

pub use churn_engine::params::boosting as params;

// Checked and fitted through `learner::TreeFamily` (linfa's `ParamGuard` + `Fit`).

use churn_engine::Boosted;

/// The model card's line on a boosted model: its rounds, learning rate and
/// how early stopping chose them.
pub fn structure(b: &Boosted) -> String {
    let stop =
        if b.cv_rounds.is_empty() {
            "early stopping off".to_string()
        } else {
            format!(
            "early stopping chose {} rounds in the folds; refitted on every row with their median",
            b.cv_rounds.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
        )
        };
    format!(
        "{} boosting rounds (trees), learning rate {}; {stop}; reasons in log-odds",
        b.trees.len(),
        b.learning_rate
    )
}
