//! Prediction of many small trees at once by their false nodes
//! (QuickScorer: Lucchese et al., SIGIR 2015), for boosting's 31-leaf trees.
//!
//! Why: a level-by-level walk moves every row one level per pass, as many
//! passes as the deepest leaf, though most rows stop earlier; and each step
//! waits on the one before. Here each tree's leaves are bits of a mask
//! (left to right), and each split knows which leaves its left side holds.
//! A row visits, feature by feature, only the splits it fails (its bin is
//! above the split's), clearing their left leaves from their tree's mask;
//! the exit leaf of every tree is then the lowest bit still set. The splits
//! of a feature are sorted by bin, so the failed ones are a prefix whose
//! length is looked up per bin; no step depends on the one before.
//!
//! The leaves found are exactly the walk's, and each row adds its leaf
//! values in tree order, so the sums are the same to the bit.
//!
//! Path contributions (reasons) take the same scan: the kernels note each
//! row's leaf per tree, and each leaf's steps from the root, computed once
//! per batch ([`LeafPaths`]), are credited in tree and path order — the
//! walk's additions in the walk's order, in less CPU than the level walk's
//! contributions (measured: docs/benchmarks.md, "Design measurements").
//! Measured on the 1M-row boosting benchmark (100 trees, 30 features,
//! AMD EPYC, 2 threads): see experiments/bench/boost_results.md.

use crate::tree::Tree;
use crate::walks::simd::{self, Path};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Leaves a tree may have to be scored here (one bit each in a `u64`).
pub const MAX_LEAVES: usize = 64;

/// Bins a `u8` can name.
const BINS: usize = 256;

/// Zeros after the leaf values (see [`QuickTrees`]'s `values`).
const VALUE_PADDING: usize = 32;

/// Every split of a set of small trees, grouped by feature and sorted by bin.
pub struct QuickTrees {
    n_features: usize,
    /// Per feature: the start of its splits in `tree`/`mask`, and per bin
    /// `b` (1..=255) the end of the splits with `bin < b` (those a row in
    /// bin `b` fails). Index `f * BINS + b`; `b = 0` holds the start.
    ends: Vec<u32>,
    /// Per feature, the splits a missing value fails (missing goes right),
    /// as ranges of `miss_tree`/`miss_mask`.
    miss_ends: Vec<u32>,
    tree: Vec<u16>,
    mask: Vec<u64>,
    /// Each split's bin, for the vector path's broadcast compare.
    bin: Vec<u32>,
    miss_tree: Vec<u16>,
    miss_mask: Vec<u64>,
    /// Leaf values of every tree, left to right, and each tree's first;
    /// then [`VALUE_PADDING`] zeros, so that the AVX-512 path can load any
    /// tree's 32 first values at once.
    values: Vec<f32>,
    /// Leaves of all trees (`values` without its padding).
    n_leaves: usize,
    first_leaf: Vec<u32>,
    /// Per feature: does any tree split on it? (Others need no bins.)
    used: Vec<bool>,
}

