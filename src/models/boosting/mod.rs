//! The gradient boosting family: its validated hyperparameters ([`params`])
//! fitted by the native engine ([`crate::models::engine::boost`]) through
//! linfa's `ParamGuard` + `Fit`.

pub mod params;

use crate::error::{Error, Result};
use crate::models::engine::Boosted;
use crate::models::learner::{labels, Learner, ValidLearner};
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::Fit;
use linfa::ParamGuard;
use ndarray::{ArrayBase, Data, Ix2};
use params::BoostingParams;

impl<'a> ParamGuard for Learner<'a, BoostingParams> {
    type Checked = ValidLearner<'a, BoostingParams>;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked> {
        let v = self.unchecked();
        v.params.check(v.key)?;
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
impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, Error>
    for ValidLearner<'_, BoostingParams>
{
    type Object = Boosted;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Boosted> {
        Boosted::fit(
            self.params,
            self.class_weight,
            dataset.records.view(),
            &labels(dataset),
            self.seed,
            self.on_step,
        )
    }
}
