//! Numbers as European and other extracts write them: the shared bank and
//! telco tables rewritten with a decimal comma, thousands separators
//! (point, comma, no-break space) and currency signs or codes train to the
//! same model and metrics as the plain files, and score to the same
//! scores.csv; a code column with commas and an id column stay what they are.

use crate::common;
use common::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// How a money cell is rewritten, and the separator of the file.
#[derive(Clone, Copy, Debug)]
struct Style {
    sep: char,
    decimal: char,
    thousands: Option<&'static str>,
    prefix: &'static str,
    suffix: &'static str,
}

const STYLES: [Style; 6] = [
    // decimal comma, semicolon file (German/French/Spanish/Italian/Czech Excel)
    Style {
        sep: ';',
        decimal: ',',
        thousands: None,
        prefix: "",
        suffix: "",
    },
    // thousands point + decimal comma
    Style {
        sep: ';',
        decimal: ',',
        thousands: Some("."),
        prefix: "",
        suffix: "",
    },
    // thousands comma + decimal point (quoted in a comma file)
    Style {
        sep: ',',
        decimal: '.',
        thousands: Some(","),
        prefix: "",
        suffix: "",
    },
    // no-break space thousands + decimal comma
    Style {
        sep: ';',
        decimal: ',',
        thousands: Some("\u{a0}"),
        prefix: "",
        suffix: "",
    },
    // currency prefix
    Style {
        sep: ';',
        decimal: ',',
        thousands: Some("."),
        prefix: "€ ",
        suffix: "",
    },
    // currency code suffix
    Style {
        sep: ',',
        decimal: '.',
        thousands: None,
        prefix: "",
        suffix: " EUR",
    },
];

/// A plain number cell written in `style` (other cells as they are).
fn money(cell: &str, style: Style) -> String {
    let t = cell.trim();
    if t.is_empty() || t.parse::<f64>().is_err() {
        return cell.to_string();
    }
    let (sign, t) = t.strip_prefix('-').map_or(("", t), |r| ("-", r));
    let (int, frac) = t.split_once('.').map_or((t, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            grouped.push_str(style.thousands.unwrap_or(""));
        }
        grouped.push(ch);
    }
    let mut out = format!("{}{sign}{grouped}", style.prefix);
    if let Some(f) = frac {
        out.push(style.decimal);
        out.push_str(f);
    }
    out.push_str(style.suffix);
    if out.contains(style.sep) {
        format!("\"{out}\"")
    } else {
        out
    }
}

/// `src` rewritten: `money` columns in `style`, the separator `style.sep`.
fn rewrite(src: &Path, dir: &Path, name: &str, money_cols: &[&str], style: Style) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let is_money: Vec<bool> = head.iter().map(|h| money_cols.contains(h)).collect();
    let mut out = head.join(&style.sep.to_string());
    out.push('\n');
    for line in lines {
        let cells: Vec<String> = line
            .split(',')
            .zip(&is_money)
            .map(|(c, &m)| if m { money(c, style) } else { c.to_string() })
            .collect();
        out.push_str(&cells.join(&style.sep.to_string()));
        out.push('\n');
    }
    write(dir, name, &out)
}

/// metrics.json without the data fingerprint (file name and hash differ).
fn metrics_without_data(dir: &Path) -> Value {
    let mut m = metrics(dir);
    m.as_object_mut().unwrap().remove("data");
    m
}

/// Train on `data` into `dir`; score `batch` with the model; scores.csv.
fn train_and_score(dir: &Path, data: &Path, batch: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "--data",
        data.to_str().unwrap(),
        "--models",
        "decision_tree,logistic_regression",
    ];
    args.extend_from_slice(extra);
    train(dir, &args);
    let model = dir.join("models/latest");
    let (run, _) = score_run(
        &model,
        &dir.join("runs"),
        [OsStr::new("--data"), batch.as_os_str(), OsStr::new("-q")],
    );
    std::fs::read_to_string(run.join("scores.csv")).unwrap()
}

fn check_table(src: &str, target: &[&str], money_cols: &[&str], styles: &[Style]) {
    check_file(&shared(src), target, money_cols, styles)
}

