//! The training report's section on thresholds per group
//! (`--threshold-by`): each group's threshold, rule, precision, recall and
//! flag rate beside those of the one global threshold.

use super::page::{f4, Page};
use crate::reference::thresholds::{Rates, ThresholdReport};

/// Thresholds per group (`--threshold-by`): each group's own beside the
/// global threshold's precision, recall and flag rate.
pub fn section(page: &mut Page, r: &ThresholdReport, rule: &str, global: f64) {
    page.section("thresholds", "Thresholds per group");
    let rates = |x: &Rates| {
        format!(
            "precision {}, recall {}, flag rate {}",
            f4(x.precision),
            f4(x.recall),
            f4(x.flag_rate)
        )
    };
    page.note(&format!(
        "--threshold-by {}: the rule {} on each group's out-of-fold scores; a group with fewer than {} churners keeps the global threshold {:.4}. All rows under the group thresholds: {}; under the global one: {}.",
        r.by.join(","),
        rule,
        r.min_group_positives,
        global,
        rates(&r.with_groups),
        rates(&r.global)
    ));
    let head = [
        "group",
        "customers",
        "churners",
        "threshold",
        "rule",
        "precision",
        "recall",
        "flag rate",
        "global: precision",
        "global: recall",
        "global: flag rate",
    ];
    let rows: Vec<Vec<String>> = r
        .groups
        .iter()
        .map(|(name, g)| {
            vec![
                name.clone(),
                g.rows.to_string(),
                g.positives.to_string(),
                f4(g.threshold),
                g.rule.clone(),
                f4(g.precision),
                f4(g.recall),
                f4(g.flag_rate),
                f4(g.global.precision),
                f4(g.global.recall),
                f4(g.global.flag_rate),
            ]
        })
        .collect();
    page.table("threshold-groups", &head, &rows);
}
