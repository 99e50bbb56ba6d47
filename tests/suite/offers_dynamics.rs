//! Offers on panels shaped like a real bank's (issue 35): the generator's
//! `--dynamics` mechanisms are planted (joint additions, re-additions,
//! swings of the addition mix, rare products) and absent without the flag,
//! and the rolling backtest covers every period the panel allows, says
//! which count in its mean, and its ranking beats popularity on the month
//! after the panel, which it never saw.

use churn::offers::rank::average_precision;
use std::collections::HashMap;
use std::path::Path;

use crate::common;
use common::*;

/// A generated panel: per customer, per month (0-based), the flags.
struct Panel {
    products: Vec<String>,
    months: usize,
    held: HashMap<String, Vec<Option<Vec<bool>>>>,
}

fn read_panel(path: &Path) -> Panel {
    let (h, rows) = read_csv(path);
    let flags: Vec<usize> = (0..h.len()).filter(|&i| h[i].starts_with("has_")).collect();
    let period = h.iter().position(|c| c == "period").unwrap();
    let mut labels: Vec<&str> = rows.iter().map(|r| r[period].as_str()).collect();
    labels.sort();
    labels.dedup();
    let months = labels.len();
    let mut held: HashMap<String, Vec<Option<Vec<bool>>>> = HashMap::new();
    for r in &rows {
        let m = labels.binary_search(&r[period].as_str()).unwrap();
        let slots = held
            .entry(r[0].clone())
            .or_insert_with(|| vec![None; months]);
        slots[m] = Some(flags.iter().map(|&i| r[i] == "1").collect());
    }
    let products = flags.iter().map(|&i| h[i].clone()).collect();
    Panel {
        products,
        months,
        held,
    }
}

impl Panel {
    fn at(&self, name: &str) -> usize {
        self.products.iter().position(|p| p == name).unwrap()
    }

    /// Every (customer, month, before, after) of consecutive months.
    fn steps(&self) -> impl Iterator<Item = (&str, usize, &[bool], &[bool])> + '_ {
        self.held.iter().flat_map(move |(id, slots)| {
            (1..self.months).filter_map(move |m| match (&slots[m - 1], &slots[m]) {
                (Some(a), Some(b)) => Some((id.as_str(), m, &a[..], &b[..])),
                _ => None,
            })
        })
    }
}

/// Shares of the planted mechanisms: re-additions among additions, fee
/// waivers added with a pension plan, the largest over the smallest
/// monthly count of pension additions, rare products' take-up rate.
fn mechanisms(p: &Panel) -> (f64, f64, f64, f64) {
    let (pension, waiver) = (p.at("has_pension_plan"), p.at("has_fee_waiver"));
    let rare = [p.at("has_structured_note"), p.at("has_estate_planning")];
    let (mut adds, mut readds, mut with_pension, mut joint) = (0, 0, 0, 0);
    let (mut rare_adds, mut rare_open) = (0, 0);
    let mut pension_by_month = vec![0usize; p.months];
    for (id, m, a, b) in p.steps() {
        let two_before = m.checked_sub(2).and_then(|t| p.held[id][t].as_ref());
        for k in 0..a.len() {
            if !a[k] && b[k] {
                adds += 1;
                readds += usize::from(two_before.is_some_and(|h| h[k]));
            }
        }
        if !a[pension] && b[pension] {
            pension_by_month[m] += 1;
            if !a[waiver] {
                with_pension += 1;
                joint += usize::from(b[waiver]);
            }
        }
        for k in rare {
            rare_open += usize::from(!a[k]);
            rare_adds += usize::from(!a[k] && b[k]);
        }
    }
    let counts = &pension_by_month[1..];
    let swing =
        *counts.iter().max().unwrap() as f64 / (*counts.iter().min().unwrap()).max(1) as f64;
    (
        readds as f64 / adds as f64,
        joint as f64 / with_pension.max(1) as f64,
        swing,
        rare_adds as f64 / rare_open as f64,
    )
}

