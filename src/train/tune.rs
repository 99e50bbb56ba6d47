//! `churn-train tune`: seeded random search over one documented space per
//! family, each trial scored by the same stratified cross-validation as a
//! training run (same folds for every trial, so trials compare like for
//! like). Stops at the trial count or the time budget, whichever comes first.
//!
//! Spaces (log = log-uniform; integers rounded):
//! - gradient_boosting: num_leaves 8–128 (log), learning_rate 0.02–0.3 (log),
//!   n_rounds 50–500 (log), min_data_in_leaf 5–200 (log), lambda_l2 0 (30%)
//!   or 0.001–10 (log), feature_fraction 0.5–1, bagging_fraction 0.5–1
//!   (bagging every round when below 1).
//! - random_forest: n_trees 100–400, max_features share 0.1–0.7,
//!   min_samples_leaf 1–50 (log), max_depth unlimited (50%) or 6–20.
//! - decision_tree: max_depth 2–16, min_samples_leaf 1–200 (log), criterion
//!   gini or entropy.
//! - logistic_regression: alpha 0.001–100 (log).
//!
//! Writes `tune-<time>/tune.csv` (one row per trial: family, trial, the
//! drawn parameters, mean and standard deviation of the selection metric
//! over the folds, fit seconds) and `best.toml` (the best trial's sections
//! of each family, which `--config` accepts) under the run folder root.

use super::{cv_settings, prepare};
use crate::config::{Config, Criterion, ModelKind};
use crate::error::{Error, Result};
use crate::evaluate::cv::cross_validate;
use crate::evaluate::metrics::{mean_std, Metrics};
use crate::models::MaxFeatures;
use crate::progress::Progress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// One trial's result.
#[derive(Debug, Clone)]
pub struct Trial {
    pub family: ModelKind,
    pub trial: usize,
    /// The drawn parameters as `key=value`.
    pub params: Vec<(String, String)>,
    pub mean: f64,
    pub std: f64,
    pub seconds: f64,
}

/// Log-uniform draw in [lo, hi].
fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..=hi.ln())).exp()
}

/// Draw one point of `kind`'s space into a copy of `base`; returns the
/// copy and the drawn values.
fn draw(kind: ModelKind, rng: &mut ChaCha8Rng, base: &Config) -> (Config, Vec<(String, String)>) {
    let mut c = base.clone();
    let mut drawn = Vec::new();
    let mut note = |k: &str, v: String| drawn.push((k.to_string(), v));
    match kind {
        ModelKind::GradientBoosting => {
            let g = &mut c.gradient_boosting;
            g.num_leaves = log_uniform(rng, 8.0, 128.0).round() as usize;
            g.learning_rate = log_uniform(rng, 0.02, 0.3);
            g.n_rounds = log_uniform(rng, 50.0, 500.0).round() as usize;
            g.min_data_in_leaf = log_uniform(rng, 5.0, 200.0).round() as usize;
            g.lambda_l2 = if rng.random_bool(0.3) {
                0.0
            } else {
                log_uniform(rng, 1e-3, 10.0)
            };
            g.feature_fraction = rng.random_range(0.5..=1.0);
            g.bagging_fraction = rng.random_range(0.5..=1.0);
            g.bagging_freq = usize::from(g.bagging_fraction < 1.0);
            note("num_leaves", g.num_leaves.to_string());
            note("learning_rate", format!("{:.4}", g.learning_rate));
            note("n_rounds", g.n_rounds.to_string());
            note("min_data_in_leaf", g.min_data_in_leaf.to_string());
            note("lambda_l2", format!("{:.4}", g.lambda_l2));
            note("feature_fraction", format!("{:.3}", g.feature_fraction));
            note("bagging_fraction", format!("{:.3}", g.bagging_fraction));
        }
        ModelKind::RandomForest => {
            let f = &mut c.random_forest;
            f.n_trees = rng.random_range(100..=400);
            f.max_features = MaxFeatures::Share(rng.random_range(0.1..=0.7));
            f.tree.min_samples_leaf = log_uniform(rng, 1.0, 50.0).round() as usize;
            f.tree.max_depth = if rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(6..=20)
            };
            note("n_trees", f.n_trees.to_string());
            note("max_features", f.max_features.to_string());
            note("min_samples_leaf", f.tree.min_samples_leaf.to_string());
            note("max_depth", f.tree.max_depth.to_string());
        }
        ModelKind::DecisionTree => {
            let t = &mut c.decision_tree;
            t.max_depth = rng.random_range(2..=16);
            t.min_samples_leaf = log_uniform(rng, 1.0, 200.0).round() as usize;
            t.criterion = if rng.random_bool(0.5) {
                Criterion::Gini
            } else {
                Criterion::Entropy
            };
            note("max_depth", t.max_depth.to_string());
            note("min_samples_leaf", t.min_samples_leaf.to_string());
            note("criterion", format!("{:?}", t.criterion).to_lowercase());
        }
        ModelKind::LogisticRegression => {
            c.logistic_regression.alpha = log_uniform(rng, 1e-3, 100.0);
            note("alpha", format!("{:.5}", c.logistic_regression.alpha));
        }
        ModelKind::Vote | ModelKind::Stack => {}
    }
    (c, drawn)
}

