//! [`Learner`]: a family's hyperparameters plus what a training run adds to
//! them (class weights, seed, a progress tick). As in linfa, every family
//! implements `ParamGuard` on its `Learner` (checking it into a
//! [`ValidLearner`]) and `Fit` on the `ValidLearner`, so `learner.fit(&data)`
//! always validates first; and
//! [`crate::models::fit`] goes through exactly that route, so the tests and
//! the production path fit models the same way.

use linfa::dataset::{AsSingleTargets, DatasetBase};
use ndarray::{ArrayBase, Data, Ix2};

/// Checked hyperparameters `P` of one family, ready to fit.
#[derive(Clone, Copy)]
pub struct ValidLearner<'a, P> {
    pub params: &'a P,
    /// The configuration section the parameters came from, named in errors.
    pub key: &'a str,
    /// Weight of class 0 and class 1 rows (tree families).
    pub class_weight: [f64; 2],
    pub seed: u64,
    /// Called as work completes (one tick per tree), for progress bars.
    pub on_step: &'a (dyn Fn() + Sync),
}

/// Hyperparameters `P` of one family and the run's settings, not yet checked.
#[derive(Clone, Copy)]
pub struct Learner<'a, P>(pub(crate) ValidLearner<'a, P>);

fn no_progress() {}

impl<'a, P> Learner<'a, P> {
    /// `params` from configuration section `key`, unweighted, seed 0, no progress.
    pub fn new(params: &'a P, key: &'a str) -> Self {
        Learner(ValidLearner {
            params,
            key,
            class_weight: [1.0, 1.0],
            seed: 0,
            on_step: &no_progress,
        })
    }

    pub fn class_weight(mut self, w: [f64; 2]) -> Self {
        self.0.class_weight = w;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    pub fn on_step(mut self, f: &'a (dyn Fn() + Sync)) -> Self {
        self.0.on_step = f;
        self
    }

    /// What is checked: the parameters and the run's settings.
    pub fn unchecked(&self) -> &ValidLearner<'a, P> {
        &self.0
    }
}

/// The 0/1 labels (1 = churn) of a linfa dataset with boolean targets.
pub fn labels<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>>(
    data: &DatasetBase<ArrayBase<D, Ix2>, T>,
) -> Vec<u8> {
    data.as_single_targets().iter().map(|&b| b as u8).collect()
}
