//! Random forest (and single decision tree) over the histogram grower.
//!
//! Trees are grown in parallel with rayon; tree `i` draws its rows and
//! features from its own ChaCha stream `(seed, i)`, and results are combined
//! in tree order, so the forest is identical for 1 or N threads.
//! Probabilities are leaf churn shares averaged over trees.

use crate::binning::shared::SharedCuts;
use crate::binning::BinCuts;
use crate::error::{Error, Result};
use crate::growing::depthwise::Grower;
use crate::params::forest::ForestParams;
use crate::tree::{self, Node, Tree};
use crate::walks::across;
use crate::walks::quick::{LeafPaths, QuickTrees};
use crate::walks::{levels, simd};
use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Fewest rows per prediction batch. A batch walks one tree at a time over
/// all its rows, so the tree stays in the core's cache while the binned rows
/// stream past; batches are therefore as large as one equal share per
/// thread (much faster than small batches on forests with megabyte trees:
/// docs/benchmarks.md, "Design measurements").
const PREDICT_BATCH: usize = 256;
/// Rows from which [`leaf_sums`] scores small trees by their false nodes
/// ([`QuickTrees`]): its split lists (every split sorted, a 256-entry table
/// per feature) are built per call, which a handful of rows would not
/// repay; fewer rows take the level walk (same bits).
const QUICK_MIN_ROWS: usize = 1024;
/// Most rows per prediction batch (bounds the binned copy).
const PREDICT_BATCH_MAX: usize = 1 << 18;
/// Trees of at most this many nodes (gradient boosting's 31 leaves, shallow
/// decision trees) are walked level by level ([`Tree::walk_levels`]) when
/// explaining or predicting few rows (many rows of small trees go through
/// [`QuickTrees`]); bigger ones lane by lane, where a row's path length
/// varies too much.
const LEVEL_WALK_NODES: usize = 255;

/// A fitted forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "ForestRepr", try_from = "ForestRepr")]
pub struct Forest {
    pub n_features: usize,
    pub cuts: BinCuts,
    pub trees: Vec<Tree>,
    /// Mean impurity decrease per feature, normalised to sum 1.
    pub importances: Vec<f64>,
    /// Out-of-bag ROC AUC, when bootstrapped.
    pub oob_auc: Option<f64>,
}

impl Forest {
    /// Fit on `x` (rows × features, NaN = missing) and 0/1 labels `y`, rows
    /// of class c weighted `class_weight[c]`. `on_tree` is called once per
    /// finished tree (progress). A decision tree is
    /// [`ForestParams::single_tree`].
    pub fn fit(
        spec: &ForestParams,
        class_weight: [f64; 2],
        x: ArrayView2<f64>,
        y: &[u8],
        seed: u64,
        on_tree: &(dyn Fn() + Sync),
    ) -> Result<Forest> {
        let (n, p) = x.dim();
        if n == 0 || p == 0 || p > u16::MAX as usize || y.len() != n {
            return Err(Error::Model(format!(
                "cannot fit a tree on {n} rows × {p} features with {} labels",
                y.len()
            )));
        }
        let cuts = BinCuts::fit(x, spec.tree.max_bins);
        let bins = cuts.transform(x);
        let grower = Grower::new(&bins, y);
        let max_features = spec.max_features.count(p);
        let cw: Vec<f32> = y.iter().map(|&c| class_weight[c as usize] as f32).collect();
        let draw = ((spec.subsample * n as f64).round() as usize).clamp(1, n);
        let sampled = spec.bootstrap || draw < n;

        let fit_tree = |t: usize| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(t as u64 + 1);
            let mut count = vec![0u32; if sampled { n } else { 0 }];
            let w: Vec<f32> = if !sampled {
                cw.clone()
            } else {
                if spec.bootstrap {
                    (0..draw).for_each(|_| count[rng.random_range(0..n)] += 1);
                } else {
                    let mut idx: Vec<usize> = (0..n).collect();
                    for i in 0..draw {
                        let j = rng.random_range(i..n);
                        idx.swap(i, j);
                        count[idx[i]] = 1;
                    }
                }
                count.iter().zip(&cw).map(|(&c, &w)| c as f32 * w).collect()
            };
            let rows: Vec<u32> = (0..n as u32).filter(|&r| w[r as usize] > 0.0).collect();
            let mut imp = vec![0.0; p];
            let tree = grower.grow(rows, &w, &spec.tree, max_features, &mut rng, &mut imp);
            on_tree();
            (tree, imp, count)
        };

