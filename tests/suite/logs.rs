//! Training and scoring from raw logs, driven like a user: no future leaks
//! into a feature or a score, scoring builds the features `churn-train
//! features` builds, the planted drivers of the generated bank are found
//! and ranked as well as the planted hazard ranks, bad log rows are counted,
//! and bad requests fail with one line and leave nothing behind. Also runs
//! on the real Czech bank log (Berka) with a column mapping.

use crate::common;
use churn::logs::dates::{iso, parse_iso};
use common::*;
use polars::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn run_train(args: &[String]) -> Output {
    train_cmd().args(args).output().unwrap()
}

fn features(logs: &Path, extra: &[impl AsRef<std::ffi::OsStr>], out: &Path) {
    let mut args = vec!["features".to_string()];
    args.extend(log_args(logs));
    args.extend(
        extra
            .iter()
            .map(|s| s.as_ref().to_string_lossy().to_string()),
    );
    args.extend(["--out".into(), out.display().to_string()]);
    let o = run_train(&args);
    assert_ok(&o);
}

fn read(path: &Path) -> DataFrame {
    churn::ingest::read_frame(path, None).unwrap()
}

/// A frame without its label column, every column as text (CSV and Parquet
/// versions of one table compare equal).
fn unlabelled(df: DataFrame) -> DataFrame {
    let df = df.drop("churned").unwrap_or(df);
    let cols: Vec<Column> = df
        .columns()
        .iter()
        .map(|c| c.cast(&DataType::String).unwrap())
        .collect();
    DataFrame::new_infer_height(cols).unwrap()
}

/// Copy of the logs in `src` holding only rows dated before `as_of`.
fn cut_logs(src: &Path, dst: &Path, as_of: &str) {
    std::fs::create_dir_all(dst).unwrap();
    std::fs::copy(src.join("customers.csv"), dst.join("customers.csv")).unwrap();
    let d = parse_iso(as_of).unwrap();
    let txn = read(&src.join("transactions.parquet"));
    let days = txn
        .column("timestamp")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    let before: BooleanChunked = days
        .i32()
        .unwrap()
        .iter()
        .map(|t| t.map(|t| t < d))
        .collect();
    let mut txn = txn.filter(&before).unwrap();
    churn::io::write_frame(&dst.join("transactions.parquet"), &mut txn).unwrap();
    let events = std::fs::read_to_string(src.join("events.csv")).unwrap();
    let kept: String = events
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.split(',').nth(1).unwrap() < as_of)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(dst.join("events.csv"), kept).unwrap();
}

/// Plant rows dated on and after `as_of` into the logs in `dir`: huge
/// transactions, complaints and account closures for customers 1–60.
fn plant_future(dir: &Path, as_of: &str) {
    let d = parse_iso(as_of).unwrap();
    let path = dir.join("transactions.parquet");
    let mut txn = read(&path);
    let n = 120;
    let mut planted = df!(
        "customer_id" => (0..n).map(|i| 1 + (i % 60) as i64).collect::<Vec<_>>(),
        "timestamp" => (0..n).map(|i| d + (i % 20) as i32).collect::<Vec<_>>(),
        "amount" => vec![1.0e6; n],
        "channel" => vec!["online"; n],
        "revenue" => vec![5.0e3; n],
        "cost" => vec![1.0; n],
        "balance" => vec![-1.0e7; n],
    )
    .unwrap();
    let dates = planted.column("timestamp").unwrap().cast(&DataType::Date);
    planted.with_column(dates.unwrap()).unwrap();
    txn.vstack_mut(&planted).unwrap();
    churn::io::write_frame(&path, &mut txn).unwrap();
    let mut events = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    for id in 1..=60 {
        for (k, kind) in ["complaint", "overdue_notice", "login", "account_close"]
            .iter()
            .enumerate()
        {
            events += &format!("{id},{},{kind}\n", iso(d + k as i32));
        }
    }
    std::fs::write(dir.join("events.csv"), events).unwrap();
}

