//! Leaf-wise tree growth for gradient boosting: the leaf whose best split
//! gains most splits next; only the smaller child's histogram is built, the
//! larger one is the parent's minus it. Kept apart from [`crate::ensembles::boost`]
//! (the loss, rounds and early stopping), which calls [`Leafwise::grow`]
//! once per round.

use crate::binning::BinnedMatrix;
use crate::params::boosting::BoostingParams;
use crate::tree::{heavy_first, Node, Tree};
use rayon::prelude::*;

/// Rows × candidate features in a node above which its histogram is built
/// in parallel over features.
const PARALLEL_WORK: usize = 1 << 15;
/// Rows of a node above which its gradients are gathered in parallel.
const PARALLEL_GATHER: usize = 1 << 16;

/// A node's (gradient sum, hessian sum, rows).
type GStat = [f64; 3];
/// A histogram bin's (gradient sum, hessian sum). As in LightGBM, bins
/// carry no row count: a candidate split's rows are estimated from its
/// hessian share of the node (one add less per row and feature: ~5% of a
/// 1M-row fit); nodes keep exact counts.
type HStat = [f64; 2];

/// Buffers a fit reuses round after round.
#[derive(Default)]
pub(crate) struct Work {
    /// The round's rows, partitioned leaf by leaf as the tree grows.
    pub(crate) rows: Vec<u32>,
    scratch: Vec<u32>,
    /// A node's gradients and hessians gathered in its row order.
    ordered: Vec<(f32, f32)>,
    /// Histogram buffers not in use.
    pool: Vec<Vec<HStat>>,
}

type Split = super::Split<2>;

/// A leaf of the growing tree.
struct Open {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    sum: GStat,
    hist: Vec<HStat>,
    split: Option<Split>,
}

/// A grown tree, each leaf's rows as a range of the round's rows with its
/// output, and each split's (feature, gain).
pub(crate) type Grown = (Tree, Vec<(usize, usize, f32)>, Vec<(usize, f64)>);

/// Histogram slots per feature: every bin a `u8` can name, so a pass
/// indexes a feature's histogram by the bin itself, with no bounds check.
const SLOTS: usize = 256;

/// One feature's histogram.
type FeatureHist = [HStat; SLOTS];

/// Grows leaf-wise trees over one binned matrix.
pub(crate) struct Leafwise<'a> {
    bins: &'a BinnedMatrix,
    spec: &'a BoostingParams,
}

impl<'a> Leafwise<'a> {
    pub(crate) fn new(bins: &'a BinnedMatrix, spec: &'a BoostingParams) -> Self {
        Leafwise { bins, spec }
    }

    /// Feature `f`'s bins in a histogram (missing bin included).
    fn bins_of(&self, f: usize) -> std::ops::Range<usize> {
        f * SLOTS..f * SLOTS + self.bins.n_bins[f]
    }

    /// −η·G/(H+λ): a node's output.
    fn value(&self, s: &GStat) -> f32 {
        let d = s[1] + self.spec.lambda_l2;
        if d > 0.0 {
            (-self.spec.learning_rate * s[0] / d) as f32
        } else {
            0.0
        }
    }

    /// Histogram of `rows` over `feats` (ascending) into `hist` (other
    /// features' bins are left as they were and never read).
    fn build(
        &self,
        hist: &mut [HStat],
        feats: &[usize],
        rows: &[u32],
        g: &[f32],
        h: &[f32],
        ordered: &mut Vec<(f32, f32)>,
    ) {
        // Every row (a root without bagging or a validation share): rows
        // are 0..n, read straight through with no gather.
        let source = if rows.len() == self.bins.n_rows {
            Source::Every { g, h }
        } else {
            ordered.clear();
            let pair = |&r: &u32| (g[r as usize], h[r as usize]);
            if rows.len() >= PARALLEL_GATHER {
                ordered.par_extend(rows.par_iter().map(pair));
            } else {
                ordered.extend(rows.iter().map(pair));
            }
            Source::Gathered {
                rows,
                pairs: ordered,
            }
        };
        // Disjoint slices of the histogram, one per candidate feature.
        let mut slices: Vec<(&[u8], &mut FeatureHist)> = Vec::with_capacity(feats.len());
        let mut per_feature = hist.as_chunks_mut::<SLOTS>().0.iter_mut().enumerate();
        for &f in feats {
            let mine = per_feature.find(|(i, _)| *i == f).map(|(_, h)| h);
            slices.push((
                self.bins.column(f),
                mine.expect("one histogram per feature"),
            ));
        }
        let fill = |group: &mut [(&[u8], &mut FeatureHist)]| match source {
            Source::Every { g, h } => {
                let items = g.iter().zip(h).enumerate();
                fill_group(group, items.map(|(r, (&gr, &hr))| (r, gr, hr)))
            }
            Source::Gathered { rows, pairs } => {
                let items = rows.iter().zip(pairs);
                fill_group(group, items.map(|(&r, &(gr, hr))| (r as usize, gr, hr)))
            }
        };
        if rows.len() * feats.len() < PARALLEL_WORK {
            slices.chunks_mut(GROUP).for_each(fill);
        } else {
            slices.par_chunks_mut(GROUP).for_each(fill);
        }
    }

