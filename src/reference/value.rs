//! Customer value: the per-period margin and the discounted expected-margin
//! CLV = Σ_{t=1..T} margin × (1 − p)^t / (1 + r)^t (see [`ClvConfig`]).
//!
//! The margin comes from the best source the table's column roles
//! ([`super::roles`]) offer, in a fixed order ([`Source`]); a customer no
//! source covers has an unknown CLV (NaN: an empty cell, "unknown" in
//! reports), never a 0 that reads as "worth nothing".

use super::roles::{Role, Roles};
use crate::features::{FeatureData, FeatureTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Column holding the margin per period (kept for older configurations:
    /// the same as `[roles] margin`).
    pub margin_column: Option<String>,
    /// `[roles] balance`, for older configurations.
    pub balance_column: Option<String>,
    /// Margin per period on one unit of balance.
    pub balance_margin: f64,
    /// `[roles] products`, for older configurations.
    pub product_column: Option<String>,
    /// Margin per period of one product held.
    pub product_margin: f64,
    /// Share of revenue / fees / charges that is margin (when no cost or
    /// profitability column says).
    // Fields added later are left out of stored configurations at their
    // defaults: older artifacts keep their checksum.
    #[serde(skip_serializing_if = "is_one")]
    pub revenue_margin: f64,
    /// Take rate on spend: margin per unit of transaction amount.
    #[serde(skip_serializing_if = "is_default_take")]
    pub spend_margin: f64,
    /// Periods a spend column covers when its name does not say (`_365d`,
    /// `annual`, `12_mon` do): bank extracts give 12-month totals.
    #[serde(skip_serializing_if = "is_twelve")]
    pub spend_periods: f64,
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

fn is_twelve(x: &f64) -> bool {
    *x == 12.0
}

/// The default take rate on spend (1%, an interchange-like fee).
const SPEND_MARGIN: f64 = 0.01;

fn is_default_take(x: &f64) -> bool {
    *x == SPEND_MARGIN
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
            revenue_margin: 1.0,
            spend_margin: SPEND_MARGIN,
            spend_periods: 12.0,
        }
    }
}

impl ClvConfig {
    /// The roles the older `*_column` settings name (`[roles]` wins).
    pub fn legacy_roles(&self) -> Vec<(Role, &str)> {
        [
            (Role::Margin, &self.margin_column),
            (Role::Balance, &self.balance_column),
            (Role::Products, &self.product_column),
        ]
        .into_iter()
        .filter_map(|(r, c)| c.as_deref().map(|c| (r, c)))
        .collect()
    }
}

/// Where a customer's margin per period comes from, best first (README
/// "Customer value"): a source whose column is absent, or whose cell is
/// empty for a customer, is skipped, never read as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The margin column.
    Margin,
    /// Revenue − cost, or revenue × profitability.
    RevenueLessCost,
    /// Revenue, fees or charges × `revenue_margin`.
    Revenue,
    /// Spend × `spend_margin`.
    Spend,
    /// Balance × `balance_margin` + products × `product_margin`.
    Holdings,
}

impl Source {
    const ALL: [Source; 5] = [
        Source::Margin,
        Source::RevenueLessCost,
        Source::Revenue,
        Source::Spend,
        Source::Holdings,
    ];

    /// The roles a source reads (all of them, or for holdings any of them).
    fn roles(self) -> &'static [Role] {
        match self {
            Source::Margin => &[Role::Margin],
            Source::RevenueLessCost => &[Role::Revenue],
            Source::Revenue => &[Role::Revenue],
            Source::Spend => &[Role::Spend],
            Source::Holdings => &[Role::Balance, Role::Products],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::Margin => "margin",
            Source::RevenueLessCost => "revenue_less_cost",
            Source::Revenue => "revenue",
            Source::Spend => "spend",
            Source::Holdings => "balance_and_products",
        }
    }
}

/// The sources `roles` make available, best first.
pub fn sources(roles: &Roles) -> Vec<Source> {
    Source::ALL
        .into_iter()
        .filter(|s| match s {
            Source::RevenueLessCost => {
                roles.get(Role::Revenue).is_some()
                    && (roles.get(Role::Cost).is_some() || roles.get(Role::Profitability).is_some())
            }
            Source::Holdings => s.roles().iter().any(|r| roles.get(*r).is_some()),
            _ => s.roles().iter().all(|r| roles.get(*r).is_some()),
        })
        .collect()
}