/// Train on `logs` (snapshots before 2024-07) into `dir`; the model path.
fn train_model(dir: &Path, logs: &Path) -> PathBuf {
    let mut args = log_args(logs);
    args.extend(
        [
            "--as-of",
            "2024-01-01,2024-04-01",
            "--models",
            "random_forest",
            "-q",
        ]
        .map(String::from),
    );
    args.extend([
        "--out".into(),
        dir.join("experiments").display().to_string(),
        "--model-dir".into(),
        dir.join("models").display().to_string(),
    ]);
    let o = run_train(&args);
    assert_ok(&o);
    dir.join("models").join("latest")
}

/// Score the snapshot `as_of` of `logs`; the run folder.
fn score_logs(model: &Path, logs: &Path, as_of: &str, runs: &Path) -> PathBuf {
    let o = score_cmd()
        .arg("--model")
        .arg(model)
        .args(log_args(logs))
        .args(["--as-of", as_of, "-q", "--runs-dir"])
        .arg(runs)
        .output()
        .unwrap();
    assert_ok(&o);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1);
    dirs.pop().unwrap()
}

#[test]
fn the_future_changes_no_feature_and_no_score() {
    let d = tempdir();
    let as_of = "2024-07-01";
    let logs = generate_logs(d.path(), 1500, 5);
    let model = train_model(d.path(), &logs);
    let cut = d.path().join("cut");
    cut_logs(&logs, &cut, as_of);
    plant_future(&logs, as_of);

    // Features: the full log with planted future rows vs the log cut at D.
    let (full_f, cut_f) = (d.path().join("full.csv"), d.path().join("cut.csv"));
    features(&logs, &["--as-of", as_of, "--horizon", "30d"], &full_f);
    features(&cut, &["--as-of", as_of, "--horizon", "30d"], &cut_f);
    let full = read(&full_f);
    assert!(
        full.column("churned").is_ok(),
        "the window is inside the full log: labelled"
    );
    assert!(
        read(&cut_f).column("churned").is_err(),
        "no label past the cut"
    );
    assert_eq!(full.height(), read(&cut_f).height());
    assert!(unlabelled(full).equals_missing(&unlabelled(read(&cut_f))));

    // Scores: byte-identical.
    let a = score_logs(&model, &logs, as_of, &d.path().join("runs_full"));
    let b = score_logs(&model, &cut, as_of, &d.path().join("runs_cut"));
    let scores = |dir: &Path| std::fs::read(dir.join("scores.csv")).unwrap();
    assert!(!scores(&a).is_empty());
    assert_eq!(
        scores(&a),
        scores(&b),
        "scores differ with future rows in the log"
    );
    let text = String::from_utf8(scores(&a)).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.ends_with(",rfm_cell,lifecycle_stage"), "{header}");
}

#[test]
fn scoring_builds_the_features_that_churn_train_features_builds() {
    let d = tempdir();
    let logs = generate_logs(d.path(), 1200, 8);
    let model = train_model(d.path(), &logs);
    let as_of = "2024-08-15";
    let run = score_logs(&model, &logs, as_of, &d.path().join("runs"));
    let scored = read(&run.join("features.parquet"));
    let built = d.path().join("built.parquet");
    features(&logs, &args!["--as-of", as_of, "--model", model], &built);
    let built = read(&built);
    assert!(built.column("churned").is_ok());
    assert!(scored.height() > 500);
    assert_eq!(
        scored.get_column_names(),
        unlabelled(built.clone()).get_column_names()
    );
    assert!(unlabelled(scored).equals_missing(&unlabelled(built)));
    // A failed scoring job (no event log for a model trained with one; a
    // date past the log) writes nothing, not even the built features.
    for (drop_events, date) in [(true, as_of), (false, "2031-01-01")] {
        let runs = d.path().join("failed_runs");
        let mut args = log_args(&logs);
        if drop_events {
            args.truncate(4);
        }
        let o = score_cmd()
            .arg("--model")
            .arg(&model)
            .args(&args)
            .args(["--as-of", date, "-q", "--runs-dir"])
            .arg(&runs)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("error:") && err.lines().count() == 1,
            "{err}"
        );
        assert!(!runs.exists(), "{err}");
    }
    // Every scored customer was in the snapshot, once.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["rows_scored"].as_u64(),
        summary["logs"]["snapshots"][0]["customers"].as_u64()
    );
}

