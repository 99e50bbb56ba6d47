//! churn's tree engine: histogram decision trees, random forests and
//! leaf-wise gradient boosting, in a crate of its own.
//!
//! Why our own: linfa-trees and smartcore are over 10x slower than
//! scikit-learn here and give labels, not probabilities. Why a crate of its
//! own: it needs nothing of the application (no polars, no files, no
//! configuration: a matrix and labels in, a model out), its SIMD `unsafe`
//! code stays behind one boundary, and the compiler enforces both.
//!
//! Split by concern, as LightGBM's source is (io / treelearner / boosting /
//! application):
//! - [`binning`]: features binned once into quantile bins (and shared
//!   between models over the same inputs);
//! - [`growing`]: trees grown on per-node histograms — depth-wise CART for
//!   forests and single trees, leaf-wise for boosting — over one split scan;
//! - [`ensembles`]: the random forest (parallel, deterministic averaging)
//!   and gradient boosting built from those trees;
//! - [`walks`]: prediction and path contributions — the scalar, level and
//!   across-trees walks, the AVX-512 / AVX2 lane walks and the false-node
//!   scorer, all with the same bits as the scalar walk;
//! - [`tree`]: the node layout every part shares; [`params`]: the validated
//!   hyperparameters; [`stats`]: ranking statistics (a forest's out-of-bag
//!   ROC AUC; the application's evaluation re-exports them).
//!
//! Its forests implement linfa's `PredictInplace`; the application fits
//! them through linfa's `Fit`, so one can stand in for linfa-trees
//! anywhere a linfa model is expected.

// `!(x >= 0.0)` is how a check also refuses NaN (as in the application).
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod binning;
pub mod ensembles;
pub mod error;
pub mod growing;
pub mod params;
pub mod stats;
pub mod tree;
pub mod walks;

pub use ensembles::boost::{self, Boosted};
pub use ensembles::forest::{self, Forest};
pub use error::{Error, Result};
use linfa::traits::PredictInplace;
use ndarray::{Array1, ArrayBase, Data, Ix2};
pub use walks::simd;

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
