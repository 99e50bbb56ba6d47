//! Results per customer group and per period ("test across customer groups
//! and time periods"): which columns to break down by, and the metrics of
//! the out-of-fold scores within each group.

use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::error::Result;
use crate::evaluate::metrics;
use crate::features::FeatureData;
use crate::ingest::schema::format_number;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
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

/// Metrics of scores `p` within each distinct value of `labels` (only those
/// the table shows: one ranking a group, not the four of every metric).
pub fn breakdown<S: AsRef<str>>(
    labels: &[S],
    y: &[u8],
    p: &[f64],
    threshold: f64,
) -> Vec<GroupRow> {
    let mut idx: FastMap<&str, Vec<usize>> = HashMap::default();
    for (i, l) in labels.iter().enumerate() {
        idx.entry(l.as_ref()).or_default().push(i);
    }
    let idx: BTreeMap<&str, Vec<usize>> = idx.into_iter().collect();
    use rayon::prelude::*;
    idx.into_par_iter()
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

/// Every row's group label, interned: rows of one group share its name
/// (one allocation a group, not a row: a 10M-row run has five such columns).
pub type Labels = Vec<Arc<str>>;

/// A map with a fast fixed-seed hash (a lookup per row).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

fn intern<'a>(cells: impl Iterator<Item = Cow<'a, str>>) -> Labels {
    let mut names: FastMap<Cow<'a, str>, Arc<str>> = HashMap::default();
    cells
        .map(|c| match names.get(&c) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(c.as_ref());
                names.insert(c, a.clone());
                a
            }
        })
        .collect()
}

/// Text labels (a period column), interned.
pub fn labels_of(labels: &[String]) -> Labels {
    intern(labels.iter().map(|l| Cow::Borrowed(l.as_str())))
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
    let as_labels = |col: &FeatureData| -> Labels {
        match col {
            FeatureData::Numeric(v) => {
                // Each distinct number is written once.
                let mut text: FastMap<u64, Arc<str>> = HashMap::default();
                v.iter()
                    .map(|x| {
                        text.entry(crate::ingest::number_key(*x))
                            .or_insert_with(|| match x.is_nan() {
                                true => Arc::from("missing"),
                                false => Arc::from(format_number(*x)),
                            })
                            .clone()
                    })
                    .collect()
            }
            FeatureData::Categorical(v) => intern(
                v.iter()
                    .map(|x| Cow::Borrowed(x.as_deref().unwrap_or("missing"))),
            ),
        }
    };
    let mut out = Vec::new();
    if !cfg.groups.is_empty() {
        for g in &cfg.groups {
            if let Some(col) = t.get(g) {
                out.push((g.clone(), as_labels(col)));
            }
        }
        return Ok(out);
    }
    for (name, col) in t.names.iter().zip(&t.columns) {
        if let FeatureData::Categorical(v) = col {
            let levels: std::collections::HashSet<&Option<String>, foldhash::fast::FixedState> =
                v.iter().collect();
            if levels.len() <= MAX_GROUP_LEVELS {
                out.push((name.clone(), as_labels(col)));
            }
        }
    }
    if let Some((name, FeatureData::Numeric(v))) = t
        .names
        .iter()
        .zip(&t.columns)
        .find(|(n, _)| n.to_ascii_lowercase().contains("tenure"))
    {
        let months = name.to_ascii_lowercase().contains("month")
            || v.iter()
                .copied()
                .filter(|x| !x.is_nan())
                .fold(0.0, f64::max)
                > 15.0;
        out.push((
            "tenure band".into(),
            intern(v.iter().map(|&x| Cow::Borrowed(tenure_band(x, months)))),
        ));
    }
    if let Some(seg) = &artifact.scoring.segments {
        let clv = crate::reference::value::clvs(&artifact.config.score.clv, t, oof_best);
        let tiers = seg.assign(t, &clv)?;
        out.push(("value tier".into(), tiers));
    }
    Ok(out)
}
