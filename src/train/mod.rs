//! The training flow: ingest → clean → split → (features → model) per fold →
//! evaluate → refit the best on all rows → artifact → run report.
//!
//! Nothing is written until every model has been fitted and evaluated, so a
//! failed run leaves no half-made model or run folder behind.

pub mod campaign;
mod economics;
mod families;
pub mod features;
pub mod offers;
pub mod reassess;
pub mod roles;
pub mod thresholds;
pub mod tune;
pub mod uplift;

use crate::artifact::{self, Artifact};
use crate::clean::Dataset;
use crate::config::{Config, ModelKind};
use crate::error::{Error, Result};
use crate::evaluate::cv::{CvResult, CvSettings};
use crate::evaluate::metrics::Metrics;
use crate::features::{FeaturePipeline, TransformStats};
use crate::logs::{self, Validation};
use crate::progress::{Phases, Progress};
use crate::reference::roles::Roles;
use crate::reference::{ReferenceParams, ScoringReference};
use crate::report::{self, MetricsFile};
use crate::{clean, ingest, models, split};
use std::path::PathBuf;

/// What a training run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    pub run_dir: PathBuf,
    pub model_path: PathBuf,
    pub best: ModelKind,
    pub results: Vec<CvResult>,
}

/// The training table: the flat file, or the snapshot table built from raw
/// logs (with how it was built, for the artifact and the data report).
fn read_input(
    cfg: &Config,
    progress: &Progress,
) -> Result<(ingest::RawTable, PathBuf, Option<logs::Built>)> {
    if cfg.logs.is_set() {
        let built = logs::training_table(&cfg.logs, &|m| progress.stage(m))?;
        if let Some(line) = logs::short_history_line(&built.report.snapshots) {
            progress.warn(line);
        }
        let source = cfg.logs.transactions.clone().unwrap_or_default();
        return Ok((built.table.clone(), source, Some(built)));
    }
    let path = cfg.data_path();
    progress.stage(format!("reading {}", path.display()));
    Ok((read_training_table(cfg, &path)?, path, None))
}

/// The flat training table at `path`, its columns whose text cleaning never
/// needs read as numbers ([`clean::typed_columns`]) — none with a
/// `[ingest] date_format`, whose dates (`930101`) a number parser would
/// take for numbers.
fn read_training_table(cfg: &Config, path: &std::path::Path) -> Result<ingest::RawTable> {
    ingest::read_table_typed(path, cfg.data.delimiter, &|names| {
        if cfg.ingest.date_format.is_some() {
            return Vec::new();
        }
        clean::typed_columns(names, &cfg.data, &cfg.fairness)
    })
}

/// With `--validation out-of-time`, the rows of the earlier snapshots or
/// periods (to cross-validate) and of the latest one (held out); else `None`.
fn out_of_time_split(cfg: &Config, data: &Dataset) -> Result<Option<(Dataset, Dataset)>> {
    if cfg.logs.validation != Validation::OutOfTime {
        return Ok(None);
    }
    let period = data.period.as_ref().ok_or_else(|| {
        Error::Config(
            "out-of-time validation needs snapshots: log as-of dates, or a period column (--period)"
                .into(),
        )
    })?;
    // The latest period is the greatest as text: ISO dates and YYYY-MM
    // (the as-of dates of a log run) sort in time order.
    let latest = period.iter().max().cloned().unwrap_or_default();
    let (late, early): (Vec<usize>, Vec<usize>) =
        (0..period.len()).partition(|&i| period[i] == latest);
    if early.is_empty() {
        return Err(Error::Config(
            "out-of-time validation needs at least two as-of dates (--as-of D1 --as-of D2 or --snapshots)".into(),
        ));
    }
    Ok(Some((data.subset(&early), data.subset(&late))))
}

/// The cleaned training rows, the out-of-time split (cross-validated
/// earlier rows, held-out latest rows) when asked for, and the folds.
type Prepared = (Dataset, Option<(Dataset, Dataset)>, Vec<split::Fold>);

