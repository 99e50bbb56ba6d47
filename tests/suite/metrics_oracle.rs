//! Our metric code against the values scikit-learn computes
//! (../shared/reference/metrics_cases.json), to 1e-9.

use crate::common;
use churn::evaluate::metrics::{capture_rate, Metrics};

#[test]
fn every_reference_case_matches_scikit_learn() {
    let text = std::fs::read_to_string(common::shared("reference/metrics_cases.json"))
        .expect("metrics_cases.json beside the checkout");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let y: Vec<u8> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        let p: Vec<f64> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let t = case["threshold"].as_f64().unwrap();
        let m = Metrics::compute(&y, &p, t);
        let e = &case["expected"];
        let check = |metric: &str, ours: f64| {
            let want = e[metric]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: no {metric}"));
            assert!(
                (ours - want).abs() <= 1e-9,
                "{name}: {metric} = {ours}, scikit-learn {want}"
            );
        };
        check("accuracy", m.accuracy);
        check("precision", m.precision);
        check("recall", m.recall);
        check("f1", m.f1);
        check("roc_auc", m.roc_auc);
        check("pr_auc_average_precision", m.pr_auc);
        check("ks", m.ks);
        check("brier", m.brier);
        check("log_loss", m.log_loss);
        check("capture_rate_top_10pct", capture_rate(&y, &p, 0.1));
        check("capture_rate_top_10pct", m.capture_top10);
        let cm: Vec<usize> = e["confusion_matrix_tn_fp_fn_tp"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            vec![
                m.confusion.tn,
                m.confusion.fp,
                m.confusion.fn_,
                m.confusion.tp
            ],
            cm,
            "{name}: confusion"
        );
    }
}

#[test]
fn empc_equals_empulse() {
    use churn::evaluate::profit::{empc, ProfitParams};
    let cases = crate::common::oracle_cases("empc_oracle.json");
    assert!(cases.len() >= 10);
    for (i, c) in cases.iter().enumerate() {
        let nums = |k: &str| crate::common::case_numbers(c, k);
        let y: Vec<u8> = nums("y").iter().map(|&v| v as u8).collect();
        let f = |k: &str| c[k].as_f64().unwrap();
        let p = ProfitParams {
            alpha: f("alpha"),
            beta: f("beta"),
            clv: f("clv"),
            incentive_cost: f("incentive_cost"),
            contact_cost: f("contact_cost"),
        };
        let e = empc(&y, &nums("score"), &p);
        assert!(
            (e.empc - f("empc")).abs() < 1e-9,
            "case {i}: empc {} against {}",
            e.empc,
            f("empc")
        );
        assert!(
            (e.rate - f("rate")).abs() < 1e-9,
            "case {i}: rate {} against {}",
            e.rate,
            f("rate")
        );
    }
}
