//! Gradient boosting, model fusion and calibration (issue 15).
//!
//! Planted mechanism of the synthetic data: P(churn) = sigmoid(−1.5 +
//! 2·[x0 > 0.5] − 1.5·x1 + x2·x3 + 0.8·[x4 missing]); x5 is noise. A model
//! that learns it ranks close to the planted probability.

use churn::evaluate::cv::{cross_validate, CvSettings};
use churn::models::engine::Boosted;
use churn::models::{
    BoostingParams, Calibration, ClassWeight, Engine, FamilyParams, FitOptions, ForestParams,
    LogisticParams,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

use crate::common;
use common::*;

fn planted(n: usize, seed: u64) -> (Array2<f64>, Vec<u8>, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, 6));
    let mut y = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for i in 0..n {
        for j in 0..6 {
            x[[i, j]] = rng.random::<f64>() * 2.0 - 0.5;
        }
        let missing = rng.random::<f64>() < 0.2;
        if missing {
            x[[i, 4]] = f64::NAN;
        }
        let z = -1.5 + 2.0 * (x[[i, 0]] > 0.5) as u8 as f64 - 1.5 * x[[i, 1]]
            + x[[i, 2]] * x[[i, 3]]
            + 0.8 * missing as u8 as f64;
        let p = 1.0 / (1.0 + (-z).exp());
        truth.push(p);
        y.push((rng.random::<f64>() < p) as u8);
    }
    (x, y, truth)
}

fn fit(params: &BoostingParams, x: &Array2<f64>, y: &[u8]) -> Boosted {
    Boosted::fit(params, [1.0, 1.0], x.view(), y, 11, &|| {}).unwrap()
}

/// The model `params` fits on `x`, `y` with one, two and three threads,
/// stored; asserts all three are the same text and that it reads back.
fn same_bits_on_any_thread_count(params: &BoostingParams, x: &Array2<f64>, y: &[u8]) {
    let fit_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let m = pool.install(|| fit(params, x, y));
        serde_json::to_string(&m).unwrap()
    };
    let one = fit_on(1);
    assert_eq!(one, fit_on(2));
    assert_eq!(one, fit_on(3));
    // The stored model reads back to the same model.
    let back: Boosted = serde_json::from_str(&one).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), one);
}

#[test]
fn same_seed_gives_the_same_model_bits_on_any_thread_count() {
    // Bagging and a feature fraction: every tree on a sample of rows.
    let (x, y, _) = planted(60_000, 1);
    let mut params = BoostingParams::default().n_rounds(30);
    params.feature_fraction = 0.7;
    params.bagging_fraction = 0.8;
    params.bagging_freq = 1;
    same_bits_on_any_thread_count(&params, &x, &y);
    // Every row in every tree and nodes large enough for the parallel
    // gather and partition (the root read without a gather).
    let (x, y, _) = planted(150_000, 2);
    let mut params = BoostingParams::default().n_rounds(10);
    params.early_stopping_rounds = 0;
    same_bits_on_any_thread_count(&params, &x, &y);
}

#[test]
fn learns_the_planted_mechanism_and_early_stopping_keeps_the_best_round() {
    let (x, y, truth) = planted(20_000, 2);
    let (xt, yt, truth_t) = planted(10_000, 3);
    let m = fit(&BoostingParams::default(), &x, &y);
    let auc = churn::evaluate::metrics::roc_auc(&yt, &m.predict_proba(xt.view()));
    let best = churn::evaluate::metrics::roc_auc(&yt, &truth_t);
    assert!(auc > best - 0.01, "AUC {auc:.4} vs planted {best:.4}");
    assert!(churn::evaluate::metrics::roc_auc(&y, &truth) > 0.7);
    let es = m
        .early_stopping
        .clone()
        .expect("early stopping is on by default");
    assert_eq!(m.trees.len(), es.best_rounds);
    assert!(es.rounds_run <= 100 && es.rounds_run >= es.best_rounds);
    assert_eq!(es.validation_rows, 2_000);
    // The missing x4 raises the risk: the model learned where missing goes.
    let mut a = xt.row(0).to_owned().insert_axis(ndarray::Axis(0));
    a[[0, 4]] = 0.3;
    let mut b = a.clone();
    b[[0, 4]] = f64::NAN;
    assert!(m.predict_log_odds(b.view())[0] > m.predict_log_odds(a.view())[0]);
    // Without early stopping every round is kept.
    let all = fit(&BoostingParams::default().early_stopping_rounds(0), &x, &y);
    assert_eq!(all.trees.len(), 100);
    assert!(all.early_stopping.is_none());
}

