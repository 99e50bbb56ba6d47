//! The report of a threshold re-assessment (`report.html` beside
//! thresholds.json): per group the flags' realised precision, recall and
//! flag rate, the threshold used and the one the rule would choose now
//! (drift marked), then the same per scoring month.

use super::page::{f4, Page};
use crate::outcomes::reassess::{GroupCheck, Realised, Reassessment};

fn opt(v: Option<f64>) -> String {
    v.map_or("–".into(), f4)
}

/// The columns of [`figures`].
const FIGURES: [&str; 8] = [
    "customers",
    "churned",
    "flagged",
    "precision",
    "recall",
    "flag rate",
    "red",
    "red precision",
];

fn figures(r: &Realised) -> Vec<String> {
    vec![
        r.customers.to_string(),
        r.churned.to_string(),
        r.flagged.to_string(),
        opt(r.precision),
        opt(r.recall),
        f4(r.flag_rate),
        r.red.to_string(),
        opt(r.red_precision),
    ]
}

/// The page.
pub fn render(r: &Reassessment) -> String {
    let mut page = Page::new("Thresholds re-assessed against outcomes");
    page.note(&format!(
        "The scoring run's flags against what happened. Rule {}; drift when its threshold on these outcomes differs from the one used by more than {}; groups with fewer than {} churners are not re-fitted. {} scored customer(s) had no outcome and are left out.",
        r.rule, r.tolerance, r.min_group_positives, r.without_outcome
    ));
    for g in &r.drifted {
        page.note(&format!("DRIFT: threshold group {g}."));
    }
    page.section("groups", "Per threshold group");
    let rule_columns = [
        "threshold used",
        "rule's threshold",
        "precision at rule's",
        "recall at rule's",
        "drift",
    ];
    let head = [&["group"][..], &FIGURES, &rule_columns].concat();
    let row = |name: &str, c: &GroupCheck| {
        let mut v = vec![name.to_string()];
        v.extend(figures(&c.realised));
        v.push(opt(c.used_threshold));
        v.push(opt(c.rule_threshold));
        v.push(opt(c.at_rule_threshold.as_ref().and_then(|a| a.precision)));
        v.push(opt(c.at_rule_threshold.as_ref().and_then(|a| a.recall)));
        v.push(if c.drift { "DRIFT" } else { "" }.into());
        v
    };
    let rows: Vec<Vec<String>> = r.checks().map(|(g, c)| row(g, c)).collect();
    page.table("reassess-groups", &head, &rows);
    page.section("periods", "Per scoring month");
    let head = [&["group", "month"][..], &FIGURES].concat();
    let rows: Vec<Vec<String>> = r
        .checks()
        .flat_map(|(g, c)| {
            c.by_period.iter().map(move |(p, f)| {
                let mut v = vec![g.to_string(), p.clone()];
                v.extend(figures(f));
                v
            })
        })
        .collect();
    match rows.is_empty() {
        true => {
            page.note("The scores have no scoring-date column (as_of, period, month or scored_at).")
        }
        false => page.table("reassess-periods", &head, &rows),
    }
    page.finish()
}