/// Run the search; returns the folder holding tune.csv and best.toml.
pub fn run(cfg: &Config, trials: usize, budget_seconds: Option<f64>) -> Result<PathBuf> {
    if let Some(k) = cfg.train.models.iter().find(|k| k.is_ensemble()) {
        return Err(Error::Config(format!(
            "tune searches single-model families; {} has no space of its own",
            k.name()
        )));
    }
    let start = Instant::now();
    let progress = Progress::new(cfg.train.quiet);
    let (data, cv_rows, folds) = prepare(cfg, &progress)?;
    let cv_data = cv_rows.as_ref().map_or(&data, |(early, _)| early);
    let metric = cfg.train.select_metric.as_str();
    let higher = Metrics::higher_is_better(metric)
        .ok_or_else(|| Error::Config(format!("unknown select_metric '{metric}'")))?;
    let mut all: Vec<Trial> = Vec::new();
    let mut best = toml::Table::new();
    let margins = super::economics::profit_margins(cfg, cv_data);
    let clv = super::economics::clv_of(cfg);
    for &kind in &cfg.train.models {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.train.seed);
        rng.set_stream(kind as u64 + 1);
        let bar = progress.bar(&format!("tune {}", kind.name()), trials);
        let mut best_trial: Option<(f64, Config)> = None;
        for trial in 0..trials {
            if budget_seconds.is_some_and(|b| start.elapsed().as_secs_f64() >= b) {
                progress.stage(format!(
                    "time budget reached after {trial} {} trials",
                    kind.name()
                ));
                break;
            }
            let (c, params) = draw(kind, &mut rng, cfg);
            let cv = cv_settings(&c, margins.as_deref(), &clv);
            let res = cross_validate(c.family(kind), cv, cv_data, &folds, &|| {})?;
            let per_fold: Vec<f64> = res
                .fold_metrics
                .iter()
                .map(|m| m.get(metric).unwrap_or(f64::NAN))
                .collect();
            let (mean, std) = mean_std(&per_fold);
            let key = if higher { mean } else { -mean };
            if best_trial.as_ref().is_none_or(|(b, _)| key > *b) {
                best_trial = Some((key, c));
            }
            all.push(Trial {
                family: kind,
                trial,
                params,
                mean,
                std,
                seconds: res.seconds,
            });
            bar.inc(1);
        }
        bar.finish_and_clear();
        if let Some((_, c)) = best_trial {
            best.insert(kind.name().into(), section(&c, kind)?);
        }
    }
    let stamp = crate::artifact::format_time(crate::artifact::now_epoch()).1;
    let id = crate::io::unique_name(&format!("tune-{stamp}"), |id| {
        cfg.train.out.join(id).exists()
    });
    let dir = cfg.train.out.join(id);
    crate::io::private_dirs(&dir).map_err(|e| Error::io(&dir, e))?;
    crate::io::write_atomic(&dir.join("tune.csv"), csv(&all, metric).as_bytes())?;
    let toml_text = format!(
        "# churn-train tune: the best trial per family by {metric} ({} folds, seed {})\n{}",
        cfg.train.folds,
        cfg.train.seed,
        toml::to_string(&best).map_err(|e| Error::Internal(format!("best.toml: {e}")))?
    );
    crate::io::write_atomic(&dir.join("best.toml"), toml_text.as_bytes())?;
    progress.stage(format!("tune: {}", dir.display()));
    Ok(dir)
}

/// A family's configuration section of `c` as TOML.
fn section(c: &Config, kind: ModelKind) -> Result<toml::Value> {
    let v = match kind {
        ModelKind::GradientBoosting => toml::Value::try_from(&c.gradient_boosting),
        ModelKind::RandomForest => toml::Value::try_from(&c.random_forest),
        ModelKind::DecisionTree => toml::Value::try_from(c.decision_tree),
        _ => toml::Value::try_from(&c.logistic_regression),
    };
    v.map_err(|e| Error::Internal(format!("best.toml: {e}")))
}

/// tune.csv: one row per trial, parameters as `key=value` joined by `;`.
fn csv(trials: &[Trial], metric: &str) -> String {
    let mut out = format!("family,trial,params,{metric}_mean,{metric}_std,fit_seconds\n");
    for t in trials {
        let params: Vec<String> = t.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "{},{},{},{:.6},{:.6},{:.3}",
            t.family.name(),
            t.trial,
            crate::io::csv_field(&params.join(";")),
            t.mean,
            t.std,
            t.seconds
        );
    }
    out
}
