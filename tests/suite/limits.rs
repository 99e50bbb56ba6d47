//! Limits that keep a bad extract from exhausting the machine (README,
//! "Failure behaviour"): a categorical column with a million distinct
//! values, a table of 5,000 columns, a single 100 MB line, a 10 GB sparse
//! file of zeros — each a clear error or bounded handling, never a panic or
//! an out-of-memory kill.

use crate::common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A logistic model trained on bank_churn.csv, shared by the tests here.
fn model() -> &'static (TempDir, PathBuf) {
    static MODEL: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let d = tempdir();
        let m = train_bank(d.path(), &["--models", "logistic_regression"]);
        (d, m)
    })
}

fn bank_lines() -> Vec<String> {
    std::fs::read_to_string(shared("datasets/bank_churn.csv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Score `data`; (exit code, stderr, run folder).
fn score(dir: &Path, data: &Path, extra: &[&str]) -> (Option<i32>, String, PathBuf) {
    let runs = dir.join("runs");
    let o = score_cmd()
        .arg("--model")
        .arg(&model().1)
        .arg("--data")
        .arg(data)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("-q")
        .args(extra)
        .output()
        .unwrap();
    let run = std::fs::read_dir(&runs)
        .ok()
        .and_then(|mut r| r.next())
        .map(|e| e.unwrap().path())
        .unwrap_or_default();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into(),
        run,
    )
}

fn train_fails(dir: &Path, data: &Path, needles: &[&str]) {
    let o = train_cmd()
        .arg("--data")
        .arg(data)
        .args(["--target", "Exited", "-q", "--out"])
        .arg(dir.join("experiments"))
        .arg("--model-dir")
        .arg(dir.join("models"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "{err} lacks {n}");
    }
    assert!(!dir.join("models").exists());
}

fn summary(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_million_distinct_categories_are_scored_as_unseen() {
    let d = tempdir();
    let lines = bank_lines();
    let path = d.path().join("wide_categories.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{}", lines[0]).unwrap();
    for i in 0..1_000_000usize {
        let l = &lines[1 + i % 10_000];
        let mut cells: Vec<&str> = l.split(',').collect();
        let geo = format!("G{i}");
        cells[4] = &geo; // Geography: a new value on every row
        writeln!(f, "{}", cells.join(",")).unwrap();
    }
    drop(f);
    let (code, err, run) = score(d.path(), &path, &[]);
    assert_eq!(code, Some(0), "{err}");
    let s = summary(&run);
    assert_eq!(s["rows_scored"], 1_000_000);
    assert_eq!(s["unseen_categories"]["Geography"], 1_000_000);
}

#[test]
fn five_thousand_columns_are_refused() {
    let d = tempdir();
    let header: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..5000).map(|i| (i % 7).to_string()).collect();
    let mut text = header.join(",") + ",Exited\n";
    for k in 0..30 {
        text += &format!("{},{}\n", row.join(","), k % 2);
    }
    let p = write(d.path(), "wide.csv", &text);
    train_fails(d.path(), &p, &["wide.csv", "5001 columns", "4096"]);
    let (code, err, _) = score(d.path(), &p, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("5001 columns"), "{err}");
}

#[test]
fn a_100_mb_line_is_one_reject_and_a_training_error() {
    let d = tempdir();
    let lines = bank_lines();
    let path = d.path().join("long_line.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{}", lines[0]).unwrap();
    for l in &lines[1..101] {
        writeln!(f, "{l}").unwrap();
    }
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\n").unwrap();
    for l in &lines[101..201] {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let (code, err, run) = score(d.path(), &path, &[]);
    assert_eq!(code, Some(0), "{err}");
    let s = summary(&run);
    assert_eq!(
        (s["rows_scored"].as_u64(), s["rows_rejected"].as_u64()),
        (Some(200), Some(1))
    );
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains(",101,") && rejects.contains("longer than 16 MiB"),
        "{rejects}"
    );
    train_fails(
        d.path(),
        &path,
        &["long_line.csv", "row 101", "longer than 16 MiB"],
    );
}

#[test]
fn a_10_gb_sparse_file_of_zeros_is_refused_without_reading_it() {
    let d = tempdir();
    let path = d.path().join("zeros.csv");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    let start = std::time::Instant::now();
    train_fails(d.path(), &path, &["zeros.csv", "not a CSV file"]);
    let (code, err, _) = score(d.path(), &path, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not a CSV file"), "{err}");
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
}
