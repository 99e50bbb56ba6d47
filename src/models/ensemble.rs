//! Model fusion: `vote` (the mean of the base models' probabilities) and
//! `stack` (scikit-learn's StackingClassifier: a logistic meta-model on the
//! logits of the base models' out-of-fold probabilities).
//!
//! Stacking cross-validates its base models *inside* the rows it is given,
//! so when the training flow cross-validates a stack, each outer training
//! fold runs its own inner folds and the outer test fold is never seen by a
//! base model or the meta-model: the outer out-of-fold metrics stay honest.
//! The base models are then refitted on every given row.
//!
//! Every base model sees the same encoded columns; the ensemble's pipeline
//! standardises numbers (logistic regression needs it, and a monotone
//! rescaling leaves the trees' splits where they were).
//!
//! Reasons: a stack's contributions are in log-odds: base i's contributions
//! times the meta-model's coefficient w_i, those of a base that explains in
//! probability points first turned into log-odds by the local slope of the
//! logit, 1 / (p_i(1 − p_i)). A vote's are in probability points: the mean
//! of the bases', log-odds ones turned into probability points by p_i(1 − p_i).
//! Both are first-order: they rank inputs, they do not add up exactly.

use super::{
    fit, FamilyParams, FitOptions, FittedModel, Logistic, LogisticParams, ModelKind, Unit,
};
use crate::error::{Error, Result};
use crate::split;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// Probabilities are clipped to [EPS, 1 − EPS] before taking logits.
const EPS: f64 = 1e-6;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPS, 1.0 - EPS);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A fitted vote or stack.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// [`ModelKind::Vote`] or [`ModelKind::Stack`].
    pub kind: ModelKind,
    pub bases: Vec<FittedModel>,
    /// The meta-model's coefficient per base (stack; empty for a vote).
    pub weights: Vec<f64>,
    pub intercept: f64,
}

impl Ensemble {
    /// The model card's line on the ensemble: its bases and how they are
    /// combined.
    pub fn structure(&self) -> String {
        let names: Vec<String> = self
            .bases
            .iter()
            .enumerate()
            .map(|(i, b)| match self.weights.get(i) {
                Some(w) => format!("{} (meta coefficient {w:.3})", b.kind().name()),
                None => b.kind().name().to_string(),
            })
            .collect();
        format!(
            "{} over {}{}",
            self.kind.name(),
            names.join(", "),
            if self.kind == ModelKind::Stack {
                format!(
                    "; meta intercept {:.3}; reasons in log-odds",
                    self.intercept
                )
            } else {
                "; mean of probabilities; reasons in probability points".into()
            }
        )
    }
}

impl Ensemble {
    /// Fit `kind` over the families `bases` on `x`, `y`; a stack fits its
    /// meta-model on `inner_folds`-fold out-of-fold probabilities.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        kind: ModelKind,
        bases: &[FamilyParams],
        inner_folds: usize,
        opts: FitOptions,
        x: ArrayView2<f64>,
        y: &[u8],
        seed: u64,
        on_step: &(dyn Fn() + Sync),
    ) -> Result<Ensemble> {
        if bases.len() < 2 {
            return Err(Error::Config(format!(
                "{} needs at least two base models",
                kind.name()
            )));
        }
        let (weights, intercept) = if kind == ModelKind::Stack {
            let z = out_of_fold_logits(bases, inner_folds, opts, x, y, seed, on_step)?;
            let meta = Logistic::fit(&LogisticParams::default(), z.view(), y)?;
            (meta.coefficients, meta.intercept)
        } else {
            (Vec::new(), 0.0)
        };
        let fitted = bases
            .iter()
            .enumerate()
            .map(|(i, b)| fit(b, opts, x, y, seed.wrapping_add(i as u64), on_step))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ensemble {
            kind,
            bases: fitted,
            weights,
            intercept,
        })
    }

    /// Combine the bases' probabilities of one row.
    fn combine(&self, p: impl Iterator<Item = f64>) -> f64 {
        if self.kind == ModelKind::Stack {
            sigmoid(self.intercept + p.zip(&self.weights).map(|(p, w)| w * logit(p)).sum::<f64>())
        } else {
            let (s, k) = p.fold((0.0, 0usize), |(s, k), p| (s + p, k + 1));
            s / k.max(1) as f64
        }
    }

    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        let per_base: Vec<Vec<f64>> = self.bases.iter().map(|b| b.predict_proba(x)).collect();
        (0..x.nrows())
            .map(|r| self.combine(per_base.iter().map(|p| p[r])))
            .collect()
    }

    /// Probabilities of consecutive rows of `flat` (exactly as
    /// [`Ensemble::predict_proba`]) and contributions (see the module docs).
    pub fn explain_block(&self, flat: &[f64], p: usize, contrib: &mut [f64]) -> Vec<f64> {
        contrib.iter_mut().for_each(|c| *c = 0.0);
        let rows = flat.len() / p.max(1);
        let mut base_contrib = vec![0.0; contrib.len()];
        let mut probs = Vec::with_capacity(self.bases.len());
        for (i, b) in self.bases.iter().enumerate() {
            let pb = b.explain_block(flat, p, &mut base_contrib);
            let unit = b.contribution_unit();
            for r in 0..rows {
                let slope = (pb[r] * (1.0 - pb[r])).max(EPS);
                let scale = match (self.kind, unit) {
                    (ModelKind::Stack, Unit::LogOdds) => self.weights[i],
                    (ModelKind::Stack, Unit::Probability) => self.weights[i] / slope,
                    (_, Unit::Probability) => 1.0 / self.bases.len() as f64,
                    (_, Unit::LogOdds) => slope / self.bases.len() as f64,
                };
                let (out, src) = (
                    &mut contrib[r * p..(r + 1) * p],
                    &base_contrib[r * p..(r + 1) * p],
                );
                out.iter_mut().zip(src).for_each(|(o, c)| *o += scale * c);
            }
            probs.push(pb);
        }
        (0..rows)
            .map(|r| self.combine(probs.iter().map(|p| p[r])))
            .collect()
    }

    /// Global importance: the bases' (a stack weighs them by |w_i|).
    pub fn importances(&self) -> Vec<f64> {
        let per: Vec<Vec<f64>> = self.bases.iter().map(|b| b.importances()).collect();
        let width = per.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = vec![0.0; width];
        for (i, imp) in per.iter().enumerate() {
            let w = if self.kind == ModelKind::Stack {
                self.weights[i].abs()
            } else {
                1.0
            };
            out.iter_mut().zip(imp).for_each(|(o, v)| *o += w * v);
        }
        let total: f64 = out.iter().sum();
        if total > 0.0 {
            out.iter_mut().for_each(|v| *v /= total);
        }
        out
    }
}

