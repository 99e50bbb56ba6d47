//! Customer value on tables whose money columns are spelled as other banks
//! spell them: the shared bank table renamed gets the same roles, tiers and
//! CLV as the original; telco gets CLV from its charges; a generated
//! credit-card table (planted: a latent wealth drives limit, balance and
//! spend) gets named tiers ordered by that wealth; a table with no money
//! column gets unknown CLV and a warning, never zeros.

use crate::common;
use common::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Train logistic regression on `data` with these flags into `dir`.
fn train_lr(dir: &Path, data: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--data",
        data.to_str().unwrap(),
        "--models",
        "logistic_regression",
    ];
    args.extend_from_slice(flags);
    train(dir, &args)
}

/// Score `data` with `model` into `dir/runs`; the run folder.
fn score(dir: &Path, model: &Path, data: &Path) -> PathBuf {
    let args = [OsStr::new("--data"), data.as_os_str(), OsStr::new("-q")];
    score_run(model, &dir.join("runs"), args).0
}

/// Column `name` of scores.csv.
fn column(run: &Path, name: &str) -> Vec<String> {
    let (head, rows) = read_csv(&run.join("scores.csv"));
    let k = head.iter().position(|h| h == name).unwrap();
    rows.into_iter().map(|r| r[k].clone()).collect()
}

/// Share of rows whose CLV is a number above 0.
fn positive_clv(run: &Path) -> f64 {
    let clv = column(run, "clv");
    let n = clv
        .iter()
        .filter(|c| c.parse::<f64>().is_ok_and(|x| x > 0.0))
        .count();
    n as f64 / clv.len() as f64
}

/// `roles.<role>.column` of a data report.
fn role(report: &Value, role: &str) -> Option<String> {
    report["roles"][role]["column"].as_str().map(String::from)
}

const TIERS: [&str; 4] = ["high-value", "potential", "dormant", "low-value"];

/// Rewrite the header of a CSV by `renames`.
fn renamed(src: &Path, dst: &Path, renames: &[(&str, &str)]) {
    let text = std::fs::read_to_string(src).unwrap();
    let (head, body) = text.split_once('\n').unwrap();
    let head: Vec<String> = head
        .split(',')
        .map(|h| {
            renames
                .iter()
                .find(|(a, _)| a == &h)
                .map_or(h.to_string(), |(_, b)| b.to_string())
        })
        .collect();
    std::fs::write(dst, format!("{}\n{body}", head.join(","))).unwrap();
}

#[test]
fn bank_renamed_to_other_spellings_gets_the_same_roles_tiers_and_clv() {
    let renames = [
        ("Balance", "Total_Revolving_Bal"),
        ("NumOfProducts", "Total_Relationship_Count"),
        ("Tenure", "Months_on_book"),
        ("EstimatedSalary", "AnnualIncome"),
        ("IsActiveMember", "active_flag"),
        ("Geography", "Country"),
        ("Age", "Customer_Age"),
        ("Exited", "Attrition"),
    ];
    let t = tempdir();
    let original = shared("datasets/bank_churn.csv");
    let other = t.path().join("other_bank.csv");
    renamed(&original, &other, &renames);
    let mut runs = Vec::new();
    for (k, (data, target)) in [(&original, "Exited"), (&other, "Attrition")]
        .into_iter()
        .enumerate()
    {
        let dir = t.path().join(k.to_string());
        train_lr(&dir, data, &["--target", target]);
        let report = data_report(&dir);
        runs.push((report, score(&dir, &dir.join("models/latest"), data)));
    }
    let (a, b) = (&runs[0].0, &runs[1].0);
    for (orig, new) in renames.iter().take(5) {
        let r = ["balance", "products", "tenure", "income", "activity"]
            [renames.iter().position(|x| x.0 == *orig).unwrap()];
        assert_eq!(role(a, r).as_deref(), Some(*orig), "{a}");
        assert_eq!(role(b, r).as_deref(), Some(*new), "{b}");
        assert_eq!(b["roles"][r]["how"], "name");
        assert!(b["roles"][r]["reason"].as_str().unwrap().contains("name"));
    }
    assert_eq!(a["value"]["clv_sources"], b["value"]["clv_sources"]);
    assert_eq!(
        column(&runs[0].1, "value_tier"),
        column(&runs[1].1, "value_tier")
    );
    assert_eq!(column(&runs[0].1, "clv"), column(&runs[1].1, "clv"));
    assert!(positive_clv(&runs[0].1) >= 0.95);
    let tiers = column(&runs[0].1, "value_tier");
    assert!(tiers.iter().all(|t| TIERS.contains(&t.as_str())));
}

