//! The offer inputs of a set of customer rows, typed: the attribute
//! columns the propensity models read, the holding flags, the risk level
//! (questionnaire or estimate) and what the eligibility rules need (age,
//! balance, tier). One reader for training's panel and scoring's chunks.
//!
//! A holding cell that is not a flag (1/0, yes/no, true/false) and a
//! number column cell that is not a number make the row invalid with a
//! reason: training stops on the first one, scoring rejects the row. A
//! blank (or NA) holding cell is not an error — real extracts have them
//! (a product the source system did not report for that customer) — but
//! the holding is [`UNKNOWN`]: never offered (it may be held), not an
//! example for that product's model, missing as a feature, and counted.

use super::catalog::{parse_flag, Catalog};
use super::risk::{self, parse_level, Capacity};
use crate::error::RowProblem;
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::{self, parse_cell, Cell};
use crate::ingest::{RawColumn, RawTable};

/// A holding left blank or NA in the data: it may be held.
pub const UNKNOWN: u8 = 2;

/// A holding as a model input: 0 or 1, NaN when [`UNKNOWN`].
pub fn holding_value(h: u8) -> f64 {
    match h {
        UNKNOWN => f64::NAN,
        h => f64::from(h),
    }
}

/// Which columns to read and how.
pub struct Spec<'a> {
    pub catalog: &'a Catalog,
    /// Attribute columns and whether each is numeric.
    pub attributes: Vec<(String, bool)>,
    pub risk_column: Option<&'a str>,
    /// Text in a number column: missing and counted (training) instead of
    /// a row problem (scoring, as the churn model's columns).
    pub lenient_numbers: bool,
}

/// The typed offer inputs of every row of a table.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub attributes: FeatureTable,
    /// Per product (catalog order), per row: 1 = holds it.
    pub held: Vec<Vec<u8>>,
    /// Risk-tolerance level 1..=5 per row, and where it came from.
    pub level: Vec<u8>,
    pub source: Vec<&'static str>,
    /// Questionnaire answers that were not a level (the estimate was used).
    pub invalid_answers: usize,
    /// Text cells of number columns read as missing (lenient reading).
    pub coerced: usize,
    /// Blank or NA holding cells (holdings [`UNKNOWN`]).
    pub unknown_holdings: usize,
    pub age: Vec<f64>,
    pub balance: Vec<f64>,
    pub tier: Option<Vec<crate::features::Category>>,
}

fn numbers(raw: &RawTable, name: Option<&str>) -> Vec<f64> {
    let n = raw.n_rows();
    match name.and_then(|c| raw.column(c)) {
        Some(col) => schema::to_numeric(col).values,
        None => vec![f64::NAN; n],
    }
}

