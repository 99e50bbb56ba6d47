//! `churn-score` driven like a batch job: exact reproduction of the trained
//! model, bad input, pipe mode, tier stability, drift, evaluation, migration.

use crate::common;
use churn::artifact::Artifact;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

/// One model trained on bank_churn.csv, shared by the tests of this file.
pub(crate) fn bank_model() -> &'static (common::TempDir, PathBuf) {
    static MODEL: OnceLock<(common::TempDir, PathBuf)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let d = common::tempdir();
        let model = train_bank(d.path(), &["--models", "random_forest"]);
        (d, model)
    })
}

/// Run churn-score; returns (success, stdout, stderr).
fn score(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> (bool, String, String) {
    let out = score_cmd()
        .arg("--model")
        .arg(&bank_model().1)
        .arg("--runs-dir")
        .arg(dir.join("runs"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn only_run(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .next()
        .expect("a score run")
        .unwrap()
        .path()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Column `name` of a CSV text (simple: no quoted commas in the used columns).
fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    lines.map(|l| split_csv(l)[k].clone()).collect()
}

fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut q) = (vec![], String::new(), false);
    for c in line.chars() {
        match c {
            '"' => q = !q,
            ',' if !q => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn bank_lines() -> Vec<String> {
    std::fs::read_to_string(shared("datasets/bank_churn.csv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn scoring_reproduces_the_refitted_model_exactly() {
    let d = common::tempdir();
    let data = shared("datasets/bank_churn.csv");
    let (ok, _, err) = score(d.path(), &args!["--data", data, "-q"]);
    assert!(ok, "{err}");
    let run = only_run(d.path());
    let scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    let probs: Vec<f64> = csv_column(&scores, "churn_probability")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();

    // The refitted model's own probabilities, computed through the training path.
    let art = Artifact::load(&bank_model().1).unwrap();
    let raw = churn::ingest::read_table(&data, None).unwrap();
    let ds = churn::clean::clean(raw, &art.config.data, &art.config.fairness).unwrap();
    let x = art
        .pipeline
        .transform_all(&ds.table, &mut Default::default());
    let want = art.model.predict_proba(x.view());
    assert_eq!(probs.len(), 10_000);
    assert_eq!(probs, want, "scoring differs from the trained model");
    // higher probability means churn
    let labels: Vec<u8> = csv_column(&scores, "label")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(churn::evaluate::metrics::roc_auc(&labels, &probs) > 0.9);

    // Offline evaluation and PSI ≈ 0 on the training data itself.
    let summary = json(&run.join("summary.json"));
    assert_eq!(summary["rows_read"], 10_000);
    assert_eq!(summary["rows_scored"], 10_000);
    assert!(summary["drift"]["score"]["psi"].as_f64().unwrap() < 0.01);
    for f in summary["drift"]["features"].as_array().unwrap() {
        assert!(f["psi"].as_f64().unwrap() < 0.01, "{f}");
    }
    let ev = json(&run.join("eval.json"));
    assert!(ev["metrics"]["roc_auc"].as_f64().unwrap() > 0.9);
    let red = ev["by_warning_level"]["red"]["churn_rate"]
        .as_f64()
        .unwrap();
    let green = ev["by_warning_level"]["green"]["churn_rate"]
        .as_f64()
        .unwrap();
    assert!(red > green, "red {red} vs green {green}");
    let levels = csv_column(&scores, "warning_level");
    for l in ["red", "orange", "yellow", "green"] {
        let customers = ev["by_warning_level"][l]["customers"].as_u64().unwrap() as usize;
        assert_eq!(
            customers,
            levels.iter().filter(|x| *x == l).count(),
            "{l} customers in eval.json vs scores.csv"
        );
    }
    // reasons read like IsActiveMember=0 (+0.12)
    let r1 = csv_column(&scores, "reason_1");
    assert!(
        r1.iter()
            .filter(|r| !r.is_empty())
            .all(|r| r.contains('=') && r.contains("(+")),
        "{:?}",
        &r1[..3]
    );
    assert!(
        !scores.contains("Hargrave"),
        "names are not copied into outputs"
    );
}

#[test]
fn shifted_feature_shows_drift() {
    let d = common::tempdir();
    let lines = bank_lines();
    let header: Vec<&str> = lines[0].split(',').collect();
    let age = header.iter().position(|h| *h == "Age").unwrap();
    let mut text = lines[0].clone() + "\n";
    for l in &lines[1..3001] {
        let mut f: Vec<String> = l.split(',').map(String::from).collect();
        f[age] = (f[age].parse::<f64>().unwrap() + 25.0).to_string();
        text += &(f.join(",") + "\n");
    }
    let p = write(d.path(), "older.csv", &text);
    let (ok, _, err) = score(d.path(), &args!["--data", p, "-q"]);
    assert!(ok, "{err}");
    let s = json(&only_run(d.path()).join("summary.json"));
    let age_row = s["drift"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Age")
        .unwrap()
        .clone();
    assert!(
        age_row["psi"].as_f64().unwrap() > 0.25 && age_row["status"] == "shift",
        "{age_row}"
    );
}

#[test]
fn missing_columns_are_listed_and_nothing_is_written() {
    let d = common::tempdir();
    let lines = bank_lines();
    let text: String = lines[..50]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{}\n",
                f.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != 6 && *i != 8)
                    .map(|(_, v)| *v)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    let p = write(d.path(), "short.csv", &text);
    let (ok, _, err) = score(d.path(), &args!["--data", p]);
    assert!(!ok);
    assert!(
        err.contains("missing required column(s): Age, Balance"),
        "{err}"
    );
    assert!(!d.path().join("runs").exists(), "wrote outputs");
}

#[test]
fn a_broken_extract_fails_after_writing_its_rejects() {
    let d = common::tempdir();
    let mut lines = bank_lines()[..40].to_vec();
    let clean = lines[..20].join("\n") + "\n";
    // 2 of 39 rows rejected (5.1% > the default 5%): a bad value and a ragged record
    let mut cells: Vec<&str> = lines[3].split(',').collect();
    cells[3] = "abc";
    lines[3] = cells.join(",");
    lines[25].push_str(",1,2");
    let p = write(d.path(), "ragged.csv", &(lines.join("\n") + "\n"));
    // and an earlier run where everyone was green, so warning rises would be written too
    let earlier = common::tempdir();
    let good = write(earlier.path(), "good.csv", &clean);
    let prev = earlier.path().join("prev.csv");
    assert!(score(earlier.path(), &args!["--data", good, "--out", prev, "-q"]).0);
    let all_green = std::fs::read_to_string(&prev)
        .unwrap()
        .replace(",red,", ",green,")
        .replace(",orange,", ",green,")
        .replace(",yellow,", ",green,");
    std::fs::write(&prev, all_green).unwrap();
    let out = d.path().join("scores.csv");
    let args = [
        "--data",
        p.to_str().unwrap(),
        "--chunk-rows",
        "10",
        "--out",
        out.to_str().unwrap(),
        "--previous",
        prev.to_str().unwrap(),
        "-q",
    ];
    let (ok, _, err) = score(d.path(), &args);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("2 of 39 rows rejected"), "{err}");
    assert!(err.contains("max-reject-rate 0.05"), "{err}");
    assert!(!out.exists(), "scores written");
    // The run folder keeps only rejects.csv: the cause.
    let run = only_run(d.path());
    let kept: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept, ["rejects.csv"]);
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains(",3,") && rejects.contains(",25,"),
        "{rejects}"
    );
    assert!(
        rejects.contains("16 fields where the header has 14"),
        "{rejects}"
    );
    let tmp_left = std::fs::read_dir(d.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp")
        })
        .count();
    assert_eq!(tmp_left, 0, "a temporary file was left behind");

    // --max-reject-rate 1: the same batch is scored, the bad rows rejected.
    std::fs::remove_dir_all(d.path().join("runs")).unwrap();
    let mut lenient = args.to_vec();
    lenient.extend(["--max-reject-rate", "1"]);
    let (ok, _, err) = score(d.path(), &lenient);
    assert!(ok, "{err}");
    let summary = json(&only_run(d.path()).join("summary.json"));
    assert_eq!(summary["rows_scored"], 37);
    assert_eq!(summary["rows_rejected"], 2);
}

#[test]
fn a_broken_line_never_stops_the_batch() {
    // The example: 10,000 rows, row 5000 has one field too many (the
    // last line of the first chunk), row 5001 a quoted surname spanning two
    // lines, row 10,000 (the last line) is not UTF-8.
    let d = common::tempdir();
    let lines = bank_lines();
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let mut l = l.clone().into_bytes();
        match i {
            5000 => l.extend_from_slice(b",7"),
            5001 => {
                let text = String::from_utf8(l).unwrap();
                let f: Vec<&str> = text.split(',').collect();
                l = format!("{},{},\"{}\nJr.\",{}", f[0], f[1], f[2], f[3..].join(","))
                    .into_bytes();
            }
            10_000 => l.splice(20..20, [0xff, 0xfe]).for_each(drop),
            _ => {}
        }
        bytes.extend_from_slice(&l);
        bytes.push(b'\n');
    }
    let p = d.path().join("extract.csv");
    std::fs::write(&p, bytes).unwrap();
    let (ok, _, err) = score(d.path(), &args!["--data", p, "--chunk-rows", "5000", "-q"]);
    assert!(ok, "{err}");
    let run = only_run(d.path());
    let summary = json(&run.join("summary.json"));
    assert_eq!(summary["rows_read"], 10_000);
    assert_eq!(summary["rows_scored"], 9_998);
    assert_eq!(summary["rows_rejected"], 2);
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    let rows: Vec<&str> = rejects
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(rows, ["5000", "10000"], "{rejects}");
    assert!(
        rejects.contains("15 fields where the header has 14"),
        "{rejects}"
    );
    assert!(rejects.contains("UTF-8"), "{rejects}");
    let scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 1 + 9_998);
}

#[test]
fn bad_rows_are_rejected_unseen_categories_counted() {
    let d = common::tempdir();
    let lines = bank_lines();
    let mut text = lines[0].clone() + ",Extra\n";
    for (i, l) in lines[1..201].iter().enumerate() {
        let mut f: Vec<String> = l.split(',').map(String::from).collect();
        match i {
            3 => f[6] = "forty".into(),     // Age not a number
            7 => f[9] = "-2".into(),        // NumOfProducts negative
            11 => f[4] = "Atlantis".into(), // unseen Geography
            _ => {}
        }
        text += &(f.join(",") + ",ignored\n");
    }
    let p = write(d.path(), "bad.csv", &text);
    let (ok, _, err) = score(d.path(), &args!["--data", p, "-q", "--chunk-rows", "64"]);
    assert!(ok, "{err}");
    let run = only_run(d.path());
    let s = json(&run.join("summary.json"));
    assert_eq!(s["rows_read"], 200);
    assert_eq!(s["rows_rejected"], 2);
    assert_eq!(s["rows_scored"], 198);
    assert_eq!(s["unseen_categories"]["Geography"], 1);
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains(",4,column 'Age': 'forty' is not a number"),
        "{rejects}"
    );
    assert!(
        rejects.contains(",8,column 'NumOfProducts': negative value"),
        "{rejects}"
    );
    let scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 199);
}

