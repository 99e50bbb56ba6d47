//! Stratified, shuffled, seeded k-fold: every fold keeps the churn rate of the
//! whole table, and the same seed gives the same folds on any machine.

use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A fold: training rows and held-out rows (both sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split rows into `k` stratified folds by label `y`.
pub fn stratified_kfold(y: &[u8], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0usize; y.len()];
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        if idx.len() < k {
            return Err(Error::Config(format!(
                "{k} folds need at least {k} rows of each class; class {class} has {}",
                idx.len()
            )));
        }
        idx.shuffle(&mut rng);
        for (j, &i) in idx.iter().enumerate() {
            fold_of[i] = j % k;
        }
    }
    Ok((0..k)
        .map(|f| Fold {
            train: (0..y.len()).filter(|&i| fold_of[i] != f).collect(),
            test: (0..y.len()).filter(|&i| fold_of[i] == f).collect(),
        })
        .collect())
}

/// Stratified k-fold that keeps every group (customer) in one fold: the
/// same customer seen at several snapshots is never in both the training
/// and the test part. Groups are stratified by whether any of their rows is
/// positive; with one row per group this is [`stratified_kfold`]'s split
/// of the groups.
pub fn stratified_group_kfold(
    y: &[u8],
    groups: &[String],
    k: usize,
    seed: u64,
) -> Result<Vec<Fold>> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for g in groups {
        let next = index.len();
        index.entry(g.as_str()).or_insert(next);
    }
    // Group numbers in first-seen order, labels = any positive row.
    let group_of: Vec<usize> = groups.iter().map(|g| index[g.as_str()]).collect();
    let mut label = vec![0u8; index.len()];
    for (&g, &yi) in group_of.iter().zip(y) {
        label[g] = label[g].max(yi);
    }
    let folds = stratified_kfold(&label, k, seed)?;
    let mut fold_of = vec![0usize; label.len()];
    for (f, fold) in folds.iter().enumerate() {
        fold.test.iter().for_each(|&g| fold_of[g] = f);
    }
    Ok((0..k)
        .map(|f| Fold {
            train: (0..y.len())
                .filter(|&i| fold_of[group_of[i]] != f)
                .collect(),
            test: (0..y.len())
                .filter(|&i| fold_of[group_of[i]] == f)
                .collect(),
        })
        .collect())
}

/// Grouped folds when some id repeats (stacked snapshots), else the plain
/// stratified split (which a table with unique ids reproduces exactly).
pub fn kfold(y: &[u8], ids: &[String], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    if ids.iter().all(|id| seen.insert(id.as_str())) {
        stratified_kfold(y, k, seed)
    } else {
        stratified_group_kfold(y, ids, k, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_and_stratify() {
        let y: Vec<u8> = (0..1000).map(|i| (i % 5 == 0) as u8).collect();
        let folds = stratified_kfold(&y, 5, 1).unwrap();
        let mut seen = vec![0; y.len()];
        for f in &folds {
            assert_eq!(f.train.len() + f.test.len(), y.len());
            let pos = f.test.iter().filter(|&&i| y[i] == 1).count();
            assert_eq!(pos, 40);
            f.test.iter().for_each(|&i| seen[i] += 1);
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert_eq!(folds, stratified_kfold(&y, 5, 1).unwrap());
        assert_ne!(folds, stratified_kfold(&y, 5, 2).unwrap());
        assert!(stratified_kfold(&[0, 0, 1], 2, 1).is_err());
    }

    #[test]
    fn grouped_folds_never_split_a_customer() {
        // 400 customers at 3 snapshots each, churning at different ones.
        let ids: Vec<String> = (0..1200).map(|i| format!("c{}", i % 400)).collect();
        let y: Vec<u8> = (0..1200)
            .map(|i| u8::from(i % 400 < 80 && i >= 800))
            .collect();
        let folds = kfold(&y, &ids, 5, 3).unwrap();
        for f in &folds {
            let train: std::collections::HashSet<&str> =
                f.train.iter().map(|&i| ids[i].as_str()).collect();
            assert!(f.test.iter().all(|&i| !train.contains(ids[i].as_str())));
            assert_eq!(f.train.len() + f.test.len(), 1200);
            // Stratified by customer: 16 of the 80 churners per fold.
            let churners: std::collections::HashSet<&str> = f
                .test
                .iter()
                .filter(|&&i| y[i] == 1)
                .map(|&i| ids[i].as_str())
                .collect();
            assert_eq!(churners.len(), 16);
        }
        let unique: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let y1: Vec<u8> = (0..1000).map(|i| (i % 5 == 0) as u8).collect();
        assert_eq!(
            kfold(&y1, &unique, 5, 1).unwrap(),
            stratified_kfold(&y1, 5, 1).unwrap()
        );
    }
}