/// ROC AUC of the planted monthly hazard at `as_of` against the labels of
/// the feature table `labelled` (customer_id, churned).
fn oracle_auc(logs: &Path, labelled: &Path, as_of: &str) -> f64 {
    let hazard = std::fs::read_to_string(logs.join("hazard.csv")).unwrap();
    let h: HashMap<&str, f64> = hazard
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == as_of).then(|| (f[0], f[2].parse().unwrap()))
        })
        .collect();
    let t = read(labelled);
    let ids = t
        .column("customer_id")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let y = t
        .column("churned")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let (ids, y) = (ids.str().unwrap(), y.f64().unwrap());
    let p: Vec<f64> = ids.iter().map(|id| h[id.unwrap()]).collect();
    let y: Vec<u8> = y.into_no_null_iter().map(|v| v as u8).collect();
    churn::stats::roc_auc(&y, &p)
}

#[test]
fn planted_drivers_are_found_and_out_of_time_auc_matches_the_planted_hazard() {
    let d = tempdir();
    let logs = generate_logs(d.path(), 5000, 3);
    let mut args = log_args(&logs);
    args.extend(
        [
            "--snapshots",
            "2023-07-01..2024-09-01:monthly",
            "--churn-rule",
            "closed",
            "--validation",
            "out-of-time",
            "--models",
            "random_forest,logistic_regression",
            "-q",
        ]
        .map(String::from),
    );
    args.extend([
        "--out".into(),
        d.path().join("experiments").display().to_string(),
    ]);
    args.extend([
        "--model-dir".into(),
        d.path().join("models").display().to_string(),
    ]);
    let o = run_train(&args);
    assert_ok(&o);
    let m = metrics(d.path());
    let best = m["best_model"].as_str().unwrap();
    let oot = m["models"][best]["out_of_time"]["roc_auc"]
        .as_f64()
        .unwrap();
    assert!(m["models"][best]["oof"]["roc_auc"].is_number());

    let labelled = d.path().join("latest.csv");
    features(
        &logs,
        &["--as-of", "2024-09-01", "--churn-rule", "closed"],
        &labelled,
    );
    let oracle = oracle_auc(&logs, &labelled, "2024-09-01");
    eprintln!("out-of-time ROC AUC {oot:.4} ({best}), planted hazard {oracle:.4}");
    assert!(
        (oot - oracle).abs() <= 0.03,
        "model {oot:.4} vs planted hazard {oracle:.4}"
    );

    // The planted drivers: complaints, overdue notices, product depth and
    // falling activity are all among the saved model's top 15 features.
    let report = std::fs::read_to_string(run_dir(d.path()).join("report.md")).unwrap();
    let top: Vec<&str> = report
        .split("## Top features of the saved model")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next())
        .filter(|f| *f != "feature" && !f.starts_with('-'))
        .take(15)
        .collect();
    let found = |prefixes: &[&str]| {
        top.iter()
            .any(|f| prefixes.iter().any(|p| f.starts_with(p)))
    };
    assert!(
        found(&["complaints_", "days_since_last_complaint"]),
        "{top:?}"
    );
    assert!(found(&["overdue_"]), "{top:?}");
    assert!(found(&["num_products"]), "{top:?}");
    assert!(
        found(&[
            "count_trend",
            "amount_trend",
            "login_trend",
            "txn_count_",
            "logins_",
            "recency",
            "days_since_last_login",
            "r_score",
            "f_score"
        ]),
        "{top:?}"
    );
    // Report: results per snapshot and the out-of-time table.
    let html = std::fs::read_to_string(run_dir(d.path()).join("report.html")).unwrap();
    assert!(html.contains("id=\"out-of-time-table\"") && html.contains("2024-08-01"));
}

