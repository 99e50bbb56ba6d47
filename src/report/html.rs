//! report.html of a training run: every chart and table a model validator
//! asks for, plus a model card, in one self-contained file.

use super::figures::{self, unit_axes};
use super::groups::{breakdown, group_columns, labels_of};
use super::markdown::top_features;
use super::page::{f4, Page};
use super::svg;
use super::{Charts, MetricsFile};
use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::error::Result;
use crate::evaluate::curves;
use crate::evaluate::cv::CvResult;
use crate::evaluate::metrics::METRIC_NAMES;

/// Render the training report.
pub fn render(
    data: &Dataset,
    results: &[CvResult],
    artifact: &Artifact,
    metrics: &MetricsFile,
    charts: &Charts,
) -> Result<String> {
    let best_at = results
        .iter()
        .position(|r| r.kind.name() == metrics.best_model)
        .unwrap_or(0);
    let (best, best_order) = (&results[best_at], charts.orders[best_at].as_slice());
    let run = Run {
        data,
        results,
        artifact,
        metrics,
        charts,
        best,
        best_order,
    };
    let mut page = Page::new(&format!("Churn model training run {}", artifact.run_id));
    if !data.report.protected_allowed.is_empty() {
        page.note(&format!(
            "WARNING: {}.",
            super::fairness::allowed_warning(&data.report)
        ));
    }
    for line in leakage_warnings(&data.report, best.oof_metrics.roc_auc, &artifact.config) {
        page.note(&format!("WARNING: {line}."));
    }
    for line in super::value::warnings(&data.report) {
        page.note(&format!("WARNING: {line}."));
    }
    let snapshots = data.report.logs.as_ref().map(|l| &l.snapshots[..]);
    if let Some(line) = snapshots.and_then(crate::logs::short_history_line) {
        page.note(&format!("WARNING: {line}."));
    }
    page.note(&format!(
        "Data {} ({} rows, sha256 {}), {}-fold stratified cross-validation, seed {}. Best model by {}: {} (threshold {:.4}, rule {}). All figures are out-of-fold.",
        artifact.data.file, artifact.data.rows, &artifact.data.sha256[..16], metrics.folds, metrics.seed, metrics.select_metric, metrics.best_model, best.threshold, metrics.threshold_rule
    ));

    metrics_tables(&mut page, &run);
    discrimination(&mut page, &run);
    gains_and_calibration(&mut page, &run);
    what_it_uses(&mut page, &run);
    stability(&mut page, &run);
    groups_and_periods(&mut page, &run)?;
    if let Some(r) = &metrics.threshold_by {
        super::thresholds::section(&mut page, r, &metrics.threshold_rule, best.threshold);
    }
    data_report(&mut page, &run);
    model_card(&mut page, &run)?;
    Ok(page.finish())
}

/// What every section of the training report reads: the cleaned data,
/// the cross-validation results, the saved model, metrics.json's content,
/// the charts' orders, and the best family's result and score order.
struct Run<'a> {
    data: &'a Dataset,
    results: &'a [CvResult],
    artifact: &'a Artifact,
    metrics: &'a MetricsFile,
    charts: &'a Charts,
    best: &'a CvResult,
    best_order: &'a [usize],
}