impl QuickTrees {
    /// The splits of `trees` (over `n_features` features), or `None` when a
    /// tree has more than [`MAX_LEAVES`] leaves or there are more than
    /// `u16::MAX` trees.
    pub fn new(trees: &[Tree], n_features: usize) -> Option<QuickTrees> {
        if trees.len() > u16::MAX as usize {
            return None;
        }
        // (feature, bin, tree, mask, missing goes right)
        let mut splits: Vec<(usize, u8, u16, u64, bool)> = Vec::new();
        let (mut values, mut first_leaf) = (Vec::new(), Vec::with_capacity(trees.len()));
        for (t, tree) in trees.iter().enumerate() {
            first_leaf.push(values.len() as u32);
            let start = values.len();
            // Depth first, left before right: leaves numbered left to right;
            // each split's left leaves are a run [lo, hi) of that numbering.
            let mut stack = vec![(0usize, false)];
            let mut open: Vec<(usize, usize)> = Vec::new(); // (node, first leaf)
            while let Some((i, done)) = stack.pop() {
                let n = &tree.nodes[i];
                if n.is_leaf(i) {
                    values.push(n.value);
                    if values.len() - start > MAX_LEAVES {
                        return None;
                    }
                    continue;
                }
                if done {
                    // Left subtree finished: its leaves are [lo, here).
                    let (node, lo) = open.pop().expect("pushed before its left subtree");
                    debug_assert_eq!(node, i);
                    let hi = values.len() - start;
                    let left: u64 = (lo..hi).fold(0, |m, b| m | 1 << b);
                    let f = n.feature as usize;
                    if f >= n_features {
                        return None;
                    }
                    splits.push((f, n.bin, t as u16, !left, !n.missing_left));
                    continue;
                }
                open.push((i, values.len() - start));
                let l = n.left as usize;
                // Right subtree after the marker, the marker after the left.
                stack.push((l + 1, false));
                stack.push((i, true));
                stack.push((l, false));
            }
        }
        let n_leaves = values.len();
        values.resize(n_leaves + VALUE_PADDING, 0.0);
        splits.sort_by_key(|s| (s.0, s.1));
        let mut used = vec![false; n_features];
        splits.iter().for_each(|s| used[s.0] = true);
        let mut q = QuickTrees {
            n_features,
            ends: vec![0; n_features * BINS],
            miss_ends: vec![0; n_features + 1],
            tree: splits.iter().map(|s| s.2).collect(),
            mask: splits.iter().map(|s| s.3).collect(),
            bin: splits.iter().map(|s| s.1 as u32).collect(),
            miss_tree: Vec::new(),
            miss_mask: Vec::new(),
            n_leaves,
            values,
            first_leaf,
            used,
        };
        let mut at = 0;
        for f in 0..n_features {
            q.ends[f * BINS] = at as u32;
            let mine_end = at + splits[at..].iter().take_while(|s| s.0 == f).count();
            for b in 1..BINS {
                // Splits of f with bin < b: a row in bin b is above them.
                let below = splits[at..mine_end].partition_point(|s| (s.1 as usize) < b);
                q.ends[f * BINS + b] = (at + below) as u32;
            }
            for s in &splits[at..mine_end] {
                if s.4 {
                    q.miss_tree.push(s.2);
                    q.miss_mask.push(s.3);
                }
            }
            q.miss_ends[f + 1] = q.miss_tree.len() as u32;
            at = mine_end;
        }
        Some(q)
    }

    /// Per feature: does any tree split on it? The scorer skips the
    /// others, so their bins are never read (nor need binning).
    pub fn used(&self) -> &[bool] {
        &self.used
    }

    /// Add each tree's leaf value, in tree order, to `acc[r]` for rows
    /// `0..acc.len()` of `binned` (row-major, `n_features` bins a row, then
    /// [`simd::BIN_PADDING`] bytes): sixteen rows at a time in AVX-512
    /// lanes or eight in AVX2 lanes, as the selected path has them, when
    /// every tree has at most 32 leaves; the rest one row at a time. Same
    /// bits every way.
    pub fn add_leaf_sums(&self, binned: &[u8], acc: &mut [f64]) {
        self.add_leaf_sums_with(simd::selected(), binned, acc);
    }

    /// [`QuickTrees::add_leaf_sums`] on a given path (tests compare them).
    pub fn add_leaf_sums_with(&self, path: Path, binned: &[u8], acc: &mut [f64]) {
        self.scan(path, binned, acc, &mut []);
    }

    /// [`QuickTrees::add_leaf_sums`] and each row's path contributions
    /// (Saabas, as the tree walks credit them): every step's change in node
    /// value added to `sums[r * n_features + feature]`, tree by tree and
    /// root to leaf, the walks' order, so the sums are theirs to the bit.
    /// `paths` must be [`LeafPaths::new`] of the same trees.
    pub fn explain(&self, paths: &LeafPaths, binned: &[u8], acc: &mut [f64], sums: &mut [f32]) {
        self.explain_with(simd::selected(), paths, binned, acc, sums);
    }

    /// [`QuickTrees::explain`] on a given path (tests compare them).
    pub fn explain_with(
        &self,
        path: Path,
        paths: &LeafPaths,
        binned: &[u8],
        acc: &mut [f64],
        sums: &mut [f32],
    ) {
        let (trees, p) = (self.first_leaf.len(), self.n_features);
        let mut leaves = vec![0u32; acc.len() * trees];
        self.scan(path, binned, acc, &mut leaves);
        for (row, sums) in leaves
            .chunks_exact(trees.max(1))
            .zip(sums.chunks_exact_mut(p.max(1)))
        {
            for &leaf in row {
                for &(f, change) in paths.of(leaf as usize) {
                    sums[f as usize] += change;
                }
            }
        }
    }

    /// Add the leaf sums of rows `0..acc.len()`, and with a non-empty
    /// `leaves` (rows × trees) note each row's leaf per tree.
    fn scan(&self, path: Path, binned: &[u8], acc: &mut [f64], leaves: &mut [u32]) {
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if path != Path::Scalar && path.supported() && self.fits_lanes(binned.len(), leaves.len()) {
            // SAFETY: the CPU has the path's instructions (checked above);
            // the sizes are within the vector paths' limits (fits_lanes).
            done = unsafe {
                match path {
                    Path::Avx512 => avx512::add_leaf_sums(self, binned, acc, leaves),
                    _ => avx2::add_leaf_sums(self, binned, acc, leaves),
                }
            };
        }
        let (p, trees) = (self.n_features, self.first_leaf.len());
        let rest = leaves.get_mut(done * trees..).unwrap_or_default();
        self.add_rows(&binned[done * p..], &mut acc[done..], rest);
    }

