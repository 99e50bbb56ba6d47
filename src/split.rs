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
}
