//! Logistic regression through linfa-logistic (L2, L-BFGS), on standardised
//! features. linfa labels the *majority* class positive, so its
//! `predict_probabilities` is P(non-churn) on usual churn data; we store the
//! coefficients oriented so that sigmoid(x·w + b) is always P(churn).

pub mod params;

use crate::error::{Error, Result};
use crate::models::learner::{labels, Learner, ValidLearner};
use linfa::dataset::AsSingleTargets;
use linfa::prelude::*;
use linfa::ParamGuard;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, ArrayBase, ArrayView2, Data, Ix2};
pub use params::LogisticParams;
use serde::{Deserialize, Serialize};

/// L-BFGS stops when the gradient's norm is below this times the number of
/// rows. linfa's loss is a sum over rows, so its fixed default (1e-4) asks
/// for ever more precision as data grows (all `max_iterations` on a million
/// rows: docs/benchmarks.md, "Design measurements"); per row it matches
/// scikit-learn's `tol` on its mean loss.
const GRADIENT_TOLERANCE_PER_ROW: f64 = 1e-4;

/// A fitted logistic model on the pipeline's standardised columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub coefficients: Vec<f64>,
    pub intercept: f64,
}

impl Logistic {
    /// The model card's line on the fitted model.
    pub fn structure(&self) -> String {
        format!(
            "{} coefficients on standardised inputs; reasons in log-odds",
            self.coefficients.len()
        )
    }

    /// Fit on standardised `x` and 0/1 labels (1 = churn).
    pub fn fit(params: &LogisticParams, x: ArrayView2<f64>, y: &[u8]) -> Result<Logistic> {
        let targets: Array1<bool> = y.iter().map(|&v| v == 1).collect();
        let data = DatasetBase::new(x, targets);
        let fitted = LogisticRegression::default()
            .alpha(params.alpha)
            .max_iterations(params.max_iterations)
            .gradient_tolerance(GRADIENT_TOLERANCE_PER_ROW * y.len().max(1) as f64)
            .fit(&data)
            .map_err(|e| Error::Model(format!("logistic regression: {e}")))?;
        // Orient so that the positive side is churn (see module docs).
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok(Logistic {
            coefficients: fitted.params().iter().map(|w| sign * w).collect(),
            intercept: sign * fitted.intercept(),
        })
    }

    /// P(churn) for every row.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| sigmoid(self.margin(r.as_slice().unwrap_or(&r.to_vec()))))
            .collect()
    }

    fn margin(&self, x: &[f64]) -> f64 {
        self.intercept
            + x.iter()
                .zip(&self.coefficients)
                .map(|(a, b)| a * b)
                .sum::<f64>()
    }

    /// P(churn) of one row, and per-feature contributions to the log-odds
    /// (coefficient × standardised value) written into `contrib`.
    pub fn explain_row(&self, x: &[f64], contrib: &mut [f64]) -> f64 {
        for ((c, a), b) in contrib.iter_mut().zip(x).zip(&self.coefficients) {
            *c = a * b;
        }
        sigmoid(self.margin(x))
    }
}

impl<'a> ParamGuard for Learner<'a, LogisticParams> {
    type Checked = ValidLearner<'a, LogisticParams>;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked> {
        let v = self.unchecked();
        v.params.check(v.key)?;
        Ok(v)
    }

    fn check(self) -> Result<Self::Checked> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// linfa `Fit`: targets are booleans (true = churned); class weights do not
/// apply (linfa-logistic has none).
impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, Error>
    for ValidLearner<'_, LogisticParams>
{
    type Object = Logistic;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Logistic> {
        let m = Logistic::fit(self.params, dataset.records.view(), &labels(dataset))?;
        (self.on_step)();
        Ok(m)
    }
}

/// linfa `PredictInplace`: fills churn probabilities.
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Logistic {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        y.iter_mut()
            .zip(self.predict_proba(x.view()))
            .for_each(|(o, v)| *o = v);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Higher probability must mean churn, whichever class is the majority
    /// (linfa's own `predict_probabilities` flips with the class balance).
    #[test]
    fn probability_points_to_churn() {
        for churn_share in [0.2, 0.8] {
            let n = 400;
            let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64 / n as f64 - 0.5);
            // churn where x is high, with churn_share of rows churning
            let y: Vec<u8> = (0..n)
                .map(|i| (i as f64 >= n as f64 * (1.0 - churn_share)) as u8)
                .collect();
            let m = Logistic::fit(&LogisticParams::default(), x.view(), &y).unwrap();
            let p = m.predict_proba(x.view());
            assert!(
                m.coefficients[0] > 0.0,
                "share {churn_share}: {:?}",
                m.coefficients
            );
            assert!(p[n - 1] > 0.5 && p[0] < 0.5, "share {churn_share}");
            let auc = crate::stats::roc_auc(&y, &p);
            assert!(auc > 0.99, "share {churn_share}: auc {auc}");
        }
    }
}
