//! Results per customer group and per period ("test across customer groups
//! and time periods"): which columns to break down by, and the metrics of
//! the out-of-fold scores within each group.

use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::error::Result;
use crate::evaluate::metrics;
use crate::fast::FastMap;
use crate::features::FeatureData;
use crate::ingest::schema::format_number;
use crate::reference::roles::Role;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Most levels a categorical column may have to be a group column by default.
const MAX_GROUP_LEVELS: usize = 12;

/// One group's results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupRow {
    pub group: String,
    pub size: usize,
    pub churn_rate: f64,
    pub roc_auc: f64,
    pub ks: f64,
    pub precision: f64,
    pub recall: f64,
}

/// Metrics of scores `p` within each group of `labels` (groups in name
/// order; only the figures the table shows).
pub fn breakdown(labels: &Labels, y: &[u8], p: &[f64], threshold: f64) -> Vec<GroupRow> {
    // Each group's rows, in row order, by one counting pass over the codes.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); labels.names.len()];
    for (i, &c) in labels.codes.iter().enumerate() {
        rows[c as usize].push(i);
    }
    let mut groups: Vec<(&str, Vec<usize>)> = labels
        .names
        .iter()
        .map(|n| n.as_ref())
        .zip(rows)
        .filter(|(_, r)| !r.is_empty())
        .collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    use rayon::prelude::*;
    groups
        .into_par_iter()
        .map(|(g, rows)| {
            let yy: Vec<u8> = rows.iter().map(|&i| y[i]).collect();
            let pp: Vec<f64> = rows.iter().map(|&i| p[i]).collect();
            let c = metrics::confusion(&yy, &pp, threshold);
            let curve = crate::stats::roc_curve(&yy, &pp);
            let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            GroupRow {
                group: g.to_string(),
                size: rows.len(),
                churn_rate: yy.iter().filter(|&&v| v == 1).count() as f64 / rows.len() as f64,
                roc_auc: crate::stats::auc_of(&curve, &yy),
                ks: metrics::ks_of(&curve).0,
                precision: div(c.tp, c.tp + c.fp),
                recall: div(c.tp, c.tp + c.fn_),
            }
        })
        .collect()
}

/// Tenure band of a tenure value: months when the column says so or runs past 15, else years.
fn tenure_band(v: f64, months: bool) -> &'static str {
    let years = if months { v / 12.0 } else { v };
    match years {
        y if y.is_nan() => "missing",
        y if y < 1.0 => "< 1 year",
        y if y < 3.0 => "1-3 years",
        y if y < 5.0 => "3-5 years",
        _ => "5+ years",
    }
}

/// Every row's group: a code per row into the groups' names (distinct),
/// so grouping a million rows compares numbers, not text.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    pub codes: Vec<u32>,
    pub names: Vec<Arc<str>>,
}

/// The labels of rows by a key per row (each distinct key named once by
/// `name`), and how many distinct keys there were. Keys with the same
/// name are one group.
fn intern<K: std::hash::Hash + Eq>(
    keys: impl Iterator<Item = K>,
    name: impl Fn(&K) -> Cow<'static, str>,
) -> (Labels, usize) {
    let mut seen: FastMap<K, u32> = HashMap::default();
    let mut key_group: Vec<u32> = Vec::new();
    let mut by_name: FastMap<Cow<'static, str>, u32> = HashMap::default();
    let mut names: Vec<Arc<str>> = Vec::new();
    let codes = keys
        .map(|k| match seen.get(&k) {
            Some(&c) => key_group[c as usize],
            None => {
                let n = name(&k);
                let g = *by_name.entry(n.clone()).or_insert_with(|| {
                    names.push(Arc::from(n.as_ref()));
                    names.len() as u32 - 1
                });
                seen.insert(k, key_group.len() as u32);
                key_group.push(g);
                g
            }
        })
        .collect();
    (Labels { codes, names }, key_group.len())
}

/// Text labels (a period column) as groups.
pub fn labels_of(labels: &[String]) -> Labels {
    intern(labels.iter().map(String::as_str), |l| {
        Cow::Owned(l.to_string())
    })
    .0
}

/// The group columns of a run and every row's group: configured columns, or
/// by default small categorical features, a tenure band and the value tier.
pub fn group_columns(
    data: &Dataset,
    artifact: &Artifact,
    oof_best: &[f64],
) -> Result<Vec<(String, Labels)>> {
    let cfg = &artifact.config.data;
    let t = &data.table;
    // A column's groups and how many distinct cells (a missing one among
    // them) it has.
    let as_labels = |col: &FeatureData| -> (Labels, usize) {
        match col {
            FeatureData::Numeric(v) => intern(
                v.iter().map(|x| crate::ingest::number_key(*x)),
                |&k| match f64::from_bits(k) {
                    x if x.is_nan() => Cow::Borrowed("missing"),
                    x => Cow::Owned(format_number(x)),
                },
            ),
            FeatureData::Categorical(v) => intern(v.iter().map(Option::as_deref), |c| {
                Cow::Owned(c.unwrap_or("missing").to_string())
            }),
        }
    };
    let mut out = Vec::new();
    if !cfg.groups.is_empty() {
        for g in &cfg.groups {
            if let Some(col) = t.get(g) {
                out.push((g.clone(), as_labels(col).0));
            }
        }
        return Ok(out);
    }
    for (name, col) in t.names.iter().zip(&t.columns) {
        if let FeatureData::Categorical(_) = col {
            let (labels, levels) = as_labels(col);
            if levels <= MAX_GROUP_LEVELS {
                out.push((name.clone(), labels));
            }
        }
    }
    let tenure = |n: &String| match artifact.scoring.roles.as_ref() {
        Some(r) => r.column(Role::Tenure) == Some(n.as_str()),
        None => n.to_ascii_lowercase().contains("tenure"),
    };
    if let Some((name, FeatureData::Numeric(v))) =
        t.names.iter().zip(&t.columns).find(|(n, _)| tenure(n))
    {
        let months = name.to_ascii_lowercase().contains("month")
            || v.iter()
                .copied()
                .filter(|x| !x.is_nan())
                .fold(0.0, f64::max)
                > 15.0;
        out.push((
            "tenure band".into(),
            intern(v.iter().map(|&x| tenure_band(x, months)), |b| {
                Cow::Borrowed(b)
            })
            .0,
        ));
    }
    if let Some(seg) = &artifact.scoring.segments {
        let clv = crate::reference::value::clvs(
            &artifact.config.score.clv,
            artifact.scoring.roles.as_ref(),
            t,
            oof_best,
        );
        let codes = seg.nearest(t, &clv)?;
        let names = seg.names.iter().map(|n| Arc::from(n.as_str())).collect();
        out.push(("value tier".into(), Labels { codes, names }));
    }
    Ok(out)
}