/// Logits of each base's out-of-fold probabilities (rows × bases), from
/// stratified `k`-fold cross-validation within `x`.
fn out_of_fold_logits(
    bases: &[FamilyParams],
    k: usize,
    opts: FitOptions,
    x: ArrayView2<f64>,
    y: &[u8],
    seed: u64,
    on_step: &(dyn Fn() + Sync),
) -> Result<Array2<f64>> {
    let folds = split::stratified_kfold(y, k, seed ^ 0x5eed_57ac)?;
    let mut z = Array2::zeros((y.len(), bases.len()));
    for (i, base) in bases.iter().enumerate() {
        for (f, fold) in folds.iter().enumerate() {
            let xt = x.select(ndarray::Axis(0), &fold.train);
            let yt: Vec<u8> = fold.train.iter().map(|&r| y[r]).collect();
            let s = seed.wrapping_add((1 + i * k + f) as u64 * 7919);
            let m = fit(base, opts, xt.view(), &yt, s, on_step)?;
            let p = m.predict_proba(x.select(ndarray::Axis(0), &fold.test).view());
            for (&r, p) in fold.test.iter().zip(p) {
                z[[r, i]] = logit(p);
            }
        }
    }
    Ok(z)
}

/// Fusion settings (`[ensemble]`), shared by `vote` and `stack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnsembleParams {
    /// Base families; empty = every single-model family of the run's `models`.
    pub bases: Vec<ModelKind>,
    /// Folds of a stack's inner cross-validation.
    pub inner_folds: usize,
}

impl Default for EnsembleParams {
    fn default() -> Self {
        EnsembleParams {
            bases: Vec::new(),
            inner_folds: 5,
        }
    }
}

impl EnsembleParams {
    /// The base families of a run fitting `models`.
    pub fn resolve(&self, models: &[ModelKind]) -> Vec<ModelKind> {
        let mut bases: Vec<ModelKind> = if self.bases.is_empty() {
            models
                .iter()
                .copied()
                .filter(|k| !k.is_ensemble())
                .collect()
        } else {
            self.bases.clone()
        };
        bases.dedup();
        bases
    }

    /// Reject settings that cannot fuse; errors name the config `key`.
    pub fn check(&self, key: &str, models: &[ModelKind]) -> Result<()> {
        if self.inner_folds < 2 {
            return Err(Error::Config(format!(
                "{key}.inner_folds must be at least 2"
            )));
        }
        if let Some(k) = self.bases.iter().find(|k| k.is_ensemble()) {
            return Err(Error::Config(format!(
                "{key}.bases: {} cannot be a base model",
                k.name()
            )));
        }
        if models.iter().any(|k| k.is_ensemble()) && self.resolve(models).len() < 2 {
            return Err(Error::Config(format!(
                "vote and stack need at least two base models: list them in --models or {key}.bases"
            )));
        }
        Ok(())
    }
}
