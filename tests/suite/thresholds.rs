//! Thresholds per customer group (issue 37): `--threshold-by` applies the
//! threshold rule to each group's out-of-fold scores, the artifact carries
//! them, and scoring flags every customer by its group's threshold (the
//! service's agreement is checked in `serve.rs`).

use std::path::Path;

use crate::common;
use common::*;

/// The (group → threshold) of a model's artifact, and the global threshold.
fn artifact_thresholds(model: &Path) -> (serde_json::Value, f64) {
    let art: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    let groups = art["scoring"]["thresholds"]["groups"].clone();
    (groups, art["threshold"].as_f64().unwrap())
}

#[test]
fn recall_per_value_tier_holds_in_every_group_and_scoring_flags_by_group() {
    let dir = tempdir();
    let d = dir.path();
    let model = train_bank(
        d,
        &[
            "--models",
            "logistic_regression",
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "recall:0.7",
        ],
    );
    let m = metrics(d);
    let groups = m["thresholds"].as_object().expect("thresholds per group");
    assert!(groups.len() >= 3, "{groups:?}");
    let mut own_off = 0.0f64;
    let mut global_off = 0.0f64;
    for (name, g) in groups {
        if g["positives"].as_u64().unwrap() < 50 {
            assert!(g["fallback"].as_bool().unwrap(), "{name}");
            continue;
        }
        own_off = own_off.max((g["recall"].as_f64().unwrap() - 0.7).abs());
        global_off = global_off.max((g["global"]["recall"].as_f64().unwrap() - 0.7).abs());
    }
    assert!(own_off <= 0.05, "a group's recall is {own_off} off 0.7");
    assert!(
        global_off > 0.05,
        "one global threshold misses 0.7 in some group (by {global_off})"
    );
    let whole = &m["threshold_by"];
    assert!((whole["with_groups"]["recall"].as_f64().unwrap() - 0.7).abs() < 0.02);

    // Scoring: every customer flagged by its group's threshold, in the
    // file and in the database alike.
    let (groups, global) = artifact_thresholds(&model);
    let csv = d.join("scores.csv");
    let db = d.join("crm.db");
    let data = shared("datasets/bank_churn.csv");
    for out in [
        csv.display().to_string(),
        format!("sqlite:{}", db.display()),
    ] {
        score_run(
            &model,
            &d.join("runs"),
            args!["--data", data, "--out", out, "-q"],
        );
    }
    let (h, rows) = read_csv(&csv);
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        let group = &r[col("threshold_group")];
        let t = match group.as_str() {
            "global" => global,
            g => groups[g]["threshold"].as_f64().unwrap(),
        };
        let p: f64 = r[col("churn_probability")].parse().unwrap();
        assert_eq!(r[col("churn_flag")] == "1", p >= t, "{r:?}");
        let alarmed = matches!(r[col("warning_level")].as_str(), "red" | "orange");
        assert_eq!(alarmed, p >= t, "orange at the group's threshold: {r:?}");
        if group != "global" {
            assert_eq!(group, &r[col("value_tier")]);
        }
        seen.insert(group.clone());
    }
    assert!(seen.len() >= 3, "{seen:?}");
    let in_db = sqlite(
        &db,
        "SELECT id, threshold_group, churn_flag FROM churn_scores ORDER BY rowid",
    );
    let from_csv: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}",
                r[0],
                r[col("threshold_group")],
                r[col("churn_flag")]
            )
        })
        .collect();
    let mut a: Vec<&str> = in_db.lines().collect();
    let mut b: Vec<&str> = from_csv.iter().map(String::as_str).collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn capacity_is_shared_among_groups_and_small_groups_fall_back() {
    let dir = tempdir();
    let d = dir.path();
    train_bank(
        d,
        &[
            "--models",
            "logistic_regression",
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "capacity:0.05",
        ],
    );
    let whole = &metrics(d)["threshold_by"];
    let rate = whole["with_groups"]["flag_rate"].as_f64().unwrap();
    assert!(rate <= 0.05 + 1e-9 && rate > 0.04, "{rate}");
    // Quotas: the high-value tier gets 60% of the calls, the rest share 40%.
    let quotas = write(d, "q.toml", "[train.capacity_quotas]\nhigh-value = 0.6\n");
    let dir2 = tempdir();
    train_bank(
        dir2.path(),
        &[
            "--models",
            "logistic_regression",
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "capacity:0.05",
            "--config",
            quotas.to_str().unwrap(),
        ],
    );
    let m = metrics(dir2.path());
    let hv = &m["thresholds"]["high-value"];
    let calls = hv["flag_rate"].as_f64().unwrap() * hv["rows"].as_f64().unwrap();
    assert!(
        calls <= 300.0 + 1e-6 && calls > 270.0,
        "high-value calls {calls}"
    );
    let too_much = write(
        d,
        "q2.toml",
        "[train.capacity_quotas]\nhigh-value = 0.7\ndormant = 0.5\n",
    );
    let out = train_cmd()
        .args(args![
            "--data",
            shared("datasets/bank_churn.csv"),
            "--target",
            "Exited"
        ])
        .args([
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "capacity:0.05",
            "-q",
            "--config",
        ])
        .arg(&too_much)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("capacity_quotas"),
        "{err}"
    );
    // Every group too small: all fall back, and say so.
    let dir = tempdir();
    let d = dir.path();
    let model = train_bank(
        d,
        &[
            "--models",
            "logistic_regression",
            "--threshold-by",
            "Geography",
            "--min-group-positives",
            "100000",
        ],
    );
    let m = metrics(d);
    for (name, g) in m["thresholds"].as_object().unwrap() {
        assert!(g["fallback"].as_bool().unwrap(), "{name}");
        assert_eq!(
            g["threshold"],
            m["models"]["logistic_regression"]["oof"]["threshold"]
        );
    }
    let (_, err) = score_run(
        &model,
        &d.join("runs"),
        args![
            "--data",
            shared("datasets/bank_churn.csv"),
            "--out",
            d.join("s.csv")
        ],
    );
    assert!(!err.contains("panicked"));
    let (h, rows) = read_csv(&d.join("s.csv"));
    let g = h.iter().position(|c| c == "threshold_group").unwrap();
    assert!(rows.iter().all(|r| r[g] == "global"));
}

