//! Gradient boosting on the histogram engine: binary log-loss, second
//! order, leaf-wise trees (LightGBM's algorithm).
//!
//! Why on our engine rather than a binding: the binned matrix, the learned
//! missing direction, deterministic parallel histograms and the vector walk
//! with path contributions are already here, and a boosted model then scores,
//! explains and serialises exactly like a forest.
//!
//! Each round computes every row's gradient g = w·(p − y) and hessian
//! h = w·p(1 − p) at the current log-odds, then grows one tree: the leaf
//! whose best split gains most, G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ),
//! splits next until `num_leaves`. Only the smaller child's histogram is
//! built (its rows' gradients first gathered in row order); the larger one
//! is the parent's minus it. A node holds −η·G/(H+λ), so a leaf is the
//! tree's output and the change along a path is a contribution in log-odds.
//! Histograms are summed feature by feature in row order, so a model is the
//! same to the bit on any number of threads; the binned matrix, the row
//! lists and the gradient arrays are allocated once per fit.

use crate::binning::BinCuts;
use crate::ensembles::forest::{decode_trees, explain_sums, leaf_sums, Bins};
use crate::error::{Error, Result};
use crate::growing::leafwise::{Leafwise, Work};
use crate::params::boosting::BoostingParams;
use crate::tree::{self, Tree};
use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What early stopping found on a fit's validation rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStop {
    /// Rounds kept: the round with the lowest validation log loss.
    pub best_rounds: usize,
    /// Rounds grown before stopping.
    pub rounds_run: usize,
    pub validation_rows: usize,
    pub validation_log_loss: f64,
}

/// A fitted boosted model: P(churn) = sigmoid(init + Σ tree outputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "BoostedRepr", try_from = "BoostedRepr")]
pub struct Boosted {
    pub n_features: usize,
    pub cuts: BinCuts,
    pub trees: Vec<Tree>,
    /// Starting log-odds: the (weighted) churn odds of the training rows.
    pub init: f64,
    pub learning_rate: f64,
    /// Split gain per feature, normalised to sum 1.
    pub importances: Vec<f64>,
    /// Early stopping on this fit's own validation share, when on.
    pub early_stopping: Option<EarlyStop>,
    /// Rounds early stopping chose in each cross-validation fold (set by
    /// the training flow on the refitted model; its round count is their median).
    pub cv_rounds: Vec<usize>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// What a boosted model learns: 0/1 labels by log loss (churn, with
/// class weights), or real targets by squared error (an uplift learner's
/// imputed effects), whose prediction is the raw score.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Binary { y: &'a [u8], class_weight: [f64; 2] },
    Real(&'a [f64]),
}

impl Target<'_> {
    fn len(&self) -> usize {
        match self {
            Target::Binary { y, .. } => y.len(),
            Target::Real(t) => t.len(),
        }
    }
}

impl Boosted {
    /// Fit on `x` (rows × features, NaN = missing) and 0/1 labels `y`, rows
    /// of class c weighted `class_weight[c]` (churners also by
    /// `scale_pos_weight`). `on_round` is called once per round (progress).
    pub fn fit(
        spec: &BoostingParams,
        class_weight: [f64; 2],
        x: ArrayView2<f64>,
        y: &[u8],
        seed: u64,
        on_round: &(dyn Fn() + Sync),
    ) -> Result<Boosted> {
        Self::fit_target(spec, Target::Binary { y, class_weight }, x, seed, on_round)
    }

    /// Fit on `x` and real targets `t` by squared error: the model's raw
    /// score ([`Boosted::predict_log_odds`]) estimates E[t | x].
    pub fn fit_regression(
        spec: &BoostingParams,
        x: ArrayView2<f64>,
        t: &[f64],
        seed: u64,
        on_round: &(dyn Fn() + Sync),
    ) -> Result<Boosted> {
        Self::fit_target(spec, Target::Real(t), x, seed, on_round)
    }

