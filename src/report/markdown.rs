//! report.md: the run summary a data scientist reads first.

use super::MetricsFile;
use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::evaluate::cv::CvResult;
use crate::evaluate::metrics::METRIC_NAMES;
use std::fmt::Write;

/// Encoded features of the saved model by importance, largest first.
pub fn top_features(artifact: &Artifact, k: usize) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = artifact
        .pipeline
        .names
        .iter()
        .cloned()
        .zip(artifact.model.importances())
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

pub fn render(
    data: &Dataset,
    results: &[CvResult],
    artifact: &Artifact,
    metrics: &MetricsFile,
) -> String {
    let mut s = String::new();
    let r = &data.report;
    let _ = writeln!(s, "# Churn training run {}\n", artifact.run_id);
    let _ = writeln!(
        s,
        "Data: `{}` ({} rows read, {} duplicates removed, {} used; churn rate {:.1}%, sha256 {}…). \
         {}-fold stratified CV, seed {}, threshold rule `{}`.\n",
        artifact.data.file,
        r.rows_read,
        r.duplicates_removed,
        r.rows_used,
        100.0 * r.positive_rate,
        &artifact.data.sha256[..12],
        metrics.folds,
        metrics.seed,
        metrics.threshold_rule
    );
    let _ = writeln!(s, "## Out-of-fold metrics\n");
    let _ = writeln!(s, "| model | {} | CV seconds |", METRIC_NAMES.join(" | "));
    let _ = writeln!(s, "|---|{}---|", "---|".repeat(METRIC_NAMES.len()));
    for res in results {
        let vals: Vec<String> = METRIC_NAMES
            .iter()
            .map(|m| format!("{:.4}", res.oof_metrics.get(m).unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} |",
            res.kind.name(),
            vals.join(" | "),
            res.seconds
        );
    }
    let _ = writeln!(
        s,
        "\nBest model by `{}`: **{}** (refitted on all rows, saved as `{}.{}`).\n",
        metrics.select_metric,
        metrics.best_model,
        artifact.run_id,
        crate::artifact::EXTENSION
    );
    let _ = writeln!(s, "## Fold spread (mean ± std over folds)\n");
    let key = [
        "roc_auc",
        "ks",
        "pr_auc",
        "f1",
        "recall",
        "precision",
        "brier",
    ];
    let _ = writeln!(s, "| model | {} |", key.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(key.len()));
    for (name, m) in &metrics.models {
        let vals: Vec<String> = key
            .iter()
            .map(|k| format!("{:.4} ± {:.4}", m.folds[*k].mean, m.folds[*k].std))
            .collect();
        let _ = writeln!(s, "| {name} | {} |", vals.join(" | "));
    }
    if let Some(best) = metrics.models.get(&metrics.best_model) {
        let c = best.oof.confusion;
        let _ = writeln!(
            s,
            "\n## Confusion matrix of {} at threshold {:.4}\n",
            metrics.best_model, best.oof.threshold
        );
        let _ = writeln!(s, "| | predicted stay | predicted churn |\n|---|---|---|");
        let _ = writeln!(
            s,
            "| actual stay | {} | {} |\n| actual churn | {} | {} |",
            c.tn, c.fp, c.fn_, c.tp
        );
    }
    let _ = writeln!(
        s,
        "\n## Top features of the saved model\n\n| feature | importance |\n|---|---|"
    );
    for (name, imp) in top_features(artifact, 15) {
        let _ = writeln!(s, "| {name} | {imp:.4} |");
    }
    let w = &artifact.scoring.warning;
    let _ = writeln!(
        s,
        "\n## Warning levels\n\nred ≥ {:.4}, orange ≥ {:.4}, yellow ≥ {:.4}, else green.\n",
        w.red, w.orange, w.yellow
    );
    let _ = writeln!(s, "## Data\n");
    let _ = writeln!(s, "- numeric features: {}", r.numeric_features.join(", "));
    let _ = writeln!(
        s,
        "- categorical features: {}",
        r.categorical_features.join(", ")
    );
    for e in &r.excluded_columns {
        let _ = writeln!(s, "- excluded `{}`: {}", e.name, e.reason);
    }
    for (c, n) in &r.coerced_cells {
        let _ = writeln!(s, "- `{c}`: {n} non-numeric cells coerced to missing");
    }
    for (c, n) in &r.imputed_cells {
        let _ = writeln!(
            s,
            "- `{c}`: {n} missing cells imputed with the fold median (+ missing indicator)"
        );
    }
    let _ = writeln!(
        s,
        "\nCharts: [ROC](roc.svg), [KS](ks.svg). Out-of-fold scores: `oof.csv`."
    );
    s
}
