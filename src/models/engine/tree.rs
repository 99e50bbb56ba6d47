//! Growing one CART tree on binned data with per-node histograms.
//!
//! Each node's histogram holds, per feature and bin, the row count, the
//! weight and the churn weight. When every feature is a candidate (a single
//! decision tree) only the smaller child's histogram is built and the larger
//! one is the parent's minus it (sibling subtraction); a forest, which looks
//! at a few random features per split, builds just those. Missing values have
//! their own bin and every split learns which side they go to.

#[cfg(doc)]
use super::bins::BinCuts;
use super::bins::BinnedMatrix;
use crate::models::tree::params::{Criterion, TreeParams};
use base64::Engine as _;
use rand::Rng;
use rayon::prelude::*;

/// Rows in a node above which histograms are built in parallel over features.
const PARALLEL_ROWS: usize = 50_000;

/// (row count, weight, churn weight)
type Stat = [f64; 3];

/// One node of a flat tree, 12 bytes so that five share a cache line: deep
/// trees are walked at the speed of their cache misses. The right child is
/// always `left + 1`; a leaf points to itself (`left` = its own index).
/// Splits compare bins, not raw values: rows are binned with the training
/// cut points before a walk, and bin <= `bin` is exactly raw value <= the
/// cut point (see [`BinCuts::threshold`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Node {
    pub feature: u16,
    /// Split: bin <= `bin` goes left.
    pub bin: u8,
    pub missing_left: bool,
    pub left: u32,
    /// Churn share (weighted) of the training rows in the node.
    pub value: f32,
}

impl Node {
    /// A leaf at position `index` of its tree.
    pub fn leaf(index: usize, value: f32) -> Node {
        Node {
            feature: 0,
            bin: u8::MAX,
            missing_left: true,
            left: index as u32,
            value,
        }
    }

    /// Is this, the node at position `index`, a leaf?
    #[inline(always)]
    pub fn is_leaf(&self, index: usize) -> bool {
        self.left as usize == index
    }

    /// The child a row whose split feature is in bin `b` goes to (bin 0 =
    /// missing follows the learned direction); a leaf's is itself.
    #[inline(always)]
    pub fn next(&self, b: u8) -> usize {
        let left = if b == 0 {
            self.missing_left
        } else {
            b <= self.bin
        };
        self.left as usize + (!left) as usize
    }
}

/// Ask the CPU to fetch the node at `p` into cache: a lane's next node is
/// known a whole round (seven other lanes) before it is read.
#[inline(always)]
fn prefetch(p: *const Node) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Rows walked together by [`Tree::walk_rows`].
pub const LANES: usize = 8;

