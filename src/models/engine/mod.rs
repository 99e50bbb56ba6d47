//! The native tree engine: histogram decision trees and random forests.
//!
//! Why our own: linfa-trees and smartcore are over 10x slower than
//! scikit-learn here and give labels, not probabilities. The engine bins
//! features once ([`bins`]), grows CART trees on per-node histograms
//! ([`tree`]) and averages them in parallel, deterministically ([`forest`]).
//! Predictions and path contributions walk sixteen rows per vector lane
//! group where the CPU has AVX-512 ([`simd`]), with the same bits as the
//! scalar walk.
//! It also implements linfa's `Fit` / `PredictInplace`, so it can stand in
//! for linfa-trees anywhere a linfa model is expected.

pub mod bins;
pub mod forest;
pub mod simd;
pub mod tree;

use crate::error::{Error, Result};
pub use forest::{Forest, ForestSpec};
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, ArrayBase, Data, Ix2};

/// Features tried at each split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    Sqrt,
    Log2,
    All,
    Share(f64),
    Count(usize),
}

impl MaxFeatures {
    /// Parse "sqrt", "log2", "all", a share in (0, 1) or a count.
    pub fn parse(s: &str) -> Result<MaxFeatures> {
        match s {
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            "all" => Ok(MaxFeatures::All),
            _ => match (s.parse::<usize>(), s.parse::<f64>()) {
                (Ok(k), _) if k > 0 => Ok(MaxFeatures::Count(k)),
                (_, Ok(f)) if f > 0.0 && f <= 1.0 => Ok(MaxFeatures::Share(f)),
                _ => Err(Error::Config(format!("max_features '{s}': expected sqrt, log2, all, a share in (0,1] or a count"))),
            },
        }
    }

    /// How many of `p` features to try.
    pub fn count(self, p: usize) -> usize {
        let k = match self {
            MaxFeatures::Sqrt => (p as f64).sqrt() as usize,
            MaxFeatures::Log2 => (p as f64).log2() as usize,
            MaxFeatures::All => p,
            MaxFeatures::Share(f) => (f * p as f64) as usize,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, p.max(1))
    }
}

/// Parameters of a native forest, checked before fitting (linfa style).
#[derive(Debug, Clone)]
pub struct NativeForestParams {
    pub spec: ForestSpec,
    pub seed: u64,
}

impl NativeForestParams {
    /// Reject parameters that cannot produce a model.
    pub fn check(&self) -> Result<()> {
        let s = &self.spec;
        if s.n_trees == 0 || s.grow.min_samples_leaf == 0 || !(s.subsample > 0.0 && s.subsample <= 1.0) {
            return Err(Error::Config("forest needs n_trees >= 1, min_samples_leaf >= 1 and subsample in (0, 1]".into()));
        }
        if !(2..=255).contains(&s.max_bins) || s.class_weight.iter().any(|w| !(*w > 0.0)) {
            return Err(Error::Config("forest needs max_bins in 2..=255 and positive class weights".into()));
        }
        Ok(())
    }
}

impl From<linfa::Error> for Error {
    fn from(e: linfa::Error) -> Self {
        Error::Model(e.to_string())
    }
}

/// linfa `Fit`: targets are booleans (true = churned).
impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, Error> for NativeForestParams {
    type Object = Forest;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Forest> {
        self.check()?;
        let y: Vec<u8> = dataset.as_single_targets().iter().map(|&b| b as u8).collect();
        Forest::fit(&self.spec, dataset.records.view(), &y, self.seed, &|| {})
    }
}

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