/// Margins by role: per customer, the first source whose cells are known.
struct ByRole<'a> {
    cfg: &'a ClvConfig,
    cols: BTreeMap<Role, (&'a [f64], f64)>,
    sources: Vec<Source>,
}

impl<'a> ByRole<'a> {
    fn new(cfg: &'a ClvConfig, roles: &Roles, table: &'a FeatureTable) -> ByRole<'a> {
        let cols = roles
            .0
            .iter()
            .filter_map(|(r, c)| match table.get(&c.column) {
                Some(FeatureData::Numeric(v)) => {
                    Some((*r, (v.as_slice(), c.periods.unwrap_or(1.0))))
                }
                _ => None,
            })
            .collect();
        ByRole {
            cfg,
            cols,
            sources: sources(roles),
        }
    }

    /// A role's cell per period (`None` when absent or empty).
    fn cell(&self, role: Role, i: usize) -> Option<f64> {
        let (v, periods) = self.cols.get(&role)?;
        let x = v[i];
        (!x.is_nan()).then(|| {
            if matches!(
                role,
                Role::Margin | Role::Revenue | Role::Cost | Role::Spend
            ) {
                x / periods.max(f64::MIN_POSITIVE)
            } else {
                x
            }
        })
    }

    /// A flow's cell when it is positive; a known 0 (nothing in its
    /// window) is noted in `idle` and not an answer.
    fn flow(
        &self,
        role: Role,
        i: usize,
        s: Source,
        idle: &mut Option<(f64, Source)>,
    ) -> Option<f64> {
        match self.cell(role, i) {
            Some(x) if x > 0.0 => Some(x),
            Some(_) => {
                idle.get_or_insert((0.0, s));
                None
            }
            None => None,
        }
    }

    /// Customer `i`'s margin per period and its source. No revenue or
    /// spend in a flow's window (0) is known but says nothing of the
    /// balances and products held: the later sources are asked first, 0 is
    /// the answer only when they know nothing.
    fn margin(&self, i: usize) -> Option<(f64, Source)> {
        let c = self.cfg;
        let mut idle = None;
        let found = self.sources.iter().find_map(|&s| {
            let m = match s {
                Source::Margin => self.cell(Role::Margin, i),
                Source::RevenueLessCost => {
                    let rev = self.flow(Role::Revenue, i, s, &mut idle)?;
                    match self.cell(Role::Cost, i) {
                        Some(cost) => Some(rev - cost),
                        None => self.cell(Role::Profitability, i).map(|p| rev * p),
                    }
                }
                Source::Revenue => self
                    .flow(Role::Revenue, i, s, &mut idle)
                    .map(|r| r * c.revenue_margin),
                Source::Spend => self
                    .flow(Role::Spend, i, s, &mut idle)
                    .map(|x| x * c.spend_margin),
                Source::Holdings => {
                    let b = self
                        .cell(Role::Balance, i)
                        .map(|b| b.max(0.0) * c.balance_margin);
                    let p = self
                        .cell(Role::Products, i)
                        .map(|p| p.max(0.0) * c.product_margin);
                    match (b, p) {
                        (None, None) => None,
                        (b, p) => Some(b.unwrap_or(0.0) + p.unwrap_or(0.0)),
                    }
                }
            }?;
            Some((m, s))
        });
        found.or(idle)
    }
}

/// Margin per period of every customer: by the artifact's roles (NaN
/// where no source is known), or — for artifacts from before roles, so
/// they score as they did — by the older name match (0 where unknown).
pub fn margins(cfg: &ClvConfig, roles: Option<&Roles>, table: &FeatureTable) -> Vec<f64> {
    match roles {
        Some(r) => {
            let by = ByRole::new(cfg, r, table);
            (0..table.n_rows())
                .map(|i| by.margin(i).map_or(f64::NAN, |m| m.0))
                .collect()
        }
        None => legacy_margins(cfg, table),
    }
}

/// Customers per margin source (`none`: CLV unknown), for the data report.
pub fn source_counts(
    cfg: &ClvConfig,
    roles: &Roles,
    table: &FeatureTable,
) -> BTreeMap<String, usize> {
    let by = ByRole::new(cfg, roles, table);
    let mut out = BTreeMap::new();
    for i in 0..table.n_rows() {
        let k = by.margin(i).map_or("none", |m| m.1.name());
        *out.entry(k.to_string()).or_insert(0) += 1;
    }
    out
}

