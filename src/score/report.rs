//! report.html of a scoring run: what the CRM team acts on (warning level ×
//! value tier, value at risk), what model monitoring watches (score
//! distribution and PSI against training) and, for a labelled month, the
//! offline evaluation and tier migration.

use super::summary::{EvalRows, Evaluation, Summary, LEVELS};
use crate::artifact::Artifact;
use crate::evaluate::metrics::METRIC_NAMES;
use crate::reference::segment::TIERS;
use crate::reference::{SHIFT, WATCH};
use crate::report::figures;
use crate::report::page::{f4, Page};
use crate::report::svg;

/// Render the scoring report; `labelled` is present when the data had labels.
pub fn render(art: &Artifact, s: &Summary, labelled: Option<(&EvalRows, &Evaluation)>) -> String {
    let mut page = Page::new("Churn scoring run");
    page.note(&format!(
        "Model {} ({}, trained {}). Rows read {} = scored {} + rejected {}. Expected churners {:.1}; {}.",
        art.run_id, art.model_name, art.created_at, s.rows_read, s.rows_scored, s.rows_rejected, s.expected_churners, s.value_text()
    ));
    level_tier(&mut page, s);
    drift(&mut page, s);
    evaluation(&mut page, labelled);
    crate::report::fairness::section(&mut page, &s.fairness, "This batch's scores at the model's threshold (label-based figures only when the batch has labels).");
    migration(&mut page, s);
    offers(&mut page, s);
    contacts(&mut page, s);
    rows(&mut page, s);
    page.finish()
}

/// The four standard tiers in rank order, then any other tier seen (e.g.
/// `unsegmented`, or a tier name of an older model), so no count is hidden.
fn tier_names<'a>(seen: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = TIERS.iter().map(|t| t.to_string()).collect();
    for t in seen {
        if !v.contains(t) {
            v.push(t.clone());
        }
    }
    v
}

fn level_tier(page: &mut Page, s: &Summary) {
    page.section("levels", "Warning level × value tier");
    let count = |lvl: &str, tier: &str| {
        s.by_level_tier
            .get(lvl)
            .and_then(|r| r.get(tier))
            .copied()
            .unwrap_or(0)
    };
    let tiers = tier_names(s.by_level_tier.values().flat_map(|r| r.keys()));
    let cells: Vec<Vec<f64>> = LEVELS
        .iter()
        .map(|l| tiers.iter().map(|t| count(l, t) as f64).collect())
        .collect();
    let levels: Vec<String> = LEVELS.iter().map(|l| l.to_string()).collect();
    page.raw(&svg::heatmap(
        "level-tier-heatmap",
        "level \\ tier",
        &levels,
        &tiers,
        &cells,
    ));
    let mut head: Vec<&str> = vec!["level"];
    head.extend(tiers.iter().map(String::as_str));
    head.extend(["customers", "value at risk"]);
    let rows: Vec<Vec<String>> = LEVELS
        .iter()
        .map(|l| {
            let counts: Vec<usize> = tiers.iter().map(|t| count(l, t)).collect();
            let var = s.value_at_risk_by_level.get(*l).copied().unwrap_or(0.0);
            std::iter::once(l.to_string())
                .chain(counts.iter().map(|c| c.to_string()))
                .chain([
                    counts.iter().sum::<usize>().to_string(),
                    format!("{var:.0}"),
                ])
                .collect()
        })
        .collect();
    page.table("level-tier-table", &head, &rows);
    let var: Vec<f64> = LEVELS
        .iter()
        .map(|l| s.value_at_risk_by_level.get(*l).copied().unwrap_or(0.0))
        .collect();
    page.figure(
        "chart-value-at-risk",
        "Value at risk (Σ probability × CLV) by warning level",
        &svg::bars(
            "Value at risk by level",
            "value at risk",
            &levels,
            &[("value at risk".into(), var)],
            &[],
        ),
    );
}

