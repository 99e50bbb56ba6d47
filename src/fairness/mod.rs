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
use crate::ingest::{interned::Interned, RawColumn};
pub use attributes::{FairnessConfig, Role};
use figures::{ColumnFairness, Tallies};
use proxy::Proxy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    pub groups: Vec<Arc<str>>,
}

/// Most distinct values a non-age column is reported by value; beyond, by quartile.
const MAX_VALUES: usize = 12;

/// The group of every cell of column `name` (`None` = missing): an age's
/// band, a value, or for many distinct numbers their quartile range.
pub fn group_labels(name: &str, col: &RawColumn, rows: Option<&[usize]>) -> Vec<Arc<str>> {
    if let (true, RawColumn::Number(v)) = (attributes::is_age(name), col) {
        // A band is a few comparisons, cheaper per row than interning the
        // cells; rows share their band's name.
        let mut shared: crate::fast::FastMap<&str, Arc<str>> = Default::default();
        let n = rows.map_or(v.len(), <[usize]>::len);
        return (0..n)
            .map(|i| {
                let x = v[rows.map_or(i, |r| r[i])];
                let band = attributes::age_band(crate::ingest::finite(x).unwrap_or(f64::NAN));
                shared.entry(band).or_insert_with(|| band.into()).clone()
            })
            .collect();
    }
    group_labels_interned(name, col, &Interned::of(col, rows))
}

/// [`group_labels`] of cells already interned: each distinct cell is
/// named once, then shared by the rows holding it.
pub fn group_labels_interned(name: &str, col: &RawColumn, cells: &Interned) -> Vec<Arc<str>> {
    let number = |r: usize| col.text(r).and_then(|t| t.parse::<f64>().ok());
    if attributes::is_age(name) {
        return cells.map(|r| attributes::age_band(number(r).unwrap_or(f64::NAN)).into());
    }
    let text = |r: usize| col.text(r).unwrap_or_else(|| "missing".into());
    let counts = cells.counts();
    let (mut distinct, mut present) = (0, 0);
    let mut numbers: Vec<(f64, usize)> = Vec::new();
    for (&r, &n) in cells.firsts.iter().zip(&counts) {
        if col.text(r).is_some() {
            distinct += 1;
            present += n;
        }
        numbers.extend(number(r).map(|x| (x, n)));
    }
    let numeric: usize = numbers.iter().map(|&(_, n)| n).sum();
    if distinct <= MAX_VALUES || numeric < present {
        return cells.map(|r| text(r).into());
    }
    numbers.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // The value at position `k` of the sorted cells (counts repeat a value).
    let at = |k: usize| {
        let mut seen = 0;
        numbers
            .iter()
            .find(|&&(_, n)| {
                seen += n;
                seen > k
            })
            .map_or(f64::NAN, |&(x, _)| x)
    };
    let edges: Vec<f64> = (1..4).map(|q| at(q * numeric / 4)).collect();
    cells.map(|r| match number(r) {
        None => "missing".into(),
        Some(x) => {
            let k = edges.partition_point(|&e| e < x);
            match k {
                0 => format!("≤{}", edges[0]).into(),
                3 => format!(">{}", edges[2]).into(),
                _ => format!("{}–{}", edges[k - 1], edges[k]).into(),
            }
        }
    })
}
/// The possible proxies of each protected attribute among the features of
/// `table`. They depend on the data alone, so training works them out while
/// the model's reference is built.
/// `deciles` are those of `table` ([`crate::features::deciles`]).
pub fn proxies(
    attributes: &[Attribute],
    table: &FeatureTable,
    deciles: &crate::features::Deciles,
) -> BTreeMap<String, Vec<Proxy>> {
    attributes
        .iter()
        .filter(|a| a.spec.role != Role::Sensitive)
        .map(|a| {
            let found = proxy::proxies(table, deciles, &a.groups, &a.spec.name);
            (a.spec.name.clone(), found)
        })
        .collect()
}

/// The fairness figures of every attribute for scores `p` (out-of-fold in
/// training), with labels `y` when known, and the protected ones' proxies
/// already found ([`proxies`]).
pub fn report_with(
    attributes: &[Attribute],
    proxies: &BTreeMap<String, Vec<Proxy>>,
    y: Option<&[u8]>,
    p: &[f64],
    threshold: f64,
    level: impl Fn(f64) -> &'static str,
) -> BTreeMap<String, ColumnFairness> {
    attributes
        .iter()
        .map(|a| {
            let mut f = figures::column_figures(a.spec.role, &a.groups, y, p, threshold, &level);
            if let Some(found) = proxies.get(&a.spec.name) {
                f.proxies = found.clone();
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
