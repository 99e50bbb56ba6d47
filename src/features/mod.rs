//! The one feature pipeline shared by training and scoring.
//!
//! [`FeaturePipeline::fit`] learns, from training rows only, the median of each
//! numeric column (imputation, plus a missing-indicator where training saw
//! missing values), the levels of each categorical column (one-hot, with
//! explicit "(missing)" and "(other)" levels; a level never seen in training
//! is *unseen*: all its one-hot columns are 0 and it is counted), and
//! optionally a standard scaler. The fitted pipeline is stored in the model
//! artifact, so scoring applies exactly the transform the model was fitted on.

pub mod spelling;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most one-hot levels kept per categorical column; rarer levels share "(other)".
pub const MAX_LEVELS: usize = 50;

/// A cleaned input column.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureData {
    /// Numbers, NaN = missing.
    Numeric(Vec<f64>),
    /// Category levels, `None` = missing.
    Categorical(Vec<Category>),
}

/// Each column's decile cuts ([`crate::stats::quantile_cuts`] of its
/// present values, repeats kept), `None` for a categorical column: worked
/// out once after training for the drift reference and the fairness
/// proxies, which both cut every numeric column of a million rows.
pub type Deciles = Vec<Option<Vec<f64>>>;

/// [`Deciles`] of every column of `table`, columns in parallel.
pub fn deciles(table: &FeatureTable) -> Deciles {
    table
        .columns
        .par_iter()
        .map(|c| match c {
            FeatureData::Numeric(v) => Some(crate::stats::cuts_of(v, 10)),
            FeatureData::Categorical(_) => None,
        })
        .collect()
}

/// A categorical cell: its level, shared by every row holding it (a
/// million cells of a dozen levels are a dozen strings), `None` = missing.
pub type Category = Option<std::sync::Arc<str>>;

/// A level of a [`Category`] hashed and compared by its shared string's
/// address: a pass over a million cells looks each distinct string up
/// once without hashing its text. Two copies of one text are two keys, so
/// a memo keyed by it must give both the same answer (it looks the text up).
#[derive(Debug, Clone, Copy)]
pub struct Level<'a>(pub &'a std::sync::Arc<str>);

impl PartialEq for Level<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(self.0, other.0)
    }
}

impl Eq for Level<'_> {}

impl std::hash::Hash for Level<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(std::sync::Arc::as_ptr(self.0) as *const u8 as usize)
    }
}