        let mut trees = Vec::with_capacity(spec.n_trees);
        let mut importances = vec![0.0; p];
        let track_oob = spec.oob_score && sampled;
        let (mut oob_sum, mut oob_n) = (
            vec![0.0f64; if track_oob { n } else { 0 }],
            vec![0u32; if track_oob { n } else { 0 }],
        );
        let batch = rayon::current_num_threads().max(1) * 4;
        for start in (0..spec.n_trees).step_by(batch) {
            let end = (start + batch).min(spec.n_trees);
            let fitted: Vec<_> = (start..end).into_par_iter().map(fit_tree).collect();
            for (tree, imp, count) in fitted {
                importances.iter_mut().zip(&imp).for_each(|(a, b)| *a += b);
                if track_oob {
                    for r in (0..n).filter(|&r| count[r] == 0) {
                        oob_sum[r] += tree.predict_binned(&bins, r) as f64;
                        oob_n[r] += 1;
                    }
                }
                trees.push(tree);
            }
        }
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
        let oob_auc = track_oob.then(|| {
            let (labels, scores): (Vec<u8>, Vec<f64>) = (0..n)
                .filter(|&r| oob_n[r] > 0)
                .map(|r| (y[r], oob_sum[r] / oob_n[r] as f64))
                .unzip();
            crate::stats::roc_auc(&labels, &scores)
        });
        Ok(Forest {
            n_features: p,
            cuts,
            trees,
            importances,
            oob_auc,
        })
    }

    /// Churn probability of every row of `x` (parallel over batches of rows).
    /// `x` has the training columns (the feature pipeline guarantees it).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        self.predict_proba_with(Bins::Cuts(&self.cuts), x)
    }

    /// [`Forest::predict_proba`] with the rows binned by `bins`.
    pub fn predict_proba_with(&self, bins: Bins, x: ArrayView2<f64>) -> Vec<f64> {
        let mut out = leaf_sums(bins, &self.trees, self.n_features, x);
        let k = self.trees.len() as f64;
        out.iter_mut().for_each(|o| *o /= k);
        out
    }

    /// Predict one row and its path contributions (Saabas) in one walk per
    /// tree: each split credits its feature with the change in node value
    /// along the row's path, averaged over trees, so `root value + Σ
    /// contributions` equals the probability. The probability is summed in
    /// the same order as [`Forest::predict_proba`], so both agree exactly.
    pub fn explain_row(&self, x: &[f64], contrib: &mut [f64]) -> f64 {
        self.explain_block(x, x.len(), contrib)[0]
    }

    /// [`Forest::explain_row`] for consecutive rows of `flat` (`p` values
    /// each; `contrib` likewise), tree by tree so that the block's rows
    /// share each tree's nodes in cache. Per row the sums run in the same
    /// order, so the results are identical.
    pub fn explain_block(&self, flat: &[f64], p: usize, contrib: &mut [f64]) -> Vec<f64> {
        let (mut acc, sums) = explain_sums(&self.cuts, &self.trees, self.n_features, flat, p);
        let k = self.trees.len() as f64;
        contrib
            .iter_mut()
            .zip(&sums)
            .for_each(|(c, &s)| *c = s as f64 / k);
        acc.iter_mut().for_each(|a| *a /= k);
        acc
    }
}

