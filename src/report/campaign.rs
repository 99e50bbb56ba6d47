//! The report of a campaign measurement (`report.html` beside
//! campaign.json): the arms' sizes and the sample-ratio check, each arm's
//! effect on each outcome with its interval (a forest plot and a table),
//! the effects per group, the balance of the attributes, and with
//! `--scores` the warnings' accuracy on the holdout — by level, calibration
//! and by scoring date.

use super::page::{f4, Page};
use super::svg::{bars, intervals, lines, Axes, Estimate};
use crate::outcomes::accuracy::Accuracy;
use crate::outcomes::campaign::{ArmEffects, CampaignReport, Effect};

fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), f4)
}

fn interval(e: &Effect) -> Option<(f64, f64)> {
    e.diff_ci_low.zip(e.diff_ci_high)
}

/// The effects of `arms` as a forest plot and a table under `id`.
fn effects(page: &mut Page, id: &str, title: &str, arms: &ArmEffects) {
    let items: Vec<Estimate> = arms
        .iter()
        .flat_map(|(arm, outs)| {
            outs.iter()
                .filter(|(_, e)| !e.too_small)
                .map(move |(o, e)| (format!("{arm} · {o}"), e.diff, interval(e)))
        })
        .collect();
    if !items.is_empty() {
        page.figure(&format!("{id}-plot"), title, &intervals(title, &items));
    }
    let rows: Vec<Vec<String>> = arms
        .iter()
        .flat_map(|(arm, outs)| {
            outs.iter().map(move |(o, e)| {
                vec![
                    arm.clone(),
                    o.clone(),
                    e.n.to_string(),
                    f4(e.value),
                    f4(e.control_value),
                    f4(e.diff),
                    match interval(e) {
                        Some((a, b)) => format!("[{}, {}]", f4(a), f4(b)),
                        None => "–".into(),
                    },
                    opt(e.rel_lift),
                    match e.too_small {
                        true => "too small".into(),
                        false => opt(e.p_holm.or(e.p_value)),
                    },
                    format!("{:.1}", e.incremental),
                ]
            })
        })
        .collect();
    page.table(
        &format!("{id}-table"),
        &[
            "arm",
            "outcome",
            "n",
            "value",
            "control",
            "difference",
            "interval",
            "relative lift",
            "p",
            "incremental",
        ],
        &rows,
    );
}

/// The warnings' accuracy on the holdout.
fn accuracy(page: &mut Page, a: &Accuracy) {
    page.section("accuracy", "Warning accuracy after the fact (holdout only)");
    page.note(&format!(
        "Outcome {} read as churn{}; {} campaign customers matched to a score, {} not; {} holdout customers judged, {} churned. Realised ROC AUC {}, PR AUC {}, KS {}; recall of red + orange {}.{}",
        a.outcome,
        if a.inverted { " (inverted: a retention outcome)" } else { "" },
        a.matched,
        a.unmatched,
        a.customers,
        a.churned,
        opt(a.roc_auc),
        opt(a.pr_auc),
        opt(a.ks),
        opt(a.recall_red_orange),
        a.model_oof.as_ref().map_or(String::new(), |m| format!(
            " The model's own out-of-fold figures ({}): ROC AUC {}, PR AUC {}, KS {}.",
            m.model,
            f4(m.roc_auc),
            f4(m.pr_auc),
            f4(m.ks)
        ))
    ));
    let levels: Vec<String> = a.by_level.keys().cloned().collect();
    let rates: Vec<f64> = a.by_level.values().map(|l| l.churn_rate).collect();
    page.figure(
        "accuracy-levels",
        "Churn rate by warning level",
        &bars(
            "Churn rate by warning level",
            "churn rate",
            &levels,
            &[("holdout".into(), rates)],
            &[],
        ),
    );
    let pts = |f: fn(&crate::outcomes::accuracy::Calibration) -> f64| -> Vec<(f64, f64)> {
        a.calibration.iter().map(|c| (c.predicted, f(c))).collect()
    };
    let top = a
        .calibration
        .iter()
        .map(|c| c.predicted.max(c.observed))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let axes = Axes {
        x: (0.0, top),
        y: (0.0, top),
        x_label: "predicted churn probability (score decile)",
        y_label: "observed churn rate",
    };
    let mut perfect = super::figures::diagonal("perfect calibration");
    perfect.to = (top, top);
    page.figure(
        "accuracy-calibration",
        "Calibration by score decile",
        &lines(
            "Calibration",
            &axes,
            &[("holdout".into(), pts(|c| c.observed))],
            &[perfect],
        ),
    );
    if !a.by_period.is_empty() {
        let rows: Vec<Vec<String>> = a
            .by_period
            .iter()
            .map(|(p, f)| {
                vec![
                    p.clone(),
                    f.customers.to_string(),
                    f.churned.to_string(),
                    opt(f.roc_auc),
                    opt(f.recall_red_orange),
                    opt(f.precision_red_orange),
                ]
            })
            .collect();
        page.table(
            "accuracy-periods",
            &[
                "scored",
                "customers",
                "churned",
                "ROC AUC",
                "recall red + orange",
                "precision red + orange",
            ],
            &rows,
        );
    }
}

/// The whole page.
pub fn render(r: &CampaignReport) -> String {
    let mut page = Page::new("Campaign: what the treatment did");
    let sizes: Vec<String> = r.sizes.iter().map(|(a, n)| format!("{a} {n}")).collect();
    page.note(&format!(
        "{}: arms by {} ({}), control {}; two-sided intervals at {:.0}%.",
        r.data,
        r.arm_column,
        sizes.join(", "),
        r.control,
        100.0 * (1.0 - r.alpha)
    ));
    if let Some(s) = &r.srm {
        let line = format!(
            "Sample ratio: arm sizes {:?} against the planned split {:?}: chi-square {:.2}, p {:.2e}.",
            s.counts, s.split, s.chi2, s.p_value
        );
        match s.mismatch {
            true => page.note(&format!(
                "WARNING — {line} The assignment is suspect, and so is every effect below."
            )),
            false => page.note(&line),
        }
    }
    page.section("effects", "Effects against the holdout");
    effects(
        &mut page,
        "effects",
        "Difference against control, with its interval",
        &r.arms,
    );
    for (col, levels) in &r.groups {
        page.section(
            &format!("by-{col}"),
            &format!("Effects by {col} (p Holm-adjusted)"),
        );
        for (level, arms) in levels {
            effects(
                &mut page,
                &format!("by-{col}-{level}"),
                &format!("{col} = {level}"),
                arms,
            );
        }
    }
    page.section(
        "balance",
        "Balance of the attributes (standardised mean difference against control)",
    );
    let rows: Vec<Vec<String>> = r
        .balance
        .iter()
        .flat_map(|(arm, attrs)| {
            attrs
                .iter()
                .map(move |(a, v)| vec![arm.clone(), a.clone(), f4(*v)])
        })
        .collect();
    page.table("balance-table", &["arm", "attribute", "SMD"], &rows);
    if !r.imbalanced.is_empty() {
        page.note(&format!("Beyond |0.1|: {}.", r.imbalanced.join(", ")));
    }
    if let Some(a) = &r.accuracy {
        accuracy(&mut page, a);
    }
    page.finish()
}
