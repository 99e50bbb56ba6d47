//! Signed models: training with `--sign-key` signs the artifact; scoring
//! and the service with `--verify-key` serve only models signed with that
//! key, and say why they refuse one in a line that never shows a key.

use crate::common;
use common::*;

#[test]
fn only_models_signed_with_the_key_are_served() {
    let tmp = tempdir();
    let d = tmp.path();
    let key = write(d, "review.key", &format!("{}\n", "5a".repeat(32)));
    let other = write(d, "other.key", &"c3".repeat(32));
    let short = write(d, "short.key", "too-short");
    let fit = |dir: &str, extra: &[&str]| {
        let mut a = args!["--models", "decision_tree", "--folds", "2"].to_vec();
        a.extend(extra.iter().map(std::ffi::OsString::from));
        train(&d.join(dir), a);
        d.join(dir).join("models/latest")
    };
    let signed = fit("signed", &["--sign-key", key.to_str().unwrap()]);
    let unsigned = fit("unsigned", &[]);
    let text = std::fs::read_to_string(&signed).unwrap();
    assert!(text.contains("\"signature\":\"") && !text.contains(&"5a".repeat(32)));
    assert!(!std::fs::read_to_string(&unsigned)
        .unwrap()
        .contains("\"signature\""));
    let sample = "data/score_sample.csv";
    let score = |model: &std::path::Path, key: &std::path::Path| {
        score_cmd()
            .args(args![
                "--model",
                model,
                "--verify-key",
                key,
                "--data",
                sample,
                "-q"
            ])
            .arg("--runs-dir")
            .arg(d.join("runs"))
            .arg("--out")
            .arg(d.join("scores.csv"))
            .output()
            .unwrap()
    };
    assert_ok(&score(&signed, &key));
    for (model, k, why) in [
        (&signed, &other, "signature does not match the key"),
        (&unsigned, &key, "unsigned"),
        (&signed, &short, "at least 32 bytes"),
    ] {
        let out = score(model, k);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{why}");
        assert!(
            err.contains(why) && err.trim().lines().count() == 1,
            "{err}"
        );
        assert!(!err.contains(&"5a".repeat(32)) && !err.contains(&"c3".repeat(32)));
    }
    // An edited signature breaks the checksum first.
    let edited = d.join("edited.model.json");
    let sig_at = text.find("\"signature\":\"").unwrap() + 13;
    let mut bytes = text.into_bytes();
    bytes[sig_at] = if bytes[sig_at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&edited, bytes).unwrap();
    let err = String::from_utf8_lossy(&score(&edited, &key).stderr).to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    // The service refuses to start on an unsigned model.
    let out = score_cmd()
        .args(args![
            "serve",
            "--model",
            unsigned,
            "--verify-key",
            key,
            "--addr",
            "127.0.0.1:0"
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("unsigned"), "{err}");
}