fn drift(page: &mut Page, s: &Summary) {
    page.section("drift", "Score distribution and drift against training");
    let Some(d) = &s.drift else {
        page.note("No drift reference in the model artifact.");
        return;
    };
    let bins: Vec<String> = d.score_distribution.iter().map(|b| b.bin.clone()).collect();
    let series = vec![
        (
            "training".to_string(),
            d.score_distribution.iter().map(|b| b.reference).collect(),
        ),
        (
            "this batch".to_string(),
            d.score_distribution.iter().map(|b| b.current).collect(),
        ),
    ];
    page.figure(
        "chart-score-distribution",
        "Share of customers per training score decile: training against this batch",
        &svg::bars(
            "Score distribution",
            "share of customers",
            &bins,
            &series,
            &[],
        ),
    );
    let items: Vec<(String, f64)> = std::iter::once(&d.score)
        .chain(&d.features)
        .map(|r| (r.name.clone(), r.psi))
        .collect();
    let refs = [
        (WATCH, format!("{WATCH} watch")),
        (SHIFT, format!("{SHIFT} shift")),
    ];
    page.figure(
        "chart-psi",
        "Population stability index per feature and of the score",
        &svg::hbars("PSI against training", &items, &refs),
    );
    let rows: Vec<Vec<String>> = std::iter::once(&d.score)
        .chain(&d.features)
        .map(|r| vec![r.name.clone(), f4(r.psi), r.status.to_string()])
        .collect();
    page.table("drift-table", &["column", "PSI", "status"], &rows);
}

fn evaluation(page: &mut Page, labelled: Option<(&EvalRows, &Evaluation)>) {
    page.section("evaluation", "Offline evaluation");
    let Some((rows, ev)) = labelled else {
        page.note("The data has no label column, so there is no offline evaluation.");
        return;
    };
    let row: Vec<String> = METRIC_NAMES
        .iter()
        .map(|m| f4(ev.metrics.get(m).unwrap_or(f64::NAN)))
        .collect();
    page.table("eval-metrics-table", &METRIC_NAMES, &[row]);
    figures::roc(page, &rows.y, &[("model", rows.p.as_slice())]);
    figures::ks(page, &rows.y, &rows.p, "model");
    let levels: Vec<String> = LEVELS.iter().map(|l| l.to_string()).collect();
    let rates: Vec<f64> = LEVELS
        .iter()
        .map(|l| ev.by_warning_level.get(*l).map_or(0.0, |o| o.churn_rate))
        .collect();
    page.figure(
        "chart-level-churn",
        "Observed churn rate per warning level",
        &svg::bars(
            "Churn rate by warning level",
            "churn rate",
            &levels,
            &[("churn rate".into(), rates)],
            &[],
        ),
    );
    figures::calibration(page, &rows.y, &rows.p, "model", None);
    let level_rows: Vec<Vec<String>> = LEVELS
        .iter()
        .filter_map(|l| {
            ev.by_warning_level.get(*l).map(|o| {
                vec![
                    l.to_string(),
                    o.customers.to_string(),
                    o.churners.to_string(),
                    f4(o.churn_rate),
                ]
            })
        })
        .collect();
    page.table(
        "level-churn-table",
        &["level", "customers", "churners", "churn rate"],
        &level_rows,
    );
}

fn migration(page: &mut Page, s: &Summary) {
    page.section("migration", "Tier migration since the previous run");
    let Some(m) = &s.migration else {
        page.note("No previous scores given (--previous), so no migration.");
        return;
    };
    let from = tier_names(m.tier_matrix.keys());
    let to = tier_names(m.tier_matrix.values().flat_map(|r| r.keys()));
    let cells: Vec<Vec<f64>> = from
        .iter()
        .map(|f| {
            to.iter()
                .map(|t| {
                    m.tier_matrix
                        .get(f)
                        .and_then(|r| r.get(t))
                        .copied()
                        .unwrap_or(0) as f64
                })
                .collect()
        })
        .collect();
    page.note(&format!(
        "{} customers matched the previous run; {} rose in warning level (warning_rises.csv).",
        m.matched_customers, m.warning_rises
    ));
    page.raw(&svg::heatmap(
        "migration-heatmap",
        "from \\ to",
        &from,
        &to,
        &cells,
    ));
}