#[test]
fn bad_log_rows_are_counted_and_reported() {
    let d = tempdir();
    let logs = generate_logs(d.path(), 1500, 9);
    // The transaction log as CSV, with one bad row of each kind appended.
    let mut txn = read(&logs.join("transactions.parquet"));
    let csv = logs.join("transactions.csv");
    churn::io::write_frame(&csv, &mut txn).unwrap();
    let mut text = std::fs::read_to_string(&csv).unwrap();
    for bad in [
        "1,2024-13-45,10.0,card,0.1,0.15,100.0",   // bad date
        "1,2024-05-01,ten,card,0.1,0.15,100.0",    // bad amount
        "2,2024-05-01,-5.0,card,0.1,0.15,100.0",   // negative amount
        "999999,2024-05-01,5.0,card,0.1,0.15,1.0", // unknown customer
        ",2024-05-01,5.0,card,0.1,0.15,1.0",       // no id
        "3,,5.0,card,0.1,0.15,1.0",                // no date
    ] {
        text += bad;
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();
    let mut events = std::fs::read_to_string(logs.join("events.csv")).unwrap();
    events += "4,05/01/2024,login\n123456789,2024-05-01,login\n5,2024-05-01,teleport\n";
    std::fs::write(logs.join("events.csv"), events).unwrap();
    let mut args = log_args(&logs);
    args[3] = csv.display().to_string();
    args.extend(
        [
            "--as-of",
            "2024-03-01,2024-06-01",
            "--models",
            "logistic_regression",
        ]
        .map(String::from),
    );
    train(d.path(), &args);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir(d.path()).join("data_report.json")).unwrap(),
    )
    .unwrap();
    let t = &report["logs"]["transactions"];
    assert_eq!(t["rows_read"].as_u64().unwrap(), txn.height() as u64 + 6);
    assert_eq!(t["rows_used"].as_u64().unwrap(), txn.height() as u64);
    for (k, n) in [
        ("bad_date", 2),
        ("bad_amount", 1),
        ("negative_amount", 1),
        ("unknown_customer", 1),
        ("missing_id", 1),
    ] {
        assert_eq!(t[k].as_u64(), Some(n), "transactions.{k}");
    }
    let e = &report["logs"]["events"];
    assert_eq!(e["bad_date"].as_u64(), Some(1));
    assert_eq!(e["unknown_customer"].as_u64(), Some(1));
    assert_eq!(e["other_kind"].as_u64(), Some(1));
    let s = &report["logs"]["snapshots"];
    assert_eq!(s.as_array().unwrap().len(), 2);
    assert!(s[0]["closed_before"].as_u64().unwrap() < s[1]["closed_before"].as_u64().unwrap());
}

/// Run churn-train with `args` expecting a one-line error containing every
/// one of `needles`, and nothing written.
fn fails(dir: &Path, args: &[String], needles: &[&str]) {
    let mut all = args.to_vec();
    all.extend([
        "--out".into(),
        dir.join("experiments").display().to_string(),
        "--model-dir".into(),
        dir.join("models").display().to_string(),
    ]);
    let o = run_train(&all);
    let err = String::from_utf8_lossy(&o.stderr);
    // 1 for a failed job, 2 for a flag clap refuses; never a panic (101).
    assert!(matches!(o.status.code(), Some(1 | 2)), "{args:?}: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{err}"));
    for n in needles {
        assert!(line.contains(n), "{line} lacks {n}");
    }
    assert!(!err.contains("panicked"));
    assert!(!dir.join("experiments").exists() && !dir.join("models").exists());
}