    /// The best split of a leaf with histogram `hist` and totals `sum`.
    fn best(&self, hist: &[HStat], sum: &GStat, feats: &[usize], depth: usize) -> Option<Split> {
        let sp = self.spec;
        if (sp.max_depth > 0 && depth >= sp.max_depth) || sum[2] < 2.0 * sp.min_data_in_leaf as f64
        {
            return None;
        }
        let lambda = sp.lambda_l2;
        let score = |g: f64, h: f64| g * g / (h + lambda);
        let parent = score(sum[0], sum[1]);
        // Rows per unit of hessian in this node (LightGBM's count estimate).
        let per_hessian = sum[2] / sum[1].max(f64::MIN_POSITIVE);
        // A side's estimated rows, round(left hessian × per_hessian), must
        // be at least min_data on both sides. For whole numbers m and n,
        // round(x) ≥ m ⟺ x ≥ m − 0.5 and round(x) ≤ n − m ⟺ x < n − m + 0.5
        // (halves round away from zero), exact in f64 and without a call
        // to `round` per candidate.
        let min_data = sp.min_data_in_leaf as f64;
        let (low, high) = (min_data - 0.5, sum[2] - min_data + 0.5);
        let mut best: Option<Split> = None;
        for &f in feats {
            // A bin with no hessian (statistic 1) is no place to cut.
            let found = super::best_split(f, &hist[self.bins_of(f)], 1, |left| {
                let right = [sum[0] - left[0], sum[1] - left[1]];
                let left_rows = left[1] * per_hessian;
                if left_rows < low
                    || left_rows >= high
                    || left[1] < sp.min_sum_hessian
                    || right[1] < sp.min_sum_hessian
                {
                    return None;
                }
                Some(score(left[0], left[1]) + score(right[0], right[1]) - parent)
            });
            if let Some(s) = found {
                Split::keep(&mut best, s);
            }
        }
        best.filter(|s| s.gain > sp.min_gain_to_split && s.gain > 1e-12)
    }

