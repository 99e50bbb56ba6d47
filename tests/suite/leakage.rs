//! The target leakage screen on the embedded table (planted churn drivers)
//! with a leak of each kind planted beside them: a copy of the label with
//! 1% of it flipped, an honest-looking score whose name gives the target
//! away, and a closure date filled only for churners. Every leak must be
//! caught and named; no planted driver may be excluded.

use crate::common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The embedded table with the three leaks appended as columns.
fn leaky_table(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customers.csv"))
            .unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let label_at = head.split(',').position(|c| c == "churned").unwrap();
    let mut out = format!("{head},retention_flag,churned_model_v1,closed_on\n");
    for (i, line) in lines.enumerate() {
        let label: u8 = line.split(',').nth(label_at).unwrap().parse().unwrap();
        let flag = if draw(i, 1) < 0.01 { 1 - label } else { label };
        // (closed_on is a date column: its feature is closed_on_days.)
        // A weak score: the label shifted by much noise (AUC ≈ 0.7 alone).
        let score = f64::from(label) * 0.8 + 1.5 * (draw(i, 2) + draw(i, 3) - 1.0);
        let closed = if label == 1 {
            format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28)
        } else {
            String::new()
        };
        out.push_str(&format!("{line},{flag},{score:.4},{closed}\n"));
    }
    write(dir, "leaky.csv", &out)
}

fn suspect<'a>(report: &'a Value, list: &str, column: &str) -> Option<&'a Value> {
    report["leakage"][list]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["column"] == column)
}

#[test]
fn every_planted_leak_is_caught_and_no_driver_excluded() {
    let d = tempdir();
    let data = leaky_table(d.path());
    let out = train(
        d.path(),
        args!["--data", data, "--models", "logistic_regression",],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = data_report(d.path());
    let flag = suspect(&report, "suspects", "retention_flag").expect("label copy caught");
    assert!(flag["reason"].as_str().unwrap().contains("alone"), "{flag}");
    assert!(flag["auc"].as_f64().unwrap() > 0.98, "{flag}");
    let named = suspect(&report, "suspects", "churned_model_v1").expect("named leak caught");
    assert!(
        named["reason"]
            .as_str()
            .unwrap()
            .contains("name contains the target 'churned'"),
        "{named}"
    );
    let closed = suspect(&report, "suspects", "closed_on_days").expect("closure date caught");
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .contains("missing for 100.0% of non-churners"),
        "{closed}"
    );
    assert_eq!(
        report["leakage"]["suspects"].as_array().unwrap().len(),
        3,
        "{}",
        report["leakage"]
    );
    // One warning line per suspect, naming it and why, even with -q.
    for c in ["retention_flag", "churned_model_v1", "closed_on_days"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("warning") && l.contains(c) && l.contains("leakage")),
            "{c}: {stderr}"
        );
        let excluded = report["excluded_columns"].as_array().unwrap();
        assert!(excluded.iter().any(|e| e["name"] == c), "{c} not excluded");
        assert!(!report["numeric_features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == c));
        assert!(!report["categorical_features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == c));
    }
    // The planted drivers are still features, and the honest model is not perfect.
    for driver in [
        "days_since_last_txn",
        "complaints_12m",
        "is_active",
        "txn_count_3m",
    ] {
        assert!(
            report["numeric_features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == driver),
            "{driver} lost"
        );
    }
    let auc = oof_auc(&metrics(d.path()), "logistic_regression");
    assert!(auc < 0.99, "AUC {auc}");
    let html = std::fs::read_to_string(run_dir(d.path()).join("report.html")).unwrap();
    assert!(html.contains("left out as a target leakage suspect"));
    assert!(html.contains("target leakage screen"));
}

#[test]
fn allowed_leak_is_kept_recorded_and_warned_about() {
    let d = tempdir();
    let data = leaky_table(d.path());
    let out = train(
        d.path(),
        args![
            "--data",
            data,
            "--models",
            "logistic_regression",
            "--allow-leaky",
            "retention_flag",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = data_report(d.path());
    assert!(
        suspect(&report, "allowed", "retention_flag").is_some(),
        "{}",
        report["leakage"]
    );
    assert!(suspect(&report, "suspects", "retention_flag").is_none());
    assert!(report["numeric_features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "retention_flag"));
    // The label copy makes the model too good: the run says so.
    let auc = oof_auc(&metrics(d.path()), "logistic_regression");
    assert!(auc >= 0.995, "AUC {auc}");
    assert!(stderr.contains("check for leakage"), "{stderr}");
    let html = std::fs::read_to_string(run_dir(d.path()).join("report.html")).unwrap();
    assert!(html.contains("check for leakage"));
    assert!(html.contains("KEPT ON PURPOSE"));
    // Recorded in the artifact's configuration.
    let art: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("models/latest")).unwrap()).unwrap();
    assert_eq!(art["config"]["leakage"]["allow"][0], "retention_flag");
}
