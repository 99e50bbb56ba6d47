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

/// Rows explained together (see [`predict_explain`]): at least this many...
const EXPLAIN_BLOCK: usize = 64;
/// ...and at most this many (bounds the contributions buffer, rows × inputs).
const EXPLAIN_BLOCK_MAX: usize = 2048;

/// P(churn) and up to three reasons per row (empty strings when fewer push
/// the score up), from one pass of the model over each row.
pub fn predict_explain(artifact: &Artifact, table: &FeatureTable, x: &Array2<f64>) -> Vec<(f64, [String; 3])> {
    let owner = artifact.pipeline.column_inputs();
    let x = x.as_standard_layout();
    let p = x.ncols().max(1);
    let flat = x.as_slice().unwrap_or(&[]);
    // Blocks of rows, so a forest walks each tree for the whole block (its
    // nodes stay in cache) instead of every tree for each row in turn.
    let per_block = x.nrows().div_ceil(rayon::current_num_threads()).clamp(EXPLAIN_BLOCK, EXPLAIN_BLOCK_MAX);
    let blocks: Vec<Vec<(f64, [String; 3])>> = flat
        .par_chunks(per_block * p)
        .enumerate()
        .map(|(b, block)| {
            let mut contrib = vec![0.0; block.len()];
            let probs = artifact.model.explain_block(block, p, &mut contrib);
            let mut by_input = vec![0.0; artifact.pipeline.inputs.len()];
            let rows = probs.into_iter().zip(contrib.chunks_exact(p)).enumerate();
            rows.map(|(r, (prob, c))| (prob, reasons(artifact, table, &owner, b * per_block + r, c, &mut by_input))).collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The three inputs of row `i` with the largest positive contributions
/// (summed over each input's encoded columns, in `by_input`), as text; ties
/// go to the earlier input.
fn reasons(artifact: &Artifact, table: &FeatureTable, owner: &[usize], i: usize, contrib: &[f64], by_input: &mut [f64]) -> [String; 3] {
    by_input.iter_mut().for_each(|v| *v = 0.0);
    for (j, c) in contrib.iter().enumerate() {
        by_input[owner[j]] += c;
    }
    let mut top: [Option<usize>; 3] = [None; 3];
    for (k, &v) in by_input.iter().enumerate().filter(|(_, &v)| v > 1e-6) {
        if let Some(pos) = top.iter().position(|t| t.is_none_or(|t| v > by_input[t])) {
            top[pos..].rotate_right(1);
            top[pos] = Some(k);
        }
    }
    let inputs = &artifact.pipeline.inputs;
    top.map(|t| {
        t.map(|k| {
            let name = inputs[k].name();
            format!("{name}={} (+{:.3})", raw_value(table, name, i), by_input[k])
        })
        .unwrap_or_default()
    })
}

fn raw_value(table: &FeatureTable, name: &str, i: usize) -> String {
    match table.get(name) {
        Some(FeatureData::Numeric(v)) if !v[i].is_nan() => format_number(v[i]),
        Some(FeatureData::Categorical(v)) => v[i].clone().unwrap_or_else(|| "missing".into()),
        _ => "missing".into(),
    }
}