fn generate(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join(format!("panel{}", extra.len()));
    let o = train_cmd()
        .args([
            "generate",
            "--holdings",
            "--customers",
            "6000",
            "--months",
            "6",
        ])
        .args(["--seed", "5", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn the_generators_dynamics_are_planted_and_absent_without_the_flag() {
    let dir = tempdir();
    // Without the flag: the embedded panel, byte for byte.
    let out = dir.path().join("embedded");
    let o = train_cmd()
        .args(["generate", "--holdings", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    for f in ["holdings.csv", "latest.csv"] {
        let same = std::fs::read(out.join(f)).unwrap()
            == std::fs::read(Path::new("data/holdings").join(f)).unwrap();
        assert!(same, "{f} differs from the embedded panel");
    }
    let plain = mechanisms(&read_panel(&generate(dir.path(), &[]).join("holdings.csv")));
    let real = mechanisms(&read_panel(
        &generate(dir.path(), &["--dynamics"]).join("holdings.csv"),
    ));
    eprintln!("re-additions, joint, swing, rare: plain {plain:?}, dynamics {real:?}");
    assert!(
        real.0 > 0.15 && real.0 > 2.0 * plain.0,
        "re-additions {real:?} vs {plain:?}"
    );
    assert!(
        real.1 > 0.6 && plain.1 < 0.3,
        "joint additions {real:?} vs {plain:?}"
    );
    assert!(
        real.2 > 2.0 && real.2 > plain.2,
        "swings {real:?} vs {plain:?}"
    );
    assert!(
        real.3 < 0.001 && real.3 < plain.3,
        "rare products {real:?} vs {plain:?}"
    );
}

#[test]
fn the_rolling_backtest_covers_every_period_and_the_ranking_holds_a_month_later() {
    let dir = tempdir();
    let d = dir.path();
    let gen = generate(d, &["--dynamics"]);
    // Train on months 1–5; month 6 is the future the run never sees.
    let text = std::fs::read_to_string(gen.join("holdings.csv")).unwrap();
    let train_panel: String = text
        .lines()
        .filter(|l| !l.contains(",2024-06,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let data = write(d, "train.csv", &train_panel);
    let args = args![
        "offers",
        "--data",
        data,
        "--id",
        "customer_id",
        "--period",
        "period"
    ];
    train(
        d,
        [&args[..], &["--risk-column".into(), "risk_profile".into()]].concat(),
    );
    let run = run_dir(d);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("offers_metrics.json")).unwrap())
            .unwrap();
    let r = &m["rolling_backtest"];
    let periods = r["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods
        .iter()
        .map(|b| b["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["2024-03", "2024-04", "2024-05"],
        "every period with earlier transitions"
    );
    let counted: Vec<bool> = periods
        .iter()
        .map(|b| b["counted"].as_bool().unwrap())
        .collect();
    assert_eq!(
        counted,
        [false, true, true],
        "the first learned without holding changes"
    );
    let map = |b: &serde_json::Value| b["model"]["map_at_7"].as_f64().unwrap();
    let mean = (map(&periods[1]) + map(&periods[2])) / 2.0;
    assert!(
        (r["mean"]["map_at_7"].as_f64().unwrap() - mean).abs() < 1e-12,
        "{r}"
    );
    assert!(
        map(&periods[0]) < mean,
        "without changes the models rank worse: {r}"
    );
    assert_eq!(m["backtest"], periods[2], "the last period's backtest");
    assert!(
        r["mean"]["map_at_7"].as_f64().unwrap()
            > 1.5 * r["popularity_mean"]["map_at_7"].as_f64().unwrap()
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("This is a backtest") && html.contains("2024-03 (not in the mean)"));

    // The month after: offers.csv ranks May's customers; June says who added what.
    let panel = read_panel(&gen.join("holdings.csv"));
    let (_, offers) = read_csv(&run.join("offers.csv"));
    let cat = churn::offers::catalog::Catalog::load(Path::new("data/products.toml")).unwrap();
    let column = |id: &str| &cat.products.iter().find(|p| p.id == id).unwrap().column;
    let mut ranked: HashMap<&str, Vec<usize>> = HashMap::new();
    for o in &offers {
        let k = panel.at(column(&o[2]));
        ranked.entry(o[0].as_str()).or_default().push(k);
    }
    let (mut ap, mut n) = (0.0, 0);
    for (id, _, a, b) in panel.steps().filter(|s| s.1 == 5) {
        let added: Vec<usize> = (0..a.len()).filter(|&k| !a[k] && b[k]).collect();
        if added.is_empty() {
            continue;
        }
        ap += average_precision(ranked.get(id).map_or(&[][..], |v| &v[..]), &added, 7);
        n += 1;
    }
    let future = ap / n as f64;
    let pop = r["popularity_mean"]["map_at_7"].as_f64().unwrap();
    eprintln!("next month's MAP@7 {future:.4}; rolling mean {mean:.4}; popularity {pop:.4}");
    assert!(
        n > 500 && future > 1.5 * pop,
        "{future} vs popularity {pop}"
    );
}