fn check_file(data: &Path, target: &[&str], money_cols: &[&str], styles: &[Style]) {
    let src = data.display();
    let data = data.to_path_buf();
    let base = tempdir();
    let base_scores = train_and_score(base.path(), &data, &data, target);
    let base_metrics = metrics_without_data(base.path());
    for (k, &style) in styles.iter().enumerate() {
        let d = tempdir();
        let file = rewrite(
            &data,
            d.path(),
            &format!("styled{k}.csv"),
            money_cols,
            style,
        );
        let scores = train_and_score(d.path(), &file, &file, target);
        assert_eq!(
            metrics_without_data(d.path()),
            base_metrics,
            "{src} {style:?}: metrics differ"
        );
        assert_eq!(scores, base_scores, "{src} {style:?}: scores differ");
        let report = data_report(d.path());
        for c in money_cols {
            assert!(
                report["numeric_features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n == c),
                "{src} {style:?}: {c} not numeric: {}",
                report["number_formats"]
            );
        }
        assert!(!report["number_formats"].as_object().unwrap().is_empty());
    }
}

#[test]
fn bank_table_in_every_format_trains_and_scores_the_same() {
    check_table(
        "datasets/bank_churn.csv",
        &["--target", "Exited"],
        &["Balance", "EstimatedSalary"],
        &STYLES,
    );
}

#[test]
fn point_grouped_integers_in_a_decimal_comma_file_are_thousands() {
    // `101.348` in a file whose money is `83807,86` is 101348: polars
    // alone would read 101.348. The bank table with whole-number salaries.
    let d = tempdir();
    let text = std::fs::read_to_string(shared("datasets/bank_churn.csv")).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let k = head
        .split(',')
        .position(|h| h == "EstimatedSalary")
        .unwrap();
    let mut out = format!("{head}\n");
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        cells[k] = format!("{:.0}", cells[k].parse::<f64>().unwrap().floor());
        out += &cells.join(",");
        out.push('\n');
    }
    let base = write(d.path(), "whole_salaries.csv", &out);
    check_file(
        &base,
        &["--target", "Exited"],
        &["Balance", "EstimatedSalary"],
        &STYLES[1..2],
    );
}

#[test]
fn telco_table_in_european_formats_trains_and_scores_the_same() {
    check_table(
        "datasets/telco_churn.csv",
        &["--target", "Churn", "--positive", "Yes"],
        &["MonthlyCharges", "TotalCharges"],
        &STYLES[..2],
    );
}

#[test]
fn comma_codes_and_ids_stay_what_they_are() {
    let d = tempdir();
    let mut text = String::from("account_no;branch_code;amount;churned\n");
    for i in 0..400 {
        let code = format!("{},{}A", 10 + i % 7, i % 3);
        let amount = format!("{},{:02}", 100 + (i * 37) % 900, i % 100);
        // The amount drives the label, with a fifth of it flipped (a
        // perfect driver would be left out as a leak).
        let label = u8::from(((i * 37) % 900 < 300) != (i % 5 == 0));
        text.push_str(&format!("{};{code};{amount};{label}\n", 5_000_000 + i * 13));
    }
    let data = write(d.path(), "codes.csv", &text);
    let out = train(
        d.path(),
        args!["--data", data, "--models", "decision_tree",],
    );
    let report = data_report(d.path());
    let has = |key: &str, c: &str| report[key].as_array().unwrap().iter().any(|n| n == c);
    assert!(has("categorical_features", "branch_code"), "{report}");
    assert!(has("numeric_features", "amount"), "{report}");
    assert!(!has("numeric_features", "account_no") && !has("categorical_features", "account_no"));
    assert_eq!(report["number_formats"]["amount"]["decimal"], ",");
    assert!(report["number_formats"].get("branch_code").is_none());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("branch_code: "), "{stderr}");
}

#[test]
fn a_partly_numeric_money_column_is_warned_about() {
    let d = tempdir();
    let mut text = String::from("balance,visits,churned\n");
    for i in 0..200 {
        // Every fifth balance written with a stray unit no format reads.
        let b = if i % 5 == 0 {
            format!("{i} credits")
        } else {
            format!("{i}.5")
        };
        text.push_str(&format!("{b},{},{}\n", i % 9, i % 2));
    }
    let data = write(d.path(), "partly.csv", &text);
    let out = train(
        d.path(),
        args!["--data", data, "--models", "decision_tree",],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("warning") && l.contains("balance") && l.contains("0 credits")),
        "{stderr}"
    );
}