/// Where rows get their bins for [`leaf_sums`].
#[derive(Clone, Copy)]
pub enum Bins<'a> {
    /// Searched in the model's own cuts.
    Cuts(&'a BinCuts),
    /// Looked up by the rows' ranks among cuts shared with other models
    /// ([`SharedCuts::rank_rows`]; `model` is this one's place there).
    Shared {
        shared: &'a SharedCuts,
        model: usize,
        ranks: &'a [u16],
    },
}

impl Bins<'_> {
    /// Bins of the rows `first..` of `flat` (`p` values a row; `raw` is
    /// their slice of `flat`) into `out`.
    fn bin_rows(
        &self,
        raw: &[f64],
        first: usize,
        p: usize,
        used: Option<&[bool]>,
        out: &mut Vec<u8>,
    ) {
        match *self {
            Bins::Cuts(cuts) => cuts.bin_rows(raw, p, used, out),
            Bins::Shared {
                shared,
                model,
                ranks,
            } => {
                let ranks = &ranks[first * p..first * p + raw.len() / p * p];
                shared.bin_rows(model, ranks, used, out)
            }
        }
    }
}

/// Each row's sum of leaf values over `trees` (binned by `bins`), in tree
/// order, parallel over batches of rows. `x` has `n_features` columns (the
/// feature pipeline guarantees it).
pub(crate) fn leaf_sums(
    bins: Bins,
    trees: &[Tree],
    n_features: usize,
    x: ArrayView2<f64>,
) -> Vec<f64> {
    assert_eq!(
        x.ncols(),
        n_features,
        "trees fitted on {n_features} features"
    );
    let x = x.as_standard_layout();
    let p = x.ncols().max(1);
    let flat = x.as_slice().unwrap_or(&[]);
    let mut out = vec![0.0f64; x.nrows()];
    if x.nrows() < simd::MIN_ROWS {
        // A request's few customers: each walks several trees at once.
        let mut binned = Vec::new();
        bins.bin_rows(flat, 0, p, None, &mut binned);
        across::walk_rows(trees, &binned, p, &mut out, None);
        return out;
    }
    // Enough rows to repay sorting the splits, and every tree small.
    let quick = (x.nrows() >= QUICK_MIN_ROWS)
        .then(|| QuickTrees::new(trees, n_features))
        .flatten();
    let batch = x
        .nrows()
        .div_ceil(rayon::current_num_threads())
        .clamp(PREDICT_BATCH, PREDICT_BATCH_MAX);
    out.par_chunks_mut(batch)
        .zip(flat.par_chunks(batch * p))
        .enumerate()
        .for_each_init(Vec::new, |binned, (i, (chunk, raw))| {
            // The false-node scorer reads only the features that split.
            let used = quick.as_ref().map(|q| q.used());
            bins.bin_rows(raw, i * batch, p, used, binned);
            binned.resize(binned.len() + simd::BIN_PADDING, 0);
            match &quick {
                Some(q) => q.add_leaf_sums(binned, chunk),
                None => trees
                    .iter()
                    .for_each(|tree| walk_tree(tree, chunk.len(), p, binned, chunk, None)),
            }
        });
    out
}

/// For consecutive rows of `flat` (`p` values each): each row's sum of leaf
/// values over `trees`, summed in the same order as [`leaf_sums`], and its
/// path contributions summed over trees (`rows × p`). Contributions add up
/// in f32, the nodes' own precision, so that the vector walk and the scalar
/// one agree to the bit.
pub(crate) fn explain_sums(
    cuts: &BinCuts,
    trees: &[Tree],
    n_features: usize,
    flat: &[f64],
    p: usize,
) -> (Vec<f64>, Vec<f32>) {
    assert_eq!(p, n_features, "trees fitted on {n_features} features");
    let mut binned = Vec::new();
    cuts.bin_rows(flat, p, None, &mut binned);
    binned.resize(binned.len() + simd::BIN_PADDING, 0);
    let rows = flat.len() / p.max(1);
    let mut acc = vec![0.0f64; rows];
    let mut sums = vec![0.0f32; rows * p];
    if rows < simd::MIN_ROWS {
        // Too few rows to interleave: each walks several trees at once.
        across::walk_rows(trees, &binned, p, &mut acc, Some(&mut sums));
        return (acc, sums);
    }
    // Small trees (boosting's): leaves found by their false nodes, then
    // each leaf's path credited (same bits as the walk).
    if let Some(q) = (rows >= QUICK_MIN_ROWS)
        .then(|| QuickTrees::new(trees, n_features))
        .flatten()
    {
        q.explain(&LeafPaths::new(trees), &binned, &mut acc, &mut sums);
        return (acc, sums);
    }
    for tree in trees {
        walk_tree(tree, rows, p, &binned, &mut acc, Some(&mut sums));
    }
    (acc, sums)
}

