//! offers_metrics.json: what an offers training run learned and how well
//! its ranking did out of time (read by the run's report.html).

use super::fit::{Backtest, Rolling};
use super::panel::PanelReport;
use serde::Serialize;
use std::collections::BTreeMap;

/// One product's line of offers_metrics.json.
#[derive(Debug, Serialize)]
pub struct ProductLine {
    pub id: String,
    pub name: String,
    pub risk: u8,
    pub category: String,
    pub model: &'static str,
    pub rows: usize,
    pub positives: usize,
    pub take_up_rate: f64,
    pub roc_auc_oof: Option<f64>,
    /// Latest-period customers offered it in their top 3.
    pub offered_top3: usize,
}

/// offers_metrics.json.
#[derive(Debug, Serialize)]
pub struct OffersMetrics {
    pub run_id: String,
    pub target: &'static str,
    pub ranking: &'static str,
    pub panel: PanelReport,
    pub products: Vec<ProductLine>,
    /// The most recent period's out-of-time backtest (`None`: no period
    /// column or fewer than three periods).
    pub backtest: Option<Backtest>,
    /// Every period's backtest, their mean and spread.
    pub rolling_backtest: Option<Rolling>,
    /// Latest-period customers by risk level (C1..C5) and source.
    pub risk_levels: BTreeMap<String, usize>,
    /// Top-3 offers by life stage, and by value tier when the data has one.
    pub top3_by_stage: BTreeMap<String, BTreeMap<String, usize>>,
    pub customers_offered: usize,
    pub customers_without_offer: usize,
}