impl FeatureData {
    pub fn len(&self) -> usize {
        match self {
            FeatureData::Numeric(v) => v.len(),
            FeatureData::Categorical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cells of `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> FeatureData {
        match self {
            FeatureData::Numeric(v) => FeatureData::Numeric(rows.iter().map(|&r| v[r]).collect()),
            FeatureData::Categorical(v) => {
                FeatureData::Categorical(rows.iter().map(|&r| v[r].clone()).collect())
            }
        }
    }
}

/// Named input columns, before encoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureTable {
    pub names: Vec<String>,
    pub columns: Vec<FeatureData>,
}

impl FeatureTable {
    pub fn push(&mut self, name: String, data: FeatureData) {
        self.names.push(name);
        self.columns.push(data);
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, FeatureData::len)
    }

    /// The rows `rows` of every column, in that order.
    pub fn select(&self, rows: &[usize]) -> FeatureTable {
        FeatureTable {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.select(rows)).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&FeatureData> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }
}

/// How one input column is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSpec {
    Numeric {
        name: String,
        median: f64,
        indicator: bool,
    },
    Categorical {
        name: String,
        levels: Vec<String>,
        other: bool,
        missing: bool,
    },
}

impl InputSpec {
    pub fn name(&self) -> &str {
        match self {
            InputSpec::Numeric { name, .. } | InputSpec::Categorical { name, .. } => name,
        }
    }
}

/// Standardisation fitted on training rows (for logistic regression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

/// The fitted transform from input columns to the model matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturePipeline {
    pub inputs: Vec<InputSpec>,
    /// Names of the encoded columns, e.g. `Balance`, `Balance_missing`, `Geography=Spain`.
    pub names: Vec<String>,
    pub scaler: Option<Scaler>,
}

/// What a transform had to improvise, per input column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformStats {
    /// Category levels never seen in training.
    pub unseen: BTreeMap<String, usize>,
    /// Missing numeric cells filled with the training median.
    pub imputed: BTreeMap<String, usize>,
}

impl FeaturePipeline {
    /// Learn the transform from `rows` of `table` only.
    pub fn fit(table: &FeatureTable, rows: &[usize], standardize: bool) -> FeaturePipeline {
        // Columns are learned in parallel (a median is a selection over
        // every training row); collect keeps their order.
        let inputs: Vec<InputSpec> = table
            .names
            .par_iter()
            .zip(&table.columns)
            .map(|(name, col)| {
                let name = name.clone();
                match col {
                    FeatureData::Numeric(v) => {
                        let mut present: Vec<f64> =
                            rows.iter().map(|&r| v[r]).filter(|x| !x.is_nan()).collect();
                        let indicator = present.len() < rows.len();
                        InputSpec::Numeric {
                            name,
                            median: median(&mut present),
                            indicator,
                        }
                    }
                    FeatureData::Categorical(v) => {
                        let mut counts: HashMap<&str, usize> = HashMap::new();
                        let mut missing = false;
                        for &r in rows {
                            match &v[r] {
                                Some(s) => *counts.entry(s.as_ref()).or_default() += 1,
                                None => missing = true,
                            }
                        }
                        let mut levels: Vec<(&str, usize)> = counts.into_iter().collect();
                        levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                        let other = levels.len() > MAX_LEVELS;
                        levels.truncate(MAX_LEVELS);
                        let mut levels: Vec<String> =
                            levels.into_iter().map(|(s, _)| s.to_string()).collect();
                        levels.sort();
                        InputSpec::Categorical {
                            name,
                            levels,
                            other,
                            missing,
                        }
                    }
                }
            })
            .collect();
        let names = encoded_names(&inputs);
        let mut pipe = FeaturePipeline {
            inputs,
            names,
            scaler: None,
        };
        if standardize {
            let x = pipe.encode(table, rows, &mut TransformStats::default());
            pipe.scaler = Some(Scaler::fit(&x));
        }
        pipe
    }

    /// For every encoded column, the index of the input column it comes from.
    pub fn column_inputs(&self) -> Vec<usize> {
        self.inputs
            .iter()
            .enumerate()
            .flat_map(|(i, s)| std::iter::repeat_n(i, spec_width(s)))
            .collect()
    }

    /// Number of encoded columns.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Do the stored column names match what the inputs encode to? (A
    /// loaded pipeline that fails this would write outside its matrix.)
    pub fn is_consistent(&self) -> bool {
        encoded_names(&self.inputs) == self.names
    }

    /// Transform `rows` of `table` (which must hold every input column).
    pub fn transform(
        &self,
        table: &FeatureTable,
        rows: &[usize],
        stats: &mut TransformStats,
    ) -> Array2<f64> {
        let mut x = self.encode(table, rows, stats);
        if let Some(s) = &self.scaler {
            s.apply(&mut x);
        }
        x
    }

    /// Transform every row of `table`.
    pub fn transform_all(&self, table: &FeatureTable, stats: &mut TransformStats) -> Array2<f64> {
        let rows: Vec<usize> = (0..table.n_rows()).collect();
        self.transform(table, &rows, stats)
    }

    fn encode(
        &self,
        table: &FeatureTable,
        rows: &[usize],
        stats: &mut TransformStats,
    ) -> Array2<f64> {
        let width = self.width();
        let mut x = Array2::<f64>::zeros((rows.len(), width));
        let starts: Vec<usize> = self
            .inputs
            .iter()
            .scan(0, |j, spec| {
                Some(std::mem::replace(j, *j + spec_width(spec)))
            })
            .collect();
        // Validation upstream guarantees presence; an absent column encodes as missing.
        let cols: Vec<Option<&FeatureData>> = self
            .inputs
            .iter()
            .map(|spec| table.get(spec.name()))
            .collect();
        // Blocks of rows in parallel; within a block input by input, while
        // the block's rows stay in cache.
        let flat = x.as_slice_mut().expect("a fresh array is contiguous");
        let counts = flat
            .par_chunks_mut(ENCODE_BLOCK * width.max(1))
            .zip(rows.par_chunks(ENCODE_BLOCK))
            .map(|(xb, rb)| {
                self.inputs
                    .iter()
                    .enumerate()
                    .map(|(k, spec)| encode_input(spec, cols[k], rb, xb, width, starts[k]))
                    .collect::<Vec<_>>()
            })
            .reduce(
                || vec![0; self.inputs.len()],
                |a, b| a.iter().zip(&b).map(|(a, b)| a + b).collect(),
            );
        for (spec, n) in self.inputs.iter().zip(counts).filter(|(_, n)| *n > 0) {
            match spec {
                InputSpec::Numeric { name, .. } => {
                    *stats.imputed.entry(name.clone()).or_default() += n
                }
                InputSpec::Categorical { name, .. } => {
                    *stats.unseen.entry(name.clone()).or_default() += n
                }
            }
        }
        x
    }
}

/// Rows encoded per parallel task.
const ENCODE_BLOCK: usize = 1024;

/// Write one input's encoded columns for `rows` into the row-major block `x`
/// (`width` columns, this input's from column `j`). Returns the cells
/// imputed (numeric) or the unseen levels (categorical).
fn encode_input(
    spec: &InputSpec,
    col: Option<&FeatureData>,
    rows: &[usize],
    x: &mut [f64],
    width: usize,
    j: usize,
) -> usize {
    let at = |i: usize, c: usize| i * width + j + c;
    let mut count = 0;
    match (spec, col) {
        (
            InputSpec::Numeric {
                median, indicator, ..
            },
            Some(FeatureData::Numeric(v)),
        ) => {
            for (i, &r) in rows.iter().enumerate() {
                let missing = v[r].is_nan();
                count += missing as usize;
                x[at(i, 0)] = if missing { *median } else { v[r] };
                if *indicator {
                    x[at(i, 1)] = missing as u8 as f64;
                }
            }
        }
        (
            InputSpec::Categorical {
                levels,
                other,
                missing,
                ..
            },
            Some(FeatureData::Categorical(v)),
        ) => {
            let n_levels = levels.len();
            // Each distinct level is looked up among the levels once.
            let mut found: crate::fast::FastMap<Level, Option<usize>> = HashMap::default();
            for (i, &r) in rows.iter().enumerate() {
                let k = match &v[r] {
                    None if *missing => Some(n_levels + *other as usize),
                    None => None,
                    Some(s) => {
                        let k = *found.entry(Level(s)).or_insert_with(|| {
                            match spelling::find(levels, s) {
                                Some(k) => Some(k),
                                None if *other => Some(n_levels),
                                None => None,
                            }
                        });
                        count += k.is_none() as usize;
                        k
                    }
                };
                if let Some(k) = k {
                    x[at(i, k)] = 1.0;
                }
            }
        }
        _ => {}
    }
    count
}

fn spec_width(spec: &InputSpec) -> usize {
    match spec {
        InputSpec::Numeric { indicator, .. } => 1 + *indicator as usize,
        InputSpec::Categorical {
            levels,
            other,
            missing,
            ..
        } => levels.len() + *other as usize + *missing as usize,
    }
}

fn encoded_names(inputs: &[InputSpec]) -> Vec<String> {
    let mut names = Vec::new();
    for spec in inputs {
        match spec {
            InputSpec::Numeric {
                name, indicator, ..
            } => {
                names.push(name.clone());
                if *indicator {
                    names.push(format!("{name}_missing"));
                }
            }
            InputSpec::Categorical {
                name,
                levels,
                other,
                missing,
            } => {
                names.extend(levels.iter().map(|l| format!("{name}={l}")));
                if *other {
                    names.push(format!("{name}=(other)"));
                }
                if *missing {
                    names.push(format!("{name}=(missing)"));
                }
            }
        }
    }
    names
}

/// Median of the values (0 when there are none); reorders them. A
/// selection, not a sort: linear time, the same value.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    let odd = v.len() % 2 == 1;
    let (below, &mut hi, _) = v.select_nth_unstable_by(m, f64::total_cmp);
    if odd {
        return hi;
    }
    let lo = below.iter().copied().max_by(f64::total_cmp).unwrap_or(hi);
    (lo + hi) / 2.0
}

impl Scaler {
    /// Column means and standard deviations (1 where a column is constant).
    pub fn fit(x: &Array2<f64>) -> Scaler {
        let n = x.nrows().max(1) as f64;
        let mean: Vec<f64> = x.columns().into_iter().map(|c| c.sum() / n).collect();
        let std = x
            .columns()
            .into_iter()
            .zip(&mean)
            .map(|(c, m)| {
                let s = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
                if s > 1e-12 {
                    s
                } else {
                    1.0
                }
            })
            .collect();
        Scaler { mean, std }
    }

    pub fn apply(&self, x: &mut Array2<f64>) {
        for mut row in x.rows_mut() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.std[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FeatureTable {
        let mut t = FeatureTable::default();
        t.push(
            "age".into(),
            FeatureData::Numeric(vec![30.0, f64::NAN, 50.0, 40.0]),
        );
        t.push(
            "region".into(),
            FeatureData::Categorical(vec![
                Some("N".into()),
                Some("S".into()),
                None,
                Some("X".into()),
            ]),
        );
        t
    }

    #[test]
    fn fit_on_train_rows_only_and_unseen_counted() {
        let t = table();
        let p = FeaturePipeline::fit(&t, &[0, 1, 2], false);
        assert_eq!(
            p.names,
            vec![
                "age",
                "age_missing",
                "region=N",
                "region=S",
                "region=(missing)"
            ]
        );
        let mut stats = TransformStats::default();
        let x = p.transform_all(&t, &mut stats);
        assert_eq!(x[[1, 0]], 40.0); // median of 30 and 50, row 3 not used
        assert_eq!(x[[1, 1]], 1.0);
        assert_eq!(x.row(3).iter().skip(2).sum::<f64>(), 0.0); // unseen "X"
        assert_eq!(stats.unseen.get("region"), Some(&1));
        assert_eq!(x[[2, 4]], 1.0);
    }

    #[test]
    fn scaler_standardises() {
        let p = FeaturePipeline::fit(&table(), &[0, 1, 2, 3], true);
        let x = p.transform_all(&table(), &mut TransformStats::default());
        let col = x.column(0);
        assert!((col.sum() / 4.0).abs() < 1e-12);
    }
}
