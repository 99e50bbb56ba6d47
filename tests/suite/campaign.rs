//! `churn-train campaign` as a CRM analyst runs it: a generated retention
//! campaign (planted: a call lifts retention by 6 points and spend by 8,
//! an e-mail does nothing) is measured arm by arm against the holdout, the
//! arms' sizes are checked against the planned split, and broken inputs
//! fail with one line naming file, column and value.

use crate::common;
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The planted campaign; `skew` moves that share of control customers to
/// the call arm after assignment (a broken assignment).
fn campaign(dir: &Path, n: usize, skew: f64) -> PathBuf {
    let mut s = String::from("customer_no;arm;retained;spend;segment;region\n");
    for i in 0..n {
        let mut arm = ["holdout", "call", "email"][(draw(i, 1) * 3.0) as usize];
        if arm == "holdout" && draw(i, 2) < skew {
            arm = "call";
        }
        let p = match arm {
            "call" => 0.76,
            _ => 0.70,
        };
        let retained = if draw(i, 3) < p { "Y" } else { "N" };
        let spend = 100.0 + if arm == "call" { 8.0 } else { 0.0 } + 30.0 * (draw(i, 4) - 0.5);
        let region = if draw(i, 5) < 0.003 {
            "islands"
        } else {
            ["north", "south"][i % 3 / 2]
        };
        s += &format!(
            "K{i};{arm};{retained};{spend:.2};{};{region}\n",
            ["a", "b"][i % 2]
        );
    }
    write(dir, "campaign.csv", &s)
}

