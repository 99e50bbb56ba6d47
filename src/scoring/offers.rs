//! Offers in a scoring job: which offers model applies (`--offers`, else
//! `offers-latest` beside the model when the batch has its columns), and
//! per chunk the risk level and the top three suitable offers of every
//! customer, ranked with the customer's value tier and warning level
//! (retention products first at orange/red) by [`crate::offers::rank`].

use crate::config::ScoreConfig;
use crate::error::{Error, Result};
use crate::offers::fit::profile;
use crate::offers::{rank, OffersModel, SCORED};
use rayon::prelude::*;
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
    /// Blank or NA holding cells: the product was not offered (it may be held).
    pub unknown_holdings: usize,
}

impl OffersSummary {
    /// Add the counts of `other` (a later chunk's; the model and note are
    /// this one's).
    pub fn absorb(&mut self, other: OffersSummary) {
        self.customers_with_offer += other.customers_with_offer;
        self.customers_without_offer += other.customers_without_offer;
        add(&mut self.by_product, other.by_product);
        for (tier, by) in other.first_by_tier {
            add(self.first_by_tier.entry(tier).or_default(), by);
        }
        for (level, by) in other.first_by_level {
            add(self.first_by_level.entry(level).or_default(), by);
        }
        self.expected_value += other.expected_value;
        add(
            &mut self.expected_value_by_tier,
            other.expected_value_by_tier,
        );
        add(&mut self.risk_levels, other.risk_levels);
        self.invalid_risk_answers += other.invalid_risk_answers;
        self.unknown_holdings += other.unknown_holdings;
    }
}

/// Add every count of `from` to `into`'s.
fn add<K: Ord, V: std::ops::AddAssign + Default>(
    into: &mut BTreeMap<K, V>,
    from: impl IntoIterator<Item = (K, V)>,
) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
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
    // Without the questionnaire every level is estimated (capped at C3):
    // legal, but the CRM should know why nobody is offered R4-R5 products.
    if let Some(column) = model.risk_column.as_deref() {
        let lacks = |names: &[String]| !names.iter().any(|n| n == column);
        if let Some((source, _)) = headers.iter().find(|(_, names)| lacks(names)) {
            summary.note.push_str(&format!(
                "; {source} has no questionnaire column '{column}': every risk level estimated (at most C3)"
            ));
        }
    }
    Ok((Some(model), summary))
}

/// Customers ranked per parallel task.
const RANK_BLOCK: usize = 2048;

/// Risk level, its source and the top offers of a scored chunk, as the
/// scores' extra columns; adds to `summary`. Customers are ranked in
/// parallel blocks (each reusing its lists); the summary is counted in
/// row order afterwards, so its sums do not depend on the threads.
pub fn apply(
    model: &OffersModel,
    rows: &crate::offers::inputs::Rows,
    tiers: &[Arc<str>],
    levels: &[&'static str],
    summary: &mut OffersSummary,
) -> Vec<(String, Vec<String>)> {
    let cat = &model.catalog;
    let props = model.propensities(rows, None);
    let n = rows.len();
    let top: Vec<[Option<usize>; SCORED]> = (0..n)
        .into_par_iter()
        .with_min_len(RANK_BLOCK)
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(held, p, ranked), r| {
                held.clear();
                held.extend(rows.held.iter().map(|h| h[r]));
                p.clear();
                p.extend(props.iter().map(|v| v[r]));
                let c = profile(cat, rows, r, Some(&tiers[r]), Some(levels[r]), held);
                rank::rank_into(cat, &c, p, SCORED, ranked);
                std::array::from_fn(|k| ranked.get(k).map(|o| o.0))
            },
        )
        .collect();
    summary.invalid_risk_answers += rows.invalid_answers;
    summary.unknown_holdings += rows.unknown_holdings;
    let mut counts = Counts::new(cat.products.len());
    for (r, offers) in top.iter().enumerate() {
        counts.risk[usize::from(rows.level[r]).min(5)]
            [(rows.source[r] == crate::offers::risk::ESTIMATED) as usize] += 1;
        let Some(first) = offers[0] else {
            summary.customers_without_offer += 1;
            continue;
        };
        summary.customers_with_offer += 1;
        offers
            .iter()
            .flatten()
            .for_each(|&k| counts.by_product[k] += 1);
        let ev = props[first][r] * cat.products[first].margin.unwrap_or(0.0);
        summary.expected_value += ev;
        let tier = counts.tier(&tiers[r]);
        tier.0[first] += 1;
        tier.1 += ev;
        counts.level(levels[r])[first] += 1;
    }
    counts.into_summary(cat, summary);
    let text = |f: &(dyn Fn(usize) -> String + Sync)| -> Vec<String> {
        (0..n)
            .into_par_iter()
            .with_min_len(RANK_BLOCK)
            .map(f)
            .collect()
    };
    let id = |k: Option<usize>| k.map_or(String::new(), |k| cat.products[k].id.clone());
    let mut cols = vec![
        text(&|r| format!("C{}", rows.level[r])),
        text(&|r| rows.source[r].to_string()),
    ];
    cols.extend((0..SCORED).map(|k| text(&|r| id(top[r][k]))));
    COLUMNS.iter().map(|s| s.to_string()).zip(cols).collect()
}

