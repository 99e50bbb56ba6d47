//! Customer value: the per-period margin and the discounted expected-margin
//! CLV = Σ_{t=1..T} margin × (1 − p)^t / (1 + r)^t (see [`ClvConfig`]).

use crate::features::{FeatureData, FeatureTable};
use serde::{Deserialize, Serialize};

/// Discounted expected-margin CLV: Σ_{t=1..T} margin × (1 − p)^t / (1 + r)^t.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClvConfig {
    /// T: periods (months) of remaining lifetime considered.
    pub periods: u32,
    /// r: discount rate per period.
    pub discount_rate: f64,
    /// The churn label covers this many periods; the model's probability is
    /// turned into a per-period probability p = 1 − (1 − P)^(1/label_periods).
    pub label_periods: f64,
    /// Column holding the margin per period, if the data has one.
    pub margin_column: Option<String>,
    /// Otherwise margin = balance × balance_margin + products × product_margin.
    pub balance_column: Option<String>,
    pub balance_margin: f64,
    pub product_column: Option<String>,
    pub product_margin: f64,
}

impl Default for ClvConfig {
    fn default() -> Self {
        ClvConfig {
            periods: 36,
            discount_rate: 0.01,
            label_periods: 12.0,
            margin_column: None,
            balance_column: None,
            balance_margin: 0.0015,
            product_column: None,
            product_margin: 2.0,
        }
    }
}

/// Margin per period of every customer (0 where unknown).
pub fn margins(cfg: &ClvConfig, table: &FeatureTable) -> Vec<f64> {
    let n = table.n_rows();
    let numeric = |name: &Option<String>, hint: &str| -> Option<&Vec<f64>> {
        let pick = name.clone().or_else(|| {
            table
                .names
                .iter()
                .find(|c| c.to_ascii_lowercase().contains(hint))
                .cloned()
        })?;
        match table.get(&pick) {
            Some(FeatureData::Numeric(v)) => Some(v),
            _ => None,
        }
    };
    let val =
        |v: Option<&Vec<f64>>, i: usize| v.map(|v| v[i]).filter(|x| !x.is_nan()).unwrap_or(0.0);
    if let Some(m) = cfg
        .margin_column
        .as_ref()
        .and_then(|_| numeric(&cfg.margin_column, ""))
    {
        return (0..n).map(|i| val(Some(m), i)).collect();
    }
    let balance = numeric(&cfg.balance_column, "balance");
    let products = numeric(&cfg.product_column, "product");
    (0..n)
        .map(|i| val(balance, i) * cfg.balance_margin + val(products, i) * cfg.product_margin)
        .collect()
}

/// CLV of every customer of `table`, given their label-horizon churn probabilities.
pub fn clvs(cfg: &ClvConfig, table: &FeatureTable, p_label: &[f64]) -> Vec<f64> {
    margins(cfg, table)
        .iter()
        .zip(p_label)
        .map(|(&m, &p)| clv(cfg, m, p))
        .collect()
}

/// CLV of one customer with per-period `margin` and label-horizon churn probability `p_label`.
pub fn clv(cfg: &ClvConfig, margin: f64, p_label: f64) -> f64 {
    let p = 1.0 - (1.0 - p_label.clamp(0.0, 1.0)).powf(1.0 / cfg.label_periods);
    let q = (1.0 - p) / (1.0 + cfg.discount_rate);
    // Geometric sum Σ_{t=1..T} q^t.
    let sum = if (q - 1.0).abs() < 1e-12 {
        cfg.periods as f64
    } else {
        q * (1.0 - q.powi(cfg.periods as i32)) / (1.0 - q)
    };
    margin * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clv_matches_the_sum() {
        let cfg = ClvConfig {
            periods: 24,
            discount_rate: 0.01,
            label_periods: 12.0,
            ..ClvConfig::default()
        };
        let p_label: f64 = 0.3;
        let p = 1.0 - (1.0 - p_label).powf(1.0 / 12.0);
        let direct: f64 = (1..=24)
            .map(|t| 10.0 * (1.0 - p).powi(t) / 1.01f64.powi(t))
            .sum();
        assert!((clv(&cfg, 10.0, p_label) - direct).abs() < 1e-9);
        assert!(clv(&cfg, 10.0, 0.9) < clv(&cfg, 10.0, 0.1));
    }
}
