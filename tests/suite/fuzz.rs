//! Fuzzing of every reader, in the normal test run: seeded mutations of
//! real inputs (byte flips, inserted quotes, separators, newlines, NUL and
//! invalid UTF-8 bytes, cut and duplicated ranges, extreme numbers) fed to
//!
//! - `csv`: CSV ingest with schema inference (`ingest::parse_csv`, the
//!   streaming `CsvChunks`, then `clean::clean`),
//! - `artifact`: the artifact loader,
//! - `config`: the TOML configuration (parse and validation),
//! - `playbook`: the playbook parser,
//! - `scoring`: validation, transformation, prediction and reasons of
//!   arbitrary rows against a fixed model,
//!
//! asserting that none panics (errors are fine: they are the point). Each
//! target runs for `FUZZ_SECONDS` (default 3) — `FUZZ_SECONDS=600 cargo test
//! --release --test fuzz -- --nocapture` is the long run — and prints its
//! executions. An input that panics is saved under `tests/fuzz_regressions/`
//! and replayed by every later run: each crash found becomes a regression
//! test.

use crate::common;
use churn::artifact::Artifact;
use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_regressions");

fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Bytes a mutation likes to insert.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b",",
    b";",
    b"\t",
    b"|",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"-",
    b".",
    b"e",
    b"NaN",
    b"inf",
    b"-0",
    b"1e308",
    b"-1e308",
    b"99999999999999999999",
    b"",
    b" ",
    b"\"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"=",
    b"'",
    b"#",
    b"\\",
    b"0x1F",
    b"true",
    b"null",
];

/// One seeded mutation of `input` (one to four edits).
fn mutate(rng: &mut ChaCha8Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let n = v.len();
        let at = if n == 0 { 0 } else { rng.random_range(0..=n) };
        match rng.random_range(0..8) {
            0 if n > 0 => {
                let i = rng.random_range(0..n);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let s = INTERESTING[rng.random_range(0..INTERESTING.len())];
                v.splice(at..at, s.iter().copied());
            }
            2 if n > 0 => {
                let end = (at + rng.random_range(1..64)).min(n);
                v.drain(at.min(end)..end);
            }
            3 if n > 0 => {
                let start = rng.random_range(0..n);
                let end = (start + rng.random_range(1..256)).min(n);
                let piece = v[start..end].to_vec();
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            5 => {
                // a digit run replaced by an extreme number
                if let Some(i) = (at..n).find(|&i| v[i].is_ascii_digit()) {
                    let end = (i..n).find(|&j| !v[j].is_ascii_digit()).unwrap_or(n);
                    let s = INTERESTING[rng.random_range(13..19)];
                    v.splice(i..end, s.iter().copied());
                }
            }
            6 => {
                // a line of another seed spliced in
                let other = &seeds[rng.random_range(0..seeds.len())];
                let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let line = lines[rng.random_range(0..lines.len())];
                v.splice(at..at, line.iter().chain(b"\n").copied());
            }
            _ => {
                let b = rng.random::<u8>();
                v.insert(at, b);
            }
        }
    }
    v
}

thread_local! {
    /// Inside a fuzz case: its panic is caught and recorded, not printed.
    static IN_CASE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panic messages of fuzz cases (other panics go to the default hook).
fn quiet_panics() -> &'static Mutex<Vec<String>> {
    static CAUGHT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    CAUGHT.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CASE.with(|c| c.get()) {
                if let Ok(mut v) = quiet_panics().lock() {
                    v.push(info.to_string());
                }
            } else {
                default(info);
            }
        }));
        Mutex::new(Vec::new())
    })
}