    /// Fit on `x` and `target`; see [`Boosted::fit`] and
    /// [`Boosted::fit_regression`].
    pub fn fit_target(
        spec: &BoostingParams,
        target: Target,
        x: ArrayView2<f64>,
        seed: u64,
        on_round: &(dyn Fn() + Sync),
    ) -> Result<Boosted> {
        // On a worker of the pool: every round forks and joins a few
        // hundred times, and from a thread outside the pool each of those
        // would block it and wake it again (≈8% of a 100k-row fit in the
        // kernel's scheduler, measured).
        rayon::scope(|_| {
            let (n, p) = x.dim();
            if n == 0
                || p == 0
                || p > u16::MAX as usize
                || target.len() != n
                || n > u32::MAX as usize
            {
                return Err(Error::Model(format!(
                    "cannot boost on {n} rows × {p} features with {} labels",
                    target.len()
                )));
            }
            let cuts = BinCuts::fit(x, spec.max_bins);
            let bins = cuts.transform(x);
            // Real targets are split unstratified: every row is one class.
            let single_class;
            let (strata, w) = match target {
                Target::Binary { y, class_weight } => (y, row_weights(y, spec, class_weight)),
                Target::Real(_) => {
                    single_class = vec![0u8; n];
                    (&single_class[..], vec![1.0f32; n])
                }
            };
            let (train, valid) = if spec.early_stopping_rounds > 0 {
                validation_split(strata, spec.validation_share, seed)
            } else {
                ((0..n as u32).collect(), Vec::new())
            };
            let init = start(target, &w, &train)?;
            let mut f = vec![init; n];
            let (mut g, mut h) = (vec![0.0f32; n], vec![0.0f32; n]);
            let grower = Leafwise::new(&bins, spec);
            let mut work = Work::default();
            let bagging = spec.bagging_freq > 0 && spec.bagging_fraction < 1.0;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let k = ((spec.feature_fraction * p as f64).round() as usize).clamp(1, p);
            let mut feats: Vec<usize> = (0..p).collect();
            let (mut bag, mut rest) = (train.clone(), valid.clone());
            let mut trees: Vec<Tree> = Vec::with_capacity(spec.n_rounds);
            let mut gains: Vec<Vec<(usize, f64)>> = Vec::with_capacity(spec.n_rounds);
            let (mut best_loss, mut best_rounds) = (f64::INFINITY, 0);
            for round in 0..spec.n_rounds {
                if bagging && round % spec.bagging_freq == 0 {
                    (bag, rest) = draw_bag(&mut rng, &train, &valid, spec.bagging_fraction);
                }
                gradients(target, &w, &f, &mut g, &mut h);
                let candidates = sample_features(&mut rng, &mut feats, k);
                work.rows.clear();
                work.rows.extend_from_slice(&bag);
                let (tree, leaves, tree_gains) = grower.grow(&mut work, &g, &h, &candidates);
                for (start, end, value) in leaves {
                    for &r in &work.rows[start..end] {
                        f[r as usize] += value as f64;
                    }
                }
                for &r in &rest {
                    let r = r as usize;
                    f[r] += tree.nodes[tree.leaf_of(|c| bins.column(c)[r])].value as f64;
                }
                trees.push(tree);
                gains.push(tree_gains);
                on_round();
                if !valid.is_empty() {
                    let loss = validation_loss(target, &valid, &f);
                    if loss < best_loss {
                        (best_loss, best_rounds) = (loss, round + 1);
                    } else if round + 1 - best_rounds >= spec.early_stopping_rounds {
                        break;
                    }
                }
            }
            let early_stopping = (!valid.is_empty()).then_some(EarlyStop {
                best_rounds,
                rounds_run: trees.len(),
                validation_rows: valid.len(),
                validation_log_loss: best_loss,
            });
            if !valid.is_empty() {
                trees.truncate(best_rounds);
                gains.truncate(best_rounds);
            }
            let importances = importances(gains, p);
            Ok(Boosted {
                n_features: p,
                cuts,
                trees,
                init,
                learning_rate: spec.learning_rate,
                importances,
                early_stopping,
                cv_rounds: Vec::new(),
            })
        })
    }