    /// Grow one tree on `work.rows` with gradients `g` and hessians `h`,
    /// splitting on `feats`. Returns the tree, each leaf's rows as a range
    /// of `work.rows` with its output, and each split's (feature, gain).
    pub(crate) fn grow(&self, work: &mut Work, g: &[f32], h: &[f32], feats: &[usize]) -> Grown {
        let total_bins = SLOTS * self.bins.n_bins.len();
        let take =
            |pool: &mut Vec<Vec<HStat>>| pool.pop().unwrap_or_else(|| vec![[0.0; 2]; total_bins]);
        let mut hist = take(&mut work.pool);
        self.build(&mut hist, feats, &work.rows, g, h, &mut work.ordered);
        let sum = work.rows.iter().fold([0.0; 3], |a, &r| {
            let r = r as usize;
            [a[0] + g[r] as f64, a[1] + h[r] as f64, a[2] + 1.0]
        });
        let mut nodes = vec![Node::leaf(0, self.value(&sum))];
        let mut rows_in = vec![sum[2]];
        let mut gains = Vec::new();
        let split = self.best(&hist, &sum, feats, 0);
        let mut open = vec![Open {
            node: 0,
            start: 0,
            end: work.rows.len(),
            depth: 0,
            sum,
            hist,
            split,
        }];
        let mut leaves = 1;
        while leaves < self.spec.num_leaves {
            // The leaf whose split gains most (ties: the earlier node).
            let mut pick: Option<usize> = None;
            for (i, o) in open.iter().enumerate() {
                if let Some(s) = o.split {
                    if pick.is_none_or(|j| {
                        let b = open[j].split.map_or(f64::NEG_INFINITY, |b| b.gain);
                        s.gain > b || (s.gain == b && o.node < open[j].node)
                    }) {
                        pick = Some(i);
                    }
                }
            }
            let Some(i) = pick else { break };
            let o = open.remove(i);
            let Some(s) = o.split else { break };
            let goes_left = s.goes_left(self.bins.column(s.feature));
            let mid = o.start
                + stable_partition(&mut work.rows[o.start..o.end], &mut work.scratch, goes_left);
            // Exact row counts from the partition.
            let left_sum = [s.left[0], s.left[1], (mid - o.start) as f64];
            let right_sum = sub(&o.sum, &left_sum);
            let left_id = nodes.len();
            nodes.push(Node::leaf(left_id, self.value(&left_sum)));
            nodes.push(Node::leaf(left_id + 1, self.value(&right_sum)));
            rows_in.extend([left_sum[2], right_sum[2]]);
            let n = &mut nodes[o.node];
            n.feature = s.feature as u16;
            n.bin = s.bin;
            n.missing_left = s.missing_left;
            n.left = left_id as u32;
            gains.push((s.feature, s.gain));
            let left_small = mid - o.start <= o.end - mid;
            let (small_rows, large_rows) = if left_small {
                (o.start..mid, mid..o.end)
            } else {
                (mid..o.end, o.start..mid)
            };
            let mut small = take(&mut work.pool);
            self.build(
                &mut small,
                feats,
                &work.rows[small_rows.clone()],
                g,
                h,
                &mut work.ordered,
            );
            let mut large = o.hist;
            for &f in feats {
                let range = self.bins_of(f);
                large[range.clone()]
                    .iter_mut()
                    .zip(&small[range])
                    .for_each(|(l, s)| *l = [l[0] - s[0], l[1] - s[1]]);
            }
            let (small_sum, large_sum, small_node, large_node) = if left_small {
                (left_sum, right_sum, left_id, left_id + 1)
            } else {
                (right_sum, left_sum, left_id + 1, left_id)
            };
            let depth = o.depth + 1;
            // The two children's best splits at once (a scan of every
            // candidate bin costs the same whatever a node's rows).
            let (small_split, large_split) = rayon::join(
                || self.best(&small, &small_sum, feats, depth),
                || self.best(&large, &large_sum, feats, depth),
            );
            for (node, range, sum, hist, split) in [
                (small_node, small_rows, small_sum, small, small_split),
                (large_node, large_rows, large_sum, large, large_split),
            ] {
                open.push(Open {
                    node,
                    start: range.start,
                    end: range.end,
                    depth,
                    sum,
                    hist,
                    split,
                });
            }
            leaves += 1;
        }
        let mut out = Vec::with_capacity(open.len());
        for o in open {
            out.push((o.start, o.end, nodes[o.node].value));
            work.pool.push(o.hist);
        }
        let tree = Tree {
            nodes: heavy_first(&nodes, &rows_in),
        };
        (tree, out, gains)
    }
}

/// The rows of a histogram pass and their gradients and hessians.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// Every row of the matrix, in order.
    Every { g: &'a [f32], h: &'a [f32] },
    /// `rows` with their (gradient, hessian) gathered in the same order.
    Gathered {
        rows: &'a [u32],
        pairs: &'a [(f32, f32)],
    },
}

/// Features whose histograms are summed in one pass over a node's rows.
const GROUP: usize = 4;

