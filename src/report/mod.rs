//! Run outputs of `churn-train`: metrics.json, run.json, data_report.json,
//! report.md, report.html, roc.svg, ks.svg and oof.csv under `experiments/<run-id>/`. Reports only
//! read results; they never change them.

pub mod campaign;
pub mod fairness;
pub mod figures;
pub mod groups;
pub mod html;
pub mod markdown;
pub mod offers;
pub mod page;
pub mod reassess;
pub mod svg;
pub mod thresholds;
pub mod uplift;
pub mod value;

use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::error::Result;
use crate::evaluate::cv::CvResult;
use crate::evaluate::metrics::{mean_std, Metrics, METRIC_NAMES};
use crate::fairness::figures::ColumnFairness;
use crate::fairness::proxy::Proxy;
use crate::io::{csv_field, with_atomic_writer, write_atomic, write_json};
use crate::progress::PhaseTime;
use crate::split::Fold;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Spread of one metric over the folds.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    pub mean: f64,
    pub std: f64,
    pub values: Vec<f64>,
}

/// One model's entry of metrics.json.
#[derive(Debug, Clone, Serialize)]
pub struct ModelMetrics {
    pub oof: Metrics,
    pub folds: BTreeMap<String, Spread>,
    /// On the latest snapshot, held out (`--validation out-of-time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_time: Option<Metrics>,
    /// Gradient boosting with early stopping: the rounds each fold chose
    /// (the saved model is refitted with their median).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<usize>,
    /// With `--calibrate`: the out-of-fold metrics before calibration
    /// (`oof` and `folds` are of the calibrated scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncalibrated: Option<Metrics>,
}

/// metrics.json (see the README for the schema).
#[derive(Debug, Clone, Serialize)]
pub struct MetricsFile {
    /// The training data (file, rows, columns, sha256), as in the artifact.
    pub data: crate::artifact::Fingerprint,
    pub engine: crate::config::Engine,
    pub best_model: String,
    pub select_metric: String,
    pub threshold_rule: String,
    pub folds: usize,
    pub seed: u64,
    pub rows: usize,
    pub positive_rate: f64,
    pub models: BTreeMap<String, ModelMetrics>,
    /// Per protected or sensitive column, the best model's out-of-fold
    /// figures per group at the threshold (see [`crate::fairness`]).
    pub fairness: BTreeMap<String, ColumnFairness>,
    /// Thresholds per group (`--threshold-by`): each group's threshold,
    /// rule and out-of-fold rates under it and under the global one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, crate::reference::thresholds::GroupStats>,
    /// The whole table's rates under the group thresholds and the global one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_by: Option<crate::reference::thresholds::ThresholdReport>,
}

impl MetricsFile {
    pub fn new(
        results: &[CvResult],
        art: &Artifact,
        data: &Dataset,
        cfg: &crate::config::Config,
        proxies: &BTreeMap<String, Vec<Proxy>>,
    ) -> MetricsFile {
        let models = results
            .iter()
            .map(|r| {
                let folds = METRIC_NAMES
                    .iter()
                    .map(|&m| {
                        let values: Vec<f64> =
                            r.fold_metrics.iter().filter_map(|f| f.get(m)).collect();
                        let (mean, std) = mean_std(&values);
                        (m.to_string(), Spread { mean, std, values })
                    })
                    .collect();
                (
                    r.kind.name().to_string(),
                    ModelMetrics {
                        oof: r.oof_metrics.clone(),
                        folds,
                        out_of_time: r.out_of_time.clone(),
                        rounds: r.rounds.clone(),
                        uncalibrated: r.calibration.as_ref().map(|c| c.before.clone()),
                    },
                )
            })
            .collect();
        MetricsFile {
            data: art.data.clone(),
            engine: cfg.train.engine,
            best_model: art.model_name.clone(),
            select_metric: cfg.train.select_metric.clone(),
            threshold_rule: cfg.train.threshold_rule.to_string(),
            folds: cfg.train.folds,
            seed: cfg.train.seed,
            rows: data.y.len(),
            positive_rate: data.report.positive_rate,
            models,
            fairness: fairness_of(results, art, data, proxies),
            thresholds: BTreeMap::new(),
            threshold_by: None,
        }
    }
}

/// The fairness figures of the saved model's out-of-fold scores.
fn fairness_of(
    results: &[CvResult],
    art: &Artifact,
    data: &Dataset,
    proxies: &BTreeMap<String, Vec<Proxy>>,
) -> BTreeMap<String, ColumnFairness> {
    let Some(best) = results.iter().find(|r| r.kind.name() == art.model_name) else {
        return BTreeMap::new();
    };
    let warning = art.scoring.warning;
    crate::fairness::report_with(
        &data.attributes,
        proxies,
        Some(&data.y),
        &best.oof,
        best.threshold,
        |p| warning.level(p),
    )
}

