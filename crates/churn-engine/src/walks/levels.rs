//! The level-by-level walk of small trees (gradient boosting's 31-leaf
//! trees, shallow decision trees): every row of a block moves one level per
//! pass, as many passes as the tree is deep. A leaf points to itself, so a
//! row that reached its leaf stays put: no leaf tests and no lane refills,
//! and the rows of a pass are independent loads ([`Tree::walk_levels`]).
//! Each row's leaf value is added to `acc` in tree order, so the bits are
//! those of every other walk.
//!
//! Predicting and explaining many rows of such trees now go through
//! [`crate::walks::quick`] (several times faster); this walk stays for batches
//! too small to repay building its split lists.
//!
//! Measured on the 1M-row boosting benchmark (AMD EPYC, 2 threads):
//! predict 505k rows/s with the AVX2 lane walk, 800k level by level. An
//! AVX2 version of the level walk (eight rows per gather) was slower, 599k:
//! this CPU's gathers cost more than the scalar loads they replace.

use crate::tree::{Node, Tree};

/// Walk rows `0..rows` of `binned` (row-major, `p` bins a row) through the small `tree`; see [`crate::ensembles::forest::walk_tree`].
pub fn walk(
    tree: &Tree,
    rows: usize,
    p: usize,
    binned: &[u8],
    acc: &mut [f64],
    sums: Option<&mut [f32]>,
) {
    let depth = tree.depth();
    let bin = |r: usize, f: usize| binned[r * p + f];
    match sums {
        Some(s) => tree.walk_levels(
            rows,
            depth,
            bin,
            |r, n: &Node, next| s[r * p + n.feature as usize] += tree.nodes[next].value - n.value,
            |r, i| acc[r] += tree.nodes[i].value as f64,
        ),
        None => tree.walk_levels(
            rows,
            depth,
            bin,
            |_, _, _| {},
            |r, i| acc[r] += tree.nodes[i].value as f64,
        ),
    }
}
