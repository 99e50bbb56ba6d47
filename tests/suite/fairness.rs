//! Protected attributes stay out of the model by default, never become a
//! reason, and every run reports the figures per group (issue: fair treatment).

use crate::common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The columns of a CSV file (no quoted commas in the shared sets).
fn csv_columns(path: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols: BTreeMap<String, Vec<String>> =
        head.iter().map(|h| (h.clone(), Vec::new())).collect();
    for line in lines {
        for (h, v) in head.iter().zip(line.split(',')) {
            cols.get_mut(h).unwrap().push(v.to_string());
        }
    }
    cols
}

/// Train on the bank table with `extra` flags, score it; (run folder, scores.csv text, artifact).
fn bank_run(d: &Path, extra: &[&str]) -> (std::path::PathBuf, String, Value) {
    let data = shared("datasets/bank_churn.csv");
    let mut args = vec![
        "--data",
        data.to_str().unwrap(),
        "--target",
        "Exited",
        "--models",
        "random_forest,logistic_regression",
    ];
    args.extend(extra);
    train(d, &args);
    let model = d.join("models/latest");
    let scores = d.join("scores.csv");
    let out = score_cmd()
        .args(args![
            "--model", model, "--data", data, "-q", "--out", scores,
        ])
        .arg("--runs-dir")
        .arg(d.join("score-runs"))
        .output()
        .unwrap();
    assert_ok(&out);
    (
        run_dir(d),
        std::fs::read_to_string(&scores).unwrap(),
        json(&model),
    )
}