/// run.json: when the run happened. Kept out of metrics.json so that the
/// same data and seed give a byte-identical metrics.json at any time.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run_id: String,
    pub created_at: String,
    pub model_name: String,
    /// Wall-clock seconds per phase of the job: read, clean,
    /// cross_validation, refit, reference, reports, save.
    pub phases: Vec<PhaseTime>,
}

/// run.json, written last (it holds the time the reports took).
pub fn write_run_info(dir: &Path, artifact: &Artifact, phases: &[PhaseTime]) -> Result<()> {
    let info = RunInfo {
        run_id: artifact.run_id.clone(),
        created_at: artifact.created_at.clone(),
        model_name: artifact.model_name.clone(),
        phases: phases.to_vec(),
    };
    write_json(&dir.join("run.json"), &info)
}

/// Write every run output into `dir`.
pub fn write_run(
    dir: &Path,
    data: &Dataset,
    folds: &[Fold],
    results: &[CvResult],
    artifact: &Artifact,
    metrics: &MetricsFile,
) -> Result<()> {
    write_json(&dir.join("metrics.json"), metrics)?;
    write_json(&dir.join("data_report.json"), &data.report)?;
    // oof.csv (a line per row) is written while the charts and pages are
    // drawn.
    let (oof, pages) = rayon::join(
        || write_oof(&dir.join("oof.csv"), data, folds, results),
        || write_pages(dir, data, results, artifact, metrics),
    );
    oof.and(pages)
}

/// The ROC and KS charts (standalone files and figures of report.html),
/// and each model's out-of-fold scores in [`order_desc`] order: the
/// report's curves share one sort of each.
///
/// [`order_desc`]: crate::stats::order_desc
pub struct Charts {
    pub roc: String,
    pub ks: String,
    pub orders: Vec<Vec<usize>>,
}

/// The charts and the two report pages.
fn write_pages(
    dir: &Path,
    data: &Dataset,
    results: &[CvResult],
    artifact: &Artifact,
    metrics: &MetricsFile,
) -> Result<()> {
    let all: Vec<(&str, &[f64])> = results
        .iter()
        .map(|r| (r.kind.name(), r.oof.as_slice()))
        .collect();
    let best = results
        .iter()
        .position(|r| r.kind.name() == metrics.best_model)
        .unwrap_or(0);
    use rayon::prelude::*;
    let orders: Vec<Vec<usize>> = results
        .par_iter()
        .map(|r| crate::stats::order_desc(&r.oof))
        .collect();
    let charts = Charts {
        roc: figures::roc_chart(&data.y, &all, &orders),
        ks: figures::ks_chart(&data.y, &results[best].oof, &orders[best]),
        orders,
    };
    write_atomic(
        &dir.join("roc.svg"),
        svg::standalone(&charts.roc).as_bytes(),
    )?;
    write_atomic(&dir.join("ks.svg"), svg::standalone(&charts.ks).as_bytes())?;
    write_atomic(
        &dir.join("report.md"),
        markdown::render(data, results, artifact, metrics).as_bytes(),
    )?;
    write_atomic(
        &dir.join("report.html"),
        html::render(data, results, artifact, metrics, &charts)?.as_bytes(),
    )
}

/// oof.csv: per cross-validated row its id, label, the fold that held it
/// out (1-based: a validator can refit any fold) and each model's score.
fn write_oof(path: &Path, data: &Dataset, folds: &[Fold], results: &[CvResult]) -> Result<()> {
    let mut fold_of = vec![0usize; data.y.len()];
    for (k, f) in folds.iter().enumerate() {
        f.test.iter().for_each(|&i| fold_of[i] = k + 1);
    }
    // Blocks of lines are formatted in parallel, written in order.
    const BLOCK: usize = 1 << 16;
    let line = |i: usize, out: &mut Vec<u8>| {
        out.extend_from_slice(csv_field(&data.ids[i]).as_bytes());
        let _ = std::io::Write::write_fmt(out, format_args!(",{},{}", data.y[i], fold_of[i]));
        for r in results {
            out.push(b',');
            crate::io::push_float(out, r.oof[i]);
        }
        out.push(b'\n');
    };
    with_atomic_writer(path, |w| {
        write!(w, "id,label,fold")?;
        for r in results {
            write!(w, ",{}", r.kind.name())?;
        }
        writeln!(w)?;
        use rayon::prelude::*;
        let starts: Vec<usize> = (0..fold_of.len()).step_by(BLOCK).collect();
        for group in starts.chunks(8) {
            let blocks: Vec<Vec<u8>> = group
                .par_iter()
                .map(|&s| {
                    let mut out = Vec::with_capacity(BLOCK * 32);
                    (s..(s + BLOCK).min(fold_of.len())).for_each(|i| line(i, &mut out));
                    out
                })
                .collect();
            for b in blocks {
                w.write_all(&b)?;
            }
        }
        Ok(())
    })
}