/// Read, clean and fold the training data as a run does.
fn prepare(cfg: &Config, progress: &Progress) -> Result<Prepared> {
    let (data, _, _) = read_clean(cfg, progress, &mut Phases::default())?;
    let held_out = out_of_time_split(cfg, &data)?;
    let cv_data = held_out.as_ref().map_or(&data, |(early, _)| early);
    let folds = split::kfold(&cv_data.y, &cv_data.ids, cfg.train.folds, cfg.train.seed)?;
    Ok((data, held_out, folds))
}

/// The cleaned training table, the file it came from and, from logs, how
/// it was built.
fn read_clean(
    cfg: &Config,
    progress: &Progress,
    phases: &mut Phases,
) -> Result<(Dataset, PathBuf, Option<logs::Built>)> {
    let (mut raw, path, built) = read_input(cfg, progress)?;
    phases.mark("read");
    let (formats, future) = match built {
        None => read_formats(cfg, &mut raw, progress),
        Some(_) => Default::default(),
    };
    let mut data = clean::clean(raw, &cfg.data, &cfg.fairness)?;
    phases.mark("clean");
    data.report.logs = built.as_ref().map(|b| b.report.clone());
    let r = &mut data.report;
    r.number_formats = formats.numbers.clone();
    r.date_formats = formats.dates.clone();
    r.reference_date = formats.reference.clone();
    r.reference_rule = formats.reference_rule.clone();
    r.future_dated_cells = future;
    data.formats = formats;
    screen_leakage(cfg, &mut data, built.as_ref(), progress)?;
    phases.mark("leakage");
    roles::decide(cfg, &mut data, progress)?;
    let r = &data.report;
    progress.stage(format!(
        "{} rows ({} duplicates removed), churn rate {:.1}%, {} numeric + {} categorical features, {} columns excluded",
        r.rows_used,
        r.duplicates_removed,
        100.0 * r.positive_rate,
        r.numeric_features.len(),
        r.categorical_features.len(),
        r.excluded_columns.len()
    ));
    Ok((data, path, built))
}

/// How the training table writes its numbers ([`ingest::formats`]),
/// applied to it: every column but the target and the configured
/// categories is weighed. Each format found is said in one line.
fn read_formats(
    cfg: &Config,
    raw: &mut ingest::RawTable,
    progress: &Progress,
) -> (
    ingest::formats::Formats,
    std::collections::BTreeMap<String, usize>,
) {
    let d = &cfg.data;
    let period = |n: &str| {
        d.period
            .as_deref()
            .map_or_else(|| clean::is_period_name(n), |p| p == n)
    };
    let candidate = |n: &str| {
        n != d.target
            && !d.categorical.iter().any(|c| c == n)
            && !period(n)
            && !clean::is_name_like(n)
    };
    let (mut formats, partly) = ingest::formats::Formats::detect(raw, &candidate, &cfg.ingest);
    for (name, pattern) in &formats.dates {
        progress.stage(format!(
            "{name}: dates ({pattern}), the feature {name}_days"
        ));
    }
    let period_col = d
        .period
        .clone()
        .or_else(|| raw.names.iter().find(|n| clean::is_period_name(n)).cloned());
    let as_of = cfg.logs.as_of.first().map(String::as_str);
    if let Some(line) = formats.set_reference(raw, period_col.as_deref(), as_of) {
        progress.stage(line);
    }
    for (name, f) in &formats.numbers {
        progress.stage(format!("{name}: numbers read with {}", f.describe()));
    }
    for p in &partly {
        progress.warn(format!(
            "{}: read as categories",
            ingest::formats::partly_line(p)
        ));
    }
    let future = formats.apply(raw);
    for (name, n) in &future {
        progress.warn(format!("{name}: {n} date(s) after the reference date"));
    }
    (formats, future)
}