#[test]
fn stdin_to_stdout_pipe_mode() {
    let d = common::tempdir();
    let lines = bank_lines();
    let input: String = lines[..301].iter().map(|l| format!("{l}\n")).collect();
    let mut child = score_cmd()
        .args(["--model"])
        .arg(&bank_model().1)
        .arg("--runs-dir")
        .arg(d.path().join("runs"))
        .args(["--data", "-", "--out", "-", "--chunk-rows", "100"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("id,churn_probability,churn_flag,warning_level,value_tier,clv,reason_1,reason_2,reason_3,action"));
    assert_eq!(text.lines().count(), 301, "only CSV on stdout");
    assert_eq!(csv_column(&text, "id")[0], "15634602");
}

#[test]
fn refit_segments_fits_on_the_whole_batch_not_its_first_chunk() {
    let d = common::tempdir();
    let lines = bank_lines();
    // Sorted by balance: the first chunks hold only the smallest balances.
    let mut rows: Vec<&String> = lines[1..3001].iter().collect();
    let balance = |l: &str| l.split(',').nth(8).unwrap().parse::<f64>().unwrap();
    rows.sort_by(|a, b| balance(a).total_cmp(&balance(b)));
    let text: String = std::iter::once(&lines[0])
        .chain(rows)
        .map(|l| format!("{l}\n"))
        .collect();
    let p = write(d.path(), "by_balance.csv", &text);
    let tiers = |chunk: &str| {
        let o = d.path().join(format!("scores_{chunk}.csv"));
        let (ok, _, err) = score(
            d.path(),
            &args![
                "--data",
                p,
                "--out",
                o,
                "--refit-segments",
                "--chunk-rows",
                chunk,
                "-q",
            ],
        );
        assert!(ok, "{err}");
        csv_column(&std::fs::read_to_string(&o).unwrap(), "value_tier")
    };
    let (small, whole) = (tiers("250"), tiers("5000"));
    let moved = small.iter().zip(&whole).filter(|(a, b)| a != b).count();
    assert_eq!(
        (small.len(), moved),
        (3000, 0),
        "refitted tiers depend on the chunk size"
    );
    let distinct: std::collections::BTreeSet<&String> = whole.iter().collect();
    assert_eq!(distinct.len(), 4, "every tier is used: {distinct:?}");
    for run in std::fs::read_dir(d.path().join("runs")).unwrap() {
        let summary = json(&run.unwrap().path().join("summary.json"));
        assert_eq!(
            summary["value_tiers"],
            "refitted on this batch: 3000 of its 3000 valid customers, sampled"
        );
    }
}

#[test]
fn scores_are_identical_whatever_the_thread_count_and_tree_walk() {
    let d = common::tempdir();
    let lines = bank_lines();
    let text: String = lines[..3001].iter().map(|l| format!("{l}\n")).collect();
    let p = write(d.path(), "month.csv", &text);
    let run_with = |threads: &str, walk: &str| {
        let out = d.path().join(format!("scores_{threads}_{walk}.csv"));
        let runs = d.path().join(format!("runs{threads}{walk}"));
        let status = score_cmd()
            .env("RAYON_NUM_THREADS", threads)
            .env("CHURN_SIMD", walk)
            .args(args!["--model", bank_model().1, "--runs-dir", runs,])
            .args(args![
                "--data",
                p,
                "--out",
                out,
                "--chunk-rows",
                "700",
                "-q",
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let summary = std::fs::read_dir(&runs)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let summary = json(&summary.join("summary.json"));
        (
            std::fs::read(out).unwrap(),
            summary["walk"].as_str().unwrap().to_string(),
        )
    };
    let run = |threads: &str| run_with(threads, "avx512").0;
    let one = run("1");
    assert_eq!(String::from_utf8_lossy(&one).lines().count(), 3001);
    assert!(
        one == run("2") && one == run("3"),
        "scores differ with the thread count"
    );
    // Every walk this CPU has gives the same bytes; summary.json names it.
    for walk in ["avx512", "avx2", "scalar"] {
        let (scores, ran) = run_with("2", walk);
        assert_eq!(scores, one, "scores differ on the {ran} walk");
        if ran != walk {
            eprintln!("SKIPPED: the {walk} walk (this CPU lacks it; {ran} ran instead)");
        }
    }
}

#[test]
fn tiers_are_stable_across_batches() {
    let d = common::tempdir();
    let lines = bank_lines();
    let a: String = std::iter::once(&lines[0])
        .chain(&lines[1..3001])
        .map(|l| format!("{l}\n"))
        .collect();
    let b: String = std::iter::once(&lines[0])
        .chain(&lines[2001..6001])
        .map(|l| format!("{l}\n"))
        .collect();
    let (pa, pb) = (write(d.path(), "a.csv", &a), write(d.path(), "b.csv", &b));
    let (oa, ob) = (d.path().join("a_scores.csv"), d.path().join("b_scores.csv"));
    for (p, o) in [(&pa, &oa), (&pb, &ob)] {
        let (ok, _, err) = score(d.path(), &args!["--data", p, "--out", o, "-q",]);
        assert!(ok, "{err}");
    }
    let (ta, tb) = (
        std::fs::read_to_string(&oa).unwrap(),
        std::fs::read_to_string(&ob).unwrap(),
    );
    let tiers_a: std::collections::HashMap<String, String> = csv_column(&ta, "id")
        .into_iter()
        .zip(csv_column(&ta, "value_tier"))
        .collect();
    let (ids_b, tiers_b) = (csv_column(&tb, "id"), csv_column(&tb, "value_tier"));
    let mut shared_rows = 0;
    for (id, t) in ids_b.iter().zip(&tiers_b) {
        if let Some(ta) = tiers_a.get(id) {
            assert_eq!(ta, t, "tier of {id} moved between batches");
            shared_rows += 1;
        }
    }
    assert_eq!(shared_rows, 1000);
    let distinct: std::collections::HashSet<&String> = tiers_b.iter().collect();
    assert_eq!(distinct.len(), 4, "all four tiers in use: {distinct:?}");
    // migration against the earlier batch
    let (ok, _, err) = score(
        d.path(),
        &args![
            "--data",
            pb,
            "--previous",
            oa,
            "--out",
            d.path().join("c.csv"),
            "-q",
        ],
    );
    assert!(ok, "{err}");
    let runs: Vec<PathBuf> = std::fs::read_dir(d.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let with_migration = runs
        .iter()
        .find(|r| r.join("warning_rises.csv").exists())
        .expect("migration outputs");
    let s = json(&with_migration.join("summary.json"));
    assert_eq!(s["migration"]["matched_customers"], 1000);
    let diag: u64 = ["high-value", "potential", "dormant", "low-value"]
        .iter()
        .map(|t| s["migration"]["tier_matrix"][t][t].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(diag, 1000);
}

#[test]
fn parquet_output_and_directory_of_parts() {
    let d = common::tempdir();
    let lines = bank_lines();
    let parts = d.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    for (k, range) in [(1..401), (401..1001)].into_iter().enumerate() {
        let t: String = std::iter::once(&lines[0])
            .chain(&lines[range])
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(parts.join(format!("part-{k}.csv")), t).unwrap();
    }
    let out = d.path().join("scores.parquet");
    let (ok, _, err) = score(
        d.path(),
        &args!["--data", parts, "--out", out, "--format", "parquet", "-q",],
    );
    assert!(ok, "{err}");
    // read it back as a scoring input of the parquet reader
    let t = churn::ingest::read_table(&out, None).unwrap();
    assert_eq!(t.n_rows(), 1000);
    assert!(t.column("value_tier").is_some() && t.column("churn_probability").is_some());
}

#[test]
fn no_model_corrupted_model_and_other_version_are_clear_errors() {
    let d = common::tempdir();
    let out = score_cmd()
        .current_dir(d.path())
        .args(["--model", "models/latest"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("run churn-train first"),
        "{err}"
    );

    let text = std::fs::read_to_string(&bank_model().1).unwrap();
    let version = format!("\"format_version\":{}", churn::artifact::FORMAT_VERSION);
    assert!(text.contains(&version));
    let bad = write(
        d.path(),
        "v9.model.json",
        &text.replacen(&version, "\"format_version\":9", 1),
    );
    let e = Artifact::load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("newer churn (model format version 9)") && e.contains("reads version 9"),
        "{e}"
    );
    let old = write(
        d.path(),
        "v1.model.json",
        &text.replacen(&version, "\"format_version\":1", 1),
    );
    let e = Artifact::load(&old).unwrap_err().to_string();
    assert!(
        e.contains("version 1 is older") && e.contains("retrain"),
        "{e}"
    );
    // Tampering outside the fitted parts is caught too: the threshold, and
    // a split threshold of a tree node.
    let threshold = format!(
        "\"threshold\":{}",
        Artifact::load(&bank_model().1).unwrap().threshold
    );
    assert!(text.contains(&threshold), "{threshold}");
    // A tree's nodes are base64: change one character of the first tree.
    let at = text.find("\"trees\":[\"").unwrap() + 20;
    let c = &text[at..at + 1];
    let node = format!(
        "{}{}{}",
        &text[..at],
        if c == "A" { "B" } else { "A" },
        &text[at + 1..]
    );
    for (what, tampered) in [
        (
            "threshold",
            text.replacen(&threshold, "\"threshold\":0.01", 1),
        ),
        ("node", node),
    ] {
        assert_ne!(tampered, text, "{what}");
        let p = write(d.path(), "tampered.model.json", &tampered);
        let e = Artifact::load(&p).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{what}: {e}");
    }
    let cut = write(d.path(), "cut.model.json", &text[..text.len() / 2]);
    assert!(Artifact::load(&cut)
        .unwrap_err()
        .to_string()
        .contains("corrupted"));
    let tampered_model = text.replacen("\"importances\":[0.", "\"importances\":[1.", 1);
    assert_ne!(tampered_model, text);
    let tm = write(d.path(), "tm.model.json", &tampered_model);
    assert!(Artifact::load(&tm)
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    // Parts that do not fit together, saved with a valid checksum.
    let save_mixed = |edit: &dyn Fn(&mut Artifact)| {
        let mut a = Artifact::load(&bank_model().1).unwrap();
        edit(&mut a);
        let path = d.path().join("mixed.model.json");
        a.checksum = a.compute_checksum(&path).unwrap();
        a.save(&path).unwrap();
        Artifact::load(&path).unwrap_err().to_string()
    };
    let e = save_mixed(&|a| drop(a.pipeline.inputs.pop()));
    assert!(
        e.contains("inconsistent: the feature pipeline's column names do not match its inputs"),
        "{e}"
    );
    let e = save_mixed(&|a| {
        a.pipeline.inputs.pop();
        a.pipeline.names.pop();
    });
    let width = Artifact::load(&bank_model().1).unwrap().pipeline.width();
    let expected = format!(
        "inconsistent: the model takes {width} features, the feature pipeline makes {}",
        width - 1
    );
    assert!(e.contains(&expected), "{e}");
}

/// Run `cmd` with a standard output whose reader is already gone (as after
/// `| head -1` has read its line): the write fails with a broken pipe.
fn with_closed_stdout(cmd: &mut std::process::Command) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_both_binaries_quietly_with_exit_0() {
    let d = common::tempdir();
    let data = shared("datasets/bank_churn.csv");
    let model = bank_model().1.to_str().unwrap();
    let runs = d.path().join("runs");
    let out = with_closed_stdout(
        score_cmd()
            .args(args!["--model", model, "--data", data, "--out", "-", "-q",])
            .arg("--runs-dir")
            .arg(&runs),
    );
    assert!(
        out.status.success(),
        "churn-score --out -: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no message: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same job to a reader that stays proves the output is large enough
    // to have hit the closed pipe above.
    let full = score_cmd()
        .args(args!["--model", model, "--data", data, "--out", "-", "-q",])
        .arg("--runs-dir")
        .arg(&runs)
        .output()
        .unwrap();
    assert!(
        full.status.success() && full.stdout.len() > 1 << 16,
        "{} bytes",
        full.stdout.len()
    );

    let experiments = bank_model().0.path().join("experiments");
    for args in [vec!["compare"], vec!["compare", "--json"]] {
        let out = with_closed_stdout(common::train_cmd().args(&args).arg(&experiments));
        assert!(
            out.status.success(),
            "churn-train {args:?}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "no message: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An error that is not a closed pipe still fails.
    let bad = common::train_cmd()
        .args(["compare", "/nonexistent/runs"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
