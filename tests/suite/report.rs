//! report.html of training and scoring runs: every chart and table is there,
//! the HTML is well formed and self-contained; `churn-train compare` lists
//! runs newest first and flags a drop.

use crate::common;
use common::*;
use std::path::{Path, PathBuf};

/// Element ids every training report has.
const TRAIN_IDS: [&str; 19] = [
    "metrics-table",
    "chart-roc",
    "chart-ks",
    "chart-pr",
    "chart-gains",
    "chart-lift",
    "chart-calibration",
    "calibration-table",
    "chart-score-hist",
    "chart-importance",
    "confusion-matrix",
    "chart-fold-auc",
    "chart-fold-ks",
    "fold-spread-table",
    "group-Geography",
    "group-tenure-band",
    "period-table",
    "data-report-table",
    "model-card-table",
];

/// Element ids of a scoring report on labelled data with --previous.
const SCORE_IDS: [&str; 14] = [
    "level-tier-heatmap",
    "level-tier-table",
    "chart-value-at-risk",
    "chart-score-distribution",
    "chart-psi",
    "drift-table",
    "eval-metrics-table",
    "chart-roc",
    "chart-ks",
    "chart-level-churn",
    "chart-calibration",
    "level-churn-table",
    "migration-heatmap",
    "rows-table",
];

/// Tags that have no closing tag in HTML.
const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// Check that tags nest properly, that the report loads nothing from
/// elsewhere, and that every id in `ids` is present; returns the HTML.
fn check_report(path: &Path, ids: &[&str]) -> String {
    let html = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://", "https://", "src=", "href=", "<script", "url(", "@import", "<link", "<img",
        "<iframe",
    ] {
        assert!(
            !lower.contains(bad),
            "{}: external reference or script `{bad}`",
            path.display()
        );
    }
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unclosed tag") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if VOID.contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "{}: misnested </{name}>",
                path.display()
            );
        } else {
            stack.push(name);
        }
    }
    assert!(
        stack.is_empty(),
        "{}: unclosed tags {stack:?}",
        path.display()
    );
    for id in ids {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{}: no element id={id}", path.display()));
        // A chart holds an SVG with drawn content; a table holds rows.
        let body = &html[at..(at + 4000).min(html.len())];
        if id.starts_with("chart-") {
            assert!(
                body.contains("<svg") && (body.contains("<polyline") || body.contains("<rect x")),
                "{id}: empty chart"
            );
        } else {
            assert!(body.contains("<td"), "{id}: table without cells");
        }
    }
    html
}

/// bank_churn.csv with a `snapshot` column (four quarters), so the report
/// can show results per period.
fn bank_with_snapshots(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(shared("datasets/bank_churn.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let extra = if i == 0 {
            "snapshot".to_string()
        } else {
            format!("2024-Q{}", 1 + i % 4)
        };
        out.push_str(&format!("{line},{extra}\n"));
    }
    write(dir, "bank_snapshots.csv", &out)
}

#[test]
fn training_report_has_every_chart_and_table_and_no_external_reference() {
    let d = common::tempdir();
    let data = bank_with_snapshots(d.path());
    train(
        d.path(),
        args!["--data", data, "--target", "Exited", "--folds", "3",],
    );
    let html = check_report(&run_dir(d.path()).join("report.html"), &TRAIN_IDS);
    for quarter in ["2024-Q1", "2024-Q4"] {
        assert!(
            html.contains(&format!("<td>{quarter}</td>")),
            "period {quarter} missing from the period table"
        );
    }
    assert!(html.contains("KS 0."), "KS maximum gap not marked");
    for model in ["decision_tree", "random_forest", "logistic_regression"] {
        assert!(
            html.contains(&format!("<td>{model}</td>")),
            "{model} missing from the metrics table"
        );
    }
    // Identifiers are excluded from the model and not copied into the report.
    assert!(
        html.contains("excluded: Surname") && !html.contains("Hargrave"),
        "names leaked into the report"
    );
}

#[test]
fn scoring_report_shows_levels_drift_evaluation_and_migration() {
    let d = common::tempdir();
    let data = shared("datasets/bank_churn.csv");
    train(
        d.path(),
        args![
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "logistic_regression",
        ],
    );
    let model = d.path().join("models/latest");
    let score = |runs: &str, extra: &[std::ffi::OsString]| -> PathBuf {
        let out = score_cmd()
            .args(args!["--model", model, "--data", data, "-q", "--runs-dir",])
            .arg(d.path().join(runs))
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "churn-score failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_dir(d.path().join(runs))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    };
    let first = score("runs1", &[]);
    let html = check_report(&first.join("report.html"), &SCORE_IDS[..12]);
    assert!(
        html.contains("No previous scores"),
        "migration section should explain why it is empty"
    );
    let previous = first.join("scores.csv");
    let second = score("runs2", &args!["--previous", previous]);
    let html = check_report(&second.join("report.html"), &SCORE_IDS);
    assert!(
        html.contains("0.1 watch") && html.contains("0.25 shift"),
        "PSI chart lacks the 0.1/0.25 lines"
    );
    assert!(
        html.contains("10000 customers matched"),
        "migration should match every customer"
    );
}

#[test]
fn compare_lists_runs_newest_first_and_flags_a_drop() {
    let d = common::tempdir();
    let data = shared("datasets/bank_churn.csv");
    train(
        d.path(),
        args![
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "random_forest",
        ],
    );
    train(
        d.path(),
        args![
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "logistic_regression",
        ],
    );
    let out = train_cmd()
        .arg("compare")
        .arg(d.path().join("experiments"))
        .arg("--json")
        .output()
        .unwrap();
    assert_ok(&out);
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["best_model"], "logistic_regression",
        "newest run first"
    );
    assert_eq!(rows[1]["best_model"], "random_forest");
    assert!(
        rows[0]["change"].as_f64().unwrap() < -0.05,
        "logistic is well below the forest on bank"
    );
    assert_eq!(
        rows[0]["flags"],
        serde_json::json!(["drop"]),
        "same data, lower AUC: a drop and nothing else"
    );
    assert!(
        rows[1]["change"].is_null(),
        "the oldest run has nothing to compare with"
    );
    assert_eq!(rows[0]["data_sha256"], rows[1]["data_sha256"]);
    let table = train_cmd()
        .arg("compare")
        .arg(d.path().join("experiments"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("DROP"));

    // A run selected by a loss: its change is in that loss, and lower is better.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    train(
        d.path(),
        args![
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "random_forest",
            "--select-metric",
            "brier",
        ],
    );
    let out = train_cmd()
        .arg("compare")
        .arg(d.path().join("experiments"))
        .arg("--json")
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (rows.len(), rows[0]["select_metric"].as_str()),
        (3, Some("brier"))
    );
    let change = rows[0]["change"].as_f64().unwrap();
    let expected = rows[0]["selected"].as_f64().unwrap()
        - brier_of(&d.path().join("experiments"), "logistic_regression");
    assert!(
        (change - expected).abs() < 1e-12 && change < 0.0,
        "forest's brier is lower than logistic's: {change} vs {expected}"
    );
    assert_eq!(
        rows[0]["flags"],
        serde_json::json!([]),
        "a lower loss is no drop"
    );
}

/// The out-of-fold brier score of the run whose best model is `model`.
fn brier_of(dir: &std::path::Path, model: &str) -> f64 {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("metrics.json")) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["best_model"] == model {
            return v["models"][model]["oof"]["brier"].as_f64().unwrap();
        }
    }
    panic!("no run of {model}")
}