/// Run `target` on the saved regressions, then on mutations of `seeds`
/// until the time budget is spent; panics are saved and fail the test.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, target: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    quiet_panics();
    let run = |input: &[u8]| {
        IN_CASE.with(|c| c.set(true));
        let ok = std::panic::catch_unwind(|| target(input)).is_ok();
        IN_CASE.with(|c| c.set(false));
        ok
    };
    let mut replayed = 0;
    if let Ok(dir) = std::fs::read_dir(REGRESSIONS) {
        for e in dir.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{name}-"))
            {
                let input = std::fs::read(e.path()).unwrap();
                assert!(
                    run(&input),
                    "regression {} panics again",
                    e.path().display()
                );
                replayed += 1;
            }
        }
    }
    for s in &seeds {
        assert!(run(s), "{name}: a seed panics");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(
        std::env::var("FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
    );
    let (start, budget) = (Instant::now(), budget());
    let (mut execs, mut crashes) = (0u64, Vec::new());
    let mut current = seeds[0].clone();
    while start.elapsed() < budget {
        // Mutate a seed, or keep mutating the last input (deeper edits).
        if rng.random_range(0..4) == 0 {
            current = seeds[rng.random_range(0..seeds.len())].clone();
        }
        let input = mutate(&mut rng, &current, &seeds);
        execs += 1;
        if !run(&input) {
            let id = churn::artifact::hex(&<sha2::Sha256 as sha2::Digest>::digest(&input));
            let path = Path::new(REGRESSIONS).join(format!("{name}-{}", &id[..16]));
            std::fs::create_dir_all(REGRESSIONS).unwrap();
            std::fs::write(&path, &input).unwrap();
            let msg = quiet_panics()
                .lock()
                .unwrap()
                .last()
                .cloned()
                .unwrap_or_default();
            crashes.push(format!("{}: {msg}", path.display()));
        }
        if input.len() < 1 << 20 {
            current = input;
        }
    }
    eprintln!(
        "fuzz {name}: {execs} executions in {:.0?}, {replayed} regressions replayed, {} crashes",
        start.elapsed(),
        crashes.len()
    );
    assert!(
        crashes.is_empty(),
        "{name}: inputs that panic:\n{}",
        crashes.join("\n")
    );
}

fn bank_head(rows: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(shared("datasets/bank_churn.csv")).unwrap();
    let mut out: String = text.lines().take(rows + 1).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out.into_bytes()
}

fn csv_seeds() -> Vec<Vec<u8>> {
    vec![
        bank_head(40),
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/customers.csv"))
            .unwrap()
            .into_iter()
            .take(6000)
            .collect(),
        b"\xef\xbb\xbfid;note;amount;churned\r\n1;\"a;b\";1,5;yes\r\n2;\"x\ny\";;no\r\n3;z;7;yes\r\n".to_vec(),
    ]
}

#[test]
fn fuzz_csv_ingest_and_schema_inference() {
    fuzz("csv", csv_seeds(), |input| {
        let bytes = churn::ingest::strip_bom(input.to_vec());
        if let Ok(sep) = churn::ingest::resolve_delimiter("f.csv", &bytes, None) {
            if let Ok(raw) = churn::ingest::parse_csv("f.csv", bytes.clone(), sep, 1) {
                let mut cfg = churn::config::DataConfig::default();
                for target in ["Exited", "churned"] {
                    if raw.index_of(target).is_some() {
                        cfg.target = target.into();
                    }
                }
                let _ = churn::clean::clean(raw, &cfg, &Default::default());
            }
        }
        if let Ok(chunks) = churn::ingest::chunks::CsvChunks::new(&bytes[..], "f.csv", None, 7) {
            for c in chunks {
                let _ = c;
            }
        }
    });
}

/// A small model (a 10-tree forest on 2,000 bank rows) trained once.
fn model() -> &'static (TempDir, PathBuf) {
    static MODEL: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let d = tempdir();
        let data = write(
            d.path(),
            "bank.csv",
            std::str::from_utf8(&bank_head(2000)).unwrap(),
        );
        let cfg = write(d.path(), "small.toml", "[random_forest]\nn_trees = 10\n");
        train(
            d.path(),
            args![
                "--data",
                data,
                "--target",
                "Exited",
                "--models",
                "random_forest",
                "--config",
                cfg,
            ],
        );
        let path = d.path().join("models/latest");
        (d, path)
    })
}

#[test]
fn fuzz_artifact_loader() {
    let text = std::fs::read(&model().1).unwrap();
    let dir = tempdir();
    let path = dir.path().join("m.model.json");
    fuzz("artifact", vec![text], |input| {
        std::fs::write(&path, input).unwrap();
        let _ = Artifact::load(&path);
    });
}

#[test]
fn fuzz_toml_config() {
    let seed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap()
        .split("```toml")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().as_bytes().to_vec())
        .collect::<Vec<_>>();
    assert!(seed.len() >= 3, "README has TOML examples");
    fuzz("config", seed, |input| {
        if let Ok(text) = std::str::from_utf8(input) {
            if let Ok(cfg) = toml::from_str::<churn::config::Config>(text) {
                let _ = cfg.validate_train();
                let _ = cfg.validate_score();
                let _ = cfg.logs.dates();
            }
        }
    });
}

#[test]
fn fuzz_playbook() {
    let seed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/playbook.toml")).unwrap();
    fuzz("playbook", vec![seed], |input| {
        if let Ok(text) = std::str::from_utf8(input) {
            let _ = churn::scoring::act::Playbook::parse(text, "fuzz.toml");
        }
    });
}

#[test]
fn fuzz_scoring_rows_against_a_fixed_model() {
    let art = Artifact::load(&model().1).unwrap();
    let seeds = vec![bank_head(30), bank_head(3)];
    fuzz("scoring", seeds, |input| {
        let Ok(chunks) = churn::ingest::chunks::CsvChunks::new(input, "batch.csv", None, 16) else {
            return;
        };
        for raw in chunks.flatten() {
            let Ok(batch) = churn::scoring::validate::validate(&art, None, &raw) else {
                continue;
            };
            let x = art
                .pipeline
                .transform_all(&batch.table, &mut Default::default());
            let scored = churn::scoring::explain::predict_explain(&art, &x);
            let reasons = churn::scoring::explain::Reasons::new(&art, &batch.table);
            let mut s = String::new();
            for (i, (p, r)) in scored.iter().enumerate() {
                assert!((0.0..=1.0).contains(p), "probability {p}");
                for reason in r {
                    reasons.push(&mut s, i, *reason);
                }
            }
        }
    });
}
