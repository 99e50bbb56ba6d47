//! One row across many trees: the service's walk (a request of one
//! customer through a 200-tree forest).
//!
//! The other walks interleave *rows* through one tree, which a lone row
//! cannot use: walked tree after tree, each step waits for the node the
//! last one chose, and the nodes of deep trees (megabytes in all) miss the
//! cache. Here [`LANES`] trees take their steps in lockstep, so the CPU
//! waits for their misses together. A leaf is its own child, so a tree that
//! reached its leaf stays put (no test per lane) and a group stops when no
//! lane moved. On deep forests this roughly halves the time to explain a
//! lone row, cold or warm (measured: docs/benchmarks.md, "Design measurements").
//!
//! The results keep the bits of the tree-by-tree walk: each step's node is
//! recorded, and the sums are made after, in tree order and path order,
//! with the same f32 and f64 operations.

use crate::tree::Tree;

/// Trees walked at once.
pub const LANES: usize = 8;

/// For each row of `binned` (`p` bins a row; whatever follows the last of
/// `acc.len()` rows is not walked): add its leaf value in every tree to
/// `acc[r]`, in tree order, and with `sums` (`p` slots a row) its path
/// contributions: what [`crate::ensembles::forest::walk_tree`] gives the rows tree by
/// tree.
pub fn walk_rows(
    trees: &[Tree],
    binned: &[u8],
    p: usize,
    acc: &mut [f64],
    mut sums: Option<&mut [f32]>,
) {
    let mut path = Vec::new();
    for (r, (acc, bins)) in acc.iter_mut().zip(binned.chunks(p)).enumerate() {
        let sums = sums.as_deref_mut().map(|s| &mut s[r * p..(r + 1) * p]);
        walk(trees, bins, acc, sums, &mut path);
    }
}

/// One row of [`walk_rows`]: `bins` is the row's bins; `path` is scratch,
/// reused between rows.
fn walk(
    trees: &[Tree],
    bins: &[u8],
    acc: &mut f64,
    mut sums: Option<&mut [f32]>,
    path: &mut Vec<[u32; LANES]>,
) {
    for group in trees.chunks(LANES) {
        // A short last group repeats its last tree in the spare lanes.
        let lane = |k: usize| &group[k.min(group.len() - 1)].nodes;
        let mut at = [0u32; LANES];
        path.clear();
        loop {
            let mut moved = 0;
            for (k, at) in at.iter_mut().enumerate() {
                let n = &lane(k)[*at as usize];
                let next = n.next(bins[n.feature as usize]) as u32;
                moved |= next ^ *at;
                *at = next;
            }
            if moved == 0 {
                break;
            }
            path.push(at);
        }
        for (k, tree) in group.iter().enumerate() {
            let nodes = &tree.nodes;
            if let Some(sums) = sums.as_deref_mut() {
                let mut i = 0;
                for step in path.iter() {
                    let next = step[k] as usize;
                    if next == i {
                        break;
                    }
                    let n = &nodes[i];
                    sums[n.feature as usize] += nodes[next].value - n.value;
                    i = next;
                }
            }
            *acc += nodes[at[k] as usize].value as f64;
        }
    }
}