/// The target leakage screen ([`clean::leakage`]) on the cleaned rows:
/// each suspect left out with one warning line (those `--allow-leaky`
/// keeps, warned about as kept). From logs only the customer table's own
/// columns are judged: the rest are built point in time.
fn screen_leakage(
    cfg: &Config,
    data: &mut Dataset,
    built: Option<&logs::Built>,
    progress: &Progress,
) -> Result<()> {
    let screened = |n: &str| built.is_none_or(|b| b.customer_columns.iter().any(|c| c == n));
    let screen = data.drop_leaks(&cfg.leakage, &screened);
    for s in &screen.suspects {
        progress.warn(format!(
            "{}: {} — left out as a target leakage suspect (--allow-leaky {} keeps it)",
            s.column, s.reason, s.column
        ));
    }
    for s in &screen.allowed {
        progress.warn(format!(
            "{}: {} — kept as a feature on purpose (--allow-leaky)",
            s.column, s.reason
        ));
    }
    if data.table.names.is_empty() {
        return Err(Error::data(
            &data.report.file,
            "no usable feature column left after the target leakage screen (see --allow-leaky)",
        ));
    }
    Ok(())
}

/// Run a whole training job.
pub fn run(cfg: &Config) -> Result<TrainOutcome> {
    let progress = Progress::new(cfg.train.quiet);
    // A bad key fails before any work.
    let sign_key = cfg
        .train
        .sign_key
        .as_deref()
        .map(crate::signing::read_key)
        .transpose()?;
    let mut phases = Phases::default();
    let (data, path, built) = read_clean(cfg, &progress, &mut phases)?;
    let held_out = out_of_time_split(cfg, &data)?;
    let cv_data = held_out.as_ref().map_or(&data, |(early, _)| early);
    let folds = split::kfold(&cv_data.y, &cv_data.ids, cfg.train.folds, cfg.train.seed)?;
    let results = families::cross_validate_all(cfg, cv_data, &folds, &held_out, &progress)?;
    phases.mark("cross_validation");
    let best = select(&results, &cfg.train.select_metric)?;
    let best_res = results
        .iter()
        .find(|r| r.kind == best)
        .ok_or_else(|| Error::Model("no model result".into()))?;
    let (pipeline, model, calibration, scores) =
        families::refit(cfg, &data, (best, best_res), &progress)?;
    phases.mark("refit");
    let (mut scoring, fingerprint, proxies) =
        reference(cfg, (&data, cv_data), &path, &scores, best_res.threshold)?;
    let groups = thresholds::fit(
        cfg,
        (&data, cv_data),
        &scoring,
        (&best_res.oof, &scores, best_res.threshold),
        &progress,
    )?;
    let (group_thresholds, group_report) = match groups {
        Some(f) => (Some(f.thresholds), Some(f.report)),
        None => (None, None),
    };
    scoring.thresholds = group_thresholds;
    let (created_at, stamp) = artifact::format_time(artifact::now_epoch());
    let run_id = crate::io::unique_name(&stamp, |id| {
        cfg.train.out.join(id).exists()
            || cfg
                .train
                .model_dir
                .join(format!("{id}.{}", artifact::EXTENSION))
                .exists()
    });
    let mut art = Artifact {
        format: artifact::FORMAT.into(),
        format_version: artifact::FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").into(),
        created_at,
        run_id: run_id.clone(),
        seed: cfg.train.seed,
        model_name: best.name().into(),
        target: cfg.data.target.clone(),
        positive_label: data.report.positive_label.clone(),
        negative_label: data.report.negative_label.clone(),
        id_column: data.report.id_column.clone(),
        threshold: best_res.threshold,
        threshold_rule: cfg.train.threshold_rule.to_string(),
        schema: Artifact::schema_of(&pipeline),
        cv_metrics: results
            .iter()
            .map(|r| (r.kind.name().to_string(), r.oof_metrics.clone()))
            .collect(),
        data: fingerprint,
        config: cfg.clone(),
        pipeline,
        model,
        calibration,
        scoring,
        fairness: data.attributes.iter().map(|a| a.spec.clone()).collect(),
        logs: built.map(|b| b.features),
        formats: data.formats.clone(),
        signature: String::new(),
        checksum: String::new(),
    };
    let model_path = cfg
        .train
        .model_dir
        .join(format!("{run_id}.{}", artifact::EXTENSION));
    if let Some(key) = &sign_key {
        art.sign(key, &model_path)?;
    }
    art.checksum = art.compute_checksum(&model_path)?;

    phases.mark("reference");
    // Reports are of the cross-validated rows (all of them, or the earlier
    // snapshots under out-of-time validation, whose figures are beside).
    let mut metrics = MetricsFile::new(&results, &art, cv_data, cfg, &proxies);
    if let Some(r) = group_report {
        metrics.thresholds = r.groups.clone();
        metrics.threshold_by = Some(r);
    }
    let run_dir = publish(
        cfg,
        &art,
        (cv_data, &folds, &results, &metrics),
        &mut phases,
    )?;
    progress.stage(format!("phases: {}", phases.summary()));
    progress.stage(format!("model: {}", model_path.display()));
    progress.stage(format!("run:   {}", run_dir.display()));
    Ok(TrainOutcome {
        run_dir,
        model_path,
        best,
        results,
    })
}

