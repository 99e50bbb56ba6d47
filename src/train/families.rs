//! Training's fitting: every family cross-validated (and, with
//! out-of-time validation, scored on the held-out latest snapshot), the
//! best one refitted on every row with the configuration its folds chose.

use super::{cv_settings, fit_predict, refit_config};
use crate::clean::Dataset;
use crate::config::{Config, ModelKind};
use crate::error::Result;
use crate::evaluate::cv::{cross_validate, CvResult};
use crate::evaluate::metrics::Metrics;
use crate::features::{FeaturePipeline, TransformStats};
use crate::models::{self, Calibrator, FittedModel};
use crate::progress::Progress;
use crate::split::Fold;

/// Cross-validate every configured family on `cv_data`; with a held-out
/// snapshot, each family's out-of-time figures too. Warns (does not stop)
/// when a family's out-of-fold ROC AUC looks too good to be true.
pub(super) fn cross_validate_all(
    cfg: &Config,
    cv_data: &Dataset,
    folds: &[Fold],
    held_out: &Option<(Dataset, Dataset)>,
    progress: &Progress,
) -> Result<Vec<CvResult>> {
    let mut kinds = cfg.train.models.clone();
    kinds.dedup();
    let mut results = Vec::new();
    let margins = super::economics::profit_margins(cfg, cv_data);
    let clv = super::economics::clv_of(cfg);
    for &kind in &kinds {
        let bar = progress.bar(kind.name(), cfg.train.folds * cfg.family(kind).steps());
        let mut res = cross_validate(
            cfg.family(kind),
            cv_settings(cfg, margins.as_deref(), &clv),
            cv_data,
            folds,
            &|| bar.inc(1),
        )?;
        bar.finish_and_clear();
        if let Some((early, late)) = &held_out {
            let mut p = fit_predict(cfg, kind, early, late)?;
            if let Some(c) = &res.calibration {
                c.calibrator.apply_all(&mut p);
            }
            let m = Metrics::compute(&late.y, &p, res.threshold);
            progress.stage(format!(
                "{:<20} out-of-time AUC {:.4} on the latest snapshot ({} rows)",
                kind.name(),
                m.roc_auc,
                late.y.len()
            ));
            res.out_of_time = Some(m);
        }
        progress.stage(format!(
            "{:<20} AUC {:.4}  KS {:.4}  F1 {:.4}  ({:.1} s)",
            kind.name(),
            res.oof_metrics.roc_auc,
            res.oof_metrics.ks,
            res.oof_metrics.f1,
            res.seconds
        ));
        if res.oof_metrics.roc_auc >= cfg.leakage.warn_auc {
            progress.warn(format!(
                "{}: out-of-fold ROC AUC {:.4} after the leakage screen — too good to be true? check for leakage",
                kind.name(),
                res.oof_metrics.roc_auc
            ));
        }
        results.push(res);
    }
    Ok(results)
}

/// The saved model, refitted on every row: its feature pipeline, the
/// model, the calibrator the folds fitted, and its (calibrated) scores.
pub(super) fn refit(
    cfg: &Config,
    data: &Dataset,
    (best, best_res): (ModelKind, &CvResult),
    progress: &Progress,
) -> Result<(FeaturePipeline, FittedModel, Option<Calibrator>, Vec<f64>)> {
    progress.stage(format!(
        "refitting {} on all {} rows",
        best.name(),
        data.y.len()
    ));
    let all: Vec<usize> = (0..data.y.len()).collect();
    let pipeline = FeaturePipeline::fit(&data.table, &all, models::needs_scaling(best));
    let x = pipeline.transform(&data.table, &all, &mut TransformStats::default());
    let refit_cfg = refit_config(cfg, best_res);
    let bar = progress.bar("refit", refit_cfg.family(best).steps());
    let mut model = models::fit(
        &refit_cfg.family(best),
        cfg.fit_options(),
        x.view(),
        &data.y,
        cfg.train.seed,
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    if let models::FittedModel::GradientBoosting(b) = &mut model {
        b.cv_rounds = best_res.rounds.clone();
    }
    let calibration = best_res.calibration.as_ref().map(|c| c.calibrator.clone());
    let mut scores = model.predict_proba(x.view());
    if let Some(c) = &calibration {
        c.apply_all(&mut scores);
    }
    Ok((pipeline, model, calibration, scores))
}