/// Civil date of day `d` since 1970-01-01 as (y, m, d): the library's own.
fn civil(days: i64) -> (i32, u32, u32) {
    churn::ingest::dates::to_civil(days as i32)
}

/// The planted table: churn rises with the days since the last transaction
/// (a logistic in the day count); `opened` (account age) and `noise` carry
/// a little signal. Dates written by `fmt` from a reference day `refd`
/// (row 0 is on the reference day, so the file's latest date is it), or
/// the day counts themselves when `fmt` is `None`.
fn recency_table(dir: &Path, name: &str, fmt: Option<DateWriter>, refd: i64) -> PathBuf {
    snapshot_table(dir, name, fmt, refd, 0)
}

/// [`recency_table`] over two snapshots `apart` days apart (0: one, and no
/// period column): odd rows were taken `apart` days before even ones, in a
/// `snapshot` column (ISO), their dates counted back from their own snapshot.
fn snapshot_table(
    dir: &Path,
    name: &str,
    fmt: Option<DateWriter>,
    refd: i64,
    apart: i64,
) -> PathBuf {
    let head = match fmt {
        Some(_) => "last_txn_date,opened,noise,churned",
        None => "last_txn_date_days,opened_days,noise,churned",
    };
    let mut out = match apart {
        0 => format!("{head}\n"),
        _ => format!("snapshot,{head}\n"),
    };
    for i in 0..3000 {
        let days = if i == 0 {
            0
        } else {
            (draw(i, 1) * 400.0) as i64
        };
        let age = 100 + (draw(i, 2) * 3000.0) as i64;
        let noise = (draw(i, 3) * 100.0).round();
        let logit = (days as f64 - 220.0) / 50.0 + 0.0002 * age as f64 + 0.004 * noise;
        let label = u8::from(draw(i, 4) < 1.0 / (1.0 + (-logit).exp()));
        let at = refd - apart * (i as i64 % 2);
        let (a, b) = match fmt {
            Some(f) => (f(at - days), f(at - age)),
            None => (days.to_string(), age.to_string()),
        };
        if apart > 0 {
            out.push_str(&format!("{},", iso_date(at)));
        }
        out.push_str(&format!("{a},{b},{noise},{label}\n"));
    }
    write(dir, name, &out)
}

fn iso_date(d: i64) -> String {
    let (y, m, dd) = civil(d);
    format!("{y:04}-{m:02}-{dd:02}")
}

fn european(d: i64) -> String {
    let (y, m, dd) = civil(d);
    format!("{dd:02}/{m:02}/{y:04}")
}

fn dotted_with_time(d: i64) -> String {
    let (y, m, dd) = civil(d);
    format!("{dd:02}.{m:02}.{y:04} 00:00:00")
}

/// Writes a day (days since 1970) as a date cell.
type DateWriter = fn(i64) -> String;

/// `20240630`: a number to a fast parser, a date to us.
fn compact(d: i64) -> String {
    let (y, m, dd) = civil(d);
    format!("{y:04}{m:02}{dd:02}")
}

/// `240630` (as the Berka bank's extract writes dates): `[ingest] date_format`.
fn yymmdd(d: i64) -> String {
    let (y, m, dd) = civil(d);
    format!("{:02}{m:02}{dd:02}", y % 100)
}

/// Column `name` of scores.csv text.
fn score_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let k = fields(lines.next().unwrap())
        .iter()
        .position(|h| h == name)
        .unwrap();
    lines.map(|l| fields(l)[k].clone()).collect()
}

