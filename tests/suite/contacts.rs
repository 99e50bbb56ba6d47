//! The contact list under a capacity or a budget (issue 34, §3): every
//! customer's expected value saved follows the documented rule, the list
//! holds the best positive values (none better left off), a budget buys
//! what it pays for, the list saves at least what the same number of
//! customers by churn probability would, and bad settings are one-line
//! errors.

use crate::common;
use crate::score::bank_model;
use common::*;
use std::collections::HashMap;
use std::path::Path;

/// Score the bank table with these contact flags; the run folder.
fn scored(dir: &Path, flags: &[&str]) -> std::path::PathBuf {
    let data = shared("datasets/bank_churn.csv");
    let mut a = args!["--data", data, "-q"].to_vec();
    a.extend(flags.iter().map(std::ffi::OsString::from));
    score_run(&bank_model().1, &dir.join("runs"), a).0
}

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {head:?}"))
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

#[test]
fn the_list_holds_the_best_expected_values_under_a_capacity() {
    let d = tempdir();
    let run = scored(
        d.path(),
        &[
            "--capacity",
            "200",
            "--contact-cost",
            "2",
            "--incentive-cost",
            "20",
            "--accept-rate",
            "0.25",
        ],
    );
    let (h, rows) = read_csv(&run.join("scores.csv"));
    let (p, clv, ev) = (
        col(&h, "churn_probability"),
        col(&h, "clv"),
        col(&h, "expected_value"),
    );
    // The rule: P(churn) × accept rate × CLV − contact cost − incentive × accept rate.
    let mut values: HashMap<&str, f64> = HashMap::new();
    for r in &rows {
        if r[clv].is_empty() {
            assert!(r[ev].is_empty(), "unknown value, no expected value");
            continue;
        }
        let want = num(&r[p]) * 0.25 * num(&r[clv]) - (2.0 + 20.0 * 0.25);
        let got = num(&r[ev]);
        assert!(
            (got - want).abs() < 0.01 + 0.25 * 0.005,
            "{}: expected_value {got} against {want}",
            r[0]
        );
        values.insert(r[0].as_str(), got);
    }
    let (ch, list) = read_csv(&run.join("contacts.csv"));
    assert_eq!(ch[..3], ["id", "rank", "expected_value"]);
    assert_eq!(list.len(), 200, "enough customers are worth a contact");
    let listed: Vec<f64> = list.iter().map(|r| num(&r[2])).collect();
    assert!(listed.windows(2).all(|w| w[0] >= w[1]), "best first");
    assert!(listed.iter().all(|&v| v > 0.0));
    for (k, r) in list.iter().enumerate() {
        assert_eq!(r[1], (k + 1).to_string());
        assert!(
            (values[r[0].as_str()] - listed[k]).abs() < 0.006,
            "{}",
            r[0]
        );
    }
    // Nobody left off is worth more than the last one on the list.
    let on: std::collections::HashSet<&str> = list.iter().map(|r| r[0].as_str()).collect();
    let best_left = values
        .iter()
        .filter(|(id, _)| !on.contains(*id))
        .map(|(_, &v)| v)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        best_left <= listed[199] + 0.01,
        "{best_left} left off, {} listed",
        listed[199]
    );
    // The summary: the list's value, at least that of the 200 likeliest leavers.
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let c = &s["contacts"];
    assert_eq!(c["contacted"], 200);
    let saved = c["expected_value_saved"].as_f64().unwrap();
    assert!((saved - listed.iter().sum::<f64>()).abs() < 0.01 * 200.0);
    let by_p = c["top_by_probability_expected_value"].as_f64().unwrap();
    assert!(
        saved >= by_p,
        "value list {saved} against the probability list {by_p}"
    );
    let tiers: u64 = c["by_tier"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(tiers, 200);
}

#[test]
fn a_budget_buys_its_contacts_and_bad_settings_are_errors() {
    let d = tempdir();
    // 700 / (2 + 10 × 0.5) = 100 contacts.
    let run = scored(
        d.path(),
        &[
            "--budget",
            "700",
            "--contact-cost",
            "2",
            "--accept-rate",
            "0.5",
        ],
    );
    let (_, list) = read_csv(&run.join("contacts.csv"));
    assert_eq!(list.len(), 100);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["contacts"]["slots"], 100);
    assert!((s["contacts"]["spent"].as_f64().unwrap() - 700.0).abs() < 1e-9);
    // Without a capacity or budget: no list, no column.
    let plain = scored(d.path(), &[]);
    assert!(!plain.join("contacts.csv").exists());
    let (h, _) = read_csv(&plain.join("scores.csv"));
    assert!(!h.iter().any(|c| c == "expected_value"));
    for (flag, value, needle) in [
        ("--accept-rate", "0", "accept_rate"),
        ("--capacity", "0", "capacity"),
        ("--budget", "0", "budget"),
    ] {
        let out = score_cmd()
            .arg("--model")
            .arg(&bank_model().1)
            .args([flag, value, "-q", "--runs-dir"])
            .arg(d.path().join("bad"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(needle),
            "{flag} {value}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