/// The metrics of every family, out-of-fold (and out-of-time when the latest snapshot was held out).
fn metrics_tables(page: &mut Page, run: &Run) {
    let results = run.results;
    page.section("metrics", "Metrics by model");
    let mut head = vec!["model"];
    head.extend(METRIC_NAMES);
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            std::iter::once(r.kind.name().to_string())
                .chain(
                    METRIC_NAMES
                        .iter()
                        .map(|m| f4(r.oof_metrics.get(m).unwrap_or(f64::NAN))),
                )
                .collect()
        })
        .collect();
    page.table("metrics-table", &head, &rows);
    if results.iter().any(|r| r.out_of_time.is_some()) {
        page.section("out-of-time", "Out-of-time: the latest snapshot, held out");
        page.note("Each family fitted on every earlier snapshot, scored on the latest one at its cross-validated threshold: the figures to expect on the next, unseen period. The tables above and below are out-of-fold on the earlier snapshots.");
        let rows: Vec<Vec<String>> = results
            .iter()
            .filter_map(|r| {
                let m = r.out_of_time.as_ref()?;
                Some(
                    std::iter::once(r.kind.name().to_string())
                        .chain(
                            METRIC_NAMES
                                .iter()
                                .map(|n| f4(m.get(n).unwrap_or(f64::NAN))),
                        )
                        .collect(),
                )
            })
            .collect();
        page.table("out-of-time-table", &head, &rows);
    }
}

/// ROC, KS and precision–recall of every family.
fn discrimination(page: &mut Page, run: &Run) {
    let (results, charts, best) = (run.results, run.charts, run.best);
    let y = &run.data.y;
    page.section("curves", "Discrimination");
    figures::roc_figure(page, &charts.roc);
    figures::ks_figure(page, &charts.ks, best.kind.name());
    let pr: Vec<(String, Vec<(f64, f64)>)> = results
        .iter()
        .zip(&charts.orders)
        .map(|(r, order)| {
            (
                format!("{} AP {:.3}", r.kind.name(), r.oof_metrics.pr_auc),
                curves::thin(curves::pr_curve_in(y, &r.oof, order), 300),
            )
        })
        .collect();
    page.figure(
        "chart-pr",
        "Precision–recall of all models",
        &svg::lines(
            "Precision–recall",
            &unit_axes("recall", "precision"),
            &pr,
            &[],
        ),
    );
}

/// Gains, lift, calibration and the score distribution of the best model.
fn gains_and_calibration(page: &mut Page, run: &Run) {
    let (results, artifact, best, best_order) =
        (run.results, run.artifact, run.best, run.best_order);
    let y = &run.data.y;
    page.section("gains", "Gains, lift and calibration");
    let dec = curves::deciles_in(y, best_order);
    let labels: Vec<String> = (1..=10).map(|d| format!("{}", d * 10)).collect();
    let gains: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            dec.iter()
                .enumerate()
                .map(|(d, g)| ((d + 1) as f64 / 10.0, g.0)),
        )
        .collect();
    page.figure(
        "chart-gains",
        "Cumulative gains: share of churners captured by the top x% of scores",
        &svg::lines(
            "Cumulative gains",
            &unit_axes("share of customers contacted", "share of churners captured"),
            &[(best.kind.name().to_string(), gains)],
            &[figures::diagonal("random")],
        ),
    );
    page.figure(
        "chart-lift",
        "Lift by score decile (decile churn rate / overall churn rate)",
        &svg::bars(
            "Lift by decile",
            "lift",
            &labels,
            &[("lift".into(), dec.iter().map(|d| d.1).collect())],
            &[(1.0, "1 = random".into())],
        ),
    );
    figures::calibration(
        page,
        y,
        &best.oof,
        best.kind.name(),
        best.calibration.as_ref().map(|c| c.raw_oof.as_slice()),
    );
    let calibrated: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let c = r.calibration.as_ref()?;
            Some(vec![
                r.kind.name().to_string(),
                f4(c.before.brier),
                f4(r.oof_metrics.brier),
                f4(c.before.log_loss),
                f4(r.oof_metrics.log_loss),
            ])
        })
        .collect();
    if !calibrated.is_empty() {
        page.note(&format!(
            "Probabilities calibrated ({}) on the out-of-fold scores; each fold's scores by a calibrator fitted on the other folds' (the saved model carries one fitted on all of them).",
            calibration_name(artifact.config.train.calibrate)
        ));
        page.table(
            "calibration-effect-table",
            &[
                "model",
                "Brier before",
                "Brier after",
                "log loss before",
                "log loss after",
            ],
            &calibrated,
        );
    }
    let (h1, h0) = curves::histograms(y, &best.oof, 20);
    let bins: Vec<String> = (0..20)
        .map(|b| {
            if b % 4 == 0 {
                format!("{:.1}", b as f64 / 20.0)
            } else {
                String::new()
            }
        })
        .collect();
    page.figure(
        "chart-score-hist",
        "Score distribution by class (share of each class per bin)",
        &svg::bars(
            "Scores by class",
            "share of class",
            &bins,
            &[("churners".into(), h1), ("non-churners".into(), h0)],
            &[],
        ),
    );
}