/// Read `spec`'s columns of `raw`; a row's first problem goes to `reason`
/// (rows that already have one keep it).
pub fn read(raw: &RawTable, spec: &Spec, reason: &mut [Option<RowProblem>]) -> Rows {
    let n = raw.n_rows();
    let mut rows = Rows::default();
    for (name, numeric) in &spec.attributes {
        let Some(col) = raw.column(name) else {
            continue;
        };
        let data = if *numeric {
            let mut v = Vec::with_capacity(n);
            for (r, why) in reason.iter_mut().enumerate().take(n) {
                v.push(match col.cell(r) {
                    Cell::Number(x) => x,
                    Cell::Missing => f64::NAN,
                    Cell::Text(_) if spec.lenient_numbers => {
                        rows.coerced += 1;
                        f64::NAN
                    }
                    Cell::Text(t) => {
                        why.get_or_insert_with(|| {
                            RowProblem::at(name, format!("'{t}' is not a number"))
                        });
                        f64::NAN
                    }
                });
            }
            FeatureData::Numeric(v)
        } else {
            FeatureData::Categorical(schema::to_categories(col))
        };
        rows.attributes.push(name.clone(), data);
    }
    for p in &spec.catalog.products {
        let mut flags = vec![0u8; n];
        let not_a_flag = |why: &mut Option<RowProblem>, text: Option<&str>| {
            why.get_or_insert_with(|| {
                RowProblem::at(
                    &p.column,
                    format!(
                        "'{}' is not a holding flag (1/0, yes/no, true/false)",
                        text.unwrap_or("")
                    ),
                )
            });
        };
        match raw.column(&p.column) {
            // Read as numbers (every cell of the chunk was one).
            Some(RawColumn::Number(cells)) => {
                for (r, (why, &x)) in reason.iter_mut().zip(cells).take(n).enumerate() {
                    match x {
                        1.0 => flags[r] = 1,
                        0.0 => {}
                        x if !x.is_finite() => flags[r] = UNKNOWN,
                        x => not_a_flag(why, Some(&x.to_string())),
                    }
                }
            }
            Some(col) => {
                let cells = reason.iter_mut().zip(col.text_refs()).take(n);
                for (r, (why, text)) in cells.enumerate() {
                    match text.as_deref().and_then(parse_flag) {
                        Some(v) => flags[r] = v,
                        None if parse_cell(text.as_deref()) == Cell::Missing => flags[r] = UNKNOWN,
                        None => not_a_flag(why, text.as_deref()),
                    }
                }
            }
            None => {}
        }
        rows.unknown_holdings += flags.iter().filter(|&&f| f == UNKNOWN).count();
        rows.held.push(flags);
    }
    let cols = &spec.catalog.columns;
    let capacity = [
        numbers(raw, cols.age.as_deref()),
        numbers(raw, cols.income.as_deref()),
        numbers(raw, cols.balance.as_deref()),
        numbers(raw, cols.tenure.as_deref()),
        numbers(raw, cols.credit_score.as_deref()),
        numbers(raw, cols.overdue.as_deref()),
    ];
    let answers = spec.risk_column.and_then(|c| raw.column(c));
    let at = |k: usize, r: usize| capacity[k][r];
    for r in 0..n {
        let answer = answers.and_then(|c| c.text_ref(r));
        let given = answer.as_deref().and_then(parse_level);
        if given.is_none() && answer.as_deref().is_some_and(|a| !a.trim().is_empty()) {
            rows.invalid_answers += 1;
        }
        let (level, source) = match given {
            Some(l) => (l, risk::QUESTIONNAIRE),
            None => (
                spec.catalog.risk.estimate(&Capacity {
                    age: at(0, r),
                    income: at(1, r),
                    balance: at(2, r),
                    tenure: at(3, r),
                    credit_score: at(4, r),
                    overdue: at(5, r),
                }),
                risk::ESTIMATED,
            ),
        };
        rows.level.push(level);
        rows.source.push(source);
    }
    let [age, _, balance, ..] = capacity;
    rows.age = age;
    rows.balance = balance;
    rows.tier = cols
        .tier
        .as_deref()
        .and_then(|c| raw.column(c))
        .map(schema::to_categories);
    rows
}

impl Rows {
    pub fn len(&self) -> usize {
        self.level.len()
    }

    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }

    /// The rows `keep`, in that order.
    pub fn select(&self, keep: &[usize]) -> Rows {
        let pick = |v: &[f64]| keep.iter().map(|&r| v[r]).collect::<Vec<_>>();
        Rows {
            attributes: self.attributes.select(keep),
            held: self
                .held
                .iter()
                .map(|h| keep.iter().map(|&r| h[r]).collect())
                .collect(),
            level: keep.iter().map(|&r| self.level[r]).collect(),
            source: keep.iter().map(|&r| self.source[r]).collect(),
            invalid_answers: self.invalid_answers,
            coerced: self.coerced,
            unknown_holdings: self.unknown_holdings,
            age: pick(&self.age),
            balance: pick(&self.balance),
            tier: self
                .tier
                .as_ref()
                .map(|t| keep.iter().map(|&r| t[r].clone()).collect()),
        }
    }
}
