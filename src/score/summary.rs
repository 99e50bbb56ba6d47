//! Batch aggregates: customers by warning level × value tier, expected
//! churners (Σ p), value at risk (Σ p × CLV), row accounting, drift, and —
//! when labels are present — the offline evaluation (eval.json).

use crate::evaluate::metrics::Metrics;
use crate::reference::WarningCutoffs;
use crate::score::drift::{BinShare, DriftRow};
use crate::scoring::rows::Scored;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

pub const LEVELS: [&str; 4] = ["red", "orange", "yellow", "green"];

/// Drift block of summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct DriftSummary {
    pub score: DriftRow,
    pub features: Vec<DriftRow>,
    /// Score distribution against training, on the training score deciles.
    pub score_distribution: Vec<BinShare>,
}

/// Migration block of summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationSummary {
    pub matched_customers: usize,
    pub tier_matrix: BTreeMap<String, BTreeMap<String, usize>>,
    pub warning_rises: usize,
}

/// summary.json.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub model_run_id: String,
    /// How forests were walked: `avx512`, `avx2` or `scalar` (`CHURN_SIMD`).
    pub walk: String,
    /// Scored from raw logs: rows left out of each log and why, the log's
    /// dates, the snapshot's customers (the features are in features.parquet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<crate::logs::LogReport>,
    pub model_name: String,
    /// The database the scores went to (password masked), when not a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub rows_read: usize,
    pub rows_scored: usize,
    pub rows_rejected: usize,
    pub flagged: usize,
    pub expected_churners: f64,
    /// Σ probability × CLV and Σ CLV over the customers whose CLV is known.
    pub value_at_risk: f64,
    pub total_clv: f64,
    /// Customers whose CLV is unknown (no value source: an empty cell),
    /// left out of the value sums, and why.
    #[serde(skip_serializing_if = "is_zero")]
    pub clv_unknown: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clv_note: Option<String>,
    pub by_level_tier: BTreeMap<String, BTreeMap<String, usize>>,
    pub value_at_risk_by_level: BTreeMap<String, f64>,
    pub unseen_categories: BTreeMap<String, usize>,
    pub imputed_cells: BTreeMap<String, usize>,
    pub warning_cutoffs: Option<WarningCutoffs>,
    /// Where the value tiers came from (the model's, or refitted and on what).
    pub value_tiers: String,
    /// A model with date inputs: the date columns, their patterns and the
    /// reference date this batch's `_days` count back from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dates: Option<super::input::DatesSummary>,
    pub drift: Option<DriftSummary>,
    pub migration: Option<MigrationSummary>,
    /// Risk levels and next-best offers (or why they were not applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers: Option<crate::scoring::offers::OffersSummary>,
    /// The contact list under a capacity or budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<crate::scoring::contact::ContactSummary>,
    /// Per protected or sensitive column present in the batch: the figures
    /// per group (label-based ones only for a labelled batch).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fairness: BTreeMap<String, crate::fairness::figures::ColumnFairness>,
    /// A model with thresholds per group: customers per `threshold_group`
    /// (`global`: their group had no threshold of its own — too few
    /// churners in training, or a group, season or window it never saw).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub threshold_groups: BTreeMap<String, usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Per-level observed churn in eval.json.
#[derive(Debug, Clone, Serialize)]
pub struct LevelOutcome {
    pub customers: usize,
    pub churners: usize,
    pub churn_rate: f64,
}

/// eval.json.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub rows: usize,
    pub metrics: Metrics,
    pub by_warning_level: BTreeMap<String, LevelOutcome>,
}

/// Labels and scores kept for offline evaluation (exact AUC and KS need
/// every score): 10 bytes a labelled customer.
#[derive(Default)]
pub struct EvalRows {
    pub y: Vec<u8>,
    pub p: Vec<f64>,
    /// Warning level as its index in [`LEVELS`].
    pub level: Vec<u8>,
}

impl Summary {
    pub fn add(&mut self, s: &Scored) {
        self.rows_scored += s.ids.len();
        if let Some((_, groups)) = s
            .extra
            .iter()
            .find(|e| e.0 == crate::reference::thresholds::COLUMN)
        {
            for g in groups {
                *count(&mut self.threshold_groups, g) += 1;
            }
        }
        for i in 0..s.ids.len() {
            *count(count(&mut self.by_level_tier, s.level[i]), &s.tier[i]) += 1;
            self.expected_churners += s.probability[i];
            self.flagged += s.flag[i] as usize;
            if s.clv[i].is_nan() {
                self.clv_unknown += 1;
                continue;
            }
            let risk = s.probability[i] * s.clv[i];
            *count(&mut self.value_at_risk_by_level, s.level[i]) += risk;
            self.value_at_risk += risk;
            self.total_clv += s.clv[i];
        }
    }