/// A chunk's offer counts by number (product, tier, level), turned into the
/// summary's named maps once at the end instead of a map lookup by name
/// per customer.
struct Counts {
    /// [level 1..=5][questionnaire, estimated].
    risk: [[usize; 2]; 6],
    by_product: Vec<usize>,
    /// Per tier met: first offers per product and expected value.
    tiers: Vec<(Arc<str>, TierCounts)>,
    /// Per warning level met: first offers per product.
    levels: Vec<(&'static str, Vec<usize>)>,
}

/// A tier's first offers per product, and their expected value.
type TierCounts = (Vec<usize>, f64);

/// The entry of `key` in `list` (a handful of keys: a scan beats a map),
/// added as `empty` when new.
fn entry<K: PartialEq, V>(list: &mut Vec<(K, V)>, key: K, empty: impl FnOnce() -> V) -> &mut V {
    let k = match list.iter().position(|e| e.0 == key) {
        Some(k) => k,
        None => {
            list.push((key, empty()));
            list.len() - 1
        }
    };
    &mut list[k].1
}

impl Counts {
    fn new(products: usize) -> Counts {
        Counts {
            risk: [[0; 2]; 6],
            by_product: vec![0; products],
            tiers: Vec::new(),
            levels: Vec::new(),
        }
    }

    fn tier(&mut self, tier: &Arc<str>) -> &mut TierCounts {
        let products = self.by_product.len();
        entry(&mut self.tiers, tier.clone(), || (vec![0; products], 0.0))
    }

    fn level(&mut self, level: &'static str) -> &mut Vec<usize> {
        let products = self.by_product.len();
        entry(&mut self.levels, level, || vec![0; products])
    }

    fn into_summary(self, cat: &crate::offers::catalog::Catalog, summary: &mut OffersSummary) {
        let named = |counts: &[usize]| -> Vec<(String, usize)> {
            counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(k, &c)| (cat.products[k].id.clone(), c))
                .collect()
        };
        let sources = [
            crate::offers::risk::QUESTIONNAIRE,
            crate::offers::risk::ESTIMATED,
        ];
        for (level, by_source) in self.risk.iter().enumerate() {
            for (source, &c) in sources.iter().zip(by_source).filter(|(_, &c)| c > 0) {
                *summary
                    .risk_levels
                    .entry(format!("C{level} {source}"))
                    .or_default() += c;
            }
        }
        add(&mut summary.by_product, named(&self.by_product));
        for (tier, (firsts, ev)) in self.tiers {
            let tier = tier.to_string();
            add(
                summary.first_by_tier.entry(tier.clone()).or_default(),
                named(&firsts),
            );
            add(&mut summary.expected_value_by_tier, [(tier, ev)]);
        }
        for (level, firsts) in self.levels {
            add(
                summary.first_by_level.entry(level.to_string()).or_default(),
                named(&firsts),
            );
        }
    }
}
