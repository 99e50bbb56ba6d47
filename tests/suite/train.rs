//! `churn-train` driven like a user: outputs, AUC floors on the shared data,
//! reproducibility, messy CSV, and bad input.

use crate::common;
use common::*;
use std::path::Path;

fn tmp() -> common::TempDir {
    common::tempdir()
}

#[test]
fn default_run_writes_every_output() {
    let d = tmp();
    train(d.path(), [""; 0]);
    let run = run_dir(d.path());
    for f in [
        "metrics.json",
        "run.json",
        "data_report.json",
        "report.md",
        "report.html",
        "roc.svg",
        "ks.svg",
        "oof.csv",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let m = metrics(d.path());
    for model in ["decision_tree", "random_forest", "logistic_regression"] {
        for metric in [
            "accuracy",
            "precision",
            "recall",
            "f1",
            "roc_auc",
            "pr_auc",
            "ks",
            "brier",
            "log_loss",
            "lift_top10",
            "capture_top10",
            "threshold",
        ] {
            assert!(
                m["models"][model]["oof"][metric].is_number(),
                "{model}.oof.{metric}"
            );
            assert!(
                m["models"][model]["folds"][metric]["mean"].is_number(),
                "{model}.folds.{metric}"
            );
        }
        // the planted mechanism is learnable
        assert!(oof_auc(&m, model) > 0.7, "{model}: {}", oof_auc(&m, model));
    }
    let best = m["best_model"].as_str().unwrap();
    let best_auc = oof_auc(&m, best);
    for model in ["decision_tree", "random_forest", "logistic_regression"] {
        assert!(best_auc >= oof_auc(&m, model));
    }
    // oof.csv: a row per used customer, a column per model
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data_report.json")).unwrap())
            .unwrap();
    let used = report["rows_used"].as_u64().unwrap() as usize;
    assert_eq!(
        report["rows_read"].as_u64().unwrap() as usize,
        used + report["duplicates_removed"].as_u64().unwrap() as usize
    );
    assert!(
        report["duplicates_removed"].as_u64().unwrap() > 0,
        "the embedded data has duplicate ids"
    );
    let oof = std::fs::read_to_string(run.join("oof.csv")).unwrap();
    assert_eq!(oof.lines().count(), used + 1);
    assert_eq!(
        oof.lines().next().unwrap(),
        "id,label,fold,decision_tree,random_forest,logistic_regression,gradient_boosting"
    );
    // identifiers and names are excluded, never features
    let excluded: Vec<&str> = report["excluded_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        excluded.contains(&"customer_id") && excluded.contains(&"surname"),
        "{excluded:?}"
    );
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(!md.contains("Smith") && !md.contains("C7100000"));
    // the model and the latest link
    let latest = d.path().join("models/latest");
    let art: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&latest).unwrap()).unwrap();
    assert_eq!(art["format"], "churn-model");
    assert_eq!(art["model_name"].as_str().unwrap(), best);
    for key in [
        "format_version",
        "crate_version",
        "schema",
        "pipeline",
        "model",
        "threshold",
        "cv_metrics",
        "seed",
        "data",
        "created_at",
    ] {
        assert!(!art[key].is_null(), "artifact lacks {key}");
    }
    assert_eq!(
        art["data"]["rows"].as_u64().unwrap() as usize,
        used + report["duplicates_removed"].as_u64().unwrap() as usize
    );
    assert!(std::fs::read_to_string(run.join("roc.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn bank_churn_auc_floors() {
    let d = tmp();
    let data = shared("datasets/bank_churn.csv");
    train(d.path(), args!["--data", data, "--target", "Exited"]);
    let m = metrics(d.path());
    let (rf, dt, lr) = (
        oof_auc(&m, "random_forest"),
        oof_auc(&m, "decision_tree"),
        oof_auc(&m, "logistic_regression"),
    );
    assert!(rf >= 0.85, "random forest AUC {rf}");
    assert!(dt >= 0.82, "decision tree AUC {dt}");
    // Gender is protected and out of the model by default (issue 19): measured 0.757
    // without it, 0.766 with `--allow-protected Gender`.
    assert!(lr >= 0.75, "logistic AUC {lr}");
    let report = std::fs::read_to_string(run_dir(d.path()).join("data_report.json")).unwrap();
    for id in ["Surname", "CustomerId", "RowNumber"] {
        assert!(
            report.contains(&format!("\"name\": \"{id}\"")),
            "{id} not excluded"
        );
    }
    // The leakage screen judged every feature and left none out: the
    // model is the one trained before the screen existed.
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_no_leakage_suspect(&report, 9);
}

/// The data report's leakage screen ran on `screened` columns and found no suspect.
fn assert_no_leakage_suspect(report: &serde_json::Value, screened: u64) {
    assert_eq!(
        report["leakage"]["screened"], screened,
        "{}",
        report["leakage"]
    );
    assert_eq!(
        report["leakage"]["suspects"].as_array().map(Vec::len),
        Some(0),
        "{}",
        report["leakage"]
    );
}

#[test]
fn telco_churn_auc_floors() {
    let d = tmp();
    let data = shared("datasets/telco_churn.csv");
    train(
        d.path(),
        args!["--data", data, "--target", "Churn", "--positive", "Yes",],
    );
    let m = metrics(d.path());
    let (lr, rf) = (
        oof_auc(&m, "logistic_regression"),
        oof_auc(&m, "random_forest"),
    );
    assert!(lr >= 0.83, "logistic AUC {lr}");
    assert!(rf >= 0.83, "random forest AUC {rf}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir(d.path()).join("data_report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["imputed_cells"]["TotalCharges"], 11,
        "TotalCharges blanks"
    );
    assert!(report["numeric_features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "TotalCharges"));
    assert_no_leakage_suspect(&report, 18);
}

fn file_bytes(dir: &Path, pattern: &str) -> Vec<u8> {
    let run = run_dir(dir);
    match pattern {
        "metrics" => std::fs::read(run.join("metrics.json")).unwrap(),
        _ => std::fs::read(dir.join("models/latest")).unwrap(),
    }
}

#[test]
fn same_seed_same_results_whatever_the_thread_count() {
    let (a, b) = (tmp(), tmp());
    let data = shared("datasets/bank_churn.csv");
    let args = [
        "--data",
        data.to_str().unwrap(),
        "--target",
        "Exited",
        "--seed",
        "7",
    ];
    let run = |dir: &Path, threads: &str| {
        // Relative output folders: the artifact records the configuration.
        let out = train_cmd()
            .current_dir(dir)
            .env("RAYON_NUM_THREADS", threads)
            .args(args)
            .args(["-q", "--out", "experiments", "--model-dir", "models"])
            .output()
            .unwrap();
        assert_ok(&out);
    };
    run(a.path(), "1");
    run(b.path(), "2");
    assert_eq!(
        file_bytes(a.path(), "metrics"),
        file_bytes(b.path(), "metrics"),
        "metrics.json differs"
    );
    assert_eq!(
        file_bytes(a.path(), "model"),
        file_bytes(b.path(), "model"),
        "artifact differs"
    );
}

#[test]
fn messy_csv_bom_crlf_quotes_semicolons() {
    let d = tmp();
    let mut text = String::from("\u{feff}id;note;x;group;label\r\n");
    for i in 0..200 {
        let x = i % 10;
        let label = if (i * 7) % 10 < 3 { "Yes" } else { "No" };
        let note = if i % 3 == 0 {
            format!("\"says \"\"hi\"\"; call\nback {i}\"")
        } else {
            format!("\"free text {i}\"")
        };
        let xs = if i % 50 == 0 {
            " ".to_string()
        } else {
            format!(" {x} ")
        };
        text.push_str(&format!(
            "{i};{note};{xs};{};{label}\r\n",
            if i % 2 == 0 { "a" } else { "b" }
        ));
    }
    let p = write(d.path(), "messy.csv", &text);
    train(
        d.path(),
        args!["--data", p, "--target", "label", "--folds", "3",],
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir(d.path()).join("data_report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["rows_read"], 200);
    assert_eq!(report["positive_label"], "Yes");
    assert_eq!(report["imputed_cells"]["x"], 4);
    let excluded: Vec<&str> = report["excluded_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        excluded.contains(&"id") && excluded.contains(&"note"),
        "{excluded:?}"
    );
}

/// Bad input: non-zero exit, one clear line on stderr, nothing written.
fn fails_cleanly(args: &[impl AsRef<std::ffi::OsStr> + std::fmt::Debug], expect: &str) {
    let d = tmp();
    let out = train_cmd()
        .args(args)
        .arg("--out")
        .arg(d.path().join("experiments"))
        .arg("--model-dir")
        .arg(d.path().join("models"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert!(
        errors.len() == 1 && errors[0].contains(expect),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !d.path().join("experiments").exists() && !d.path().join("models").exists(),
        "wrote output on error"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let d = tmp();
    let empty = write(d.path(), "empty.csv", "");
    let header_only = write(d.path(), "header.csv", "a,b,churned\n");
    let one_class = write(d.path(), "one.csv", "a,churned\n1,0\n2,0\n3,0\n");
    let three = write(d.path(), "three.csv", "a,churned\n1,x\n2,y\n3,z\n");
    let ids_only = write(
        d.path(),
        "ids.csv",
        "customer_id,churned\n1,0\n2,1\n3,0\n4,1\n",
    );
    fails_cleanly(&args!["--data", empty], "empty");
    fails_cleanly(&args!["--data", header_only], "no rows");
    fails_cleanly(&args!["--data", one_class], "only one class");
    fails_cleanly(&args!["--data", three], "'x', 'y', 'z'");
    fails_cleanly(&args!["--data", ids_only], "no usable feature");
    // A record short of fields is named, not read as blanks ("the label is blank").
    let short = write(d.path(), "short.csv", "a,b,churned\n1,2,0\n3,4\n5,6,1\n");
    fails_cleanly(
        &args!["--data", short],
        "row 2: 2 fields where the header has 3",
    );
    fails_cleanly(
        &args!["--data", one_class, "--target", "nope"],
        "column 'nope'",
    );
    fails_cleanly(&["--data", "/no/such/file.csv"], "/no/such/file.csv");
    fails_cleanly(&["--threshold-rule", "recall:2"], "threshold rule");
    fails_cleanly(&["--folds", "1"], "folds");
}

#[test]
fn toml_config_is_overridden_by_flags() {
    let d = tmp();
    let data = shared("datasets/bank_churn.csv");
    let cfg = write(
        d.path(),
        "c.toml",
        &format!(
            "[data]\npath = \"{}\"\ntarget = \"Exited\"\n[train]\nmodels = [\"decision_tree\", \"logistic_regression\"]\nfolds = 4\n[decision_tree]\nmax_depth = 4\n",
            data.display()
        ),
    );
    train(
        d.path(),
        args![
            "--config",
            cfg,
            "--folds",
            "3",
            "--threshold-rule",
            "recall:0.7",
        ],
    );
    let m = metrics(d.path());
    assert_eq!(m["folds"], 3);
    assert_eq!(m["threshold_rule"], "recall:0.7");
    assert!(m["models"]["random_forest"].is_null());
    assert!(
        m["models"]["decision_tree"]["oof"]["recall"]
            .as_f64()
            .unwrap()
            >= 0.7
    );
    let bad = write(d.path(), "bad.toml", "[train]\nfoldz = 3\n");
    fails_cleanly(&args!["--config", bad], "foldz");
}

#[test]
fn out_of_time_validation_on_a_flat_table_with_periods() {
    let d = tmp();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customers.csv"),
    )
    .unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().take(6001).enumerate() {
        let period = match i {
            0 => "period",
            1..=2000 => "2024-01",
            2001..=4000 => "2024-02",
            _ => "2024-03",
        };
        out += &format!("{line},{period}\n");
    }
    let data = write(d.path(), "periods.csv", &out);
    train(
        d.path(),
        args![
            "--data",
            data,
            "--validation",
            "out-of-time",
            "--models",
            "logistic_regression",
        ],
    );
    let m = metrics(d.path());
    let lr = &m["models"]["logistic_regression"];
    assert!(lr["out_of_time"]["roc_auc"].as_f64().unwrap() > 0.7);
    // Cross-validated on the two earlier periods only (4,000 rows less the
    // few duplicate customers the generator plants).
    let rows = m["rows"].as_u64().unwrap();
    assert!((3950..=4000).contains(&rows), "{rows}");
}
