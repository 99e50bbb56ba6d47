//! Logs processed in customer buckets (`--partitions`): any number of
//! buckets gives the feature table and the scores of one, to the byte —
//! with a customer who has no log row, customers sharing a bucket, and the
//! transaction log as a hive-style folder of Parquet part files — the
//! bucket files go and leave nothing behind, and a part file with other
//! columns or a bucket folder that cannot be written stops the run in one
//! line that names it.

use crate::common;
use common::*;
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// `churn-train features` on `logs` with `extra` flags into `out`.
fn features(logs: &[String], extra: &[&str], out: &Path) -> std::process::Output {
    train_cmd()
        .arg("features")
        .args(logs)
        .args(["--snapshots", "2023-09-01..2024-03-01:monthly"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The transaction log of `logs` as a hive-style folder of three Parquet
/// part files (and a `_SUCCESS` marker); the folder.
fn as_parts(logs: &Path) -> PathBuf {
    let f = std::fs::File::open(logs.join("transactions.parquet")).unwrap();
    let df = ParquetReader::new(f).finish().unwrap();
    let dir = logs.join("txn_parts");
    let third = df.height() / 3;
    for (i, (start, dst)) in [
        (0, "month=2023-01/part-0.parquet"),
        (third, "month=2023-01/part-1.parquet"),
        (2 * third, "month=2024-01/part-0.parquet"),
    ]
    .into_iter()
    .enumerate()
    {
        let len = if i == 2 { df.height() - start } else { third };
        let path = dir.join(dst);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut part = df.slice(start as i64, len);
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut part)
            .unwrap();
    }
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    dir
}

#[test]
fn any_number_of_buckets_gives_the_same_table_and_scores() {
    let tmp = tempdir();
    let logs = generate_logs(tmp.path(), 1500, 21);
    // A customer without a single log row.
    let mut customers = std::fs::read_to_string(logs.join("customers.csv")).unwrap();
    customers.push_str("C-no-rows,2022-05-01,40,F,North,1,30000\n");
    std::fs::write(logs.join("customers.csv"), customers).unwrap();
    let args = log_args(&logs);
    let scratch = tmp.path().join("scratch");
    let scratch_flag = scratch.display().to_string();
    let mut tables = Vec::new();
    for p in ["1", "2", "7", "auto"] {
        let out = tmp.path().join(format!("features-{p}.csv"));
        let o = features(
            &args,
            &["--partitions", p, "--temp-dir", &scratch_flag],
            &out,
        );
        assert_ok(&o);
        tables.push((p, std::fs::read(&out).unwrap()));
    }
    for (p, t) in &tables[1..] {
        assert!(t == &tables[0].1, "{p} buckets give another table than 1");
    }
    let text = String::from_utf8(tables[0].1.clone()).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let count = header.iter().position(|c| *c == "txn_count_365d").unwrap();
    let lonely: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("C-no-rows,"))
        .collect();
    assert_eq!(lonely.len(), 7, "one row per snapshot");
    let zero = |l: &&str| l.split(',').nth(count).and_then(|v| v.parse::<f64>().ok()) == Some(0.0);
    assert!(lonely.iter().all(zero), "{lonely:?}");
    // Seven buckets hold 1501 customers: many share one.
    assert!(text.lines().count() > 7 * 1000);

    // The transaction log as part files, in three buckets.
    let parts = as_parts(&logs);
    let mut part_args = args.clone();
    part_args[3] = parts.display().to_string();
    let out = tmp.path().join("features-parts.csv");
    assert_ok(&features(
        &part_args,
        &["--partitions", "3", "--temp-dir", &scratch_flag],
        &out,
    ));
    assert!(
        std::fs::read(&out).unwrap() == tables[0].1,
        "part files give another table"
    );

    // The bucket files are gone.
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "bucket files left behind: {left:?}");

    // Scores of a log-trained model, scored in 1 and 5 buckets.
    let o = train_cmd()
        .args(&args)
        .args([
            "--as-of",
            "2023-10-01,2024-01-01",
            "--models",
            "logistic_regression",
        ])
        .args(["--partitions", "4", "-q", "--out"])
        .arg(tmp.path().join("runs"))
        .arg("--model-dir")
        .arg(tmp.path().join("models"))
        .output()
        .unwrap();
    assert_ok(&o);
    let model = tmp.path().join("models/latest");
    let score = |p: &str| {
        let runs = tmp.path().join(format!("score-{p}"));
        let flags = ["--as-of", "2024-04-01", "--partitions", p, "-q"];
        let (run, _) = score_run(&model, &runs, args.iter().map(String::as_str).chain(flags));
        std::fs::read(run.join("scores.csv")).unwrap()
    };
    assert!(
        score("1") == score("5"),
        "scores differ between 1 and 5 buckets"
    );
}