fn rows(page: &mut Page, s: &Summary) {
    page.section("rows", "Row accounting and data quality");
    let mut rows = vec![
        vec!["rows read".to_string(), s.rows_read.to_string()],
        vec!["rows scored".into(), s.rows_scored.to_string()],
        vec![
            "rows rejected (rejects.csv)".into(),
            s.rows_rejected.to_string(),
        ],
        vec![
            "flagged at the model threshold".into(),
            s.flagged.to_string(),
        ],
    ];
    rows.push(vec!["value tiers".into(), s.value_tiers.clone()]);
    if let Some(w) = &s.warning_cutoffs {
        rows.push(vec![
            "warning cut-offs".into(),
            format!(
                "red ≥ {:.4}, orange ≥ {:.4}, yellow ≥ {:.4}",
                w.red, w.orange, w.yellow
            ),
        ]);
    }
    rows.extend(
        s.unseen_categories
            .iter()
            .map(|(c, n)| vec![format!("unseen categories: {c}"), n.to_string()]),
    );
    rows.extend(
        s.imputed_cells
            .iter()
            .map(|(c, n)| vec![format!("imputed cells: {c}"), n.to_string()]),
    );
    page.table("rows-table", &["item", "value"], &rows);
}

/// Offers: the first offer's product strategy per value tier and warning
/// level, with expected value.
fn offers(page: &mut Page, s: &Summary) {
    let Some(o) = &s.offers else {
        return;
    };
    page.section("offers", "Next-best offers");
    page.note(&format!(
        "Offers {}. Customers with an offer: {}; with none suitable: {}. Expected value of the first offers (propensity × margin): {:.0}. Invalid risk answers (estimated instead): {}. Blank holding cells (product not offered): {}.",
        o.note, o.customers_with_offer, o.customers_without_offer, o.expected_value, o.invalid_risk_answers, o.unknown_holdings
    ));
    if o.model_run_id.is_none() {
        return;
    }
    crate::report::offers::strategy(page, "offers-by-tier", "value tier", &o.first_by_tier);
    crate::report::offers::strategy(page, "offers-by-level", "warning level", &o.first_by_level);
    let ev: Vec<Vec<String>> = o
        .expected_value_by_tier
        .iter()
        .map(|(t, v)| vec![t.clone(), format!("{v:.0}")])
        .collect();
    page.table(
        "offers-value",
        &["value tier", "expected value of first offers"],
        &ev,
    );
    let levels: Vec<Vec<String>> = o
        .risk_levels
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    page.table(
        "offers-risk",
        &["risk level and source", "customers"],
        &levels,
    );
}

/// The contact list: what it is expected to save against the same number
/// of customers by churn probability, and whom it reaches.
fn contacts(page: &mut Page, s: &Summary) {
    let Some(c) = &s.contacts else {
        return;
    };
    page.section("contacts", "Who to contact");
    page.note(&format!(
        "Expected value saved per contact: {}. {} of {} slots filled (contact {:.2} a customer, accept rate {}); spent {:.0}. Customers without a known value: {}; not worth a contact (expected value ≤ 0): {}. The list is contacts.csv.",
        c.rule, c.contacted, c.slots, c.cost_per_contact, c.accept_rate, c.spent, c.customers_without_value, c.customers_not_worth_a_contact
    ));
    page.table(
        "contacts-value",
        &["list", "customers", "expected value saved"],
        &[
            vec![
                "by expected value saved".into(),
                c.contacted.to_string(),
                format!("{:.0}", c.expected_value_saved),
            ],
            vec![
                "by churn probability alone".into(),
                c.top_by_probability.to_string(),
                format!("{:.0}", c.top_by_probability_expected_value),
            ],
        ],
    );
    let rows = |m: &std::collections::BTreeMap<String, usize>| -> Vec<Vec<String>> {
        m.iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect()
    };
    page.table(
        "contacts-by-tier",
        &["value tier", "contacts"],
        &rows(&c.by_tier),
    );
    page.table(
        "contacts-by-level",
        &["warning level", "contacts"],
        &rows(&c.by_level),
    );
}
