//! Reason codes: the three input columns that push a customer's churn score
//! up the most, as readable text like `IsActiveMember=0 (+0.12)`.
//!
//! Contributions come from the model itself — path contributions for trees
//! and forests (in probability points), coefficient × standardised value for
//! logistic regression (in log-odds) — and are summed over the one-hot
//! columns of an input, so a category reads as one reason.

use crate::artifact::Artifact;
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::format_number;
use ndarray::Array2;
use rayon::prelude::*;

/// P(churn) and up to three reasons per row (empty strings when fewer push
/// the score up), from one pass of the model over each row.
pub fn predict_explain(artifact: &Artifact, table: &FeatureTable, x: &Array2<f64>) -> Vec<(f64, [String; 3])> {
    let owner = artifact.pipeline.column_inputs();
    let n_inputs = artifact.pipeline.inputs.len();
    let x = x.as_standard_layout();
    let p = x.ncols();
    let flat = x.as_slice().unwrap_or(&[]);
    (0..x.nrows())
        .into_par_iter()
        .map(|i| {
            let mut contrib = vec![0.0; p];
            let prob = artifact.model.explain_row(&flat[i * p..(i + 1) * p], &mut contrib);
            let mut by_input = vec![0.0; n_inputs];
            for (j, c) in contrib.iter().enumerate() {
                by_input[owner[j]] += c;
            }
            let mut order: Vec<usize> = (0..n_inputs).filter(|&k| by_input[k] > 1e-6).collect();
            order.sort_by(|&a, &b| by_input[b].total_cmp(&by_input[a]).then(a.cmp(&b)));
            let mut out: [String; 3] = Default::default();
            for (slot, &k) in out.iter_mut().zip(&order) {
                let name = artifact.pipeline.inputs[k].name();
                *slot = format!("{name}={} (+{:.3})", raw_value(table, name, i), by_input[k]);
            }
            (prob, out)
        })
        .collect()
}

fn raw_value(table: &FeatureTable, name: &str, i: usize) -> String {
    match table.get(name) {
        Some(FeatureData::Numeric(v)) if !v[i].is_nan() => format_number(v[i]),
        Some(FeatureData::Categorical(v)) => v[i].clone().unwrap_or_else(|| "missing".into()),
        _ => "missing".into(),
    }
}