/// Run `churn-train features` expecting failure; its one error line.
fn error_line(logs: &[String], extra: &[&str], out: &Path) -> String {
    let o = features(logs, extra, out);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "output written despite the error");
    err.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{err}"))
        .to_string()
}

#[test]
fn bad_parts_and_bucket_folders_stop_the_run_in_one_line() {
    let tmp = tempdir();
    let logs = generate_logs(tmp.path(), 300, 22);
    let mut args = log_args(&logs);
    let out = tmp.path().join("f.csv");

    // A part file without the balance column the others have.
    let parts = as_parts(&logs);
    let odd = parts.join("month=2024-01/part-0.parquet");
    let f = std::fs::File::open(&odd).unwrap();
    let mut df = ParquetReader::new(f)
        .finish()
        .unwrap()
        .drop("balance")
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&odd).unwrap())
        .finish(&mut df)
        .unwrap();
    let mut part_args = args.clone();
    part_args[3] = parts.display().to_string();
    let line = error_line(&part_args, &["--partitions", "2"], &out);
    assert!(line.contains("month=2024-01/part-0.parquet"), "{line}");
    assert!(line.contains("balance"), "{line}");

    // A bucket folder under a regular file cannot be made.
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let below = file.join("buckets").display().to_string();
    let line = error_line(&args, &["--partitions", "3", "--temp-dir", &below], &out);
    assert!(
        line.contains("not-a-folder") && line.contains("bucket"),
        "{line}"
    );

    // A log that is not there is named (a folder without part files too).
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    args[3] = empty.display().to_string();
    let line = error_line(&args, &["--partitions", "2"], &out);
    assert!(
        line.contains("empty") && line.contains("part file"),
        "{line}"
    );
}

/// What a Spark task does, without Spark: `--bucket K/3` parts on the
/// whole logs (the other buckets' rows are not this part's customers),
/// merged with `--merge`, give the table of one run.
#[test]
fn bucket_parts_merged_give_the_table_of_one_run() {
    let tmp = tempdir();
    let logs = generate_logs(tmp.path(), 900, 23);
    let args = log_args(&logs);
    let single = tmp.path().join("single.csv");
    assert_ok(&features(&args, &[], &single));
    let parts = tmp.path().join("parts");
    for k in 0..3 {
        let part = parts.join(format!("part-{k}.parquet"));
        let slice = format!("{k}/3");
        let o = features(&args, &["--bucket", &slice, "--partitions", "2"], &part);
        assert_ok(&o);
    }
    let merged = tmp.path().join("merged.csv");
    let o = train_cmd()
        .args(["features", "--merge"])
        .arg(&parts)
        .args(&args[..2])
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_ok(&o);
    assert!(
        std::fs::read(&merged).unwrap() == std::fs::read(&single).unwrap(),
        "merged parts differ from one run"
    );
    // A part is not a table to train on, nor is --bucket a training flag.
    let o = train_cmd()
        .args(&args)
        .args(["--as-of", "2024-01-01", "--bucket", "0/3", "-q", "--out"])
        .arg(tmp.path().join("runs"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bucket"));
}

/// A disk that fills up while the logs are bucketed: one line naming the
/// bucket file, no output, no bucket file left. Needs a small tmpfs (root
/// with mount rights); says SKIPPED otherwise.
#[test]
fn a_full_disk_while_bucketing_is_named_and_leaves_nothing() {
    let tmp = tempdir();
    let logs = generate_logs(tmp.path(), 300, 24);
    let tiny = tmp.path().join("tiny");
    std::fs::create_dir(&tiny).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=200k", "tmpfs"])
        .arg(&tiny)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("SKIPPED: a_full_disk_while_bucketing (cannot mount a small tmpfs here)");
        return;
    }
    let out = tmp.path().join("f.csv");
    let dir = tiny.display().to_string();
    let o = features(
        &log_args(&logs),
        &["--partitions", "3", "--temp-dir", &dir],
        &out,
    );
    let left: Vec<_> = std::fs::read_dir(&tiny).unwrap().collect();
    let _ = std::process::Command::new("umount").arg(&tiny).output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("No space left") && line.contains(".rows"),
        "{err}"
    );
    assert!(!out.exists() && left.is_empty(), "left behind: {left:?}");
}