/// The histograms of a group of features (binned column, histogram) over
/// `rows`, whose gradients and hessians are `ordered`. Four features share
/// one pass: the rows and gradients are read once instead of four times,
/// and four independent running sums hide the latency of a bin hit by
/// consecutive rows. Each bin still adds its rows in row order, so the
/// sums are the same to the bit as one feature at a time.
fn fill_group(
    group: &mut [(&[u8], &mut FeatureHist)],
    items: impl Iterator<Item = (usize, f32, f32)> + Clone,
) {
    for (_, out) in group.iter_mut() {
        out.iter_mut().for_each(|e| *e = [0.0; 2]);
    }
    #[inline(always)]
    fn add(out: &mut FeatureHist, bin: u8, gr: f64, hr: f64) {
        let e = &mut out[bin as usize];
        e[0] += gr;
        e[1] += hr;
    }
    match group {
        [(c0, o0), (c1, o1), (c2, o2), (c3, o3)] => {
            // Plain locals, so the loop keeps them in registers.
            // Cut to one length, so one bounds check covers all four.
            let n = c0.len();
            let (c0, c1, c2, c3) = (*c0, &c1[..n], &c2[..n], &c3[..n]);
            let (o0, o1, o2, o3) = (&mut **o0, &mut **o1, &mut **o2, &mut **o3);
            for (r, gr, hr) in items {
                let (gr, hr) = (gr as f64, hr as f64);
                add(o0, c0[r], gr, hr);
                add(o1, c1[r], gr, hr);
                add(o2, c2[r], gr, hr);
                add(o3, c3[r], gr, hr);
            }
        }
        _ => {
            for (col, out) in group.iter_mut() {
                let (col, out) = (*col, &mut **out);
                for (r, gr, hr) in items.clone() {
                    add(out, col[r], gr as f64, hr as f64);
                }
            }
        }
    }
}

fn sub(a: &GStat, b: &GStat) -> GStat {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Move the rows for which `pred` holds to the front, keeping the order on
/// both sides (rows stay ascending, so histogram passes read the binned
/// columns forwards); returns how many moved.
fn stable_partition(
    rows: &mut [u32],
    scratch: &mut Vec<u32>,
    pred: impl Fn(u32) -> bool + Sync,
) -> usize {
    scratch.clear();
    scratch.resize(rows.len(), 0);
    let n = rows.len();
    if n < PARALLEL_GATHER {
        let k = split_block(rows, scratch, &pred);
        rows[k..].copy_from_slice(&scratch[..n - k]);
        return k;
    }
    // Blocks partitioned in parallel, then their left parts and their
    // right parts laid out in block order: the same order as one pass.
    const BLOCK: usize = PARALLEL_GATHER / 4;
    let lefts: Vec<usize> = rows
        .par_chunks_mut(BLOCK)
        .zip(scratch.par_chunks_mut(BLOCK))
        .map(|(block, spare)| split_block(block, spare, &pred))
        .collect();
    // Each block now starts with its lefts, its spare with its rights.
    // Lefts move forward block by block (never past the next block's
    // start, so nothing unread is overwritten), then the rights follow.
    let mut at = 0;
    for (b, &k) in lefts.iter().enumerate() {
        rows.copy_within(b * BLOCK..b * BLOCK + k, at);
        at += k;
    }
    let total = at;
    for (b, (spare, &k)) in scratch.chunks(BLOCK).zip(&lefts).enumerate() {
        let right = BLOCK.min(n - b * BLOCK) - k;
        rows[at..at + right].copy_from_slice(&spare[..right]);
        at += right;
    }
    total
}

/// Partition `block` without branches on the predicate: rows for which
/// `pred` holds end at the front of `block` (in order), the others at the
/// front of `spare` (in order). Every row is written to both places and
/// only one cursor moves, so a 50/50 split costs no mispredictions.
fn split_block(block: &mut [u32], spare: &mut [u32], pred: &impl Fn(u32) -> bool) -> usize {
    let (mut k, mut j) = (0, 0);
    for i in 0..block.len() {
        let r = block[i];
        let left = pred(r);
        block[k] = r;
        spare[j] = r;
        k += left as usize;
        j += !left as usize;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_partition_keeps_order_on_both_sides() {
        let mut rows: Vec<u32> = (0..20).collect();
        let mut scratch = Vec::new();
        let k = stable_partition(&mut rows, &mut scratch, |r| r % 3 == 0);
        assert_eq!(k, 7);
        assert_eq!(&rows[..k], &[0, 3, 6, 9, 12, 15, 18]);
        assert!(rows[k..].windows(2).all(|w| w[0] < w[1]));
        // Large enough for the parallel blocks: the same result as one pass.
        let n = 3 * PARALLEL_GATHER as u32 + 17;
        let pred = |r: u32| (r * 2_654_435_761) % 7 < 3;
        let mut big: Vec<u32> = (0..n).collect();
        let k = stable_partition(&mut big, &mut scratch, pred);
        let (left, right): (Vec<u32>, Vec<u32>) = (0..n).partition(|&r| pred(r));
        assert_eq!(k, left.len());
        assert_eq!(&big[..k], &left[..]);
        assert_eq!(&big[k..], &right[..]);
    }
}