#[test]
fn telco_gets_clv_from_its_charges_and_named_tiers() {
    let t = tempdir();
    let data = shared("datasets/telco_churn.csv");
    train_lr(t.path(), &data, &["--target", "Churn"]);
    let report = data_report(t.path());
    assert_eq!(role(&report, "revenue").as_deref(), Some("MonthlyCharges"));
    assert_eq!(report["value"]["clv_sources"][0], "revenue");
    let run = score(t.path(), &t.path().join("models/latest"), &data);
    assert!(positive_clv(&run) >= 0.95, "{}", positive_clv(&run));
    let tiers = column(&run, "value_tier");
    let named: std::collections::BTreeSet<&str> = tiers.iter().map(String::as_str).collect();
    assert!(
        named.len() >= 3 && named.iter().all(|t| TIERS.contains(t)),
        "{named:?}"
    );
}

/// A credit-card bank's table, planted: a latent wealth w (lognormal)
/// sets the limit, the revolving balance (a quarter revolve nothing) and
/// the yearly spend; activity (transactions) is its own draw; churn comes
/// from low activity, inactive months and contacts. Column names and
/// formats as such extracts write them (an income band as text).
fn credit_card_table(path: &Path, n: usize) {
    let mut s = String::from("CLIENTNUM,Attrition_Flag,Customer_Age,Gender,Dependent_count,Income_Category,Months_on_book,Total_Relationship_Count,Months_Inactive_12_mon,Contacts_Count_12_mon,Credit_Limit,Total_Revolving_Bal,Avg_Open_To_Buy,Total_Trans_Amt,Total_Trans_Ct,Total_Ct_Chng_Q4_Q1,Avg_Utilization_Ratio\n");
    let normal = |i: usize, k: u64| {
        let (u, v) = (draw(i, k).max(1e-12), draw(i, k + 100));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    for i in 0..n {
        let w = (0.6 * normal(i, 1)).exp();
        let activity = draw(i, 2);
        let limit = (2000.0 + 9000.0 * w * (0.8 + 0.4 * draw(i, 3))).round();
        let bal = if draw(i, 4) < 0.25 {
            0.0
        } else {
            (limit * 0.3 * draw(i, 5)).round()
        };
        let ct = (20.0 + 100.0 * activity).round();
        let amt = (ct * 40.0 * w * (0.7 + 0.6 * draw(i, 6))).round();
        let inactive = (6.0 * draw(i, 7)).floor();
        let contacts = (6.0 * draw(i, 8)).floor();
        let logit = -1.0 - 3.0 * activity + 0.35 * inactive + 0.3 * contacts;
        let churn = draw(i, 9) < 1.0 / (1.0 + (-logit).exp());
        let income = [
            "Less than $40K",
            "$40K - $60K",
            "$60K - $80K",
            "$80K - $120K",
            "$120K +",
        ][((w * 2.0) as usize).min(4)];
        s += &format!(
            "{},{},{},{},{},{income},{},{},{inactive},{contacts},{limit},{bal},{},{amt},{ct},{:.3},{:.3}\n",
            700_000_000 + i * 7,
            if churn { "Attrited Customer" } else { "Existing Customer" },
            26 + (40.0 * draw(i, 10)) as usize,
            if draw(i, 11) < 0.5 { "F" } else { "M" },
            (5.0 * draw(i, 12)) as usize,
            13 + (43.0 * draw(i, 13)) as usize,
            1 + (6.0 * draw(i, 14)) as usize,
            limit - bal,
            0.4 + draw(i, 15),
            bal / limit,
        );
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn credit_card_table_gets_named_tiers_ordered_by_wealth_and_clv() {
    let t = tempdir();
    let data = t.path().join("cards.csv");
    credit_card_table(&data, 4000);
    let dir = t.path().join("m");
    train_lr(
        &dir,
        &data,
        &[
            "--target",
            "Attrition_Flag",
            "--positive",
            "Attrited Customer",
        ],
    );
    let report = data_report(&dir);
    for (r, c) in [
        ("balance", "Total_Revolving_Bal"),
        ("credit_limit", "Credit_Limit"),
        ("products", "Total_Relationship_Count"),
        ("tenure", "Months_on_book"),
        ("spend", "Total_Trans_Amt"),
        ("activity", "Total_Trans_Ct"),
    ] {
        assert_eq!(
            role(&report, r).as_deref(),
            Some(c),
            "{r}: {}",
            report["roles"]
        );
    }
    let run = score(&dir, &dir.join("models/latest"), &data);
    assert!(positive_clv(&run) >= 0.95);
    // Tier means of the money columns, from the input rows (same order).
    let (head, rows) = read_csv(&data);
    let tiers = column(&run, "value_tier");
    let named: std::collections::BTreeSet<&str> = tiers.iter().map(String::as_str).collect();
    assert!(
        named.len() >= 3 && named.iter().all(|t| TIERS.contains(t)),
        "{named:?}"
    );
    for col in ["Total_Revolving_Bal", "Credit_Limit", "Total_Trans_Amt"] {
        let k = head.iter().position(|h| h == col).unwrap();
        let mean = |tier: &str| {
            let v: Vec<f64> = rows
                .iter()
                .zip(&tiers)
                .filter(|(_, t)| *t == tier)
                .map(|(r, _)| r[k].parse::<f64>().unwrap())
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        assert!(
            mean("high-value") > mean("low-value"),
            "{col}: high-value {} vs low-value {}",
            mean("high-value"),
            mean("low-value")
        );
    }
}

#[test]
fn a_table_with_no_money_column_gets_unknown_clv_and_a_warning() {
    let t = tempdir();
    let mut s = String::from("member,age,segment,complaints,left\n");
    for i in 0..1500 {
        let complaints = (4.0 * draw(i, 1)) as usize;
        let left = draw(i, 2) < 0.1 + 0.15 * complaints as f64;
        s += &format!(
            "M{i},{},{},{complaints},{}\n",
            20 + (50.0 * draw(i, 3)) as usize,
            ["a", "b", "c"][i % 3],
            left as u8
        );
    }
    let data = write(t.path(), "plain.csv", &s);
    let out = train_lr(t.path(), &data, &["--target", "left"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: no column gives customer value") && err.contains("[roles]"),
        "{err}"
    );
    assert!(err.contains("value tiers are not fitted"), "{err}");
    let report = data_report(t.path());
    assert_eq!(report["value"]["clv_sources"], serde_json::json!([]));
    assert_eq!(report["value"]["clv_customers"]["none"], 1500);
    let run = score(t.path(), &t.path().join("models/latest"), &data);
    assert!(column(&run, "clv").iter().all(String::is_empty));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["clv_unknown"], 1500);
    assert!(summary["clv_note"].as_str().unwrap().contains("[roles]"));
    assert!(summary["value_tiers"]
        .as_str()
        .unwrap()
        .contains("no value column"));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("value at risk unknown"));
}

#[test]
fn roles_subcommand_prints_the_choice_and_config_overrides_it() {
    let t = tempdir();
    let data = shared("datasets/bank_churn.csv");
    let cfg = write(
        t.path(),
        "roles.toml",
        "[roles]\nbalance = \"EstimatedSalary\"\nincome = \"\"\n",
    );
    let roles = |config: &Path| {
        train_cmd()
            .args(args!["roles", "--data", data, "--target", "Exited",])
            .arg("--config")
            .arg(config)
            .output()
            .unwrap()
    };
    let o = roles(&cfg);
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("balance = EstimatedSalary (config"), "{text}");
    assert!(text.contains("income = none"), "{text}");
    assert!(text.contains("products = NumOfProducts (name"), "{text}");
    assert!(
        text.contains("clv sources = balance_and_products"),
        "{text}"
    );
    let bad = write(t.path(), "bad.toml", "[roles]\nwealth = \"Balance\"\n");
    let o = roles(&bad);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("wealth: not a role"));
}

/// `path` of every customer's `column` in a CSV with a `customer_id`.
fn by_customer(path: &Path, column: &str) -> std::collections::HashMap<String, String> {
    let (head, rows) = read_csv(path);
    let id = head
        .iter()
        .position(|h| h == "customer_id" || h == "id")
        .unwrap();
    let k = head.iter().position(|h| h == column).unwrap();
    rows.into_iter()
        .map(|r| (r[id].clone(), r[k].clone()))
        .collect()
}

#[test]
fn logs_without_revenue_get_clv_from_spend() {
    use polars::prelude::*;
    let t = tempdir();
    let logs = generate_logs(t.path(), 1500, 11);
    let mut tx = churn::ingest::read_frame(&logs.join("transactions.parquet"), None)
        .unwrap()
        .drop_many(["revenue", "cost"]);
    let csv = logs.join("transactions.csv");
    CsvWriter::new(std::fs::File::create(&csv).unwrap())
        .finish(&mut tx)
        .unwrap();
    let args: Vec<String> = log_args(&logs)
        .into_iter()
        .map(|a| a.replace("transactions.parquet", "transactions.csv"))
        .collect();
    let dir = t.path().join("m");
    let mut train_args: Vec<&str> = args.iter().map(String::as_str).collect();
    train_args.extend([
        "--as-of",
        "2024-01-01,2024-04-01",
        "--models",
        "logistic_regression",
    ]);
    train(&dir, &train_args);
    let report = data_report(&dir);
    assert_eq!(role(&report, "spend").as_deref(), Some("txn_amount_365d"));
    assert!(role(&report, "revenue").is_none());
    assert_eq!(
        report["value"]["clv_sources"][0], "spend",
        "{}",
        report["value"]
    );
    // The snapshot scored, and its spend in the last year per customer.
    let features = t.path().join("features.csv");
    let o = train_cmd()
        .arg("features")
        .args(&args)
        .args(["--as-of", "2024-04-01", "--out"])
        .arg(&features)
        .output()
        .unwrap();
    assert_ok(&o);
    let mut score_args = args.clone();
    score_args.extend(["--as-of", "2024-04-01", "-q"].map(String::from));
    let (run, _) = score_run(
        &dir.join("models/latest"),
        &t.path().join("runs"),
        score_args,
    );
    let clv = by_customer(&run.join("scores.csv"), "clv");
    let spend = by_customer(&features, "txn_amount_365d");
    let buyers: Vec<&String> = spend
        .iter()
        .filter(|(_, s)| s.parse::<f64>().is_ok_and(|x| x > 0.0))
        .map(|(id, _)| id)
        .collect();
    assert!(buyers.len() > 500, "{} buyers", buyers.len());
    for id in buyers {
        let c: f64 = clv[id].parse().unwrap_or(f64::NAN);
        assert!(c > 0.0, "customer {id} bought in the last year, CLV {c}");
    }
    assert!(positive_clv(&run) >= 0.95, "{}", positive_clv(&run));
}

#[test]
fn a_model_from_before_roles_scores_as_it_did() {
    // An artifact without roles (as every artifact before them): its CLV
    // is the older name match's — telco has no "balance" or "product"
    // column, so 0 as before — and its tiers are its own.
    let t = tempdir();
    let data = shared("datasets/telco_churn.csv");
    train_lr(t.path(), &data, &["--target", "Churn"]);
    let latest = t.path().join("models/latest");
    let mut art = churn::artifact::Artifact::load(&latest).unwrap();
    assert!(art.scoring.roles.is_some());
    art.scoring.roles = None;
    let old = t.path().join("old.json");
    art.checksum = art.compute_checksum(&old).unwrap();
    art.save(&old).unwrap();
    let new_run = score(&t.path().join("a"), &latest, &data);
    let old_run = score(&t.path().join("b"), &old, &data);
    assert!(column(&old_run, "clv").iter().all(|c| c == "0.00"));
    assert!(positive_clv(&new_run) >= 0.95);
    assert_eq!(
        column(&old_run, "churn_probability"),
        column(&new_run, "churn_probability")
    );
}