    /// Log-odds of churn of every row of `x`.
    pub fn predict_log_odds(&self, x: ArrayView2<f64>) -> Vec<f64> {
        self.predict_log_odds_with(Bins::Cuts(&self.cuts), x)
    }

    fn predict_log_odds_with(&self, bins: Bins, x: ArrayView2<f64>) -> Vec<f64> {
        let mut out = leaf_sums(bins, &self.trees, self.n_features, x);
        out.iter_mut().for_each(|s| *s += self.init);
        out
    }

    /// P(churn) of every row of `x` (parallel over batches of rows).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        self.predict_proba_with(Bins::Cuts(&self.cuts), x)
    }

    /// [`Boosted::predict_proba`] with the rows binned by `bins`.
    pub fn predict_proba_with(&self, bins: Bins, x: ArrayView2<f64>) -> Vec<f64> {
        let mut out = self.predict_log_odds_with(bins, x);
        out.iter_mut().for_each(|z| *z = sigmoid(*z));
        out
    }

    /// The log-odds before any split: the start plus every tree's root.
    /// `bias + Σ contributions` of a row is its log-odds.
    pub fn bias(&self) -> f64 {
        self.init
            + self
                .trees
                .iter()
                .map(|t| t.nodes[0].value as f64)
                .sum::<f64>()
    }

    /// P(churn) of consecutive rows of `flat` (`p` values each; exactly as
    /// [`Boosted::predict_proba`]) and their path contributions in log-odds
    /// (`contrib`, likewise): each split credits its feature with the change
    /// in node output along the row's path.
    pub fn explain_block(&self, flat: &[f64], p: usize, contrib: &mut [f64]) -> Vec<f64> {
        let (acc, sums) = explain_sums(&self.cuts, &self.trees, self.n_features, flat, p);
        contrib
            .iter_mut()
            .zip(&sums)
            .for_each(|(c, &s)| *c = s as f64);
        acc.into_iter().map(|s| sigmoid(s + self.init)).collect()
    }
}

/// Mean log loss of (label, log-odds) pairs.
fn log_loss(pairs: impl Iterator<Item = (u8, f64)>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (y, z) in pairs {
        // −log sigmoid(±z), computed without overflow.
        let m = if y == 1 { -z } else { z };
        sum += m.max(0.0) + (-m.abs()).exp().ln_1p();
        n += 1;
    }
    sum / n.max(1) as f64
}

/// The starting score on the training rows: the weighted churn log-odds,
/// or the targets' mean.
fn start(target: Target, w: &[f32], train: &[u32]) -> Result<f64> {
    match target {
        Target::Binary { y, .. } => {
            let (sw, swy) = train.iter().fold((0.0, 0.0), |(a, b), &r| {
                let r = r as usize;
                (a + w[r] as f64, b + (w[r] * y[r] as f32) as f64)
            });
            if !(swy > 0.0 && swy < sw) {
                return Err(Error::Model(
                    "gradient boosting needs churners and stayers among the training rows".into(),
                ));
            }
            Ok((swy / (sw - swy)).ln())
        }
        Target::Real(t) => {
            let mean = train.iter().map(|&r| t[r as usize]).sum::<f64>() / train.len() as f64;
            if !mean.is_finite() {
                return Err(Error::Model(
                    "gradient boosting needs finite targets on the training rows".into(),
                ));
            }
            Ok(mean)
        }
    }
}