/// Feature importances and the confusion matrix of the saved model.
fn what_it_uses(page: &mut Page, run: &Run) {
    let (artifact, best) = (run.artifact, run.best);
    page.section("model", "What the model uses and how it decides");
    let top: Vec<(String, f64)> = top_features(artifact, 20);
    page.figure(
        "chart-importance",
        "Top-20 feature importances of the saved model",
        &svg::hbars("Feature importance", &top, &[]),
    );
    let c = best.oof_metrics.confusion;
    page.raw(&format!(
        "<p class=\"note\">Confusion matrix of {} at threshold {:.4}</p>",
        best.kind.name(),
        best.threshold
    ));
    page.raw(&svg::heatmap(
        "confusion-matrix",
        "actual \\ predicted",
        &["stay".into(), "churn".into()],
        &["stay".into(), "churn".into()],
        &[
            vec![c.tn as f64, c.fp as f64],
            vec![c.fn_ as f64, c.tp as f64],
        ],
    ));
}

/// Fold-to-fold spread of ROC AUC, KS and recall.
fn stability(page: &mut Page, run: &Run) {
    let (results, metrics) = (run.results, run.metrics);
    page.section("stability", "Fold-to-fold spread");
    let folds: Vec<String> = (1..=metrics.folds).map(|k| format!("fold {k}")).collect();
    for (metric, id) in [("roc_auc", "chart-fold-auc"), ("ks", "chart-fold-ks")] {
        let series: Vec<(String, Vec<f64>)> = results
            .iter()
            .map(|r| {
                (
                    r.kind.name().to_string(),
                    r.fold_metrics
                        .iter()
                        .filter_map(|m| m.get(metric))
                        .collect(),
                )
            })
            .collect();
        page.figure(
            id,
            &format!("{metric} per fold and model"),
            &svg::bars(&format!("{metric} by fold"), metric, &folds, &series, &[]),
        );
    }
    let spread: Vec<Vec<String>> = metrics
        .models
        .iter()
        .map(|(name, m)| {
            vec![
                name.clone(),
                format!(
                    "{:.4} ± {:.4}",
                    m.folds["roc_auc"].mean, m.folds["roc_auc"].std
                ),
                format!("{:.4} ± {:.4}", m.folds["ks"].mean, m.folds["ks"].std),
                format!(
                    "{:.4} ± {:.4}",
                    m.folds["recall"].mean, m.folds["recall"].std
                ),
            ]
        })
        .collect();
    page.table(
        "fold-spread-table",
        &["model", "ROC AUC", "KS", "recall"],
        &spread,
    );
}

