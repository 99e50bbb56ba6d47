//! [`Learner`]: a family's hyperparameters plus what a training run adds to
//! them (class weights, seed, a progress tick). As in linfa, every family
//! implements `ParamGuard` on its `Learner` (checking it into a
//! [`ValidLearner`]) and `Fit` on the `ValidLearner`, so `learner.fit(&data)`
//! always validates first; and
//! [`crate::models::fit`] goes through exactly that route, so the tests and
//! the production path fit models the same way.

use crate::error::{Error, Result};
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::Fit;
use linfa::ParamGuard;
use ndarray::{ArrayBase, ArrayView2, Data, Ix2};

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

/// A family the native tree engine fits: its parameters check themselves
/// and fit one kind of model. Both tree families (forest, boosting) get
/// linfa's `ParamGuard` on their [`Learner`] and `Fit` on their
/// [`ValidLearner`] from here, checked and fitted the same way.
pub trait TreeFamily: Sync {
    type Model;
    /// Check the parameters (errors name configuration section `key`).
    fn validate(&self, key: &str) -> Result<()>;
    /// Fit on rows `x` with 0/1 labels `y`.
    fn fit_model(
        &self,
        class_weight: [f64; 2],
        x: ArrayView2<f64>,
        y: &[u8],
        seed: u64,
        on_step: &(dyn Fn() + Sync),
    ) -> Result<Self::Model>;
}

impl<'a, P: TreeFamily> ParamGuard for Learner<'a, P> {
    type Checked = ValidLearner<'a, P>;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked> {
        let v = self.unchecked();
        v.params.validate(v.key)?;
        if v.class_weight.iter().any(|w| !(*w > 0.0)) {
            return Err(Error::Config(format!(
                "{}: class weights must be positive",
                v.key
            )));
        }
        Ok(v)
    }

    fn check(self) -> Result<Self::Checked> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// linfa `Fit`: targets are booleans (true = churned).
impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>, P: TreeFamily>
    Fit<ArrayBase<D, Ix2>, T, Error> for ValidLearner<'_, P>
{
    type Object = P::Model;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<P::Model> {
        self.params.fit_model(
            self.class_weight,
            dataset.records.view(),
            &labels(dataset),
            self.seed,
            self.on_step,
        )
    }
}

/// [`TreeFamily`] for a family's parameters `$params` (with an inherent
/// `check(key)`) and the engine model `$model` (with `fit`).
macro_rules! tree_family {
    ($params:ty, $model:ty) => {
        impl TreeFamily for $params {
            type Model = $model;

            fn validate(&self, key: &str) -> Result<()> {
                Ok(self.check(key)?)
            }

            fn fit_model(
                &self,
                class_weight: [f64; 2],
                x: ArrayView2<f64>,
                y: &[u8],
                seed: u64,
                on_step: &(dyn Fn() + Sync),
            ) -> Result<$model> {
                Ok(<$model>::fit(self, class_weight, x, y, seed, on_step)?)
            }
        }
    };
}

tree_family!(crate::models::ForestParams, crate::models::engine::Forest);
tree_family!(
    crate::models::BoostingParams,
    crate::models::engine::Boosted
);
