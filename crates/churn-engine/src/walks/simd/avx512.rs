//! The AVX-512 walk: sixteen rows a lane group, a node's split word and
//! child index gathered as one 64-bit load a lane, contributions credited
//! by a gather/scatter pair (lanes hold distinct rows: no collisions).

use super::Tree;
use std::arch::x86_64::*;

const LANES: u32 = 16;

/// Sixteen rows on their way down the tree.
struct Lanes {
    /// Node each lane is at.
    idx: __m512i,
    /// Row each lane walks.
    row: __m512i,
    active: __mmask16,
    /// A lane's contribution for a step is known only when the child's
    /// value is loaded, on the lane's next round; it waits here (index
    /// into `sums`, parent value) until then, which saves a gather.
    pending: __mmask16,
    pend_at: __m512i,
    pend_value: __m512,
}

/// What every round reads.
struct Walk<'a> {
    nodes: *const i32,
    bins: *const i32,
    sums: *mut f32,
    /// The value of the leaf each row reached.
    leaf_values: *mut f32,
    rows: usize,
    p: __m512i,
    last_node: __m512i,
    last_feature: __m512i,
    _tree: &'a Tree,
}

/// See [`super::walk`]; `EXPLAIN` adds the contributions to `sums`.
/// Two groups of lanes walk in turn: each round waits on two gathers in
/// a row (node, then bin), and the other group's round fills the wait.
///
/// # Safety
/// The CPU must have AVX-512F and BMI2 (checked by [`super::Path::supported`]). The
/// sizes must be those [`super::walk_with`] checks: `p` > 0, a tree with
/// nodes, `binned` at least `rows * p` + [`super::BIN_PADDING`] bytes,
/// `acc` at least `rows` long, with `EXPLAIN` `sums` at least `rows * p`,
/// and all of those offsets (and three times the node count) within
/// `i32::MAX`. Node and feature indices read from the tree are clamped, so
/// a malformed tree cannot make the walk read out of bounds.
#[target_feature(enable = "avx512f,bmi2")]
pub unsafe fn walk<const EXPLAIN: bool>(
    tree: &Tree,
    rows: usize,
    p: usize,
    binned: &[u8],
    acc: &mut [f64],
    sums: &mut [f32],
) {
    let mut leaf_values = vec![0f32; rows];
    let w = Walk {
        nodes: tree.nodes.as_ptr() as *const i32,
        bins: binned.as_ptr() as *const i32,
        sums: sums.as_mut_ptr(),
        leaf_values: leaf_values.as_mut_ptr(),
        rows,
        p: _mm512_set1_epi32(p as i32),
        last_node: _mm512_set1_epi32(tree.nodes.len() as i32 - 1),
        last_feature: _mm512_set1_epi32(p as i32 - 1),
        _tree: tree,
    };
    let mut fed = 0usize;
    let new = || Lanes {
        idx: _mm512_setzero_si512(),
        row: _mm512_setzero_si512(),
        active: 0,
        pending: 0,
        pend_at: _mm512_setzero_si512(),
        pend_value: _mm512_setzero_ps(),
    };
    let mut groups = [new(), new()];
    for g in groups.iter_mut() {
        refill(g, 0xFFFF, &w, &mut fed);
    }
    while groups.iter().any(|g| g.active != 0) {
        for g in groups.iter_mut() {
            round::<EXPLAIN>(g, &w, &mut fed);
        }
    }
    for (a, &v) in acc.iter_mut().zip(&leaf_values) {
        *a += v as f64;
    }
}

/// Give the lanes of `free` the next rows (lowest lanes first), at the
/// root; lanes left without a row go idle.
///
/// # Safety
/// The CPU must have AVX-512F and BMI2; `w` and `l` as [`walk`] sets them up (every
/// lane's row below `w.rows`, its node index inside the tree).
#[inline]
#[target_feature(enable = "avx512f,bmi2")]
unsafe fn refill(l: &mut Lanes, free: __mmask16, w: &Walk, fed: &mut usize) {
    let left = (w.rows - *fed).min(LANES as usize) as u32;
    let take = if free.count_ones() <= left {
        free
    } else {
        _pdep_u32((1u32 << left) - 1, free as u32) as u16
    };
    let iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    l.row = _mm512_mask_expand_epi32(
        l.row,
        take,
        _mm512_add_epi32(_mm512_set1_epi32(*fed as i32), iota),
    );
    l.idx = _mm512_mask_mov_epi32(l.idx, free, _mm512_setzero_si512());
    l.active = (l.active & !free) | take;
    *fed += take.count_ones() as usize;
}

