//! Files that hold customer data are private (issue 36, "Files"): scores,
//! rejects, contacts, summaries, oof.csv, the SQLite database and their run
//! folders are readable by their owner only; the model artifact, which
//! holds no customer rows, stays readable to all.

use crate::common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn customer_data_is_private_and_the_model_is_shared() {
    let d = tempdir();
    train(d.path(), ["--models", "decision_tree", "--folds", "2"]);
    let run = run_dir(d.path());
    assert_eq!(mode(&run), 0o700, "training run folder");
    for f in ["oof.csv", "metrics.json", "report.html"] {
        assert_eq!(mode(&run.join(f)), 0o600, "{f}");
    }
    let model = std::fs::canonicalize(d.path().join("models/latest")).unwrap();
    assert_eq!(mode(&model), 0o644, "the artifact holds no customer rows");
    assert_eq!(
        mode(&d.path().join("models")) & 0o055,
        0o055,
        "the model folder is readable"
    );
    let runs = d.path().join("runs");
    let (scored, _) = score_run(&model, &runs, ["--capacity", "50", "-q"]);
    assert_eq!(mode(&scored), 0o700, "scoring run folder");
    for f in ["scores.csv", "rejects.csv", "contacts.csv", "summary.json"] {
        assert_eq!(mode(&scored.join(f)), 0o600, "{f}");
    }
    let db = d.path().join("db/scores.sqlite");
    let out = format!("sqlite:{}", db.display());
    score_run(&model, &runs, ["--out", out.as_str(), "-q"]);
    assert_eq!(mode(&db), 0o600, "the SQLite database");
}

#[test]
fn umask_widens_private_files_for_a_group_that_reads_them() {
    let d = tempdir();
    train(
        d.path(),
        [
            "--models",
            "decision_tree",
            "--folds",
            "2",
            "--umask",
            "027",
        ],
    );
    let run = run_dir(d.path());
    assert_eq!(mode(&run), 0o750, "training run folder");
    assert_eq!(mode(&run.join("oof.csv")), 0o640);
    let model = std::fs::canonicalize(d.path().join("models/latest")).unwrap();
    assert_eq!(mode(&model), 0o644, "the artifact as always");
    let (scored, _) = score_run(&model, &d.path().join("runs"), ["--umask", "027", "-q"]);
    assert_eq!(mode(&scored), 0o750);
    assert_eq!(mode(&scored.join("scores.csv")), 0o640);
    for bad in [&["--umask", "9"][..], &["serve", "--umask", "abc"][..]] {
        let out = score_cmd().args(bad).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("--umask"), "{err}");
    }
}