/// Results by customer group and by period, and the fairness section.
fn groups_and_periods(page: &mut Page, run: &Run) -> Result<()> {
    let (data, artifact, metrics, best) = (run.data, run.artifact, run.metrics, run.best);
    let y = &run.data.y;
    page.section("groups", "Results by customer group");
    let group_head = [
        "group",
        "customers",
        "churn rate",
        "ROC AUC",
        "KS",
        "precision",
        "recall",
    ];
    let group_rows = |labels: &super::groups::Labels| -> Vec<Vec<String>> {
        breakdown(labels, y, &best.oof, best.threshold)
            .into_iter()
            .map(|g| {
                vec![
                    g.group,
                    g.size.to_string(),
                    f4(g.churn_rate),
                    f4(g.roc_auc),
                    f4(g.ks),
                    f4(g.precision),
                    f4(g.recall),
                ]
            })
            .collect()
    };
    for (name, labels) in group_columns(data, artifact, &best.oof)? {
        page.raw(&format!("<h3>{}</h3>", svg::esc(&name)));
        page.table(
            &format!(
                "group-{}",
                name.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect::<String>()
            ),
            &group_head,
            &group_rows(&labels),
        );
    }
    page.section("periods", "Results by period");
    match &data.period {
        Some(p) => page.table("period-table", &group_head, &group_rows(&labels_of(p))),
        None => page.note("The data has no period or snapshot column (set data.period): results across time periods need snapshots; use `churn-train holdout` to evaluate on a later period."),
    }

    super::fairness::section(
        page,
        &metrics.fairness,
        "Out-of-fold scores of the saved model at its threshold.",
    );
    Ok(())
}

/// What cleaning did to the table.
fn data_report(page: &mut Page, run: &Run) {
    let data = run.data;
    page.section("data", "Data report");
    let r = &data.report;
    let mut dr = vec![
        vec!["rows read".into(), r.rows_read.to_string()],
        vec![
            "duplicate ids removed".into(),
            r.duplicates_removed.to_string(),
        ],
        vec!["rows used".into(), r.rows_used.to_string()],
        vec!["churn rate".into(), f4(r.positive_rate)],
    ];
    dr.extend(
        r.imputed_cells
            .iter()
            .map(|(c, n)| vec![format!("imputed cells: {c}"), n.to_string()]),
    );
    dr.extend(
        r.coerced_cells
            .iter()
            .map(|(c, n)| vec![format!("coerced cells: {c}"), n.to_string()]),
    );
    dr.extend(
        r.excluded_columns
            .iter()
            .map(|e| vec![format!("excluded: {}", e.name), e.reason.clone()]),
    );
    page.table("data-report-table", &["item", "value"], &dr);
}

/// The model card: what the model is for, how it was built, its limits.
fn model_card(page: &mut Page, run: &Run) -> Result<()> {
    let (r, artifact) = (&run.data.report, run.artifact);
    page.section("model-card", "Model card");
    let cfg = &artifact.config;
    let params = cfg
        .family_json(artifact.model.kind())
        .map_err(|e| crate::Error::Internal(format!("model card parameters: {e}")))?;
    let mut card = vec![
        vec!["intended use".into(), "Churn early warning: rank customers by risk of leaving, assign warning levels and retention actions. Not for credit, pricing or other decisions about individuals.".into()],
        vec!["model".into(), format!("{} (engine {:?})", artifact.model_name, cfg.train.engine)],
        vec!["parameters".into(), params],
        vec!["threshold".into(), format!("{:.4} by rule {}", artifact.threshold, artifact.threshold_rule)],
        vec!["warning cut-offs".into(), format!("red ≥ {:.4}, orange ≥ {:.4}, yellow ≥ {:.4}", artifact.scoring.warning.red, artifact.scoring.warning.orange, artifact.scoring.warning.yellow)],
        vec!["training data".into(), format!("{}: {} rows, {} columns, sha256 {}", artifact.data.file, artifact.data.rows, artifact.data.columns, artifact.data.sha256)],
        vec!["features".into(), format!("{} inputs → {} encoded columns: {}", artifact.schema.len(), artifact.pipeline.width(), artifact.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))],
        vec!["excluded (identifiers, names)".into(), r.excluded_columns.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")],
        vec!["seed".into(), artifact.seed.to_string()],
        vec!["versions".into(), format!("churn {}, artifact format {}", artifact.crate_version, artifact.format_version)],
        vec!["created".into(), artifact.created_at.clone()],
        vec!["known limits".into(), "Trained on one snapshot: performance on later periods must be checked (holdout, drift PSI). Probabilities of deep trees are less calibrated (see the calibration chart). Group results with few customers are noisy.".into()],
    ];
    card.insert(
        8,
        vec!["protected attributes".into(), super::fairness::card_line(r)],
    );
    card.insert(
        9,
        vec!["target leakage screen".into(), leakage_card_line(r)],
    );
    card.insert(10, vec!["formats read".into(), formats_card_line(r)]);
    card.insert(
        11,
        vec!["customer value".into(), super::value::card_line(r)],
    );
    card.insert(3, vec!["structure".into(), artifact.model.structure()]);
    card.insert(
        4,
        vec![
            "calibration".into(),
            match &artifact.calibration {
                Some(_) => format!(
                    "{}, fitted on the out-of-fold scores; applied before the threshold and warning levels",
                    calibration_name(cfg.train.calibrate)
                ),
                None => "none (scores are the model's own probabilities)".into(),
            },
        ],
    );
    if !r.protected_allowed.is_empty() {
        card.insert(
            0,
            vec!["WARNING".into(), super::fairness::allowed_warning(r)],
        );
    }
    page.table("model-card-table", &["", ""], &card);
    Ok(())
}