/// What a training table's roles make of customer value
/// (data_report.json `value`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValueReport {
    /// Margin sources the roles offer, best first: each customer takes
    /// the first whose cells are known.
    pub clv_sources: Vec<String>,
    /// Training customers per source used (`none`: CLV unknown).
    pub clv_customers: BTreeMap<String, usize>,
    /// The value tiers' features, or why there are no tiers.
    pub tiers: String,
    /// The warnings training printed about value.
    pub warnings: Vec<String>,
}

impl ValueReport {
    /// The report for `table`; `configured` holds the tier columns set by
    /// hand (`score.value_columns`, `score.activity_columns`), if any.
    pub fn of(
        cfg: &ClvConfig,
        roles: &Roles,
        table: &FeatureTable,
        configured: Option<(&[String], &[String])>,
    ) -> ValueReport {
        let clv_customers = source_counts(cfg, roles, table);
        let mut warnings = Vec::new();
        let sources = sources(roles);
        let unknown = clv_customers.get("none").copied().unwrap_or(0);
        if sources.is_empty() {
            warnings.push("no column gives customer value (margin, revenue/fees/charges, spend, balance, product count): CLV is unknown for every customer; name one in [roles] (e.g. balance = \"COLUMN\"), margins per unit in [score.clv]".to_string());
        } else if unknown * 100 >= table.n_rows().max(1) {
            warnings.push(format!(
                "CLV unknown for {unknown} of {} customers: their value cells ({}) are empty",
                table.n_rows(),
                sources
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let tiers = match configured {
            Some((v, a)) => format!("configured: value {}; activity {}", list(v), list(a)),
            None => {
                let (v, a) = (roles.value_columns(), roles.activity_columns());
                if v.is_empty() {
                    warnings.push("no value column (balance, credit limit, product count, tenure, income, revenue, spend): value tiers are not fitted; name one in [roles]".to_string());
                    "none: no value column".to_string()
                } else {
                    if a.is_empty() {
                        warnings.push("no activity column (transaction count, logins, visits, an active flag): value tiers are told apart by value alone, so dormant and potential say little; name one in [roles] activity".to_string());
                    }
                    format!("value {}; activity {}", list(&v), list(&a))
                }
            }
        };
        ValueReport {
            clv_sources: sources.iter().map(|s| s.name().to_string()).collect(),
            clv_customers,
            tiers,
            warnings,
        }
    }
}

/// Margin per period of every customer, as before roles (0 where unknown).
fn legacy_margins(cfg: &ClvConfig, table: &FeatureTable) -> Vec<f64> {
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
pub fn clvs(
    cfg: &ClvConfig,
    roles: Option<&Roles>,
    table: &FeatureTable,
    p_label: &[f64],
) -> Vec<f64> {
    margins(cfg, roles, table)
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

    use crate::reference::roles::{How, RoleChoice};

    fn role(column: &str, periods: Option<f64>) -> RoleChoice {
        RoleChoice {
            column: column.into(),
            how: How::Config,
            reason: String::new(),
            periods,
        }
    }

    #[test]
    fn margin_sources_in_order_and_unknown_is_not_zero() {
        let mut t = FeatureTable::default();
        let nan = f64::NAN;
        t.push(
            "fee".into(),
            FeatureData::Numeric(vec![30.0, nan, nan, nan]),
        );
        t.push(
            "amt".into(),
            FeatureData::Numeric(vec![1200.0, 2400.0, nan, nan]),
        );
        t.push("bal".into(), FeatureData::Numeric(vec![1e4, 1e4, 1e4, nan]));
        let roles = Roles(
            [
                (Role::Revenue, role("fee", Some(1.0))),
                (Role::Spend, role("amt", Some(12.0))),
                (Role::Balance, role("bal", None)),
            ]
            .into(),
        );
        let cfg = ClvConfig::default();
        let m = margins(&cfg, Some(&roles), &t);
        assert_eq!(m[0], 30.0, "revenue first");
        assert!(
            (m[1] - 2400.0 * 0.01 / 12.0).abs() < 1e-12,
            "then spend per period"
        );
        assert!(
            (m[2] - 1e4 * cfg.balance_margin).abs() < 1e-12,
            "then holdings"
        );
        assert!(m[3].is_nan(), "no source: unknown, not 0");
        let counts = source_counts(&cfg, &roles, &t);
        assert_eq!(counts["revenue"], 1);
        assert_eq!(counts["none"], 1);
        assert!(margins(&cfg, Some(&Roles::default()), &t)
            .iter()
            .all(|x| x.is_nan()));
        assert!(clv(&cfg, f64::NAN, 0.2).is_nan());
    }

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
