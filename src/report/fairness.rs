//! The "Fairness" section of both report pages: per protected or sensitive
//! column, a table of the figures per group and a chart of flagged rate
//! (and churn rate, when labels are known) per group, with the disparate
//! impact, the four-fifths rule, the equal-opportunity gap and any proxies.

use super::page::{f4, Page};
use super::svg;
use crate::fairness::figures::{ColumnFairness, FOUR_FIFTHS};
use crate::fairness::proxy::PROXY_V;
use crate::fairness::Role;
use std::collections::BTreeMap;

/// Render the section (nothing when no column is protected or sensitive).
pub fn section(page: &mut Page, fairness: &BTreeMap<String, ColumnFairness>, what: &str) {
    if fairness.is_empty() {
        return;
    }
    page.section("fairness", "Fairness");
    page.note(&format!(
        "{what} Protected attributes are not features unless allowed; sensitive ones (age) are. Disparate impact = lowest flagged rate ÷ highest (four-fifths rule: flagged below {FOUR_FIFTHS}); equal-opportunity gap = highest − lowest true positive rate; both over groups of at least 30 customers. Proxies: features with Cramér's V ≥ {PROXY_V} against the attribute."
    ));
    let opt = |v: Option<f64>| v.map_or("–".to_string(), f4);
    for (k, (name, f)) in fairness.iter().enumerate() {
        let role = match f.role {
            Role::Protected => "protected: not a feature",
            Role::ProtectedAllowed => {
                "WARNING: protected, used as a feature (--allow-protected); never cited as a reason"
            }
            Role::Sensitive => "sensitive: a feature, reported per group",
        };
        let mut summary = format!(
            "{name} ({role}). Disparate impact {}{}; equal-opportunity gap {}.",
            opt(f.disparate_impact),
            if f.four_fifths_flag {
                " — FAILS the four-fifths rule"
            } else {
                ""
            },
            opt(f.equal_opportunity_gap)
        );
        if let Some(r) = f.offer_rate_ratio {
            summary += &format!(
                " Offer rate ratio (lowest ÷ highest share offered a product) {}.",
                f4(r)
            );
        }
        if !f.proxies.is_empty() {
            let p: Vec<String> = f
                .proxies
                .iter()
                .map(|p| format!("{} (V {:.2})", p.feature, p.cramers_v))
                .collect();
            summary += &format!(" Possible proxies: {}.", p.join(", "));
        }
        if let Some(note) = &f.note {
            summary += &format!(" Note: {note}.");
        }
        page.note(&summary);
        // The offer rate is a column only when offers were applied.
        let offers = f.groups.values().any(|g| g.offer_rate.is_some());
        let rows: Vec<Vec<String>> = f
            .groups
            .iter()
            .map(|(g, v)| {
                let levels: Vec<String> = v
                    .levels
                    .iter()
                    .map(|(l, s)| format!("{l} {:.1}%", 100.0 * s))
                    .collect();
                vec![
                    if v.small {
                        format!("{g} (small)")
                    } else {
                        g.clone()
                    },
                    v.rows.to_string(),
                    opt(v.churn_rate),
                    f4(v.mean_score),
                    f4(v.flag_rate),
                    opt(v.tpr),
                    opt(v.fpr),
                    opt(v.precision),
                ]
                .into_iter()
                .chain(offers.then(|| opt(v.offer_rate)))
                .chain([levels.join(", ")])
                .collect()
            })
            .collect();
        let head: Vec<&str> = [
            "group",
            "rows",
            "churn rate",
            "mean score",
            "flagged",
            "TPR",
            "FPR",
            "precision",
        ]
        .into_iter()
        .chain(offers.then_some("offered"))
        .chain(["warning levels"])
        .collect();
        page.table(&format!("fairness-table-{k}"), &head, &rows);
        let groups: Vec<String> = f.groups.keys().cloned().collect();
        let mut series = vec![(
            "flagged rate".to_string(),
            f.groups.values().map(|g| g.flag_rate).collect(),
        )];
        if f.groups.values().all(|g| g.churn_rate.is_some()) {
            series.push((
                "churn rate".to_string(),
                f.groups
                    .values()
                    .map(|g| g.churn_rate.unwrap_or(0.0))
                    .collect(),
            ));
        }
        series.push((
            "mean score".to_string(),
            f.groups.values().map(|g| g.mean_score).collect(),
        ));
        let chart = svg::bars(&format!("{name} by group"), "share", &groups, &series, &[]);
        page.figure(
            &format!("chart-fairness-{k}"),
            &format!("{name}: flagged rate, churn rate and mean score per group"),
            &chart,
        );
    }
}

/// The model card's line on protected and sensitive attributes.
pub fn card_line(r: &crate::clean::DataReport) -> String {
    let mut parts: Vec<String> = r
        .protected
        .iter()
        .map(|c| format!("{c} (protected: not a feature)"))
        .collect();
    parts.extend(
        r.protected_allowed
            .iter()
            .map(|c| format!("{c} (protected, USED AS A FEATURE by --allow-protected)")),
    );
    parts.extend(
        r.sensitive
            .iter()
            .map(|c| format!("{c} (sensitive: a feature, reported per group)")),
    );
    if parts.is_empty() {
        "none detected by name or configured ([fairness] protected)".into()
    } else {
        parts.join("; ")
    }
}

/// The model card's warning when a protected attribute is a feature.
pub fn allowed_warning(r: &crate::clean::DataReport) -> String {
    format!(
        "protected attribute(s) {} used as model features on purpose (--allow-protected): review the Fairness section; reason codes never cite them",
        r.protected_allowed.join(", ")
    )
}
