//! Crash safety and full disks: `churn-train` and `churn-score` killed with
//! SIGKILL at a sweep of moments leave `models/latest` pointing to a
//! complete artifact, no run folder `compare` would list half-written, and
//! no partial scores file under its final name; a full filesystem is a
//! clear one-line error that leaves no partial output.

use crate::common;
use churn::artifact::Artifact;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every visible run folder is complete, every artifact loads, `latest` too.
fn assert_consistent(dir: &Path) {
    let models = dir.join("models");
    Artifact::load(&models.join("latest")).expect("models/latest loads");
    for e in std::fs::read_dir(&models).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".model.json") && !name.starts_with('.') {
            Artifact::load(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let runs = dir.join("experiments");
    let visible: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    for run in &visible {
        for f in [
            "metrics.json",
            "run.json",
            "data_report.json",
            "report.html",
            "oof.csv",
        ] {
            assert!(run.join(f).is_file(), "{} lacks {f}", run.display());
        }
    }
    let listed = churn::compare::list(&runs, 0.005).unwrap();
    assert_eq!(listed.len(), visible.len());
}

#[test]
fn killed_training_never_leaves_a_half_written_model_or_run() {
    let d = tempdir();
    let args = ["--models", "random_forest"];
    let start = Instant::now();
    train(d.path(), args);
    let full = start.elapsed();
    assert_consistent(d.path());
    // Kill at 0 ms, a few early moments, then a sweep across a whole run
    // (reading, cross-validation, refit, writing the run and the model).
    let mut delays: Vec<Duration> = [0, 20, 80]
        .iter()
        .map(|&ms| Duration::from_millis(ms))
        .collect();
    delays.extend((1..=9).map(|k| full * k / 10));
    delays.extend([full * 95 / 100, full * 99 / 100]);
    let mut finished = 0;
    for delay in delays {
        let mut child = train_cmd()
            .args(args)
            .arg("-q")
            .arg("--out")
            .arg(d.path().join("experiments"))
            .arg("--model-dir")
            .arg(d.path().join("models"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        finished += usize::from(status.success());
        assert_consistent(d.path());
    }
    eprintln!(
        "killed {} runs (a run takes {full:?}); {finished} finished first",
        14 - finished
    );
}

#[test]
fn killed_scoring_never_leaves_a_partial_scores_file() {
    let d = tempdir();
    train(d.path(), ["--models", "logistic_regression"]);
    let batch = d.path().join("batch.csv");
    let o = train_cmd()
        .args([
            "generate",
            "--rows",
            "200000",
            "--seed",
            "3",
            "--no-label",
            "--out",
        ])
        .arg(&batch)
        .output()
        .unwrap();
    assert!(o.status.success());
    let model = d.path().join("models/latest");
    let scores = d.path().join("scores.csv");
    let run = |out: &Path| {
        score_cmd()
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(&batch)
            .arg("--out")
            .arg(out)
            .args(["-q", "--chunk-rows", "20000", "--runs-dir"])
            .arg(d.path().join("runs"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let start = Instant::now();
    assert!(run(&d.path().join("full.csv")).wait().unwrap().success());
    let full = start.elapsed();
    let rows = std::fs::read_to_string(d.path().join("full.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 200_001);
    for k in 0..=10 {
        let _ = std::fs::remove_file(&scores);
        let mut child = run(&scores);
        std::thread::sleep(full * k / 10);
        child.kill().unwrap();
        let ok = child.wait().unwrap().success();
        match std::fs::read_to_string(&scores) {
            Ok(text) => assert_eq!(text.lines().count(), rows, "partial scores.csv (k = {k})"),
            Err(_) => assert!(!ok, "a finished run wrote no scores.csv"),
        }
    }
}

/// A 1.5 MiB tmpfs mounted on a fresh folder (root only); `None` with a
/// printed notice when it cannot be mounted.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1536k", "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("SKIPPED the full-disk checks: cannot mount a tmpfs here (needs root); the rest ran");
            return None;
        }
        Some(SmallDisk(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).output();
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_no_partial_output() {
    let d = tempdir();
    train(d.path(), ["--models", "random_forest"]);
    let Some(disk) = SmallDisk::mount(&d.path().join("small")) else {
        return;
    };
    let small = disk.0.clone();
    // Training: the 8 MB forest artifact cannot fit.
    let o = train_cmd()
        .args(["--models", "random_forest", "-q", "--out"])
        .arg(small.join("experiments"))
        .arg("--model-dir")
        .arg(small.join("models"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains(&small.display().to_string()),
        "the error names the file: {err}"
    );
    assert!(
        files_under(&small).is_empty(),
        "left behind: {:?}",
        files_under(&small)
    );

    // Scoring: 200,000 scores do not fit in 1.5 MiB.
    let batch = d.path().join("batch.csv");
    assert!(train_cmd()
        .args([
            "generate",
            "--rows",
            "200000",
            "--seed",
            "4",
            "--no-label",
            "--out"
        ])
        .arg(&batch)
        .status()
        .unwrap()
        .success());
    let o = score_cmd()
        .arg("--model")
        .arg(d.path().join("models/latest"))
        .arg("--data")
        .arg(&batch)
        .arg("--out")
        .arg(small.join("scores.csv"))
        .arg("--runs-dir")
        .arg(small.join("runs"))
        .arg("-q")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!small.join("scores.csv").exists());
    assert!(
        files_under(&small).is_empty(),
        "left behind: {:?}",
        files_under(&small)
    );
}