    /// Whether the vector path can take these trees and rows: masks of 32
    /// bits, bin offsets within `i32`, the padding gathers read.
    fn fits_lanes(&self, binned_len: usize, leaves_len: usize) -> bool {
        let leaves = self.first_leaf.windows(2).map(|w| w[1] - w[0]);
        let last = self.n_leaves as u32 - self.first_leaf.last().copied().unwrap_or(0);
        leaves.chain([last]).all(|n| n <= 32)
            && binned_len < i32::MAX as usize
            && leaves_len < i32::MAX as usize
    }

    /// Do `binned` and `leaves` (empty, or noted) hold `rows` rows, with the
    /// padding the vector kernels' bin gathers read?
    fn sizes_fit(&self, binned: &[u8], rows: usize, leaves: &[u32]) -> bool {
        let (p, trees) = (self.n_features, self.first_leaf.len());
        p > 0
            && binned.len() >= rows * p + simd::BIN_PADDING
            && (leaves.is_empty() || leaves.len() >= rows * trees)
    }

    /// The scalar path: one row at a time (leaves noted as in [`QuickTrees::scan`]).
    fn add_rows(&self, binned: &[u8], acc: &mut [f64], leaves: &mut [u32]) {
        let (p, trees) = (self.n_features, self.first_leaf.len());
        let mut live = vec![u64::MAX; self.first_leaf.len()];
        for (r, out) in acc.iter_mut().enumerate() {
            live.iter_mut().for_each(|m| *m = u64::MAX);
            let row = binned[r * p..(r + 1) * p].iter().enumerate();
            for (f, &b) in row.filter(|&(f, _)| self.used[f]) {
                // The splits this row fails: their trees lose their left leaves.
                let (trees, masks) = if b == 0 {
                    let (lo, hi) = (self.miss_ends[f] as usize, self.miss_ends[f + 1] as usize);
                    (&self.miss_tree[lo..hi], &self.miss_mask[lo..hi])
                } else {
                    let lo = self.ends[f * BINS] as usize;
                    let hi = self.ends[f * BINS + b as usize] as usize;
                    (&self.tree[lo..hi], &self.mask[lo..hi])
                };
                for (&t, &m) in trees.iter().zip(masks) {
                    live[t as usize] &= m;
                }
            }
            let mut sum = *out;
            for (t, (&m, &first)) in live.iter().zip(&self.first_leaf).enumerate() {
                let leaf = first as usize + m.trailing_zeros() as usize;
                sum += self.values[leaf] as f64;
                if let Some(at) = leaves.get_mut(r * trees + t) {
                    *at = leaf as u32;
                }
            }
            *out = sum;
        }
    }
}

/// Every leaf's path from the root of a set of small trees, for path
/// contributions: per leaf (numbered as [`QuickTrees`] numbers them, tree
/// by tree, left to right) its steps in root-to-leaf order, each the split
/// feature and the change in node value the step makes (the walks' f32
/// subtraction, so the same numbers).
pub struct LeafPaths {
    steps: Vec<(u32, f32)>,
    /// Leaf k's steps are `steps[ends[k]..ends[k + 1]]`.
    ends: Vec<u32>,
}

impl LeafPaths {
    pub fn new(trees: &[Tree]) -> LeafPaths {
        let mut paths = LeafPaths {
            steps: Vec::new(),
            ends: vec![0],
        };
        let mut path = Vec::new();
        for tree in trees.iter().filter(|t| !t.nodes.is_empty()) {
            paths.add(tree, 0, &mut path);
        }
        paths
    }

    /// The leaves under node `i`, left to right; `path` leads to `i`.
    fn add(&mut self, tree: &Tree, i: usize, path: &mut Vec<(u32, f32)>) {
        let n = &tree.nodes[i];
        if n.is_leaf(i) {
            self.steps.extend_from_slice(path);
            self.ends.push(self.steps.len() as u32);
            return;
        }
        for child in [n.left as usize, n.left as usize + 1] {
            path.push((n.feature as u32, tree.nodes[child].value - n.value));
            self.add(tree, child, path);
            path.pop();
        }
    }