/// A fitted tree as a flat node array (cache friendly to walk).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf (node index) one row reaches; `bin(f)` is its bin of feature f.
    #[inline]
    pub fn leaf_of(&self, bin: impl Fn(usize) -> u8) -> usize {
        let mut i = 0usize;
        while !self.nodes[i].is_leaf(i) {
            let n = &self.nodes[i];
            i = n.next(bin(n.feature as usize));
        }
        i
    }

    /// Walk rows `0..n_rows` from the root to their leaves, `LANES` at a
    /// time: deep trees are bound by cache misses on their nodes, and
    /// independent walks let the CPU wait for several misses at once. A lane
    /// whose row reached its leaf takes the next row at once, so no lane
    /// idles while a deeper row finishes. `bin(r, f)` is row r's bin of
    /// feature f; `step(r, node, next)` sees every move and `leaf(r, i)`
    /// each row's leaf (node index), once.
    #[inline(always)]
    pub fn walk_rows(
        &self,
        n_rows: usize,
        bin: impl Fn(usize, usize) -> u8,
        mut step: impl FnMut(usize, &Node, usize),
        mut leaf: impl FnMut(usize, usize),
    ) {
        if n_rows == 1 {
            // One row (a service request): nothing to interleave with.
            let mut i = 0;
            loop {
                let n = &self.nodes[i];
                if n.is_leaf(i) {
                    return leaf(0, i);
                }
                let next = n.next(bin(0, n.feature as usize));
                step(0, n, next);
                i = next;
            }
        }
        const IDLE: usize = usize::MAX;
        let mut row = [IDLE; LANES];
        let mut at = [0usize; LANES];
        let mut fed = n_rows.min(LANES);
        (0..fed).for_each(|k| row[k] = k);
        let mut live = fed;
        // One step of lane k: move its row down, or hand in its leaf and
        // take the next row (or go idle when none is left).
        macro_rules! advance {
            ($k:expr) => {{
                let k = $k;
                let (i, r) = (at[k], row[k]);
                let n = &self.nodes[i];
                if n.is_leaf(i) {
                    leaf(r, i);
                    at[k] = 0;
                    row[k] = if fed < n_rows {
                        fed += 1;
                        fed - 1
                    } else {
                        live -= 1;
                        IDLE
                    };
                } else {
                    let next = n.next(bin(r, n.feature as usize));
                    step(r, n, next);
                    at[k] = next;
                    prefetch(self.nodes.as_ptr().wrapping_add(next));
                }
            }};
        }
        // Every lane busy: no idle check in the hot loop.
        while live == LANES {
            for k in 0..LANES {
                advance!(k);
            }
        }
        while live > 0 {
            for k in 0..LANES {
                if row[k] != IDLE {
                    advance!(k);
                }
            }
        }
    }

    /// The longest root-to-leaf path (edges).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        let mut deepest = 0;
        // Children always sit after their parent, so one forward pass works.
        for i in 0..self.nodes.len() {
            let n = &self.nodes[i];
            if !n.is_leaf(i) {
                let (l, d) = (n.left as usize, depth[i] + 1);
                depth[l] = d;
                depth[l + 1] = d;
                deepest = deepest.max(d);
            }
        }
        deepest
    }

    /// Walk rows `0..n_rows` level by level: every row of a block moves one
    /// level down per pass, `depth` passes in all (a leaf points to itself,
    /// so a row that reached its leaf stays there; stopping a block early
    /// once no row moved was measured slower). No leaf tests, no lane
    /// refills, and the rows of a pass are independent loads: for small,
    /// shallow trees (boosting's) this is several times faster than
    /// [`Tree::walk_rows`]. `step(r, node, next)` sees every move (also a
    /// leaf's move to itself, with equal values: a path contribution of
    /// exactly 0); `leaf(r, i)` each row's leaf, once.
    #[inline(always)]
    pub fn walk_levels(
        &self,
        n_rows: usize,
        depth: usize,
        bin: impl Fn(usize, usize) -> u8,
        mut step: impl FnMut(usize, &Node, usize),
        mut leaf: impl FnMut(usize, usize),
    ) {
        const BLOCK: usize = 64;
        let mut at = [0u32; BLOCK];
        for start in (0..n_rows).step_by(BLOCK) {
            let len = BLOCK.min(n_rows - start);
            at[..len].iter_mut().for_each(|a| *a = 0);
            for _ in 0..depth {
                for (k, a) in at[..len].iter_mut().enumerate() {
                    let r = start + k;
                    let n = &self.nodes[*a as usize];
                    let next = n.next(bin(r, n.feature as usize));
                    step(r, n, next);
                    *a = next as u32;
                }
            }
            for (k, &a) in at[..len].iter().enumerate() {
                leaf(start + k, a as usize);
            }
        }
    }

    /// Churn probability for row `r` of a column-major binned matrix.
    #[inline]
    pub fn predict_binned(&self, bins: &BinnedMatrix, r: usize) -> f32 {
        self.nodes[self.leaf_of(|f| bins.column(f)[r])].value
    }
}

/// A leaf at `index` holding the churn share of stats `s`.
fn leaf(index: usize, s: &Stat) -> Node {
    Node::leaf(
        index,
        if s[1] > 0.0 {
            (s[2] / s[1]) as f32
        } else {
            0.0
        },
    )
}