/// One step down for every active lane; lanes at a leaf hand in its
/// value and take the next row.
///
/// # Safety
/// The CPU must have AVX-512F and BMI2; `w` and `l` as [`walk`] sets them up (every
/// lane's row below `w.rows`, its node index inside the tree).
#[inline]
#[target_feature(enable = "avx512f,bmi2")]
unsafe fn round<const EXPLAIN: bool>(l: &mut Lanes, w: &Walk, fed: &mut usize) {
    let zero = _mm512_setzero_si512();
    let (one, low8) = (_mm512_set1_epi32(1), _mm512_set1_epi32(0xFF));
    // Node i is three i32 words: feature u16 | bin u8 | missing_left u8, left, value.
    let off = _mm512_add_epi32(_mm512_add_epi32(l.idx, l.idx), l.idx);
    // Word and left side by side: one 64-bit load a lane, eight lanes a
    // gather (half the loads of two 32-bit gathers), then split.
    let nodes64 = w.nodes as *const i64;
    let low = _mm512_mask_i32gather_epi64::<4>(
        zero,
        l.active as u8,
        _mm512_castsi512_si256(off),
        nodes64,
    );
    let high = _mm512_mask_i32gather_epi64::<4>(
        zero,
        (l.active >> 8) as u8,
        _mm512_extracti64x4_epi64::<1>(off),
        nodes64,
    );
    let evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    let word = _mm512_permutex2var_epi32(low, evens, high);
    let left = _mm512_permutex2var_epi32(low, _mm512_add_epi32(evens, one), high);
    let value = _mm512_mask_i32gather_ps::<4>(
        _mm512_setzero_ps(),
        l.active,
        _mm512_add_epi32(off, _mm512_set1_epi32(2)),
        w.nodes as *const f32,
    );
    if EXPLAIN {
        let old = _mm512_mask_i32gather_ps::<4>(
            _mm512_setzero_ps(),
            l.pending,
            l.pend_at,
            w.sums as *const f32,
        );
        let new = _mm512_add_ps(old, _mm512_sub_ps(value, l.pend_value));
        _mm512_mask_i32scatter_ps::<4>(w.sums, l.pending, l.pend_at, new);
    }
    let leaf = _mm512_mask_cmpeq_epi32_mask(l.active, left, l.idx);
    let step = l.active & !leaf;
    let feature = _mm512_min_epu32(
        _mm512_and_si512(word, _mm512_set1_epi32(0xFFFF)),
        w.last_feature,
    );
    let threshold = _mm512_and_si512(_mm512_srli_epi32::<16>(word), low8);
    let missing_left = _mm512_test_epi32_mask(_mm512_srli_epi32::<24>(word), low8);
    let at = _mm512_add_epi32(_mm512_mullo_epi32(l.row, w.p), feature);
    let bin = _mm512_and_si512(
        _mm512_mask_i32gather_epi32::<1>(zero, step, at, w.bins),
        low8,
    );
    let missing = _mm512_cmpeq_epi32_mask(bin, zero);
    let go_left = (missing & missing_left) | (!missing & _mm512_cmple_epu32_mask(bin, threshold));
    let next = _mm512_min_epu32(
        _mm512_mask_add_epi32(left, step & !go_left, left, one),
        w.last_node,
    );
    if EXPLAIN {
        l.pending = step;
        l.pend_at = at;
        l.pend_value = value;
    }
    l.idx = _mm512_mask_mov_epi32(l.idx, step, next);
    if leaf != 0 {
        // Each row reaches one leaf: note its value (added to acc after the walk).
        _mm512_mask_i32scatter_ps::<4>(w.leaf_values, leaf, l.row, value);
        refill(l, leaf, w, fed);
    }
}
