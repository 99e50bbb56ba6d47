//! The arms-balance screen of an uplift run: in a randomised campaign every
//! column recorded *before* the treatment is balanced between the arms, up
//! to chance. A column that differs beyond chance (p < 0.001: Welch's t
//! test for numbers, the chi-square test of independence for categories)
//! was most likely recorded after the treatment — a visit, a purchase, the
//! spend that followed — and carries the treatment's effect into the model
//! (an S-learner would credit the column, not the contact). Such columns
//! are left out with one line each, as the leakage screen leaves out label
//! proxies; `--allow-leaky COL` keeps one on purpose. A pre-treatment
//! column is left out wrongly once in a thousand.

use crate::features::{FeatureData, FeatureTable};
use crate::outcomes::stats::{independence, welch, Moments};
use serde::Serialize;
use std::collections::HashMap;

/// The p-value below which a column is taken as recorded after treatment.
pub const ALARM: f64 = 1e-3;

/// A column left out by the screen.
#[derive(Debug, Clone, Serialize)]
pub struct AfterTreatment {
    pub column: String,
    pub p_value: f64,
}

/// The p-value of the arms' difference on one column (`None`: untestable).
fn p_value(col: &FeatureData, treated: &[bool]) -> Option<f64> {
    match col {
        FeatureData::Numeric(v) => {
            let arm = |t: bool| -> Vec<f64> {
                v.iter()
                    .zip(treated)
                    .filter(|(x, &a)| a == t && x.is_finite())
                    .map(|(x, _)| *x)
                    .collect()
            };
            welch(Moments::of(&arm(true)), Moments::of(&arm(false)), 0.05).map(|w| w.p_value)
        }
        FeatureData::Categorical(c) => {
            let mut counts: HashMap<Option<&str>, [f64; 2]> = HashMap::new();
            for (cell, &t) in c.iter().zip(treated) {
                counts.entry(cell.as_deref()).or_default()[t as usize] += 1.0;
            }
            let table: Vec<Vec<f64>> = counts.into_values().map(|c| c.to_vec()).collect();
            independence(&table).map(|(_, p)| p)
        }
    }
}

/// Leave out of `table` the columns that differ between the arms beyond
/// chance, but those `allow` names; what was left out.
pub fn screen(table: &mut FeatureTable, treated: &[bool], allow: &[String]) -> Vec<AfterTreatment> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < table.names.len() {
        let name = &table.names[k];
        let p = p_value(&table.columns[k], treated);
        match p {
            Some(p) if p < ALARM && !allow.contains(name) => {
                out.push(AfterTreatment {
                    column: table.names.remove(k),
                    p_value: p,
                });
                table.columns.remove(k);
            }
            _ => k += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_moved_by_the_treatment_is_left_out() {
        let n = 4000;
        let treated: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
        let noise = |i: usize| ((i * 7919) % 1000) as f64 / 1000.0;
        let mut t = FeatureTable::default();
        t.push(
            "age".into(),
            FeatureData::Numeric((0..n).map(noise).collect()),
        );
        let spend = (0..n)
            .map(|i| noise(i) + if i % 2 == 0 { 0.2 } else { 0.0 })
            .collect();
        t.push("spend".into(), FeatureData::Numeric(spend));
        let visit = (0..n)
            .map(|i| {
                Some(
                    if i % 2 == 0 && i % 3 == 0 {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                )
            })
            .collect();
        t.push("visit".into(), FeatureData::Categorical(visit));
        let region = (0..n)
            .map(|i| Some(["a", "b", "c"][(i / 2) % 3].into()))
            .collect();
        t.push("region".into(), FeatureData::Categorical(region));
        let mut kept = t.clone();
        let out = screen(&mut t, &treated, &[]);
        let gone: Vec<&str> = out.iter().map(|a| a.column.as_str()).collect();
        assert_eq!(gone, ["spend", "visit"]);
        assert_eq!(t.names, ["age", "region"]);
        assert!(screen(&mut kept, &treated, &["spend".into(), "visit".into()]).is_empty());
    }
}