#[test]
fn contributions_plus_bias_add_up_to_the_log_odds_of_every_row() {
    let (x, y, _) = planted(8_000, 4);
    let m = fit(&BoostingParams::default().early_stopping_rounds(0), &x, &y);
    let (xt, _, _) = planted(600, 5);
    let flat: Vec<f64> = xt.iter().copied().collect();
    let mut contrib = vec![0.0; flat.len()];
    let probs = m.explain_block(&flat, 6, &mut contrib);
    let z = m.predict_log_odds(xt.view());
    assert_eq!(
        probs,
        m.predict_proba(xt.view()),
        "explained = predicted, to the bit"
    );
    for r in 0..600 {
        let sum = m.bias() + contrib[r * 6..(r + 1) * 6].iter().sum::<f64>();
        assert!((sum - z[r]).abs() < 1e-4, "row {r}: {sum} vs {}", z[r]);
    }
    // The noise feature contributes far less than the planted ones.
    let mean_abs = |j: usize| (0..600).map(|r| contrib[r * 6 + j].abs()).sum::<f64>() / 600.0;
    assert!(
        mean_abs(5) < 0.3 * mean_abs(0),
        "{} vs {}",
        mean_abs(5),
        mean_abs(0)
    );
}

/// The bank table, cleaned as a training run does.
fn bank() -> churn::clean::Dataset {
    let raw = churn::ingest::read_table(&shared("datasets/bank_churn.csv"), None).unwrap();
    let cfg = churn::clean::DataConfig {
        target: "Exited".into(),
        ..Default::default()
    };
    churn::clean::clean(raw, &cfg, &Default::default()).unwrap()
}

#[test]
fn a_test_folds_labels_never_reach_its_own_scores() {
    // Folds made without labels, so flipping the labels of fold 0's test
    // rows changes nothing but what a leak would see.
    let data = bank();
    let n = data.y.len();
    let folds: Vec<churn::split::Fold> = (0..3)
        .map(|k| churn::split::Fold {
            train: (0..n).filter(|i| i % 3 != k).collect(),
            test: (0..n).filter(|i| i % 3 == k).collect(),
        })
        .collect();
    let mut flipped = data.subset(&(0..n).collect::<Vec<_>>());
    for &i in &folds[0].test {
        flipped.y[i] = 1 - flipped.y[i];
    }
    let settings = CvSettings {
        fit: FitOptions {
            engine: Engine::Native,
            class_weight: ClassWeight::None,
        },
        seed: 5,
        threshold_rule: churn::config::ThresholdRule::MaxF1,
        calibrate: Calibration::None,
        economics: None,
    };
    let gb = BoostingParams::default();
    let forest = ForestParams::default().n_trees(20);
    let logistic = LogisticParams::default();
    let stack = FamilyParams::Ensemble {
        kind: churn::models::ModelKind::Stack,
        bases: vec![
            FamilyParams::GradientBoosting(&gb),
            FamilyParams::RandomForest(&forest),
            FamilyParams::LogisticRegression(&logistic),
        ],
        inner_folds: 3,
    };
    for family in [FamilyParams::GradientBoosting(&gb), stack] {
        let a = cross_validate(family.clone(), settings, &data, &folds, &|| {}).unwrap();
        let b = cross_validate(family.clone(), settings, &flipped, &folds, &|| {}).unwrap();
        for &i in &folds[0].test {
            assert_eq!(a.oof[i], b.oof[i], "{:?}: row {i}", family.kind());
        }
        // ...while the other folds, which trained on those labels, moved.
        assert!(folds[1].test.iter().any(|&i| a.oof[i] != b.oof[i]));
    }
}