#[test]
fn dates_become_day_counts_and_travel_in_time() {
    // 2024-06-30
    let refd = 19_904;
    let counts = tempdir();
    let plain = recency_table(counts.path(), "counts.csv", None, refd);
    train(
        counts.path(),
        args!["--data", plain, "--models", "logistic_regression",],
    );
    let want = oof_auc(&metrics(counts.path()), "logistic_regression");
    assert!(want > 0.8, "planted recency signal: AUC {want}");
    let formats: [(DateWriter, Option<&str>); 5] = [
        (iso_date, None),
        (european, None),
        (dotted_with_time, None),
        (compact, None),
        (yymmdd, Some("%y%m%d")),
    ];
    for (k, (fmt, pattern)) in formats.into_iter().enumerate() {
        let d = tempdir();
        let data = recency_table(d.path(), &format!("dates{k}.csv"), Some(fmt), refd);
        let mut args = vec![
            "--data".to_string(),
            data.display().to_string(),
            "--models".into(),
            "logistic_regression".into(),
        ];
        if let Some(p) = pattern {
            let toml = write(
                d.path(),
                "ingest.toml",
                &format!("[ingest]\ndate_format = \"{p}\"\n"),
            );
            args.extend(["--config".into(), toml.display().to_string()]);
        }
        train(d.path(), &args);
        let got = oof_auc(&metrics(d.path()), "logistic_regression");
        assert!(
            (got - want).abs() < 1e-12,
            "format {k}: AUC {got} vs {want}"
        );
        let report = data_report(d.path());
        assert_eq!(report["reference_date"], "2024-06-30", "{report}");
        for c in ["last_txn_date_days", "opened_days"] {
            assert!(
                report["numeric_features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n == c),
                "{report}"
            );
        }
        assert!(
            report["categorical_features"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{report}"
        );
        if k == 0 {
            // A batch a month later, every date shifted by 30 days, scores
            // the same: days are counted back from the batch's own latest date.
            let later = recency_table(d.path(), "later.csv", Some(fmt), refd + 30);
            let score = |batch: &Path, runs: &str| {
                let model = d.path().join("models/latest");
                let (run, err) = score_run(
                    &model,
                    &d.path().join(runs),
                    [OsStr::new("--data"), batch.as_os_str()],
                );
                let summary: Value = serde_json::from_str(
                    &std::fs::read_to_string(run.join("summary.json")).unwrap(),
                )
                .unwrap();
                (
                    std::fs::read_to_string(run.join("scores.csv")).unwrap(),
                    format!("{err} {}", summary["dates"]),
                )
            };
            let (now, _) = score(&data, "runs-now");
            let (then, said) = score(&later, "runs-later");
            assert!(said.contains("2024-07-30"), "{said}");
            // summary.json: the date columns, their pattern, both references.
            assert!(
                said.contains("\"reference_date\":\"2024-07-30\"")
                    && said.contains("\"training_reference_date\":\"2024-06-30\"")
                    && said.contains("\"last_txn_date\":\"%Y-%m-%d\""),
                "{said}"
            );
            let p = score_column(&now, "churn_probability");
            assert_eq!(p, score_column(&then, "churn_probability"));
            assert_eq!(p.len(), 3000);
        }
    }
}

/// `src` with every cell of column `col` passed through `f`.
fn respelled(src: &Path, dst: &Path, col: &str, f: &dyn Fn(usize, &str) -> String) {
    let text = std::fs::read_to_string(src).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let k = head.split(',').position(|h| h == col).unwrap();
    let mut out = format!("{head}\n");
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        cells[k] = f(i, &cells[k]);
        out += &cells.join(",");
        out.push('\n');
    }
    std::fs::write(dst, out).unwrap();
}

#[test]
fn category_spellings_are_one_level_in_training_and_scoring() {
    let d = tempdir();
    let data = shared("datasets/bank_churn.csv");
    // Scoring: the model's `France` written `FRANCE` by another system.
    let base = train_and_score(&d.path().join("a"), &data, &data, &["--target", "Exited"]);
    let upper = d.path().join("upper.csv");
    respelled(&data, &upper, "Geography", &|_, c| c.to_uppercase());
    let model = d.path().join("a/models/latest");
    let (run, _) = score_run(
        &model,
        &d.path().join("runs_upper"),
        [OsStr::new("--data"), upper.as_os_str(), OsStr::new("-q")],
    );
    // The same scores; reasons quote the batch's own spelling.
    let upper_scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    assert!(
        upper_scores.to_lowercase() == base.to_lowercase(),
        "scores of the FRANCE batch differ"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert!(
        summary["unseen_categories"].get("Geography").is_none(),
        "{summary}"
    );
    // Training: a fifth of the rows spell their country another way; the
    // model and metrics are the original's, the merges are counted.
    let mixed = d.path().join("mixed.csv");
    respelled(&data, &mixed, "Geography", &|i, c| match i % 10 {
        0 => c.to_uppercase(),
        1 => format!(" {} ", c.to_lowercase()),
        _ => c.to_string(),
    });
    let scores = train_and_score(&d.path().join("b"), &mixed, &data, &["--target", "Exited"]);
    assert!(
        metrics_without_data(&d.path().join("b")) == metrics_without_data(&d.path().join("a")),
        "metrics differ"
    );
    assert!(scores == base, "scores differ");
    let report = data_report(&d.path().join("b"));
    assert_eq!(
        report["unified_spellings"]["Geography"], 2000,
        "{}",
        report["unified_spellings"]
    );
}

/// `churn-train offers` on `data` into `dir`: offers_metrics.json without
/// the data fingerprint, and offers.csv.
fn offers_run(dir: &Path, data: &Path) -> (Value, String) {
    let o = train_cmd()
        .args(["offers", "-q", "--id", "customer_id", "--period", "period"])
        .args(["--risk-column", "risk_profile", "--data"])
        .arg(data)
        .arg("--out")
        .arg(dir.join("experiments"))
        .arg("--model-dir")
        .arg(dir.join("models"))
        .output()
        .unwrap();
    assert_ok(&o);
    let run = run_dir(dir);
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("offers_metrics.json")).unwrap())
            .unwrap();
    for k in ["data", "run_id", "created_at", "model"] {
        m.as_object_mut().unwrap().remove(k);
    }
    (m, std::fs::read_to_string(run.join("offers.csv")).unwrap())
}