/// Walk `rows` binned rows (row-major, `p` a row, padded for the vector
/// walk) through `tree`, adding each row's leaf value to `acc[r]` and, with
/// `sums`, its path contributions to `sums[r * p + feature]`. Small trees
/// level by level; others sixteen (AVX-512) or eight (AVX2) rows per vector
/// instruction ([`simd`]) when there are at least [`simd::MIN_ROWS`] rows,
/// else the scalar lane walk; all give the same bits.
pub fn walk_tree(
    tree: &Tree,
    rows: usize,
    p: usize,
    binned: &[u8],
    acc: &mut [f64],
    mut sums: Option<&mut [f32]>,
) {
    let bin = |r: usize, f: usize| binned[r * p + f];
    if tree.nodes.len() <= LEVEL_WALK_NODES {
        levels::walk(tree, rows, p, binned, acc, sums);
        return;
    }
    if simd::walk(tree, rows, p, binned, acc, sums.as_deref_mut()) {
        return;
    }
    let leaf = |r: usize, i: usize| acc[r] += tree.nodes[i].value as f64;
    // Two walks, so that predicting does not test for `sums` at every step.
    match sums {
        Some(s) => tree.walk_rows(
            rows,
            bin,
            |r, n: &Node, next| s[r * p + n.feature as usize] += tree.nodes[next].value - n.value,
            leaf,
        ),
        None => tree.walk_rows(rows, bin, |_, _, _| {}, leaf),
    }
}

/// Compact stored form: trees as [`Tree::encode`] writes them; thresholds
/// are the stored cut points.
#[derive(Serialize, Deserialize)]
struct ForestRepr {
    n_features: usize,
    cuts: BinCuts,
    importances: Vec<f64>,
    oob_auc: Option<f64>,
    node_format: String,
    trees: Vec<String>,
}

impl From<Forest> for ForestRepr {
    fn from(f: Forest) -> ForestRepr {
        let trees = f.trees.iter().map(Tree::encode).collect();
        ForestRepr {
            n_features: f.n_features,
            cuts: f.cuts,
            importances: f.importances,
            oob_auc: f.oob_auc,
            node_format: tree::NODE_FORMAT.into(),
            trees,
        }
    }
}

impl TryFrom<ForestRepr> for Forest {
    type Error = String;
    fn try_from(r: ForestRepr) -> std::result::Result<Forest, String> {
        let trees = decode_trees(&r.node_format, &r.cuts, r.n_features, &r.trees)?;
        Ok(Forest {
            n_features: r.n_features,
            cuts: r.cuts,
            trees,
            importances: r.importances,
            oob_auc: r.oob_auc,
        })
    }
}

/// Stored trees back into trees, checking that they fit `n_features` and
/// the cut points.
pub(crate) fn decode_trees(
    node_format: &str,
    cuts: &BinCuts,
    n_features: usize,
    trees: &[String],
) -> std::result::Result<Vec<Tree>, String> {
    if node_format != tree::NODE_FORMAT || cuts.n_features() != n_features {
        return Err("unknown tree node format".into());
    }
    if !cuts.fits_in_bins() {
        return Err("a feature has more cut points than 255 bins allow".into());
    }
    trees.iter().map(|s| Tree::decode(s, n_features)).collect()
}