#[test]
fn bad_threshold_groups_are_refused_in_one_line_and_models_without_keep_their_bytes() {
    let dir = tempdir();
    let d = dir.path();
    for (flags, says) in [
        (&["--threshold-by", "Nope"][..], "Nope: not a column"),
        (
            &["--threshold-by", "CreditScore"][..],
            "more than 50 groups",
        ),
        (
            &["--threshold-by", "Geography", "--min-group-positives", "0"][..],
            "at least 1",
        ),
        (
            &["--threshold-by", "Geography,Geography"][..],
            "each column once",
        ),
    ] {
        let out = train_cmd()
            .args(args![
                "--data",
                shared("datasets/bank_churn.csv"),
                "--target",
                "Exited"
            ])
            .args(["--models", "logistic_regression", "-q"])
            .args(flags)
            .arg("--out")
            .arg(d.join("x"))
            .arg("--model-dir")
            .arg(d.join("m"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?}");
        assert!(
            err.contains(says) && err.trim().lines().count() == 1,
            "{flags:?}: {err}"
        );
    }
    assert!(!d.join("m").exists(), "nothing saved");
    // Without the flag: no trace in the artifact or the scores.
    let model = train_bank(d, &["--models", "logistic_regression"]);
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(!text.contains("threshold_by") && !text.contains("\"thresholds\""));
    score_run(
        &model,
        &d.join("runs"),
        args![
            "--data",
            shared("datasets/bank_churn.csv"),
            "--out",
            d.join("s.csv"),
            "-q"
        ],
    );
    let (h, _) = read_csv(&d.join("s.csv"));
    assert!(!h.iter().any(|c| c == "threshold_group"));
}

/// Train a logistic regression on the committed log sample's monthly
/// snapshots `snapshots` (label: closed accounts) into `d`, with `extra`.
fn train_logs(d: &Path, snapshots: &str, extra: &[&str]) -> std::path::PathBuf {
    let mut a = log_args(Path::new("data/logs"));
    a.extend(
        [
            "--snapshots",
            snapshots,
            "--churn-rule",
            "closed",
            "--models",
            "logistic_regression",
        ]
        .map(String::from),
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    train(d, &a);
    d.join("models/latest")
}

/// Score the committed log sample with `model` (`extra`: the as-of date and
/// the rest): the run folder.
fn score_logs(d: &Path, model: &Path, extra: &[&str]) -> std::path::PathBuf {
    let mut a = log_args(Path::new("data/logs"));
    a.extend(extra.iter().map(|s| s.to_string()));
    a.push("-q".into());
    score_run(model, &d.join("runs"), &a).0
}

#[test]
fn seasonal_thresholds_follow_the_snapshot_month_and_scoring_picks_the_month() {
    let dir = tempdir();
    let d = dir.path();
    let model = train_logs(
        d,
        "2023-07-01..2024-06-01:monthly",
        &["--threshold-by", "season", "--min-group-positives", "70"],
    );
    let m = metrics(d);
    let groups = m["thresholds"].as_object().unwrap();
    assert_eq!(groups.len(), 12, "one group per calendar month: {groups:?}");
    let thresholds: std::collections::BTreeSet<String> = groups
        .values()
        .map(|g| g["threshold"].to_string())
        .collect();
    assert!(thresholds.len() > 6, "months differ: {thresholds:?}");
    let (art_groups, _) = artifact_thresholds(&model);
    // The as-of date picks its month; --season overrides it.
    for (extra, month) in [(vec![], "Dec"), (vec!["--season", "2025-04-15"], "Apr")] {
        let out = d.join(format!("{month}.csv"));
        let mut a = vec!["--as-of", "2024-12-01", "--out", out.to_str().unwrap()];
        a.extend(extra.iter());
        score_logs(d, &model, &a);
        let (h, rows) = read_csv(&out);
        let col = |n: &str| h.iter().position(|c| c == n).unwrap();
        let t = art_groups[month]["threshold"].as_f64().unwrap();
        for r in &rows {
            assert_eq!(r[col("threshold_group")], month);
            let p: f64 = r[col("churn_probability")].parse().unwrap();
            assert_eq!(r[col("churn_flag")] == "1", p >= t);
        }
    }
    // A month the model has no threshold of its own for (too few churners
    // there in training): the global one, counted in the summary.
    let fallback: Vec<&String> = art_groups
        .as_object()
        .unwrap()
        .iter()
        .filter(|g| g.1["fallback"] == true)
        .map(|g| g.0)
        .collect();
    {
        let month = fallback.first().expect("a month under 70 churners");
        let m = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|x| x == month)
        .unwrap()
            + 1;
        let season = m.to_string();
        let run = score_logs(d, &model, &["--as-of", "2024-12-01", "--season", &season]);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                .unwrap();
        assert!(
            summary["threshold_groups"]["global"].as_u64().unwrap() > 0,
            "{summary}"
        );
    }
    // A flat table without periods cannot group by season.
    let out = train_cmd()
        .args(args![
            "--data",
            shared("datasets/bank_churn.csv"),
            "--target",
            "Exited"
        ])
        .args([
            "--models",
            "logistic_regression",
            "--threshold-by",
            "season",
            "-q",
        ])
        .arg("--out")
        .arg(d.join("x"))
        .arg("--model-dir")
        .arg(d.join("m"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("season: needs each row's period"),
        "{err}"
    );
}

/// `churn-train thresholds ARGS`: (exit ok, stdout, stderr).
fn reassess(d: &Path, args: &[std::ffi::OsString]) -> (bool, String, String) {
    let out = train_cmd()
        .arg("thresholds")
        .args(args)
        .arg("--out")
        .arg(d.join("reassess"))
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The newest thresholds.json under `d/reassess`.
fn reassessment(d: &Path) -> serde_json::Value {
    let mut runs: Vec<_> = std::fs::read_dir(d.join("reassess"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    runs.sort();
    let run = runs.pop().unwrap();
    assert!(run.join("report.html").exists());
    serde_json::from_str(&std::fs::read_to_string(run.join("thresholds.json")).unwrap()).unwrap()
}

#[test]
fn a_past_runs_thresholds_are_reassessed_against_outcomes_and_drift_is_flagged() {
    let dir = tempdir();
    let d = dir.path();
    let bank = shared("datasets/bank_churn.csv");
    let model = train_bank(
        d,
        &[
            "--models",
            "logistic_regression",
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "recall:0.7",
        ],
    );
    let scores = d.join("scores.csv");
    score_run(
        &model,
        &d.join("runs"),
        args!["--data", bank, "--out", scores, "-q"],
    );
    let labels = args![
        "--scores",
        scores,
        "--labels",
        bank,
        "--id",
        "CustomerId",
        "--label",
        "Exited"
    ];
    // The rule the model was trained with still holds on what happened.
    let mut a = labels.to_vec();
    a.extend(args!["--model", model, "-q"]);
    let (ok, table, err) = reassess(d, &a);
    assert!(ok, "{err}");
    assert!(
        table.contains("high-value") && !table.contains("DRIFT"),
        "{table}"
    );
    let r = reassessment(d);
    assert_eq!(r["rule"], "recall:0.7");
    assert_eq!(r["all"]["realised"]["customers"], 10000);
    for (g, c) in r["groups"].as_object().unwrap() {
        let recall = c["realised"]["recall"].as_f64().unwrap();
        assert!((recall - 0.7).abs() < 0.05, "{g}: {recall}");
        assert_eq!(c["drift"], false, "{g}");
    }
    // Another rule on the same outcomes: the thresholds drifted, said.
    let mut a = labels.to_vec();
    a.extend(args!["--model", model, "--threshold-rule", "recall:0.4"]);
    let (ok, table, err) = reassess(d, &a);
    assert!(ok && table.contains("DRIFT"), "{table}");
    assert!(err.contains("would now choose"), "{err}");
    assert!(!reassessment(d)["drifted"].as_array().unwrap().is_empty());
    // Bad input: named in one line.
    let bad = write(d, "bad.csv", "CustomerId,Exited\n15634602,maybe\n");
    let (ok, _, err) = reassess(
        d,
        &args![
            "--scores",
            scores,
            "--labels",
            bad,
            "--id",
            "CustomerId",
            "--label",
            "Exited"
        ],
    );
    assert!(
        !ok && err.contains("Exited") && err.contains("maybe") && err.trim().lines().count() == 1,
        "{err}"
    );
    let (ok, _, err) = reassess(d, &args!["--scores", bank, "--labels", bank]);
    assert!(!ok && err.contains("not found"), "{err}");
}

#[test]
fn outcomes_for_reassessment_are_built_from_logs() {
    let dir = tempdir();
    let d = dir.path();
    let logs = Path::new("data/logs");
    let model = train_logs(d, "2023-07-01..2024-03-01:monthly", &[]);
    let scores = d.join("scores.csv");
    score_logs(
        d,
        &model,
        &["--as-of", "2024-06-01", "--out", scores.to_str().unwrap()],
    );
    let mut r: Vec<std::ffi::OsString> = args!["--scores", scores, "--model", model, "-q"].to_vec();
    r.extend(log_args(logs).into_iter().map(Into::into));
    r.extend(args!["--as-of", "2024-06-01", "--churn-rule", "closed"]);
    let (ok, table, err) = reassess(d, &r);
    assert!(ok, "{err}");
    assert!(table.contains("(all)"), "{table}");
    let out = reassessment(d);
    let all = &out["all"]["realised"];
    assert!(all["customers"].as_u64().unwrap() > 500, "{all}");
    assert!(all["churned"].as_u64().unwrap() > 10, "{all}");
}

#[test]
fn the_generators_calendar_is_planted_and_absent_without_the_flag() {
    let dir = tempdir();
    let d = dir.path();
    let gen = |name: &str, extra: &[&str]| {
        let out = d.join(name);
        let o = train_cmd()
            .args(["generate", "--logs", "--customers", "2000", "--seed", "7"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_ok(&o);
        out
    };
    // Without --calendar: the committed sample, byte for byte.
    let plain = gen("plain", &[]);
    for f in ["customers.csv", "events.csv", "hazard.csv"] {
        assert_eq!(
            std::fs::read(plain.join(f)).unwrap(),
            std::fs::read(Path::new("data/logs").join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(!plain.join("calendar.csv").exists());
    let cal = gen("cal", &["--calendar"]);
    let windows = std::fs::read_to_string(cal.join("calendar.csv")).unwrap();
    assert!(windows.starts_with("start,end,name\n"));
    assert!(windows.contains("2023-12-01,2023-12-31,holidays"));
    assert!(windows.contains("2024-05-01,2024-05-31,promotion"));
    // The planted hazard: December up, May down, against the months beside.
    let (_, rows) = read_csv(&cal.join("hazard.csv"));
    let mean = |month: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| &r[1][5..7] == month)
            .map(|r| r[2].parse::<f64>().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        mean("12") > 1.8 * mean("11"),
        "{} {}",
        mean("12"),
        mean("11")
    );
    assert!(
        mean("05") < 0.7 * mean("04"),
        "{} {}",
        mean("05"),
        mean("04")
    );
}

#[test]
fn calendar_windows_are_threshold_groups_and_bad_calendars_are_named() {
    let dir = tempdir();
    let d = dir.path();
    let calendar = write(
        d,
        "calendar.csv",
        "start,end,name\n2023-11-15,2024-01-15,year-end\n2024-03-01,2024-04-30,spring promotion\n",
    );
    let c = calendar.to_str().unwrap();
    let model = train_logs(
        d,
        "2023-07-01..2024-06-01:monthly",
        &[
            "--threshold-by",
            "calendar",
            "--calendar",
            c,
            "--min-group-positives",
            "20",
        ],
    );
    let groups = metrics(d)["thresholds"].as_object().unwrap().clone();
    let names: Vec<&str> = groups.keys().map(String::as_str).collect();
    assert_eq!(names, ["(no window)", "spring promotion", "year-end"]);
    // Scoring on a date in a window uses that window's threshold.
    let logs = Path::new("data/logs");
    let out = d.join("s.csv");
    let when = ["--as-of", "2024-12-01", "--season", "2024-12-20"];
    score_logs(
        d,
        &model,
        &[&when[..], &["--out", out.to_str().unwrap()]].concat(),
    );
    let (h, rows) = read_csv(&out);
    let g = h.iter().position(|c| c == "threshold_group").unwrap();
    assert!(
        rows.iter()
            .all(|r| r[g] == "(no window)" || r[g] == "global"),
        "2024-12-20 is in no window"
    );
    // Bad calendars: one line naming file, row and value.
    for (text, says) in [
        (
            "start,end,name\n2024-01-01,2024-02-01,a\n2024-01-15,2024-03-01,b\n",
            "overlaps",
        ),
        ("start,end,name\n2024-02-30,2024-03-01,a\n", "2024-02-30"),
    ] {
        let bad = write(d, "bad.csv", text);
        let mut a = log_args(logs);
        a.extend(
            [
                "--snapshots",
                "2023-07-01..2024-06-01:monthly",
                "--churn-rule",
                "closed",
                "--models",
                "logistic_regression",
                "--threshold-by",
                "calendar",
                "-q",
            ]
            .map(String::from),
        );
        let out = train_cmd()
            .args(&a)
            .arg("--calendar")
            .arg(&bad)
            .arg("--out")
            .arg(d.join("x"))
            .arg("--model-dir")
            .arg(d.join("mx"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("bad.csv") && err.contains(says),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn calendar_features_are_built_at_training_and_again_at_scoring() {
    let dir = tempdir();
    let d = dir.path();
    let calendar = write(
        d,
        "calendar.csv",
        "start,end,name\n2023-12-01,2023-12-31,holidays\n2024-12-01,2024-12-31,holidays\n",
    );
    let c = calendar.to_str().unwrap();
    let model = train_logs(
        d,
        "2023-07-01..2024-06-01:monthly",
        &["--calendar", c, "--calendar-features"],
    );
    let art = std::fs::read_to_string(&model).unwrap();
    assert!(art.contains("\"days_to_window\"") && art.contains("\"days_since_window\""));
    let run = score_logs(d, &model, &["--as-of", "2024-11-15"]);
    let f = churn::ingest::read_frame(&run.join("features.parquet"), None).unwrap();
    let values = |name: &str| {
        let v: Vec<f64> = f
            .column(name)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        (lo, v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    };
    // 2024-11-15: 16 days to 2024-12-01, 320 since 2023-12-31.
    assert_eq!(values("days_to_window"), (16.0, 16.0));
    assert_eq!(values("days_since_window"), (320.0, 320.0));
    // Flat tables have no snapshots to measure from.
    let out = train_cmd()
        .args(args![
            "--data",
            shared("datasets/bank_churn.csv"),
            "--target",
            "Exited"
        ])
        .args(["--calendar", c, "--calendar-features", "-q"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("log snapshots"),
        "{err}"
    );
}
