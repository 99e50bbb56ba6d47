//! Cross-validation: for each fold, fit the feature pipeline and the model on
//! the training rows only, score the held-out rows; then choose the threshold
//! on the pooled out-of-fold scores and compute metrics pooled and per fold.

use super::metrics::Metrics;
use super::threshold;
use super::threshold::ThresholdRule;
use crate::clean::Dataset;
use crate::error::Result;
use crate::features::{FeaturePipeline, TransformStats};
use crate::models::{self, Calibration, Calibrator, FamilyParams, FitOptions, ModelKind};
use crate::split::Fold;
use rayon::prelude::*;

/// The cross-validated result of one model family.
#[derive(Debug, Clone)]
pub struct CvResult {
    pub kind: ModelKind,
    /// Out-of-fold P(churn) for every row.
    pub oof: Vec<f64>,
    pub threshold: f64,
    pub oof_metrics: Metrics,
    pub fold_metrics: Vec<Metrics>,
    pub seconds: f64,
    /// Metrics on a later, held-out snapshot (out-of-time validation), of
    /// the family fitted on every cross-validated row, at `threshold`.
    pub out_of_time: Option<Metrics>,
    /// Rounds early stopping chose in each fold (gradient boosting with
    /// early stopping; else empty).
    pub rounds: Vec<usize>,
    /// With `--calibrate` (`oof`, `oof_metrics` and `fold_metrics` are then
    /// of the calibrated scores).
    pub calibration: Option<Calibrated>,
}

/// What calibration did to a family's out-of-fold scores.
#[derive(Debug, Clone)]
pub struct Calibrated {
    /// Fitted on every out-of-fold score: the one saved with the model.
    pub calibrator: Calibrator,
    /// Out-of-fold metrics before calibration.
    pub before: Metrics,
    /// Out-of-fold scores before calibration.
    pub raw_oof: Vec<f64>,
}

/// How a cross-validation fits and thresholds every family.
#[derive(Debug, Clone, Copy)]
pub struct CvSettings<'a> {
    pub fit: FitOptions,
    /// Fold k fits with seed `seed + k`.
    pub seed: u64,
    pub threshold_rule: ThresholdRule,
    pub calibrate: Calibration,
    /// What the `profit` rule weighs, for the cross-validated rows.
    pub economics: Option<threshold::Economics<'a>>,
}

/// Cross-validate the family `params` over `folds`; `on_step` ticks as work completes.
pub fn cross_validate(
    params: FamilyParams,
    cv: CvSettings,
    data: &Dataset,
    folds: &[Fold],
    on_step: &(dyn Fn() + Sync),
) -> Result<CvResult> {
    let kind = params.kind();
    let params = &params;
    let start = std::time::Instant::now();
    let fit_fold = |k: usize, fold: &Fold| -> Result<(Vec<f64>, Option<usize>)> {
        let pipe = FeaturePipeline::fit(&data.table, &fold.train, models::needs_scaling(kind));
        let mut stats = TransformStats::default();
        let x_train = pipe.transform(&data.table, &fold.train, &mut stats);
        let x_test = pipe.transform(&data.table, &fold.test, &mut stats);
        let y_train: Vec<u8> = fold.train.iter().map(|&i| data.y[i]).collect();
        let model = models::fit(
            params,
            cv.fit,
            x_train.view(),
            &y_train,
            cv.seed.wrapping_add(k as u64),
            on_step,
        )?;
        Ok((model.predict_proba(x_test.view()), model.chosen_rounds()))
    };
    // A forest already fills every core within a fit (and holds its binned
    // copy of the rows), so its folds run one after another; the other
    // families fit on one thread, so their folds run in parallel. Each fold
    // has its own seed, so the result is the same either way.
    let scores: Vec<(Vec<f64>, Option<usize>)> = if params.parallel_within(data.y.len()) {
        folds
            .iter()
            .enumerate()
            .map(|(k, f)| fit_fold(k, f))
            .collect::<Result<_>>()?
    } else {
        folds
            .par_iter()
            .enumerate()
            .map(|(k, f)| fit_fold(k, f))
            .collect::<Result<_>>()?
    };
    let mut oof = vec![0.0; data.y.len()];
    let mut rounds = Vec::new();
    for (fold, (p, r)) in folds.iter().zip(scores) {
        fold.test.iter().zip(p).for_each(|(&i, p)| oof[i] = p);
        rounds.extend(r);
    }
    let calibration = calibrate(cv, &data.y, folds, &mut oof);
    let threshold = threshold::choose_with(cv.threshold_rule, &data.y, &oof, cv.economics.as_ref());
    let oof_metrics = Metrics::compute(&data.y, &oof, threshold);
    let fold_metrics = folds
        .iter()
        .map(|f| {
            let y: Vec<u8> = f.test.iter().map(|&i| data.y[i]).collect();
            let p: Vec<f64> = f.test.iter().map(|&i| oof[i]).collect();
            Metrics::compute(&y, &p, threshold)
        })
        .collect();
    Ok(CvResult {
        kind,
        oof,
        threshold,
        oof_metrics,
        fold_metrics,
        seconds: start.elapsed().as_secs_f64(),
        out_of_time: None,
        rounds,
        calibration,
    })
}

/// With `cv.calibrate`, replace the out-of-fold scores by calibrated ones
/// and return the calibrator fitted on all of them with the metrics before.
/// The reported scores are cross-fitted: fold k's are calibrated by a
/// calibrator fitted on the other folds' scores, so no score is calibrated
/// with its own label.
fn calibrate(cv: CvSettings<'_>, y: &[u8], folds: &[Fold], oof: &mut [f64]) -> Option<Calibrated> {
    let all = Calibrator::fit(cv.calibrate, y, oof)?;
    let before_threshold = threshold::choose_with(cv.threshold_rule, y, oof, cv.economics.as_ref());
    let before = Metrics::compute(y, oof, before_threshold);
    let raw = oof.to_vec();
    for fold in folds {
        let yo: Vec<u8> = fold.train.iter().map(|&i| y[i]).collect();
        let po: Vec<f64> = fold.train.iter().map(|&i| raw[i]).collect();
        let c = Calibrator::fit(cv.calibrate, &yo, &po).unwrap_or_else(|| all.clone());
        fold.test.iter().for_each(|&i| oof[i] = c.apply(raw[i]));
    }
    Some(Calibrated {
        calibrator: all,
        before,
        raw_oof: raw,
    })
}