/// Every row's gradient and hessian at the current scores `f`: log loss
/// (g = w·(p − y), h = w·p(1 − p)) or squared error (g = f − t, h = 1).
fn gradients(target: Target, w: &[f32], f: &[f64], g: &mut [f32], h: &mut [f32]) {
    let rows = g
        .par_iter_mut()
        .zip(h.par_iter_mut())
        .enumerate()
        .with_min_len(4096);
    match target {
        Target::Binary { y, .. } => rows.for_each(|(r, (gr, hr))| {
            let q = sigmoid(f[r]);
            *gr = (w[r] as f64 * (q - y[r] as f64)) as f32;
            *hr = (w[r] as f64 * (q * (1.0 - q)).max(1e-16)) as f32;
        }),
        Target::Real(t) => rows.for_each(|(r, (gr, hr))| {
            *gr = (f[r] - t[r]) as f32;
            *hr = 1.0;
        }),
    }
}

/// The early-stopping loss on the validation rows: mean log loss, or mean
/// squared error.
fn validation_loss(target: Target, valid: &[u32], f: &[f64]) -> f64 {
    match target {
        Target::Binary { y, .. } => log_loss(valid.iter().map(|&r| (y[r as usize], f[r as usize]))),
        Target::Real(t) => {
            let sum: f64 = valid
                .iter()
                .map(|&r| (f[r as usize] - t[r as usize]).powi(2))
                .sum();
            sum / valid.len().max(1) as f64
        }
    }
}