#[test]
fn boosting_stacking_and_isotonic_calibration_on_the_bank_data() {
    let dir = tempdir();
    let data = shared("datasets/bank_churn.csv");
    let data = data.to_str().unwrap();
    train(
        dir.path(),
        [
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "random_forest,logistic_regression,gradient_boosting,vote,stack",
            "--calibrate",
            "isotonic",
        ],
    );
    let m = metrics(dir.path());
    let gb = &m["models"]["gradient_boosting"];
    let rounds = gb["rounds"].as_array().expect("rounds chosen per fold");
    assert_eq!(rounds.len(), 5);
    // Calibration: isotonic lowers the forest's out-of-fold Brier score.
    let rf = &m["models"]["random_forest"];
    let (after, before) = (
        rf["oof"]["brier"].as_f64().unwrap(),
        rf["uncalibrated"]["brier"].as_f64().unwrap(),
    );
    assert!(after < before, "Brier {before:.5} -> {after:.5}");
    // Fusion is reported like any model and is not below its weakest base.
    for fused in ["vote", "stack"] {
        let auc = oof_auc(&m, fused);
        assert!(auc > oof_auc(&m, "logistic_regression"), "{fused} {auc}");
    }
    let html = std::fs::read_to_string(run_dir(dir.path()).join("report.html")).unwrap();
    assert!(html.contains("stack") && html.contains("calibration"));
    // Scoring with the saved model (whichever won) runs and names its unit.
    let model = dir.path().join("models").join("latest");
    let out = score_cmd()
        .args(args!["--model", model, "--data", data])
        .arg("--out")
        .arg(dir.path().join("scores.csv"))
        .arg("--runs-dir")
        .arg(dir.path().join("runs"))
        .arg("-q")
        .output()
        .unwrap();
    assert_ok(&out);
}

#[test]
fn gradient_boosting_auc_on_the_shared_tables() {
    for (file, target, floor) in [
        ("datasets/bank_churn.csv", "Exited", 0.860),
        ("datasets/telco_churn.csv", "Churn", 0.835),
    ] {
        let dir = tempdir();
        let data = shared(file);
        train(
            dir.path(),
            args![
                "--data",
                data,
                "--target",
                target,
                "--models",
                "gradient_boosting",
            ],
        );
        let auc = oof_auc(&metrics(dir.path()), "gradient_boosting");
        assert!(auc >= floor, "{file}: {auc:.4} < {floor}");
        // Scoring with the boosted model: reasons say their unit.
        let model = dir.path().join("models").join("latest");
        let out = score_cmd()
            .args(args!["--model", model, "--data", data,])
            .arg("--out")
            .arg(dir.path().join("scores.csv"))
            .arg("--runs-dir")
            .arg(dir.path().join("runs"))
            .arg("-q")
            .output()
            .unwrap();
        assert_ok(&out);
        let text = std::fs::read_to_string(dir.path().join("scores.csv")).unwrap();
        assert!(
            text.lines()
                .skip(1)
                .take(50)
                .any(|l| l.contains(" log-odds)")),
            "{}",
            &text[..400.min(text.len())]
        );
    }
}

/// The first file named `name` under `dir`.
fn find_file(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let found = find_file(&p, name);
            if found.exists() {
                return found;
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return p;
        }
    }
    dir.join("missing").join(name)
}

#[test]
fn tune_writes_every_trial_and_a_config_that_trains() {
    let dir = tempdir();
    let data = shared("datasets/bank_churn.csv");
    let out = train_cmd()
        .args(args![
            "tune", "--trials", "3", "--data", data, "--target", "Exited",
        ])
        .args([
            "--models",
            "decision_tree,gradient_boosting",
            "--folds",
            "3",
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let csv = find_file(dir.path(), "tune.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "family,trial,params,roc_auc_mean,roc_auc_std,fit_seconds"
    );
    assert_eq!(lines.len(), 1 + 6, "{text}");
    assert!(
        lines[1].starts_with("decision_tree,0,") && lines[6].starts_with("gradient_boosting,2,")
    );
    // Trials draw different parameters.
    let params: std::collections::BTreeSet<&str> = lines[4..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(params.len(), 3);
    let best = csv.with_file_name("best.toml");
    train(
        dir.path(),
        args![
            "--config",
            best,
            "--data",
            data,
            "--target",
            "Exited",
            "--models",
            "gradient_boosting",
            "--folds",
            "3",
        ],
    );
    // A budget that is no duration is refused before any work, by name.
    let out = train_cmd()
        .args(["tune", "--budget", "ten minutes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--budget"), "{err}");
}

#[test]
fn bad_boosting_settings_name_the_key() {
    let dir = tempdir();
    for (toml, key) in [
        (
            "[gradient_boosting]\nnum_leaves = 1\n",
            "gradient_boosting.num_leaves",
        ),
        (
            "[gradient_boosting]\nlearning_rate = 0.0\n",
            "gradient_boosting.learning_rate",
        ),
        (
            "[gradient_boosting]\nbagging_fraction = 1.5\n",
            "gradient_boosting.bagging_fraction",
        ),
        ("[gradient_boosting]\nnum_leaf = 8\n", "num_leaf"),
        ("[ensemble]\nbases = [\"stack\"]\n", "ensemble.bases"),
    ] {
        let cfg = write(dir.path(), "bad.toml", toml);
        let out = train_cmd()
            .args(args!["--config", cfg, "-q"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(key), "{toml}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}
