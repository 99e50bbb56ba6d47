//! Reason codes: the three input columns that push a customer's churn score
//! up the most, as readable text like `IsActiveMember=0 (+0.12)`.
//!
//! Contributions come from the model itself — path contributions for trees
//! and forests (in probability points), coefficient × standardised value for
//! logistic regression (in log-odds) — and are summed over the one-hot
//! columns of an input, so a category reads as one reason.

use crate::artifact::Artifact;
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::push_number;
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
    // Each input's name and raw column, looked up once per chunk.
    let inputs: Vec<(&str, Option<&FeatureData>)> = artifact.pipeline.inputs.iter().map(|s| (s.name(), table.get(s.name()))).collect();
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
            let mut by_input = vec![0.0; inputs.len()];
            let rows = probs.into_iter().zip(contrib.chunks_exact(p)).enumerate();
            rows.map(|(r, (prob, c))| (prob, reasons(&inputs, &owner, b * per_block + r, c, &mut by_input))).collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The three inputs of row `i` with the largest positive contributions
/// (summed over each input's encoded columns, in `by_input`), as text; ties
/// go to the earlier input.
fn reasons(inputs: &[(&str, Option<&FeatureData>)], owner: &[usize], i: usize, contrib: &[f64], by_input: &mut [f64]) -> [String; 3] {
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
    top.map(|t| t.map(|k| reason_text(inputs[k], i, by_input[k])).unwrap_or_default())
}

/// `name=value (+0.123)`, built in one allocation (this runs for every
/// customer, three times).
fn reason_text((name, data): (&str, Option<&FeatureData>), i: usize, contribution: f64) -> String {
    let mut s = String::with_capacity(name.len() + 24);
    s.push_str(name);
    s.push('=');
    match data {
        Some(FeatureData::Numeric(v)) if !v[i].is_nan() => push_number(&mut s, v[i]),
        Some(FeatureData::Categorical(v)) => s.push_str(v[i].as_deref().unwrap_or("missing")),
        _ => s.push_str("missing"),
    }
    s.push_str(" (+");
    push_fixed3(&mut s, contribution);
    s.push(')');
    s
}

/// A non-negative number with three decimals (`0.046`), as `{:.3}` writes it
/// but without the formatting machinery: the contribution is rounded to
/// thousandths, half away from zero.
fn push_fixed3(s: &mut String, v: f64) {
    let m = (v.max(0.0) * 1000.0).round() as u64;
    let frac = m % 1000;
    push_number(s, (m / 1000) as f64);
    s.push('.');
    s.push(char::from(b'0' + (frac / 100) as u8));
    s.push(char::from(b'0' + (frac / 10 % 10) as u8));
    s.push(char::from(b'0' + (frac % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_decimals() {
        for (v, text) in [(0.0, "0.000"), (0.0456, "0.046"), (0.1, "0.100"), (1.23449, "1.234"), (12.0005001, "12.001")] {
            let mut s = String::new();
            push_fixed3(&mut s, v);
            assert_eq!(s, text, "{v}");
        }
    }

    #[test]
    fn reason_reads_name_value_and_contribution() {
        let ages = FeatureData::Numeric(vec![42.0, f64::NAN]);
        let region = FeatureData::Categorical(vec![Some("North".into()), None]);
        assert_eq!(reason_text(("age", Some(&ages)), 0, 0.0456), "age=42 (+0.046)");
        assert_eq!(reason_text(("age", Some(&ages)), 1, 0.2), "age=missing (+0.200)");
        assert_eq!(reason_text(("region", Some(&region)), 0, 0.01), "region=North (+0.010)");
        assert_eq!(reason_text(("region", Some(&region)), 1, 0.01), "region=missing (+0.010)");
    }
}
