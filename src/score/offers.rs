//! Offers in a scoring job: which offers model applies (`--offers`, else
//! `offers-latest` beside the model when the batch has its columns), and
//! per chunk the risk level and the top three suitable offers of every
//! customer, ranked with the customer's value tier and warning level
//! (retention products first at orange/red) by [`crate::offers::rank`].

use crate::config::ScoreConfig;
use crate::error::{Error, Result};
use crate::offers::fit::{held_by_row, profile};
use crate::offers::{rank, OffersModel, SCORED};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns offers add to the scores; the first offer is `COLUMNS[2]`.
pub const COLUMNS: [&str; 5] = [
    "risk_level",
    "risk_level_source",
    "offer_1",
    "offer_2",
    "offer_3",
];
/// The column of each customer's first offer.
pub const FIRST_OFFER: &str = COLUMNS[2];

/// The offers block of summary.json.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OffersSummary {
    /// The offers model applied, or why none was.
    pub model_run_id: Option<String>,
    pub note: String,
    pub customers_with_offer: usize,
    pub customers_without_offer: usize,
    /// Offers in each customer's top 3, per product.
    pub by_product: BTreeMap<String, usize>,
    /// First offers per value tier and per warning level.
    pub first_by_tier: BTreeMap<String, BTreeMap<String, usize>>,
    pub first_by_level: BTreeMap<String, BTreeMap<String, usize>>,
    /// Σ propensity × margin of every customer's first offer.
    pub expected_value: f64,
    pub expected_value_by_tier: BTreeMap<String, f64>,
    /// Customers per risk level and source (`C2 estimated`).
    pub risk_levels: BTreeMap<String, usize>,
    /// Questionnaire answers that were not a level (estimated instead).
    pub invalid_risk_answers: usize,
}

/// The offers model to apply, and the summary note either way.
pub fn resolve(
    s: &ScoreConfig,
    headers: &[(String, Vec<String>)],
) -> Result<(Option<OffersModel>, OffersSummary)> {
    let mut summary = OffersSummary::default();
    let beside = s
        .model
        .parent()
        .unwrap_or(Path::new("."))
        .join("offers-latest");
    let (path, explicit): (PathBuf, bool) = match (&s.offers, s.no_offers) {
        (_, true) => {
            summary.note = "not applied (--no-offers)".into();
            return Ok((None, summary));
        }
        (Some(p), _) => (p.clone(), true),
        (None, _) if beside.exists() => (beside, false),
        (None, _) => {
            summary.note = "not applied (no offers model; run churn-train offers)".into();
            return Ok((None, summary));
        }
    };
    let model = OffersModel::load(&path)?;
    for (source, names) in headers {
        let missing = model.missing_columns(names);
        if missing.is_empty() {
            continue;
        }
        if explicit {
            return Err(Error::data(
                source,
                format!("--offers: missing column(s): {}", missing.join(", ")),
            ));
        }
        summary.note = format!(
            "not applied: {} lacks the offers model's column(s) {} (pass --offers to require them)",
            source,
            missing.join(", ")
        );
        return Ok((None, summary));
    }
    summary.model_run_id = Some(model.run_id.clone());
    summary.note = format!("applied: {}", path.display());
    Ok((Some(model), summary))
}

/// Risk level, its source and the top offers of a scored chunk, as the
/// scores' extra columns; adds to `summary`.
pub fn apply(
    model: &OffersModel,
    rows: &crate::offers::inputs::Rows,
    tiers: &[Arc<str>],
    levels: &[&'static str],
    summary: &mut OffersSummary,
) -> Vec<(String, Vec<String>)> {
    let cat = &model.catalog;
    let props = model.propensities(rows, None);
    let held = held_by_row(rows);
    let n = rows.len();
    let mut cols: Vec<Vec<String>> = (0..2 + SCORED).map(|_| Vec::with_capacity(n)).collect();
    summary.invalid_risk_answers += rows.invalid_answers;
    for r in 0..n {
        let c = profile(cat, rows, r, Some(&tiers[r]), Some(levels[r]), &held[r]);
        let p: Vec<f64> = props.iter().map(|v| v[r]).collect();
        let ranked = rank::rank(cat, &c, &p, SCORED);
        let level = format!("C{}", rows.level[r]);
        *summary
            .risk_levels
            .entry(format!("{level} {}", rows.source[r]))
            .or_default() += 1;
        cols[0].push(level);
        cols[1].push(rows.source[r].to_string());
        for k in 0..SCORED {
            cols[2 + k].push(
                ranked
                    .get(k)
                    .map_or(String::new(), |o| cat.products[o.0].id.clone()),
            );
        }
        let Some(&(first, _)) = ranked.first() else {
            summary.customers_without_offer += 1;
            continue;
        };
        summary.customers_with_offer += 1;
        for o in &ranked {
            *summary
                .by_product
                .entry(cat.products[o.0].id.clone())
                .or_default() += 1;
        }
        let id = &cat.products[first].id;
        let tier = tiers[r].to_string();
        *summary
            .first_by_tier
            .entry(tier.clone())
            .or_default()
            .entry(id.clone())
            .or_default() += 1;
        *summary
            .first_by_level
            .entry(levels[r].to_string())
            .or_default()
            .entry(id.clone())
            .or_default() += 1;
        let ev = p[first] * cat.products[first].margin.unwrap_or(0.0);
        summary.expected_value += ev;
        *summary.expected_value_by_tier.entry(tier).or_default() += ev;
    }
    COLUMNS.iter().map(|s| s.to_string()).zip(cols).collect()
}