    /// The steps to leaf `k` (none for a leaf it does not know).
    fn of(&self, k: usize) -> &[(u32, f32)] {
        match (self.ends.get(k), self.ends.get(k + 1)) {
            (Some(&lo), Some(&hi)) => &self.steps[lo as usize..hi as usize],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;
    use crate::walks::levels;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random tree of `leaves` leaves over `p` features (children after
    /// their parent, as the growers store them).
    fn random_tree(rng: &mut ChaCha8Rng, leaves: usize, p: usize) -> Tree {
        let mut nodes = vec![Node::leaf(0, rng.random::<f32>())];
        let mut open = vec![0usize];
        while nodes.len() < 2 * leaves - 1 {
            let i = open.swap_remove(rng.random_range(0..open.len()));
            let left = nodes.len();
            nodes.push(Node::leaf(left, rng.random::<f32>() - 0.5));
            nodes.push(Node::leaf(left + 1, rng.random::<f32>() - 0.5));
            let n = &mut nodes[i];
            n.feature = rng.random_range(0..p) as u16;
            n.bin = rng.random_range(1..255u8);
            n.missing_left = rng.random();
            n.left = left as u32;
            open.extend([left, left + 1]);
        }
        Tree { nodes }
    }

    /// `rows` random binned rows over `p` features, a tenth missing, then
    /// the padding the vector path reads.
    fn random_rows(rng: &mut ChaCha8Rng, rows: usize, p: usize) -> Vec<u8> {
        let mut binned: Vec<u8> = (0..rows * p)
            .map(|_| {
                if rng.random_range(0..10) == 0 {
                    0
                } else {
                    rng.random_range(1..=255u8)
                }
            })
            .collect();
        binned.resize(binned.len() + simd::BIN_PADDING, 0);
        binned
    }

    /// Every path the CPU has against the level walk, to the bit.
    fn check_paths(trees: &[Tree], p: usize, rows: usize, rng: &mut ChaCha8Rng) {
        let binned = random_rows(rng, rows, p);
        let mut walked = vec![0.25f64; rows];
        for tree in trees {
            levels::walk(tree, rows, p, &binned, &mut walked, None);
        }
        let quick = QuickTrees::new(trees, p).expect("small trees");
        for path in Path::ALL {
            if !path.supported() {
                eprintln!("skipped: this CPU has no {} path", path.name());
                continue;
            }
            let mut sums = vec![0.25f64; rows];
            quick.add_leaf_sums_with(path, &binned, &mut sums);
            let same = walked
                .iter()
                .zip(&sums)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{} path differs from the level walk", path.name());
        }
        check_explain(trees, p, rows, &binned);
    }

    /// Path contributions by leaf paths against the level walk's, to the
    /// bit, on every path the CPU has (and the leaf sums beside them).
    fn check_explain(trees: &[Tree], p: usize, rows: usize, binned: &[u8]) {
        let (mut walked, mut walked_sums) = (vec![0.0f64; rows], vec![0.0f32; rows * p]);
        for tree in trees {
            levels::walk(tree, rows, p, binned, &mut walked, Some(&mut walked_sums));
        }
        assert!(walked_sums.iter().any(|&s| s != 0.0));
        let quick = QuickTrees::new(trees, p).expect("small trees");
        let paths = LeafPaths::new(trees);
        for path in Path::ALL.into_iter().filter(|p| p.supported()) {
            let (mut acc, mut sums) = (vec![0.0f64; rows], vec![0.0f32; rows * p]);
            quick.explain_with(path, &paths, binned, &mut acc, &mut sums);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&sums),
                bits(&walked_sums),
                "{} contributions",
                path.name()
            );
            let same = walked
                .iter()
                .zip(&acc)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{} leaf sums while explaining", path.name());
        }
    }

    #[test]
    fn same_leaves_and_sums_as_the_level_walk() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Up to 32 leaves (the vector path's masks), rows not a multiple of 16.
        let trees: Vec<Tree> = (0..40)
            .map(|t| random_tree(&mut rng, 1 + t % 32, 7))
            .collect();
        check_paths(&trees, 7, 3_001, &mut rng);
        // Up to 64 leaves: one row at a time on every CPU.
        let trees: Vec<Tree> = (0..20).map(|t| random_tree(&mut rng, 33 + t, 5)).collect();
        check_paths(&trees, 5, 999, &mut rng);
        // Splits on features 0..3 of 7: the others are skipped by every path.
        let trees: Vec<Tree> = (0..30).map(|t| random_tree(&mut rng, 1 + t, 3)).collect();
        check_paths(&trees, 7, 1_003, &mut rng);
    }

    #[test]
    fn large_trees_are_declined() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let big = random_tree(&mut rng, MAX_LEAVES + 1, 3);
        assert!(QuickTrees::new(&[big], 3).is_none());
        let ok = random_tree(&mut rng, MAX_LEAVES, 3);
        assert!(QuickTrees::new(&[ok], 3).is_some());
    }
}