/// A stratified, seeded share of the rows held out for early stopping:
/// (training rows, validation rows), each in row order.
fn validation_split(y: &[u8], share: f64, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(7);
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for class in [0u8, 1] {
        let mut rows: Vec<u32> = (0..y.len() as u32)
            .filter(|&r| y[r as usize] == class)
            .collect();
        let take = if rows.len() >= 2 {
            ((share * rows.len() as f64).round() as usize).clamp(1, rows.len() - 1)
        } else {
            0
        };
        for i in 0..take {
            let j = rng.random_range(i..rows.len());
            rows.swap(i, j);
        }
        valid.extend_from_slice(&rows[..take]);
        train.extend_from_slice(&rows[take..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Stored form: trees as [`Tree::encode`] writes them.
#[derive(Serialize, Deserialize)]
struct BoostedRepr {
    n_features: usize,
    cuts: BinCuts,
    init: f64,
    learning_rate: f64,
    importances: Vec<f64>,
    early_stopping: Option<EarlyStop>,
    cv_rounds: Vec<usize>,
    node_format: String,
    trees: Vec<String>,
}

impl From<Boosted> for BoostedRepr {
    fn from(b: Boosted) -> BoostedRepr {
        BoostedRepr {
            n_features: b.n_features,
            init: b.init,
            learning_rate: b.learning_rate,
            importances: b.importances,
            early_stopping: b.early_stopping,
            cv_rounds: b.cv_rounds,
            node_format: tree::NODE_FORMAT.into(),
            trees: b.trees.iter().map(Tree::encode).collect(),
            cuts: b.cuts,
        }
    }
}

impl TryFrom<BoostedRepr> for Boosted {
    type Error = String;
    fn try_from(r: BoostedRepr) -> std::result::Result<Boosted, String> {
        let trees = decode_trees(&r.node_format, &r.cuts, r.n_features, &r.trees)?;
        if !r.init.is_finite() {
            return Err("boosted model: start log-odds is not finite".into());
        }
        Ok(Boosted {
            n_features: r.n_features,
            cuts: r.cuts,
            trees,
            init: r.init,
            learning_rate: r.learning_rate,
            importances: r.importances,
            early_stopping: r.early_stopping,
            cv_rounds: r.cv_rounds,
        })
    }
}

/// Each row's weight: its class weight, times `scale_pos_weight` for
/// churners.
fn row_weights(y: &[u8], spec: &BoostingParams, class_weight: [f64; 2]) -> Vec<f32> {
    y.iter()
        .map(|&c| {
            let spw = if c == 1 { spec.scale_pos_weight } else { 1.0 };
            (class_weight[c as usize] * spw) as f32
        })
        .collect()
}

/// A bagging round's rows: a share `fraction` of the training rows drawn
/// without replacement (the bag), and the rest with the validation rows,
/// both in row order.
fn draw_bag(
    rng: &mut ChaCha8Rng,
    train: &[u32],
    valid: &[u32],
    fraction: f64,
) -> (Vec<u32>, Vec<u32>) {
    let mut pool = train.to_vec();
    let draw = ((fraction * pool.len() as f64).round() as usize).clamp(1, pool.len());
    for i in 0..draw {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    let mut bag = pool[..draw].to_vec();
    bag.sort_unstable();
    let mut rest = pool[draw..].to_vec();
    rest.extend_from_slice(valid);
    rest.sort_unstable();
    (bag, rest)
}

/// A round's candidate features: `k` of them drawn from `feats` (which the
/// draws reorder), in index order; all of them when `k` is every feature.
fn sample_features(rng: &mut ChaCha8Rng, feats: &mut [usize], k: usize) -> Vec<usize> {
    let p = feats.len();
    if k >= p {
        return feats.to_vec();
    }
    for i in 0..k {
        let j = rng.random_range(i..p);
        feats.swap(i, j);
    }
    let mut c = feats[..k].to_vec();
    c.sort_unstable();
    c
}

/// Each feature's share of the kept rounds' split gains.
fn importances(gains: Vec<Vec<(usize, f64)>>, p: usize) -> Vec<f64> {
    let mut importances = vec![0.0; p];
    for (feature, gain) in gains.into_iter().flatten() {
        importances[feature] += gain;
    }
    let total: f64 = importances.iter().sum();
    if total > 0.0 {
        importances.iter_mut().for_each(|v| *v /= total);
    }
    importances
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_split_is_stratified_and_disjoint() {
        let y: Vec<u8> = (0..1000).map(|i| (i % 5 == 0) as u8).collect();
        let (train, valid) = validation_split(&y, 0.1, 3);
        assert_eq!(train.len() + valid.len(), 1000);
        assert_eq!(valid.iter().filter(|&&r| y[r as usize] == 1).count(), 20);
        assert_eq!(valid.len(), 100);
        let mut all: Vec<u32> = train.iter().chain(&valid).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 1000);
    }

    #[test]
    fn log_loss_matches_the_direct_formula() {
        let pairs = [(1u8, 0.3), (0, -1.2), (1, 4.0), (0, 2.5)];
        let direct: f64 = pairs
            .iter()
            .map(|&(y, z)| {
                let p = sigmoid(z);
                -(if y == 1 { p.ln() } else { (1.0 - p).ln() })
            })
            .sum::<f64>()
            / 4.0;
        assert!((log_loss(pairs.into_iter()) - direct).abs() < 1e-12);
    }

    #[test]
    fn regression_learns_a_step_and_a_slope() {
        // t = 0.5 above x0 = 0 plus 0.1·x1, with noise-free targets: the
        // squared-error fit recovers it closely and keeps no class weight.
        let n = 2000;
        let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
            let u = ((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0;
            2.0 * u - 1.0
        });
        let t: Vec<f64> = (0..n)
            .map(|i| 0.5 * (x[[i, 0]] > 0.0) as u8 as f64 + 0.1 * x[[i, 1]])
            .collect();
        let spec = BoostingParams::default();
        let m = Boosted::fit_regression(&spec, x.view(), &t, 1, &|| {}).unwrap();
        let pred = m.predict_log_odds(x.view());
        let mse = pred
            .iter()
            .zip(&t)
            .map(|(p, t)| (p - t).powi(2))
            .sum::<f64>()
            / n as f64;
        let mean = t.iter().sum::<f64>() / n as f64;
        let var = t.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mse < 0.02 * var, "mse {mse} against variance {var}");
        assert!(Boosted::fit_regression(&spec, x.view(), &[f64::NAN; 2000], 1, &|| {}).is_err());
    }
}