/// Each protected attribute's proxies among the features.
type Proxies = std::collections::BTreeMap<String, Vec<crate::fairness::proxy::Proxy>>;

/// What training fits for scoring (the scoring reference, from every row's
/// scores), the data file's fingerprint (read on a core the reference
/// leaves idle) and the fairness proxies (of the cross-validated rows).
fn reference(
    cfg: &Config,
    (data, cv_data): (&Dataset, &Dataset),
    path: &std::path::Path,
    scores: &[f64],
    threshold: f64,
) -> Result<(ScoringReference, artifact::Fingerprint, Proxies)> {
    let roles = data.report.roles.clone().unwrap_or_default();
    // The data file's checksum is read on a core the reference leaves idle.
    let (scoring, fingerprint, proxies) = std::thread::scope(|s| {
        let fingerprint = s
            .spawn(|| artifact::fingerprint(path, data.report.rows_read, data.report.columns_read));
        // The numeric columns' deciles serve the drift reference and, on
        // the same rows, the fairness proxies.
        let deciles = crate::features::deciles(&data.table);
        let cv_deciles =
            (!std::ptr::eq(data, cv_data)).then(|| crate::features::deciles(&cv_data.table));
        let cv_deciles = cv_deciles.as_ref().unwrap_or(&deciles);
        // So are the fairness proxies (they depend on the data alone).
        let (scoring, proxies) = rayon::join(
            || {
                ScoringReference::build(
                    reference_params(cfg, &roles),
                    &data.table,
                    &data.y,
                    scores,
                    threshold,
                    &deciles,
                )
            },
            || crate::fairness::proxies(&cv_data.attributes, &cv_data.table, cv_deciles),
        );
        let fingerprint = fingerprint
            .join()
            .unwrap_or_else(|_| Err(Error::Model("the data checksum failed".into())));
        (scoring, fingerprint, proxies)
    });

    Ok((scoring?, fingerprint?, proxies))
}