/// Weighted impurity × weight of a node with these stats.
#[inline]
fn score(s: &Stat, c: Criterion) -> f64 {
    let (w, wy) = (s[1], s[2]);
    if w <= 0.0 {
        return 0.0;
    }
    match c {
        Criterion::Gini => 2.0 * wy * (w - wy) / w,
        Criterion::Entropy => {
            let p = (wy / w).clamp(0.0, 1.0);
            let h = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
            w * (h(p) + h(1.0 - p))
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: u8,
    missing_left: bool,
    gain: f64,
    left: Stat,
}

fn add(a: &Stat, b: &Stat) -> Stat {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: &Stat, b: &Stat) -> Stat {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The best split of one feature from its histogram `h`.
fn best_for_feature(f: usize, h: &[Stat], tot: &Stat, p: &TreeParams) -> Option<Split> {
    let msl = p.min_samples_leaf as f64;
    let parent = score(tot, p.criterion);
    let miss = h[0];
    let mut cum = [0.0; 3];
    let mut best: Option<Split> = None;
    for b in 1..h.len() {
        cum = add(&cum, &h[b]);
        if h[b][0] == 0.0 && b + 1 < h.len() {
            continue;
        }
        for missing_left in [false, true] {
            if missing_left && miss[0] == 0.0 {
                continue;
            }
            let left = if missing_left { add(&cum, &miss) } else { cum };
            let right = sub(tot, &left);
            if left[0] < msl || right[0] < msl || left[1] <= 0.0 || right[1] <= 0.0 {
                continue;
            }
            let gain = parent - score(&left, p.criterion) - score(&right, p.criterion);
            if best.is_none_or(|s| gain > s.gain) {
                best = Some(Split {
                    feature: f,
                    bin: b as u8,
                    missing_left,
                    gain,
                    left,
                });
            }
        }
    }
    best
}

/// Grows trees over one binned matrix; holds the per-row weights.
pub struct Grower<'a> {
    pub bins: &'a BinnedMatrix,
    pub y: &'a [u8],
    offsets: Vec<usize>,
}

impl<'a> Grower<'a> {
    pub fn new(bins: &'a BinnedMatrix, y: &'a [u8]) -> Self {
        let mut offsets = vec![0];
        for &nb in &bins.n_bins {
            offsets.push(offsets.last().copied().unwrap_or(0) + nb);
        }
        Grower { bins, y, offsets }
    }

    fn build(&self, hist: &mut [Stat], feats: &[usize], rows: &[u32], w: &[f32]) {
        let fill = |f: usize, h: &mut [Stat]| {
            h.iter_mut().for_each(|e| *e = [0.0; 3]);
            let col = self.bins.column(f);
            for &r in rows {
                let r = r as usize;
                let e = &mut h[col[r] as usize];
                let wr = w[r] as f64;
                e[0] += 1.0;
                e[1] += wr;
                e[2] += wr * self.y[r] as f64;
            }
        };
        if rows.len() >= PARALLEL_ROWS && feats.len() > 1 {
            let parts: Vec<(usize, Vec<Stat>)> = feats
                .par_iter()
                .map(|&f| {
                    let mut h = vec![[0.0; 3]; self.offsets[f + 1] - self.offsets[f]];
                    fill(f, &mut h);
                    (f, h)
                })
                .collect();
            for (f, h) in parts {
                hist[self.offsets[f]..self.offsets[f + 1]].copy_from_slice(&h);
            }
        } else {
            for &f in feats {
                fill(f, &mut hist[self.offsets[f]..self.offsets[f + 1]]);
            }
        }
    }

    fn best(&self, hist: &[Stat], feats: &[usize], tot: &Stat, p: &TreeParams) -> Option<Split> {
        let mut best: Option<Split> = None;
        for &f in feats {
            if let Some(s) =
                best_for_feature(f, &hist[self.offsets[f]..self.offsets[f + 1]], tot, p)
            {
                // Ties go to the lower feature index, whatever the sampling order.
                if best
                    .is_none_or(|b| s.gain > b.gain || (s.gain == b.gain && s.feature < b.feature))
                {
                    best = Some(s);
                }
            }
        }
        best
    }

    /// Grow a tree on `rows` (rows with weight > 0) with per-row weights
    /// `w`, trying `max_features` random features at each split.
    /// Adds each split's impurity decrease to `importance`.
    pub fn grow<R: Rng>(
        &self,
        mut rows: Vec<u32>,
        w: &[f32],
        p: &TreeParams,
        max_features: usize,
        rng: &mut R,
        importance: &mut [f64],
    ) -> Tree {
        let n_feat = self.bins.n_cols;
        let full = max_features >= n_feat;
        let total_bins = *self.offsets.last().unwrap_or(&0);
        let all: Vec<usize> = (0..n_feat).collect();
        let mut feats = all.clone();
        let mut scratch = vec![[0.0; 3]; if full { 0 } else { total_bins }];
        let root_hist = full.then(|| {
            let mut h = vec![[0.0; 3]; total_bins];
            self.build(&mut h, &all, &rows, w);
            h
        });
        let tot = rows.iter().fold([0.0; 3], |acc, &r| {
            let wr = w[r as usize] as f64;
            [
                acc[0] + 1.0,
                acc[1] + wr,
                acc[2] + wr * self.y[r as usize] as f64,
            ]
        });
        let root_weight = tot[1].max(f64::MIN_POSITIVE);
        let mut nodes = vec![leaf(0, &tot)];
        let mut rows_in = vec![tot[0]];
        struct Item {
            node: usize,
            start: usize,
            end: usize,
            depth: usize,
            hist: Option<Vec<Stat>>,
            tot: Stat,
        }
        let mut stack = vec![Item {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            hist: root_hist,
            tot,
        }];
        while let Some(it) = stack.pop() {
            let pure = it.tot[2] <= 0.0 || it.tot[2] >= it.tot[1];
            if pure
                || (p.max_depth > 0 && it.depth >= p.max_depth)
                || it.tot[0] < 2.0 * p.min_samples_leaf as f64
            {
                continue;
            }
            let node_rows = &rows[it.start..it.end];
            let split = match &it.hist {
                Some(h) => self.best(h, &all, &it.tot, p),
                None => {
                    let k = max_features.min(n_feat);
                    for i in 0..k {
                        let j = rng.random_range(i..n_feat);
                        feats.swap(i, j);
                    }
                    self.build(&mut scratch, &feats[..k], node_rows, w);
                    self.best(&scratch, &feats[..k], &it.tot, p)
                }
            };
            let Some(s) = split.filter(|s| s.gain > 1e-12 && s.gain / root_weight >= p.min_gain)
            else {
                continue;
            };
            let col = self.bins.column(s.feature);
            let goes_left = |r: u32| {
                let b = col[r as usize];
                if b == 0 {
                    s.missing_left
                } else {
                    b <= s.bin
                }
            };
            let mid = it.start + partition(&mut rows[it.start..it.end], goes_left);
            let right_tot = sub(&it.tot, &s.left);
            let left_id = nodes.len();
            nodes.push(leaf(left_id, &s.left));
            nodes.push(leaf(left_id + 1, &right_tot));
            rows_in.extend([s.left[0], right_tot[0]]);
            let n = &mut nodes[it.node];
            n.feature = s.feature as u16;
            n.bin = s.bin;
            n.missing_left = s.missing_left;
            n.left = left_id as u32;
            importance[s.feature] += s.gain;
            let (left_hist, right_hist) = match it.hist {
                Some(mut parent) => {
                    let left_small = mid - it.start <= it.end - mid;
                    let small_rows = if left_small {
                        &rows[it.start..mid]
                    } else {
                        &rows[mid..it.end]
                    };
                    let mut small = vec![[0.0; 3]; total_bins];
                    self.build(&mut small, &all, small_rows, w);
                    parent
                        .iter_mut()
                        .zip(&small)
                        .for_each(|(a, b)| *a = sub(a, b));
                    if left_small {
                        (Some(small), Some(parent))
                    } else {
                        (Some(parent), Some(small))
                    }
                }
                None => (None, None),
            };
            let depth = it.depth + 1;
            stack.push(Item {
                node: left_id + 1,
                start: mid,
                end: it.end,
                depth,
                hist: right_hist,
                tot: right_tot,
            });
            stack.push(Item {
                node: left_id,
                start: it.start,
                end: mid,
                depth,
                hist: left_hist,
                tot: s.left,
            });
        }
        Tree {
            nodes: heavy_first(&nodes, &rows_in),
        }
    }
}

/// The same tree laid out depth first with the child that took more
/// training rows first. A walk goes where most rows went, and there each
/// node's children pair is stored right after the pair it came from, so
/// typical paths read consecutive memory instead of jumping (measured ≈5%
/// faster prediction on deep trees). The tree itself is unchanged.
pub(crate) fn heavy_first(nodes: &[Node], rows_in: &[f64]) -> Vec<Node> {
    let mut out = vec![nodes[0]];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((old, new)) = stack.pop() {
        let n = nodes[old];
        if n.is_leaf(old) {
            out[new] = Node::leaf(new, n.value);
            continue;
        }
        let (l, pos) = (n.left as usize, out.len());
        out.extend([nodes[l], nodes[l + 1]]);
        out[new] = Node {
            left: pos as u32,
            ..n
        };
        let heavy = (rows_in[l + 1] > rows_in[l]) as usize;
        stack.push((l + 1 - heavy, pos + 1 - heavy));
        stack.push((l + heavy, pos + heavy));
    }
    out
}

/// Stable-enough in-place partition; returns the number of `true` rows (now first).
fn partition(rows: &mut [u32], mut pred: impl FnMut(u32) -> bool) -> usize {
    let mut k = 0;
    for i in 0..rows.len() {
        if pred(rows[i]) {
            rows.swap(i, k);
            k += 1;
        }
    }
    k
}

/// How a stored tree's nodes are laid out: each tree is base64 of 12-byte
/// little-endian node records; `left` = 0 marks a leaf.
pub const NODE_FORMAT: &str = "feature:u16le,bin:u8,missing_left:u8,left:u32le,value:f32le";

impl Tree {
    /// The stored form of this tree (see [`NODE_FORMAT`]).
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(self.nodes.len() * 12);
        for (i, n) in self.nodes.iter().enumerate() {
            b.extend_from_slice(&n.feature.to_le_bytes());
            b.push(n.bin);
            b.push(n.missing_left as u8);
            b.extend_from_slice(&(if n.is_leaf(i) { 0 } else { n.left }).to_le_bytes());
            b.extend_from_slice(&n.value.to_le_bytes());
        }
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    /// A tree from its stored form, refusing any node whose children or
    /// feature (of `n_features`) would send a walk out of bounds.
    pub fn decode(s: &str, n_features: usize) -> std::result::Result<Tree, String> {
        let b = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("tree data: {e}"))?;
        if b.len() % 12 != 0 || b.is_empty() {
            return Err("tree data has a partial node".into());
        }
        let n_nodes = b.len() / 12;
        let mut nodes = Vec::with_capacity(n_nodes);
        for (i, c) in b.chunks_exact(12).enumerate() {
            let feature = u16::from_le_bytes([c[0], c[1]]);
            let left = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
            let bad_child = left as usize <= i
                || left as usize + 1 >= n_nodes
                || feature as usize >= n_features;
            if left != 0 && (bad_child || c[2] == 0) {
                return Err("tree data is corrupted".into());
            }
            let value = f32::from_le_bytes([c[8], c[9], c[10], c[11]]);
            nodes.push(if left == 0 {
                Node::leaf(i, value)
            } else {
                Node {
                    feature,
                    bin: c[2],
                    missing_left: c[3] != 0,
                    left,
                    value,
                }
            });
        }
        Ok(Tree { nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(feature: u16, bin: u8, left: u32) -> Node {
        Node {
            feature,
            bin,
            missing_left: false,
            left,
            value: 0.5,
        }
    }

    /// Root on feature 0; its light left child (2 rows) and heavy right
    /// child (8 rows) both split on feature 1.
    fn sample() -> (Vec<Node>, Vec<f64>) {
        let nodes = vec![
            split(0, 1, 1),
            split(1, 2, 3),
            split(1, 3, 5),
            Node::leaf(3, 0.1),
            Node::leaf(4, 0.2),
            Node::leaf(5, 0.7),
            Node::leaf(6, 0.9),
        ];
        (nodes, vec![10.0, 2.0, 8.0, 1.0, 1.0, 5.0, 3.0])
    }

    fn all_rows() -> Vec<[u8; 2]> {
        (0..4u8)
            .flat_map(|a| (0..5u8).map(move |b| [a, b]))
            .collect()
    }

    #[test]
    fn heavy_first_moves_the_busier_subtree_forward_and_keeps_predictions() {
        let (nodes, rows_in) = sample();
        let before = Tree {
            nodes: nodes.clone(),
        };
        let after = Tree {
            nodes: heavy_first(&nodes, &rows_in),
        };
        assert_eq!(after.nodes.len(), nodes.len());
        assert_eq!(
            after.nodes[2].left, 3,
            "the heavy right child's children come first"
        );
        assert_eq!(after.nodes[1].left, 5);
        let value = |t: &Tree, row: &[u8; 2]| t.nodes[t.leaf_of(|f| row[f])].value;
        for row in all_rows() {
            assert_eq!(value(&before, &row), value(&after, &row), "row {row:?}");
        }
    }

    #[test]
    fn level_walk_reaches_the_lane_walks_leaves_with_the_same_contributions() {
        let tree = Tree { nodes: sample().0 };
        assert_eq!(tree.depth(), 2);
        for n in [1, 7, 63, 64, 65, 200] {
            let rows: Vec<[u8; 2]> = all_rows().into_iter().cycle().take(n).collect();
            let walk = |levels: bool| {
                let (mut leaves, mut sums) = (vec![usize::MAX; n], vec![0f32; n * 2]);
                let bin = |r: usize, f: usize| rows[r][f];
                let step = |r: usize, nd: &Node, next: usize| {
                    sums[r * 2 + nd.feature as usize] += tree.nodes[next].value - nd.value
                };
                let leaf = |r: usize, i: usize| leaves[r] = i;
                if levels {
                    tree.walk_levels(n, tree.depth(), bin, step, leaf);
                } else {
                    tree.walk_rows(n, bin, step, leaf);
                }
                (leaves, sums)
            };
            let (a, b) = (walk(true), walk(false));
            assert_eq!(a.0, b.0, "{n} rows: leaves");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.1), bits(&b.1), "{n} rows: contributions");
        }
    }

    #[test]
    fn walk_rows_reaches_each_rows_leaf_once() {
        let tree = Tree { nodes: sample().0 };
        for n in [1, 3, LANES, 20] {
            let rows: Vec<[u8; 2]> = all_rows().into_iter().cycle().take(n).collect();
            let mut seen = vec![0; n];
            tree.walk_rows(
                n,
                |r, f| rows[r][f],
                |_, _, _| {},
                |r, i| {
                    seen[r] += 1;
                    assert_eq!(i, tree.leaf_of(|f| rows[r][f]));
                },
            );
            assert!(seen.iter().all(|&s| s == 1), "{n} rows: {seen:?}");
        }
    }
}