#[test]
fn an_offers_panel_with_decimal_commas_fits_the_same_offers() {
    let d = tempdir();
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/holdings/holdings.csv");
    let money = [
        "balance",
        "estimated_income",
        "txn_amount_3m",
        "monthly_profit",
    ];
    let styled = rewrite(&plain, d.path(), "panel_eu.csv", &money, STYLES[1]);
    let (m0, o0) = offers_run(&d.path().join("a"), &plain);
    let (m1, o1) = offers_run(&d.path().join("b"), &styled);
    assert!(m0 == m1, "offers metrics differ:\n{m0}\n{m1}");
    assert!(o0 == o1, "offers.csv differs");
}

#[test]
fn transaction_amounts_with_decimal_commas_build_the_same_features() {
    use polars::prelude::*;
    let d = tempdir();
    let logs = generate_logs(d.path(), 600, 21);
    // The transactions as a semicolon CSV with decimal commas in every amount.
    let mut tx = churn::ingest::read_frame(&logs.join("transactions.parquet"), None).unwrap();
    let money = ["amount", "revenue", "cost"];
    for name in money {
        let comma: StringChunked = tx
            .column(name)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .map(|v| v.map(|x| format!("{x}").replace('.', ",")))
            .collect();
        tx.with_column(comma.with_name(name.into()).into_column())
            .unwrap();
    }
    let csv = logs.join("transactions_eu.csv");
    CsvWriter::new(std::fs::File::create(&csv).unwrap())
        .with_separator(b';')
        .finish(&mut tx)
        .unwrap();
    let features = |tx: &str, out: &str| {
        let args: Vec<String> = log_args(&logs)
            .into_iter()
            .map(|a| a.replace("transactions.parquet", tx))
            .collect();
        let o = train_cmd()
            .arg("features")
            .args(&args)
            .args(["--as-of", "2024-04-01", "--out"])
            .arg(d.path().join(out))
            .output()
            .unwrap();
        assert_ok(&o);
        std::fs::read_to_string(d.path().join(out)).unwrap()
    };
    let plain = features("transactions.parquet", "plain.csv");
    let eu = features("transactions_eu.csv", "eu.csv");
    assert!(plain.lines().count() > 100);
    assert!(plain == eu, "features from decimal-comma amounts differ");
}

#[test]
fn dates_count_back_from_each_rows_snapshot() {
    // Two snapshots 91 days apart in one table: each row's dates count
    // back from its own snapshot, as the day counts do.
    let refd = 19_904;
    let auc = |fmt: Option<DateWriter>| {
        let d = tempdir();
        let data = snapshot_table(d.path(), "snap.csv", fmt, refd, 91);
        let args = [
            "--data",
            data.to_str().unwrap(),
            "--models",
            "logistic_regression",
        ];
        train(d.path(), args);
        (
            oof_auc(&metrics(d.path()), "logistic_regression"),
            data_report(d.path()),
        )
    };
    let (want, _) = auc(None);
    let (got, report) = auc(Some(iso_date));
    assert!((got - want).abs() < 1e-12, "AUC {got} vs {want}");
    assert_eq!(
        report["reference_rule"], "each row's period (snapshot)",
        "{report}"
    );
}