/// The report's warnings about leakage: each suspect left out or kept on
/// purpose, and a best model too good to be true.
fn leakage_warnings(
    r: &crate::clean::DataReport,
    best_auc: f64,
    cfg: &crate::config::Config,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = &r.leakage {
        for s in &l.suspects {
            out.push(format!(
                "column {} left out as a target leakage suspect ({})",
                s.column, s.reason
            ));
        }
        for s in &l.allowed {
            out.push(format!(
                "column {} is a target leakage suspect ({}) kept as a feature on purpose (--allow-leaky)",
                s.column, s.reason
            ));
        }
    }
    if best_auc >= cfg.leakage.warn_auc {
        out.push(format!(
            "the best model's out-of-fold ROC AUC is {best_auc:.4} (at least {}): check for leakage before trusting it",
            cfg.leakage.warn_auc
        ));
    }
    out
}

/// The model card's line on number and date formats.
fn formats_card_line(r: &crate::clean::DataReport) -> String {
    let mut parts: Vec<String> = r
        .number_formats
        .iter()
        .map(|(c, f)| format!("{c}: numbers with {}", f.describe()))
        .collect();
    parts.extend(
        r.date_formats
            .iter()
            .map(|(c, p)| format!("{c}: dates ({p}) as {c}_days")),
    );
    if let Some(d) = &r.reference_date {
        parts.push(format!(
            "reference date {d} ({})",
            r.reference_rule.as_deref().unwrap_or("")
        ));
    }
    if parts.is_empty() {
        "plain numbers, no date column".into()
    } else {
        parts.join("; ")
    }
}

/// The model card's line on the target leakage screen.
fn leakage_card_line(r: &crate::clean::DataReport) -> String {
    let Some(l) = &r.leakage else {
        return "not run".into();
    };
    let list = |v: &[crate::clean::leakage::Suspect]| {
        v.iter()
            .map(|s| format!("{} (AUC {:.3}; {})", s.column, s.auc, s.reason))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut line = format!("{} columns screened; ", l.screened);
    if l.suspects.is_empty() {
        line.push_str("no suspect left out");
    } else {
        line.push_str(&format!("left out: {}", list(&l.suspects)));
    }
    if !l.allowed.is_empty() {
        line.push_str(&format!(
            "; KEPT ON PURPOSE (--allow-leaky): {}",
            list(&l.allowed)
        ));
    }
    line
}

fn calibration_name(c: crate::models::Calibration) -> &'static str {
    match c {
        crate::models::Calibration::None => "none",
        crate::models::Calibration::Sigmoid => "sigmoid (Platt)",
        crate::models::Calibration::Isotonic => "isotonic",
    }
}