    /// "value at risk V of CLV C", and when some CLV is unknown, for how
    /// many customers and why ("unknown" when it is unknown for all).
    pub fn value_text(&self) -> String {
        let note = self.clv_note.as_deref().unwrap_or("no value source");
        if self.clv_unknown > 0 && self.clv_unknown >= self.rows_scored {
            return format!("value at risk unknown: CLV unknown for every customer ({note})");
        }
        let mut t = format!(
            "value at risk {:.0} of CLV {:.0}",
            self.value_at_risk, self.total_clv
        );
        if self.clv_unknown > 0 {
            t += &format!(
                " (CLV unknown for {} customers, left out: {note})",
                self.clv_unknown
            );
        }
        t
    }

    /// The printed table: warning level × value tier, then the totals.
    pub fn table(&self) -> String {
        let tiers: Vec<&str> = crate::reference::segment::TIERS.to_vec();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{:<8} {}{:>10} {:>14}",
            "level",
            tiers.iter().map(|x| format!("{x:>11}")).collect::<String>(),
            "total",
            "value@risk"
        );
        for lvl in LEVELS {
            let row = self.by_level_tier.get(lvl);
            let counts: Vec<usize> = tiers
                .iter()
                .map(|tr| row.and_then(|r| r.get(*tr)).copied().unwrap_or(0))
                .collect();
            let total: usize = row.map(|r| r.values().sum()).unwrap_or(0);
            let var = self.value_at_risk_by_level.get(lvl).copied().unwrap_or(0.0);
            let _ = writeln!(
                t,
                "{lvl:<8} {}{total:>10} {var:>14.0}",
                counts
                    .iter()
                    .map(|c| format!("{c:>11}"))
                    .collect::<String>()
            );
        }
        let _ = writeln!(
            t,
            "rows read {} = scored {} + rejected {}; expected churners {:.1}; {}",
            self.rows_read,
            self.rows_scored,
            self.rows_rejected,
            self.expected_churners,
            self.value_text()
        );
        if let Some(n) = self.threshold_groups.get("global") {
            let _ = writeln!(
                t,
                "threshold groups: {n} customer(s) scored with the global threshold (their group, season or window has none of its own)"
            );
        }
        if let Some(c) = &self.contacts {
            let _ = writeln!(
                t,
                "contact list: {} of {} slots, expected value saved {:.0} (the top {} by churn probability: {:.0}); contacts.csv",
                c.contacted,
                c.slots,
                c.expected_value_saved,
                c.top_by_probability,
                c.top_by_probability_expected_value
            );
        }
        if let Some(d) = &self.drift {
            let flagged: Vec<String> = d
                .features
                .iter()
                .filter(|r| r.status != "stable")
                .map(|r| format!("{} {:.3} ({})", r.name, r.psi, r.status))
                .collect();
            let _ = writeln!(
                t,
                "score PSI {:.3} ({}); drifting features: {}",
                d.score.psi,
                d.score.status,
                if flagged.is_empty() {
                    "none".into()
                } else {
                    flagged.join(", ")
                }
            );
        }
        t
    }
}

/// The entry of `key`, made on first sight only (this runs for every
/// customer, and `entry` would need an owned key each time).
pub(crate) fn count<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

impl EvalRows {
    pub fn add(&mut self, s: &Scored) {
        if let Some(l) = &s.label {
            self.y.extend_from_slice(l);
            self.p.extend_from_slice(&s.probability);
            self.level.extend(
                s.level
                    .iter()
                    .map(|l| LEVELS.iter().position(|x| x == l).unwrap_or(LEVELS.len()) as u8),
            );
        }
    }

    pub fn finish(&self, threshold: f64) -> Option<Evaluation> {
        if self.y.is_empty() {
            return None;
        }
        let mut by = BTreeMap::new();
        for (k, lvl) in LEVELS.iter().enumerate() {
            let at_level = || {
                self.level
                    .iter()
                    .zip(&self.y)
                    .filter(|(l, _)| **l as usize == k)
            };
            let (customers, churners) = (
                at_level().count(),
                at_level().filter(|(_, y)| **y == 1).count(),
            );
            let rate = if customers == 0 {
                0.0
            } else {
                churners as f64 / customers as f64
            };
            by.insert(
                lvl.to_string(),
                LevelOutcome {
                    customers,
                    churners,
                    churn_rate: rate,
                },
            );
        }
        Some(Evaluation {
            rows: self.y.len(),
            metrics: Metrics::compute(&self.y, &self.p, threshold),
            by_warning_level: by,
        })
    }
}