#[test]
fn bad_requests_fail_with_one_line_and_write_nothing() {
    let d = tempdir();
    let logs = generate_logs(d.path(), 300, 2);
    let with = |extra: &[&str]| {
        let mut a = log_args(&logs);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    fails(
        d.path(),
        &with(&["--as-of", "2031-01-01"]),
        &["outside the log", "2024-12-31"],
    );
    fails(
        d.path(),
        &with(&["--as-of", "2022-06-01"]),
        &["outside the log"],
    );
    fails(
        d.path(),
        &with(&["--as-of", "2024-12-01", "--horizon", "90d"]),
        &["cannot be known", "2024-12-31"],
    );
    fails(d.path(), &with(&["--as-of", "2024-02-30"]), &["2024-02-30"]);
    fails(
        d.path(),
        &with(&["--as-of", "2024-02-01", "--horizon", "ninety"]),
        &["horizon"],
    );
    fails(d.path(), &with(&[]), &["as-of"]);
    fails(
        d.path(),
        &with(&["--as-of", "2024-02-01", "--churn-rule", "drop:7"]),
        &["drop"],
    );

    // An empty log, a log without an amount column, an empty file.
    let empty = write(d.path(), "empty.csv", "customer_id,timestamp,amount\n");
    let no_amount = write(
        d.path(),
        "no_amount.csv",
        "customer_id,timestamp\n1,2024-01-01\n",
    );
    let blank = write(d.path(), "blank.csv", "");
    for (file, needles) in [
        (&empty, vec!["empty.csv", "no usable rows"]),
        (&no_amount, vec!["no_amount.csv", "amount"]),
        (&blank, vec!["blank.csv", "empty"]),
    ] {
        let mut a = with(&["--as-of", "2024-02-01"]);
        a[3] = file.display().to_string();
        fails(d.path(), &a, &needles);
    }
}

#[test]
fn trains_on_a_real_bank_log_with_a_column_mapping() {
    let d = tempdir();
    let berka = shared("datasets/berka");
    let config = write(
        d.path(),
        "berka.toml",
        &format!(
            r#"[logs]
customers = "{}"
transactions = "{}"
date_format = "%y%m%d"
as_of = ["1993-09-01", "1993-10-01", "1993-11-01", "1993-12-01"]
churn_rule = "drop:0.5"

[logs.columns]
customer_id = "account_id"
open_date = "date"
timestamp = "date"
"#,
            berka.join("account.asc").display(),
            berka.join("trans_first49k.asc").display()
        ),
    );
    train(
        d.path(),
        args!["--config", config, "--models", "random_forest",],
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir(d.path()).join("data_report.json")).unwrap(),
    )
    .unwrap();
    let logs = &report["logs"];
    assert_eq!(logs["first_date"], "1993-01-01");
    assert_eq!(logs["last_date"], "1994-03-31");
    assert_eq!(logs["customers"]["rows_used"], 4500);
    assert_eq!(logs["transactions"]["bad_date"], 0);
    assert!(logs["transactions"]["rows_used"].as_u64().unwrap() > 49_000);
    // Customers opened later are not in an early snapshot.
    let s = logs["snapshots"].as_array().unwrap();
    assert!(s[0]["customers"].as_u64() < s[3]["customers"].as_u64());
    assert!(s.iter().all(|s| s["churned"].as_u64().unwrap() > 5));
    let auc = oof_auc(&metrics(d.path()), "random_forest");
    assert!(auc > 0.7, "{auc}");
}

#[test]
fn snapshots_with_less_history_than_the_windows_are_named() {
    let d = tempdir();
    let mut args = log_args(Path::new("data/logs"));
    args.extend(
        [
            "--as-of",
            "2023-03-01,2024-04-01",
            "--models",
            "logistic_regression",
        ]
        .map(String::from),
    );
    let out = train(d.path(), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    let line = "1 of 2 snapshot(s) (2023-03-01 … 2023-03-01) have less log history than the 365-day feature windows";
    assert!(err.contains(&format!("warning: {line}")), "{err}");
    let run = run_dir(d.path());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data_report.json")).unwrap())
            .unwrap();
    let logs = &report["logs"];
    let first = churn::logs::dates::parse_as_of(logs["first_date"].as_str().unwrap()).unwrap();
    let march = churn::logs::dates::parse_as_of("2023-03-01").unwrap();
    let s = &logs["snapshots"];
    assert_eq!(
        s[0]["history_days"].as_i64(),
        Some(i64::from(march - first)),
        "{s}"
    );
    assert!(
        s[1].get("history_days").is_none(),
        "a full year behind 2024-04-01: {s}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains(line), "the report says it too");
}