/// Write the run folder and save the model. Crash safety: the run folder
/// is written under a hidden name and renamed into place after the model
/// is saved, so a killed run leaves no half-written run folder that
/// `compare` would list, and `latest` always points to a complete artifact
/// (the old one or the new one). Returns the run folder.
fn publish(
    cfg: &Config,
    art: &Artifact,
    (cv_data, folds, results, metrics): (&Dataset, &[split::Fold], &[CvResult], &MetricsFile),
    phases: &mut Phases,
) -> Result<PathBuf> {
    let run_id = &art.run_id;
    let file_name = format!("{run_id}.{}", artifact::EXTENSION);
    let model_path = cfg.train.model_dir.join(&file_name);
    // The model folder is shared (artifacts hold no customer rows); the run
    // folder, which does, is private (see `io::private_dirs`).
    std::fs::create_dir_all(&cfg.train.model_dir)
        .map_err(|e| Error::io(&cfg.train.model_dir, e))?;
    let run_dir = cfg.train.out.join(run_id);
    let staging = cfg.train.out.join(format!(".{run_id}.partial"));
    let published = report::write_run(&staging, cv_data, folds, results, art, metrics)
        .and_then(|()| {
            phases.mark("reports");
            art.save(&model_path)
        })
        .and_then(|()| {
            phases.mark("save");
            report::write_run_info(&staging, art, &phases.marks)
        })
        .and_then(|()| std::fs::rename(&staging, &run_dir).map_err(|e| Error::io(&run_dir, e)));
    if let Err(e) = published {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    crate::io::replace_symlink(&cfg.train.model_dir.join("latest"), &file_name)?;
    Ok(run_dir)
}

/// One model's hold-out result (one JSON line of `churn-train holdout`).
#[derive(Debug, serde::Serialize)]
pub struct HoldoutResult {
    pub model: String,
    pub engine: crate::config::Engine,
    pub rows_train: usize,
    pub rows_test: usize,
    pub features: usize,
    pub fit_seconds: f64,
    pub predict_rows_per_s: f64,
    pub metrics: Metrics,
}

/// Timed prediction calls per model in `holdout` (the median is reported).
const PREDICT_REPEATS: usize = 5;

/// Fit every configured model on the training data and evaluate it on `test`.
/// Threshold metrics use `fixed:T` when that is the rule, else 0.5: a rule
/// tuned on the test scores themselves would flatter the result.
pub fn holdout(cfg: &Config, test: &std::path::Path) -> Result<Vec<HoldoutResult>> {
    if cfg.logs.is_set() {
        return Err(Error::Config(
            "holdout takes flat tables; from logs use --validation out-of-time".into(),
        ));
    }
    let train_raw = read_training_table(cfg, &cfg.data_path())?;
    let mut train_raw = train_raw;
    let (formats, _) = read_formats(cfg, &mut train_raw, &Progress::new(true));
    let mut train = clean::clean(train_raw, &cfg.data, &cfg.fairness)?;
    screen_leakage(cfg, &mut train, None, &Progress::new(cfg.train.quiet))?;
    let mut test_raw = ingest::read_table(test, cfg.data.delimiter)?;
    formats.apply(&mut test_raw);
    let test = clean::conform(&test_raw, &train)?;
    let threshold = match cfg.train.threshold_rule {
        crate::config::ThresholdRule::Fixed(t) => t,
        _ => 0.5,
    };
    let mut out = Vec::new();
    for &kind in &cfg.train.models {
        let start = std::time::Instant::now();
        let (pipeline, model) = fit_all(cfg, kind, &train)?;
        let fit_seconds = start.elapsed().as_secs_f64();
        // Prediction (with its preprocessing) is timed as the median of a
        // few calls: one call on a small table lasts milliseconds, and a
        // single scheduling hiccup would halve the rate.
        let mut times = Vec::with_capacity(PREDICT_REPEATS);
        let mut p = Vec::new();
        for _ in 0..PREDICT_REPEATS {
            let start = std::time::Instant::now();
            p = predict(&pipeline, &model, &test);
            times.push(start.elapsed().as_secs_f64().max(1e-9));
        }
        times.sort_by(f64::total_cmp);
        let secs = times[PREDICT_REPEATS / 2];
        out.push(HoldoutResult {
            model: kind.name().into(),
            engine: cfg.train.engine,
            rows_train: train.y.len(),
            rows_test: test.y.len(),
            features: pipeline.width(),
            fit_seconds,
            predict_rows_per_s: test.y.len() as f64 / secs,
            metrics: Metrics::compute(&test.y, &p, threshold),
        });
    }
    Ok(out)
}

/// Fit family `kind` (feature pipeline and model) on every row of `train`.
fn fit_all(
    cfg: &Config,
    kind: ModelKind,
    train: &Dataset,
) -> Result<(FeaturePipeline, models::FittedModel)> {
    let all: Vec<usize> = (0..train.y.len()).collect();
    let pipeline = FeaturePipeline::fit(&train.table, &all, models::needs_scaling(kind));
    let x = pipeline.transform(&train.table, &all, &mut TransformStats::default());
    let model = models::fit(
        &cfg.family(kind),
        cfg.fit_options(),
        x.view(),
        &train.y,
        cfg.train.seed,
        &|| {},
    )?;
    Ok((pipeline, model))
}

/// P(churn) of every row of `test`.
fn predict(pipeline: &FeaturePipeline, model: &models::FittedModel, test: &Dataset) -> Vec<f64> {
    let x = pipeline.transform_all(&test.table, &mut TransformStats::default());
    model.predict_proba(x.view())
}

/// Fit `kind` on `train`, score `test`.
fn fit_predict(cfg: &Config, kind: ModelKind, train: &Dataset, test: &Dataset) -> Result<Vec<f64>> {
    let (pipeline, model) = fit_all(cfg, kind, train)?;
    Ok(predict(&pipeline, &model, test))
}

/// The model with the best value of `metric` (ties: the earlier model).
pub fn select(results: &[CvResult], metric: &str) -> Result<ModelKind> {
    let higher = Metrics::higher_is_better(metric)
        .ok_or_else(|| Error::Config(format!("unknown select_metric '{metric}'")))?;
    // Out-of-time figures, when there are any, are the more honest ones.
    let key = |r: &CvResult| {
        let v = r
            .out_of_time
            .as_ref()
            .unwrap_or(&r.oof_metrics)
            .get(metric)
            .unwrap_or(f64::NAN);
        if v.is_nan() {
            f64::NEG_INFINITY
        } else if higher {
            v
        } else {
            -v
        }
    };
    results
        .iter()
        .fold(None::<&CvResult>, |best, r| match best {
            Some(b) if key(b) >= key(r) => Some(b),
            _ => Some(r),
        })
        .map(|r| r.kind)
        .ok_or_else(|| Error::Model("no models were fitted".into()))
}

/// How this run cross-validates every family; under the `profit` rule
/// with `margins` (see [`economics::profit_margins`]) and `clv` (see
/// [`economics::clv_of`]).
fn cv_settings<'a>(
    cfg: &Config,
    margins: Option<&'a [f64]>,
    clv: &'a (dyn Fn(f64, f64) -> f64 + Sync),
) -> CvSettings<'a> {
    CvSettings {
        fit: cfg.fit_options(),
        seed: cfg.train.seed,
        threshold_rule: cfg.train.threshold_rule,
        calibrate: cfg.train.calibrate,
        economics: margins.map(|m| economics::economics(cfg, m, clv)),
    }
}

/// The configuration the saved model is refitted with: with early
/// stopping, gradient boosting runs the median of the rounds the folds chose
/// (on every row, with no validation share held back).
fn refit_config(cfg: &Config, res: &CvResult) -> Config {
    let mut c = cfg.clone();
    if !res.rounds.is_empty() {
        let mut r = res.rounds.clone();
        r.sort_unstable();
        let n = r.len();
        let median = if n % 2 == 1 {
            r[n / 2]
        } else {
            (r[n / 2 - 1] + r[n / 2]).div_ceil(2)
        };
        c.gradient_boosting.n_rounds = median.max(1);
        c.gradient_boosting.early_stopping_rounds = 0;
    }
    c
}

/// What the scoring reference is built with, from the run's settings.
fn reference_params<'a>(cfg: &'a Config, roles: &'a Roles) -> ReferenceParams<'a> {
    let s = &cfg.score;
    ReferenceParams {
        value_columns: &s.value_columns,
        activity_columns: &s.activity_columns,
        roles,
        clv: &s.clv,
        seed: cfg.train.seed,
    }
}