fn run(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> (std::process::Output, Option<Value>) {
    let out = train_cmd()
        .args(["campaign", "-q"])
        .args(args)
        .arg("--out")
        .arg(dir.join("runs"))
        .output()
        .unwrap();
    let json = std::fs::read_dir(dir.join("runs")).ok().and_then(|mut d| {
        let run = d.next()?.ok()?.path();
        // Every run folder is complete: the JSON and its report.
        let html = std::fs::read_to_string(run.join("report.html")).unwrap();
        assert!(html.contains("Effects against the holdout") && html.contains("<svg"));
        serde_json::from_str(&std::fs::read_to_string(run.join("campaign.json")).ok()?).ok()
    });
    (out, json)
}

/// `--data DATA --arm arm --control holdout --outcome OUTCOME` and `extra`.
fn flags(
    data: &Path,
    outcome: &str,
    extra: &[impl AsRef<std::ffi::OsStr>],
) -> Vec<std::ffi::OsString> {
    let mut v = args![
        "--data",
        data,
        "--arm",
        "arm",
        "--control",
        "holdout",
        "--outcome",
        outcome,
    ]
    .to_vec();
    v.extend(extra.iter().map(|a| a.as_ref().to_os_string()));
    v
}

#[test]
fn effects_with_intervals_per_arm_and_outcome() {
    let d = tempdir();
    let data = campaign(d.path(), 9000, 0.0);
    let (out, json) = run(
        d.path(),
        &flags(
            &data,
            "retained,spend",
            &[
                "--positive",
                "Y",
                "--id",
                "customer_no",
                "--by",
                "segment,region",
            ],
        ),
    );
    assert_ok(&out);
    let j = json.unwrap();
    let call = &j["arms"]["call"]["retained"];
    assert_eq!(call["kind"], "rate");
    // The planted 6 points lie inside the interval, which excludes 0.
    let (lo, hi) = (
        call["diff_ci_low"].as_f64().unwrap(),
        call["diff_ci_high"].as_f64().unwrap(),
    );
    assert!(lo < 0.06 && 0.06 < hi && lo > 0.0, "{call}");
    assert!(call["p_value"].as_f64().unwrap() < 0.01);
    let inc = call["incremental"].as_f64().unwrap();
    let expect = call["diff"].as_f64().unwrap() * call["n"].as_f64().unwrap();
    assert!((inc - expect).abs() < 1e-6);
    let spend = &j["arms"]["call"]["spend"];
    assert_eq!(spend["kind"], "mean");
    assert!(
        spend["diff_ci_low"].as_f64().unwrap() > 6.0
            && spend["diff_ci_high"].as_f64().unwrap() < 10.0,
        "{spend}"
    );
    let email = &j["arms"]["email"]["retained"];
    assert!(
        email["diff_ci_low"].as_f64().unwrap() < 0.0
            && email["diff_ci_high"].as_f64().unwrap() > 0.0,
        "{email}"
    );
    assert_eq!(j["srm"]["mismatch"], false);
    assert_eq!(j["positive_labels"]["retained"], "Y");
    // Per group: Holm-adjusted p-values, rare cells not tested.
    let a = &j["groups"]["segment"]["a"]["call"]["retained"];
    assert!(
        a["p_holm"].as_f64().unwrap() >= a["p_value"].as_f64().unwrap(),
        "{a}"
    );
    let rare = &j["groups"]["region"]["islands"]["call"]["retained"];
    assert_eq!(rare["too_small"], true, "{rare}");
    assert!(rare["p_value"].is_null());
    // Random assignment: the attributes are balanced.
    let smd = j["balance"]["call"]["segment=a"].as_f64().unwrap();
    assert!(smd.abs() < 0.1, "{smd}");
    assert_eq!(j["imbalanced"], serde_json::json!([]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("call") && table.contains("95% interval"),
        "{table}"
    );
}

#[test]
fn a_broken_assignment_is_a_loud_sample_ratio_mismatch() {
    let d = tempdir();
    let data = campaign(d.path(), 6000, 0.15);
    let (out, json) = run(d.path(), &flags(&data, "retained", &["--positive", "Y"]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sample ratio mismatch"));
    assert_eq!(json.unwrap()["srm"]["mismatch"], true);
}

#[test]
fn bad_campaign_inputs_fail_with_one_line() {
    let d = tempdir();
    let data = campaign(d.path(), 300, 0.0);
    let f = data.to_str().unwrap();
    let dup = write(d.path(), "dup.csv", "id,arm,y\n1,c,1\n1,t,0\n2,t,1\n");
    // Each case: the flags after --data FILE (space-separated), what the error names.
    let base = "--arm arm --control holdout --outcome retained";
    let cases = [
        (
            "--arm group --control holdout --outcome retained",
            "column 'group'",
        ),
        (
            "--arm arm --control none --outcome retained",
            "control label \"none\" not found",
        ),
        (
            "--arm arm --control holdout --outcome segment",
            "--positive",
        ),
        (&format!("{base} --positive yes"), "not a value"),
        (&format!("{base} --split 1:1"), "--split has 2 shares"),
    ];
    let mut cases: Vec<(Vec<String>, &str)> = cases
        .iter()
        .map(|(flags, needle)| {
            let mut args = vec!["--data".to_string(), f.to_string()];
            args.extend(flags.split_whitespace().map(String::from));
            (args, *needle)
        })
        .collect();
    let dup_args = [
        "--data",
        dup.to_str().unwrap(),
        "--arm",
        "arm",
        "--control",
        "c",
        "--outcome",
        "y",
        "--id",
        "id",
    ];
    cases.push((dup_args.map(String::from).to_vec(), "appears twice"));
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, json) = run(d.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            err.contains(needle) && err.trim().lines().count() == 1,
            "{args:?}: {err}"
        );
        assert!(json.is_none(), "{args:?} wrote a report");
    }
}

#[test]
fn warning_accuracy_after_the_fact_on_the_holdout() {
    // A model's scores of the bank table, then a campaign on the same
    // customers: the holdout's outcomes are what the model foresaw.
    let d = tempdir();
    let bank = shared("datasets/bank_churn.csv");
    train(
        d.path(),
        args![
            "--data",
            bank,
            "--target",
            "Exited",
            "--models",
            "logistic_regression",
        ],
    );
    let args = [OsStr::new("--data"), bank.as_os_str(), OsStr::new("-q")];
    let (run, _) = score_run(
        &d.path().join("models/latest"),
        &d.path().join("scored"),
        args,
    );
    let (head, rows) = read_csv(&bank);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut s = String::from("CustomerId,arm,retained\n");
    for (i, r) in rows.iter().enumerate() {
        let arm = if draw(i, 9) < 0.5 { "holdout" } else { "call" };
        let stayed = u8::from(r[col("Exited")] == "0");
        s += &format!("{},{arm},{stayed}\n", r[col("CustomerId")]);
    }
    let data = write(d.path(), "campaign.csv", &s);
    let scores = run.join("scores.csv");
    let model = d.path().join("models/latest");
    let model = model.to_str().unwrap();
    let (out, json) = self::run(
        d.path(),
        &flags(
            &data,
            "retained",
            &args!["--id", "CustomerId", "--scores", scores, "--model", model,],
        ),
    );
    assert_ok(&out);
    let j = json.unwrap();
    let a = &j["accuracy"];
    assert_eq!(
        a["inverted"], true,
        "a retention outcome is read as churn inverted"
    );
    assert_eq!(a["matched"], 10_000);
    let control = j["sizes"][0][1].as_u64().unwrap();
    assert_eq!(a["customers"].as_u64().unwrap(), control);
    let auc = a["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.7, "realised AUC {auc}");
    let red = &a["by_level"]["red"];
    let green = &a["by_level"]["green"];
    assert!(
        red["churn_rate"].as_f64().unwrap() > green["churn_rate"].as_f64().unwrap(),
        "{a}"
    );
    assert_eq!(a["calibration"].as_array().unwrap().len(), 10);
    // The model's own out-of-fold AUC beside the realised one (the scores
    // are in-sample here, so at least as good).
    let oof = a["model_oof"]["roc_auc"].as_f64().unwrap();
    assert!(oof > 0.7 && auc >= oof - 0.05, "oof {oof}, realised {auc}");
    // Without --by, effects per warning level and value tier.
    assert!(
        j["groups"]["warning_level"]["red"]["call"]["retained"].is_object(),
        "{}",
        j["groups"]
    );
    assert!(j["groups"]["value_tier"].is_object());

    // Monthly runs stacked (an `as_of` column): each customer is judged by
    // the latest score, and each month on its own — here an earlier run
    // whose scores were noise.
    let (head, rows) = read_csv(&scores);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut stacked = String::from("as_of,id,churn_probability,warning_level,value_tier\n");
    for (i, r) in rows.iter().enumerate() {
        let (id, level, tier) = (
            &r[col("id")],
            &r[col("warning_level")],
            &r[col("value_tier")],
        );
        stacked += &format!(
            "2024-01,{id},{},{level},{tier}\n",
            r[col("churn_probability")]
        );
        stacked += &format!("2023-12,{id},{},green,{tier}\n", draw(i, 11));
    }
    let stacked = write(d.path(), "stacked.csv", &stacked);
    let again = tempdir();
    let (out, json) = self::run(
        again.path(),
        &flags(
            &data,
            "retained",
            &args!["--id", "CustomerId", "--scores", stacked],
        ),
    );
    assert_ok(&out);
    let b = &json.unwrap()["accuracy"];
    assert!(
        (b["roc_auc"].as_f64().unwrap() - auc).abs() < 1e-12,
        "latest score judged"
    );
    let months = &b["by_period"];
    let (noise, latest) = (&months["2023-12"], &months["2024-01"]);
    assert!(
        (latest["roc_auc"].as_f64().unwrap() - auc).abs() < 1e-12,
        "{months}"
    );
    assert!(
        (noise["roc_auc"].as_f64().unwrap() - 0.5).abs() < 0.05,
        "{months}"
    );
    assert_eq!(
        noise["recall_red_orange"].as_f64().unwrap(),
        0.0,
        "no red in the noise month"
    );
    assert!(
        latest["precision_red_orange"].as_f64().unwrap()
            > a["churned"].as_f64().unwrap() / control as f64
    );
}

#[test]
fn outcome_built_from_logs_for_the_contacts() {
    // Contacts with their own column names; the outcome is the label the
    // training pipeline gives each customer at the campaign's start.
    let d = tempdir();
    let logs = generate_logs(d.path(), 1500, 5);
    let mut s = String::from("client;groupe;cout\n");
    for i in 1..=1200 {
        let arm = if draw(i, 3) < 0.5 { "temoin" } else { "appel" };
        s += &format!("{i};{arm};2\n");
    }
    s += "C-unknown;appel;2\n";
    let contacts = write(d.path(), "contacts.csv", &s);
    let as_of = ["--as-of", "2024-03-01", "--churn-rule", "closed"];
    let mut a = args![
        "--contacts",
        contacts,
        "--id",
        "client",
        "--arm",
        "groupe",
        "--control",
        "temoin"
    ]
    .to_vec();
    a.extend(log_args(&logs).iter().map(std::ffi::OsString::from));
    a.extend(as_of.iter().map(std::ffi::OsString::from));
    let (out, json) = run(d.path(), &a);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not customers at the as-of date"));
    let j = json.unwrap();
    let from = &j["outcome_from_logs"];
    assert_eq!(from["as_of"], "2024-03-01");
    assert_eq!(from["churn_rule"], "closed");
    // The same labels as `churn-train features` at that date.
    let table = d.path().join("features.csv");
    let mut f = args!["features", "--out", table].to_vec();
    f.extend(log_args(&logs).iter().map(std::ffi::OsString::from));
    f.extend(as_of.iter().map(std::ffi::OsString::from));
    assert_ok(&train_cmd().args(f).output().unwrap());
    let (head, rows) = read_csv(&table);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let label: HashMap<String, f64> = rows
        .iter()
        .map(|r| {
            (
                r[col("customer_id")].clone(),
                r[col("churned")].parse().unwrap(),
            )
        })
        .collect();
    let rate = |arm: &str| {
        let v: Vec<f64> = (1..=1200usize)
            .filter(|&i| (draw(i, 3) < 0.5) == (arm == "temoin"))
            .filter_map(|i| label.get(&i.to_string()).copied())
            .collect();
        (v.iter().sum::<f64>() / v.len() as f64, v.len())
    };
    let e = &j["arms"]["appel"]["churned"];
    let ((treated, n), (control, _)) = (rate("appel"), rate("temoin"));
    assert!(
        (e["value"].as_f64().unwrap() - treated).abs() < 1e-12,
        "{e}"
    );
    assert!(
        (e["control_value"].as_f64().unwrap() - control).abs() < 1e-12,
        "{e}"
    );
    assert_eq!(e["n"].as_u64().unwrap() as usize, n);
    let unknown = 1201
        - rows
            .iter()
            .filter(|r| {
                r[col("customer_id")]
                    .parse::<usize>()
                    .is_ok_and(|i| i <= 1200)
            })
            .count();
    assert_eq!(
        from["customers_not_in_logs"].as_u64().unwrap() as usize,
        unknown
    );
    // Without one as-of date, or without --id: one line naming what is missing.
    let mut bad = args![
        "--contacts",
        contacts,
        "--arm",
        "groupe",
        "--control",
        "temoin"
    ]
    .to_vec();
    bad.extend(log_args(&logs).iter().map(std::ffi::OsString::from));
    let (out, _) = run(&d.path().join("bad"), &bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--as-of"), "{err}");
}
