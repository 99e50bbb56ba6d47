//! Fair treatment: protected attributes (gender, marital status, religion …)
//! stay out of every model by default, age-like attributes stay in but are
//! watched, and every training and scoring run reports how scores, flags
//! and warning levels fall across their groups ([`figures`]), with the
//! features that could stand in for a protected attribute ([`proxy`]).
//!
//! Why it exists: a bank cannot hand relationship managers a churn warning
//! whose reason is `Gender=Female`, and its model-risk reviewers ask for the
//! four-fifths rule and equal opportunity per group.

pub mod attributes;
pub mod figures;
pub mod proxy;

use crate::features::FeatureTable;
pub use attributes::{FairnessConfig, Role};
use figures::{ColumnFairness, Tallies};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A protected or sensitive column as the artifact remembers it, so that
/// scoring reports the same groups and never cites it as a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeSpec {
    pub name: String,
    pub role: Role,
}

/// A protected or sensitive column of a dataset: every row's group.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub spec: AttributeSpec,
    pub groups: Vec<String>,
}

/// Most distinct values a non-age column is reported by value; beyond, by quartile.
const MAX_VALUES: usize = 12;

/// The group of every cell of column `name` (`None` = missing): an age's
/// band, a value, or for many distinct numbers their quartile range.
pub fn group_labels(name: &str, cells: &[Option<String>]) -> Vec<String> {
    let number = |c: &Option<String>| c.as_deref().and_then(|t| t.trim().parse::<f64>().ok());
    if attributes::is_age(name) {
        return cells
            .iter()
            .map(|c| attributes::age_band(number(c).unwrap_or(f64::NAN)).to_string())
            .collect();
    }
    let text = |c: &Option<String>| {
        c.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or("missing")
            .to_string()
    };
    let distinct: std::collections::BTreeSet<&str> =
        cells.iter().flatten().map(|s| s.trim()).collect();
    let numbers: Vec<f64> = cells.iter().filter_map(number).collect();
    if distinct.len() <= MAX_VALUES || numbers.len() < cells.iter().flatten().count() {
        return cells.iter().map(text).collect();
    }
    let mut sorted = numbers;
    sorted.sort_unstable_by(f64::total_cmp);
    let edges: Vec<f64> = (1..4).map(|q| sorted[q * sorted.len() / 4]).collect();
    cells
        .iter()
        .map(|c| match number(c) {
            None => "missing".to_string(),
            Some(x) => {
                let k = edges.partition_point(|&e| e < x);
                match k {
                    0 => format!("≤{}", edges[0]),
                    3 => format!(">{}", edges[2]),
                    _ => format!("{}–{}", edges[k - 1], edges[k]),
                }
            }
        })
        .collect()
}

/// The fairness figures of every attribute for scores `p` (out-of-fold in
/// training), with labels `y` when known; proxies among the features of
/// `table` for the protected ones.
pub fn report(
    attributes: &[Attribute],
    table: &FeatureTable,
    y: Option<&[u8]>,
    p: &[f64],
    threshold: f64,
    level: impl Fn(f64) -> &'static str,
) -> BTreeMap<String, ColumnFairness> {
    attributes
        .iter()
        .map(|a| {
            let mut f = figures::column_figures(a.spec.role, &a.groups, y, p, threshold, &level);
            if a.spec.role != Role::Sensitive {
                f.proxies = proxy::proxies(table, &a.groups, &a.spec.name);
            }
            (a.spec.name.clone(), f)
        })
        .collect()
}

/// Per-attribute running tallies of a scoring job.
#[derive(Debug, Clone, Default)]
pub struct BatchFairness {
    columns: BTreeMap<String, (Role, Tallies)>,
}

impl BatchFairness {
    /// Add one chunk: `attributes` (the rows' groups), scores, flags, levels, labels.
    pub fn add(
        &mut self,
        attributes: &[Attribute],
        p: &[f64],
        flag: &[u8],
        level: &[&'static str],
        y: Option<&[u8]>,
    ) {
        for a in attributes {
            let (_, t) = self
                .columns
                .entry(a.spec.name.clone())
                .or_insert_with(|| (a.spec.role, Tallies::default()));
            for (i, g) in a.groups.iter().enumerate() {
                t.add(g, p[i], flag[i] == 1, level[i], y.map(|y| y[i] == 1));
            }
        }
    }

    /// Add one chunk's offers: whether each row (after [`BatchFairness::add`]
    /// of the same rows) was offered at least one product.
    pub fn add_offers(&mut self, attributes: &[Attribute], offered: &[bool]) {
        for a in attributes {
            if let Some((_, t)) = self.columns.get_mut(&a.spec.name) {
                for (g, &o) in a.groups.iter().zip(offered) {
                    t.add_offer(g, o);
                }
            }
        }
    }

    /// The figures of the batch so far.
    pub fn finish(&self) -> BTreeMap<String, ColumnFairness> {
        self.columns
            .iter()
            .map(|(n, (role, t))| (n.clone(), t.finish(*role)))
            .collect()
    }
}
