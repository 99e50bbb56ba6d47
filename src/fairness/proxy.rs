//! Proxies: a feature so strongly associated with a protected attribute
//! that dropping the attribute alone would not keep it out of the model.
//! Association is Cramér's V between the attribute's groups and the
//! feature (numbers cut into quintiles, missing its own bin), 0 = none,
//! 1 = one determines the other. Features at or above [`PROXY_V`] are
//! flagged for reviewers to decide; nothing is dropped automatically.

use crate::fast::FastMap;
use crate::features::{FeatureData, FeatureTable, Level};
use serde::Serialize;
use std::collections::HashMap;

/// Cramér's V at or above which a feature is flagged as a possible proxy
/// (a "strong" association in the usual reading of V).
pub const PROXY_V: f64 = 0.3;

/// A feature associated with a protected attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proxy {
    pub feature: String,
    pub cramers_v: f64,
}

/// Cramér's V of two labelings of the same rows.
pub fn cramers_v(a: &[u32], b: &[u32]) -> f64 {
    let n = a.len() as f64;
    let (ra, rb) = (
        a.iter().max().map_or(0, |m| m + 1) as usize,
        b.iter().max().map_or(0, |m| m + 1) as usize,
    );
    if n == 0.0 || ra < 2 || rb < 2 {
        return 0.0;
    }
    // Whole counts of the cells; the margins are sums of them.
    let mut cells = vec![0u64; ra * rb];
    for (&i, &j) in a.iter().zip(b) {
        cells[i as usize * rb + j as usize] += 1;
    }
    let table: Vec<f64> = cells.into_iter().map(|c| c as f64).collect();
    let row: Vec<f64> = table.chunks(rb).map(|r| r.iter().sum()).collect();
    let col: Vec<f64> = (0..rb)
        .map(|j| (0..ra).map(|i| table[i * rb + j]).sum())
        .collect();
    let (ra_used, rb_used) = (
        row.iter().filter(|&&c| c > 0.0).count(),
        col.iter().filter(|&&c| c > 0.0).count(),
    );
    if ra_used < 2 || rb_used < 2 {
        return 0.0;
    }
    let mut chi2 = 0.0;
    for i in 0..ra {
        for j in 0..rb {
            let e = row[i] * col[j] / n;
            if e > 0.0 {
                chi2 += (table[i * rb + j] - e).powi(2) / e;
            }
        }
    }
    (chi2 / (n * (ra_used.min(rb_used) - 1) as f64)).sqrt()
}

/// Dense codes of text labels.
pub fn codes(labels: &[impl AsRef<str>]) -> Vec<u32> {
    let mut seen: FastMap<&str, u32> = HashMap::default();
    labels
        .iter()
        .map(|l| {
            let next = seen.len() as u32;
            *seen.entry(l.as_ref()).or_insert(next)
        })
        .collect()
}

/// A feature's bins: quintiles of numbers (missing last), or its levels.
/// `deciles` are the column's when known ([`crate::features::Deciles`]).
fn feature_codes(data: &FeatureData, deciles: Option<&[f64]>) -> Vec<u32> {
    match data {
        FeatureData::Numeric(v) => {
            // Quintile edges by selection, not a sort, or taken from the
            // deciles of the same values.
            let edges = deciles
                .and_then(crate::stats::quintiles_of_deciles)
                .unwrap_or_else(|| crate::stats::cuts_of(v, 5));
            v.iter()
                .map(|&x| {
                    if x.is_nan() {
                        5
                    } else {
                        edges.iter().filter(|&&e| e <= x).count() as u32
                    }
                })
                .collect()
        }
        FeatureData::Categorical(v) => {
            // Codes by text (missing as the empty text), each distinct
            // level's text hashed once.
            let mut by_text: FastMap<&str, u32> = HashMap::default();
            let mut by_level: FastMap<Option<Level>, u32> = HashMap::default();
            v.iter()
                .map(|c| {
                    *by_level.entry(c.as_ref().map(Level)).or_insert_with(|| {
                        let next = by_text.len() as u32;
                        *by_text
                            .entry(c.as_deref().unwrap_or_default())
                            .or_insert(next)
                    })
                })
                .collect()
        }
    }
}

pub fn proxies(
    table: &FeatureTable,
    deciles: &crate::features::Deciles,
    labels: &[impl AsRef<str>],
    skip: &str,
) -> Vec<Proxy> {
    let groups = codes(labels);
    use rayon::prelude::*;
    let mut out: Vec<Proxy> = table
        .names
        .par_iter()
        .zip(&table.columns)
        .zip(deciles)
        .filter(|((n, _), _)| n.as_str() != skip)
        .map(|((n, c), d)| Proxy {
            feature: n.clone(),
            cramers_v: cramers_v(&groups, &feature_codes(c, d.as_deref())),
        })
        .filter(|p| p.cramers_v >= PROXY_V)
        .collect();
    out.sort_by(|a, b| b.cramers_v.total_cmp(&a.cramers_v));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cramers_v_is_one_for_a_copy_and_near_zero_for_independence() {
        let a: Vec<u32> = (0..1000).map(|i| (i % 3) as u32).collect();
        assert!((cramers_v(&a, &a) - 1.0).abs() < 1e-12);
        let b: Vec<u32> = (0..1000).map(|i| ((i / 3) % 2) as u32).collect();
        assert!(cramers_v(&a, &b) < 0.05, "{}", cramers_v(&a, &b));
        // Hand count: 2×2 table [[30, 10], [10, 30]]: χ² = 20, V = sqrt(20/80) = 0.5.
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for (i, j, k) in [(0, 0, 30), (0, 1, 10), (1, 0, 10), (1, 1, 30)] {
            x.extend(std::iter::repeat_n(i, k));
            y.extend(std::iter::repeat_n(j, k));
        }
        assert!((cramers_v(&x, &y) - 0.5).abs() < 1e-12);
    }
}
