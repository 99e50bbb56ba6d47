//! Results per customer group and per period ("test across customer groups
//! and time periods"): which columns to break down by, and the metrics of
//! the out-of-fold scores within each group.

use crate::artifact::Artifact;
use crate::clean::Dataset;
use crate::error::Result;
use crate::evaluate::metrics::Metrics;
use crate::features::FeatureData;
use crate::ingest::schema::format_number;
use std::collections::BTreeMap;

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

/// Metrics of scores `p` within each distinct value of `labels`.
pub fn breakdown(labels: &[String], y: &[u8], p: &[f64], threshold: f64) -> Vec<GroupRow> {
    let mut idx: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        idx.entry(l.as_str()).or_default().push(i);
    }
    idx.into_iter()
        .map(|(g, rows)| {
            let yy: Vec<u8> = rows.iter().map(|&i| y[i]).collect();
            let pp: Vec<f64> = rows.iter().map(|&i| p[i]).collect();
            let m = Metrics::compute(&yy, &pp, threshold);
            GroupRow {
                group: g.to_string(),
                size: rows.len(),
                churn_rate: yy.iter().filter(|&&v| v == 1).count() as f64 / rows.len() as f64,
                roc_auc: m.roc_auc,
                ks: m.ks,
                precision: m.precision,
                recall: m.recall,
            }
        })
        .collect()
}

/// Tenure band of a tenure value: months when the column says so or runs past 15, else years.
fn tenure_band(v: f64, months: bool) -> String {
    let years = if months { v / 12.0 } else { v };
    match years {
        y if y.is_nan() => "missing".into(),
        y if y < 1.0 => "< 1 year".into(),
        y if y < 3.0 => "1-3 years".into(),
        y if y < 5.0 => "3-5 years".into(),
        _ => "5+ years".into(),
    }
}

/// The group columns of a run and every row's group: configured columns, or
/// by default small categorical features, a tenure band and the value tier.
pub fn group_columns(
    data: &Dataset,
    artifact: &Artifact,
    oof_best: &[f64],
) -> Result<Vec<(String, Vec<String>)>> {
    let cfg = &artifact.config.data;
    let t = &data.table;
    let as_labels = |col: &FeatureData| -> Vec<String> {
        match col {
            FeatureData::Numeric(v) => v
                .iter()
                .map(|x| {
                    if x.is_nan() {
                        "missing".into()
                    } else {
                        format_number(*x)
                    }
                })
                .collect(),
            FeatureData::Categorical(v) => v
                .iter()
                .map(|x| x.clone().unwrap_or_else(|| "missing".into()))
                .collect(),
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
            let levels: std::collections::HashSet<&Option<String>> = v.iter().collect();
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
            v.iter().map(|&x| tenure_band(x, months)).collect(),
        ));
    }
    if let Some(seg) = &artifact.scoring.segments {
        let clv = crate::reference::value::clvs(&artifact.config.score.clv, t, oof_best);
        let tiers = seg.assign(t, &clv)?;
        out.push((
            "value tier".into(),
            tiers.iter().map(|t| t.to_string()).collect(),
        ));
    }
    Ok(out)
}
