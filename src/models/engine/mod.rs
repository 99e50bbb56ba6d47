//! The native tree engine: histogram decision trees, random forests and
//! gradient boosting ([`boost`]).
//!
//! Why our own: linfa-trees and smartcore are over 10x slower than
//! scikit-learn here and give labels, not probabilities. The engine bins
//! features once ([`bins`]), grows CART trees on per-node histograms
//! ([`tree`]) and averages them in parallel, deterministically ([`forest`]).
//! Predictions and path contributions walk sixteen rows per vector lane
//! group where the CPU has AVX-512 ([`simd`]), with the same bits as the
//! scalar walk; a lone row walks several trees at once ([`across`]);
//! models over the same inputs can bin a table once ([`shared`]).
//! Its forests implement linfa's `PredictInplace`, and are fitted through
//! linfa's `Fit` by [`crate::models::forest`], so one can stand in for
//! linfa-trees anywhere a linfa model is expected. The engine takes the
//! validated [`ForestParams`](crate::models::ForestParams) and
//! [`TreeParams`](crate::models::TreeParams) as they are.

mod across;
pub mod bins;
pub mod boost;
pub mod forest;
mod leafwise;
pub mod levels;
pub mod quick;
pub mod shared;
pub mod simd;
pub mod tree;

pub use boost::Boosted;
pub use forest::Forest;
use linfa::traits::PredictInplace;
use ndarray::{Array1, ArrayBase, Data, Ix2};

/// linfa `PredictInplace`: fills churn probabilities.
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Forest {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        let p = self.predict_proba(x.view());
        y.iter_mut().zip(p).for_each(|(o, v)| *o = v);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}