fn reasons_cite(scores: &str, column: &str) -> usize {
    let mut lines = scores.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols: Vec<usize> = head
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("reason_"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(cols.len(), 3);
    lines
        .filter(|l| {
            cols.iter().any(|&c| {
                l.split(',')
                    .nth(c)
                    .is_some_and(|r| r.starts_with(&format!("{column}=")))
            })
        })
        .count()
}

#[test]
fn bank_gender_is_out_by_default_and_reported_per_group() {
    let d = tempdir();
    let (run, scores, art) = bank_run(d.path(), &[]);
    let schema: Vec<&str> = art["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !schema.contains(&"Gender") && schema.contains(&"Age"),
        "schema {schema:?}"
    );
    assert_eq!(reasons_cite(&scores, "Gender"), 0);
    assert!(
        reasons_cite(&scores, "Age") > 0,
        "age stays a feature and a reason"
    );
    let report = json(&run.join("data_report.json"));
    assert_eq!(report["protected"], serde_json::json!(["Gender"]));
    assert_eq!(report["sensitive"], serde_json::json!(["Age"]));
    let m = json(&run.join("metrics.json"));
    let g = &m["fairness"]["Gender"];
    assert_eq!(g["role"], "protected");
    assert!(
        g["disparate_impact"].as_f64().is_some() && g["equal_opportunity_gap"].as_f64().is_some()
    );
    let bands: Vec<&String> = m["fairness"]["Age"]["groups"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(
        bands.iter().any(|b| *b == "30-44") && bands.iter().any(|b| *b == "60+"),
        "{bands:?}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains(r#"id="fairness""#) && html.contains("Gender (protected: not a feature)")
    );

    // The figures are those of oof.csv and the data, counted directly.
    let best = m["best_model"].as_str().unwrap();
    let threshold = m["models"][best]["oof"]["threshold"].as_f64().unwrap();
    let oof = csv_columns(&run.join("oof.csv"));
    let data = csv_columns(&shared("datasets/bank_churn.csv"));
    let gender: BTreeMap<&str, &str> = data["CustomerId"]
        .iter()
        .map(String::as_str)
        .zip(data["Gender"].iter().map(String::as_str))
        .collect();
    let mut count: BTreeMap<&str, [f64; 5]> = BTreeMap::new(); // rows, flagged, churners, caught, score sum
    for ((id, label), p) in oof["id"].iter().zip(&oof["label"]).zip(&oof[best]) {
        let (p, churn): (f64, bool) = (p.parse().unwrap(), label == "1");
        let c = count.entry(gender[id.as_str()]).or_default();
        let flagged = p >= threshold;
        c[0] += 1.0;
        c[1] += flagged as u8 as f64;
        c[2] += churn as u8 as f64;
        c[3] += (flagged && churn) as u8 as f64;
        c[4] += p;
    }
    for (group, c) in &count {
        let f = &g["groups"][*group];
        assert_eq!(f["rows"].as_f64().unwrap(), c[0], "{group}");
        assert!(
            (f["flag_rate"].as_f64().unwrap() - c[1] / c[0]).abs() < 1e-12,
            "{group}"
        );
        assert!(
            (f["churn_rate"].as_f64().unwrap() - c[2] / c[0]).abs() < 1e-12,
            "{group}"
        );
        assert!(
            (f["tpr"].as_f64().unwrap() - c[3] / c[2]).abs() < 1e-12,
            "{group}"
        );
        assert!(
            (f["precision"].as_f64().unwrap() - c[3] / c[1]).abs() < 1e-12,
            "{group}"
        );
        assert!(
            (f["mean_score"].as_f64().unwrap() - c[4] / c[0]).abs() < 1e-9,
            "{group}"
        );
    }
    let rates: Vec<f64> = count.values().map(|c| c[1] / c[0]).collect();
    let di = rates.iter().cloned().fold(f64::INFINITY, f64::min)
        / rates.iter().cloned().fold(0.0, f64::max);
    assert!((g["disparate_impact"].as_f64().unwrap() - di).abs() < 1e-12);
    assert_eq!(g["four_fifths_flag"].as_bool().unwrap(), di < 0.8);

    // The scoring run reports the same columns per batch.
    let summaries: Vec<_> = std::fs::read_dir(d.path().join("score-runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("summary.json"))
        .collect();
    let s = json(&summaries[0]);
    assert!(
        s["fairness"]["Gender"]["groups"]["Female"]["flag_rate"]
            .as_f64()
            .is_some(),
        "{}",
        s["fairness"]
    );
    assert!(
        s["fairness"]["Age"]["groups"]["45-59"]["rows"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn allowing_gender_makes_it_a_feature_with_a_warning_and_never_a_reason() {
    let d = tempdir();
    let (run, scores, art) = bank_run(d.path(), &["--allow-protected", "Gender"]);
    let schema: Vec<&str> = art["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(schema.contains(&"Gender"), "schema {schema:?}");
    assert_eq!(
        reasons_cite(&scores, "Gender"),
        0,
        "reason codes never cite a protected attribute"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains("WARNING") && html.contains("USED AS A FEATURE"),
        "model card warns"
    );
    let m = json(&run.join("metrics.json"));
    assert_eq!(m["fairness"]["Gender"]["role"], "protected_allowed");
}

#[test]
fn telco_gender_is_out_and_senior_citizen_is_a_watched_feature() {
    let d = tempdir();
    let data = shared("datasets/telco_churn.csv");
    train(
        d.path(),
        args![
            "--data",
            data,
            "--target",
            "Churn",
            "--models",
            "logistic_regression",
        ],
    );
    let run = run_dir(d.path());
    let report = json(&run.join("data_report.json"));
    assert_eq!(report["protected"], serde_json::json!(["gender"]));
    assert_eq!(report["sensitive"], serde_json::json!(["SeniorCitizen"]));
    let art = json(&d.path().join("models/latest"));
    let schema: Vec<&str> = art["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !schema.contains(&"gender") && schema.contains(&"SeniorCitizen"),
        "{schema:?}"
    );
    let m = json(&run.join("metrics.json"));
    let groups: Vec<&String> = m["fairness"]["SeniorCitizen"]["groups"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(groups, ["0", "1"]);
}
