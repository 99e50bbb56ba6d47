//! Reason codes: the three input columns that push a customer's churn score
//! up the most, as readable text like `IsActiveMember=0 (+0.12)`.
//!
//! Contributions come from the model itself — path contributions for trees
//! and forests (in probability points), for gradient boosting (in log-odds),
//! coefficient × standardised value for logistic regression (in log-odds),
//! the base models' combined for a vote or stack (see
//! [`crate::models::ensemble`]) — and are summed over the one-hot columns
//! of an input, so a category reads as one reason. Log-odds reasons say so
//! in their text.

use crate::artifact::Artifact;
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::push_number;
use crate::models::Unit;
use ndarray::Array2;
use rayon::prelude::*;

/// Rows explained together (see [`predict_explain`]): at least this many...
const EXPLAIN_BLOCK: usize = 64;
/// ...and at most this many (bounds the contributions buffer, rows × inputs).
const EXPLAIN_BLOCK_MAX: usize = 2048;

/// One reason: an input (index into the pipeline's inputs) and how much it
/// pushes the score up. Kept as numbers and written as text only when the
/// row is written (see [`Reasons::push`]): no strings per customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reason {
    pub input: u32,
    pub contribution: f64,
}

/// P(churn) and up to three reasons per row (fewer when fewer inputs push
/// the score up), from one pass of the model over each row. A protected
/// attribute kept as a feature (`--allow-protected`) is never a reason.
pub fn predict_explain(artifact: &Artifact, x: &Array2<f64>) -> Vec<(f64, [Option<Reason>; 3])> {
    let owner = artifact.pipeline.column_inputs();
    let n_inputs = artifact.pipeline.inputs.len();
    let cited: Vec<bool> = artifact
        .pipeline
        .inputs
        .iter()
        .map(|i| !artifact.is_protected(i.name()))
        .collect();
    let x = x.as_standard_layout();
    let p = x.ncols().max(1);
    let flat = x.as_slice().unwrap_or(&[]);
    // Blocks of rows, so a forest walks each tree for the whole block (its
    // nodes stay in cache) instead of every tree for each row in turn.
    let per_block = x
        .nrows()
        .div_ceil(rayon::current_num_threads())
        .clamp(EXPLAIN_BLOCK, EXPLAIN_BLOCK_MAX);
    let blocks: Vec<Vec<(f64, [Option<Reason>; 3])>> = flat
        .par_chunks(per_block * p)
        .map(|block| {
            let mut contrib = vec![0.0; block.len()];
            let probs = artifact.model.explain_block(block, p, &mut contrib);
            let mut by_input = vec![0.0; n_inputs];
            probs
                .into_iter()
                .zip(contrib.chunks_exact(p))
                .map(|(prob, c)| {
                    let prob = artifact.calibrated(prob);
                    (prob, top_three(&owner, &cited, c, &mut by_input))
                })
                .collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The three `cited` inputs with the largest positive contributions (summed
/// over each input's encoded columns, in `by_input`); ties go to the
/// earlier input.
fn top_three(
    owner: &[usize],
    cited: &[bool],
    contrib: &[f64],
    by_input: &mut [f64],
) -> [Option<Reason>; 3] {
    by_input.iter_mut().for_each(|v| *v = 0.0);
    for (j, c) in contrib.iter().enumerate() {
        by_input[owner[j]] += c;
    }
    let mut top: [Option<usize>; 3] = [None; 3];
    for (k, &v) in by_input
        .iter()
        .enumerate()
        .filter(|&(k, &v)| v > 1e-6 && cited[k])
    {
        if let Some(pos) = top.iter().position(|t| t.is_none_or(|t| v > by_input[t])) {
            top[pos..].rotate_right(1);
            top[pos] = Some(k);
        }
    }
    top.map(|t| {
        t.map(|k| Reason {
            input: k as u32,
            contribution: by_input[k],
        })
    })
}

/// What reason text is made of for one chunk: each input's name and its
/// raw column (looked up once per chunk).
pub struct Reasons<'a> {
    inputs: Vec<(&'a str, Option<&'a FeatureData>)>,
    /// Written after each contribution: " log-odds" for models that explain
    /// in log-odds; nothing for probability points.
    unit: &'static str,
}

impl<'a> Reasons<'a> {
    pub fn new(artifact: &'a Artifact, table: &'a FeatureTable) -> Reasons<'a> {
        Reasons {
            inputs: artifact
                .pipeline
                .inputs
                .iter()
                .map(|s| (s.name(), table.get(s.name())))
                .collect(),
            unit: match artifact.model.contribution_unit() {
                Unit::LogOdds => " log-odds",
                Unit::Probability => "",
            },
        }
    }

    /// Append reason `r` of row `i` as `name=value (+0.123)`, or
    /// `name=value (+0.123 log-odds)` (nothing for none).
    pub fn push(&self, s: &mut String, i: usize, r: Option<Reason>) {
        let Some(r) = r else { return };
        let (name, data) = self.inputs[r.input as usize];
        s.push_str(name);
        s.push('=');
        match data {
            Some(FeatureData::Numeric(v)) if !v[i].is_nan() => push_number(s, v[i]),
            Some(FeatureData::Categorical(v)) => s.push_str(v[i].as_deref().unwrap_or("missing")),
            _ => s.push_str("missing"),
        }
        s.push_str(" (+");
        push_fixed3(s, r.contribution);
        s.push_str(self.unit);
        s.push(')');
    }
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
        for (v, text) in [
            (0.0, "0.000"),
            (0.0456, "0.046"),
            (0.1, "0.100"),
            (1.23449, "1.234"),
            (12.0005001, "12.001"),
        ] {
            let mut s = String::new();
            push_fixed3(&mut s, v);
            assert_eq!(s, text, "{v}");
        }
    }

    #[test]
    fn reason_reads_name_value_and_contribution() {
        let mut table = FeatureTable::default();
        table.push("age".into(), FeatureData::Numeric(vec![42.0, f64::NAN]));
        table.push(
            "region".into(),
            FeatureData::Categorical(vec![Some("North".into()), None]),
        );
        let reasons = Reasons {
            inputs: vec![("age", table.get("age")), ("region", table.get("region"))],
            unit: "",
        };
        let text = |i, input, contribution| {
            let mut s = String::new();
            reasons.push(
                &mut s,
                i,
                Some(Reason {
                    input,
                    contribution,
                }),
            );
            s
        };
        assert_eq!(text(0, 0, 0.0456), "age=42 (+0.046)");
        assert_eq!(text(1, 0, 0.2), "age=missing (+0.200)");
        assert_eq!(text(0, 1, 0.01), "region=North (+0.010)");
        assert_eq!(text(1, 1, 0.01), "region=missing (+0.010)");
        let mut none = String::new();
        reasons.push(&mut none, 0, None);
        assert!(none.is_empty());
    }

    #[test]
    fn top_three_sums_encoded_columns_per_input_and_keeps_positive_ones() {
        // inputs: 0 (one column), 1 (two one-hot columns), 2, 3
        let owner = [0, 1, 1, 2, 3];
        let mut by_input = vec![0.0; 4];
        let all = [true; 4];
        let top = top_three(&owner, &all, &[0.05, 0.04, 0.03, -0.2, 0.06], &mut by_input);
        let inputs: Vec<Option<u32>> = top.iter().map(|r| r.map(|r| r.input)).collect();
        assert_eq!(inputs, vec![Some(1), Some(3), Some(0)]);
        assert!((top[0].unwrap().contribution - 0.07).abs() < 1e-12);
        let few = top_three(&owner, &all, &[0.0, 0.0, 0.0, -0.1, 0.02], &mut by_input);
        assert_eq!(few.map(|r| r.map(|r| r.input)), [Some(3), None, None]);
        // A protected input is never a reason, however much it contributes.
        let protected_1 = [true, false, true, true];
        let top = top_three(
            &owner,
            &protected_1,
            &[0.05, 0.04, 0.03, -0.2, 0.06],
            &mut by_input,
        );
        assert_eq!(top.map(|r| r.map(|r| r.input)), [Some(3), Some(0), None]);
    }
}
