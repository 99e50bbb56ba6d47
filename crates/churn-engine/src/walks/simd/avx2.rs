//! The AVX2 walk: eight rows a lane group, node fields and bins gathered,
//! contributions credited lane by lane (AVX2 has no scatter).

use super::Tree;
use std::arch::x86_64::*;

const LANES: usize = 8;

/// Eight rows on their way down the tree (masks as bit sets).
struct Lanes {
    idx: __m256i,
    row: __m256i,
    active: u32,
    /// As in the AVX-512 walk: a step's contribution waits for the
    /// child's value, loaded on the lane's next round.
    pending: u32,
    pend_at: __m256i,
    pend_value: __m256,
}

struct Walk {
    nodes: *const i32,
    bins: *const i32,
    sums: *mut f32,
    leaf_values: *mut f32,
    rows: usize,
    p: __m256i,
    last_node: __m256i,
    last_feature: __m256i,
    /// Lane k holds 1 << k (bit set → lane mask).
    bits: __m256i,
}

/// See [`super::walk`]; two groups of lanes walk in turn.
///
/// # Safety
/// The CPU must have AVX2 (checked by [`super::Path::supported`]). The
/// sizes must be those [`super::walk_with`] checks: `p` > 0, a tree with
/// nodes, `binned` at least `rows * p` + [`super::BIN_PADDING`] bytes,
/// `acc` at least `rows` long, with `EXPLAIN` `sums` at least `rows * p`,
/// and all of those offsets (and three times the node count) within
/// `i32::MAX`. Node and feature indices read from the tree are clamped, so
/// a malformed tree cannot make the walk read out of bounds.
#[target_feature(enable = "avx2")]
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
        p: _mm256_set1_epi32(p as i32),
        last_node: _mm256_set1_epi32(tree.nodes.len() as i32 - 1),
        last_feature: _mm256_set1_epi32(p as i32 - 1),
        bits: _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1),
    };
    let mut fed = 0usize;
    let new = || Lanes {
        idx: _mm256_setzero_si256(),
        row: _mm256_setzero_si256(),
        active: 0,
        pending: 0,
        pend_at: _mm256_setzero_si256(),
        pend_value: _mm256_setzero_ps(),
    };
    let mut groups = [new(), new()];
    for g in groups.iter_mut() {
        refill(g, 0xFF, &w, &mut fed);
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

/// The lanes whose bit is set in `m`, as an all-ones vector mask.
///
/// # Safety
/// The CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn lanes(w: &Walk, m: u32) -> __m256i {
    let b = _mm256_and_si256(_mm256_set1_epi32(m as i32), w.bits);
    _mm256_cmpeq_epi32(b, w.bits)
}

/// The bit set of a vector mask.
///
/// # Safety
/// The CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn bitset(v: __m256i) -> u32 {
    _mm256_movemask_ps(_mm256_castsi256_ps(v)) as u32
}

/// The eight lanes of an integer vector.
///
/// # Safety
/// The CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn ints(v: __m256i) -> [i32; LANES] {
    let mut a = [0i32; LANES];
    _mm256_storeu_si256(a.as_mut_ptr() as *mut __m256i, v);
    a
}

/// The eight lanes of a float vector.
///
/// # Safety
/// The CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn floats(v: __m256) -> [f32; LANES] {
    let mut a = [0f32; LANES];
    _mm256_storeu_ps(a.as_mut_ptr(), v);
    a
}

/// Give the lanes of `free` the next rows (lowest lanes first), at the
/// root; lanes left without a row go idle.
///
/// # Safety
/// The CPU must have AVX2; `w` and `l` as [`walk`] sets them up (every
/// lane's row below `w.rows`, its node index inside the tree).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn refill(l: &mut Lanes, free: u32, w: &Walk, fed: &mut usize) {
    let (mut row, mut idx) = (ints(l.row), ints(l.idx));
    for k in 0..LANES {
        if free & (1 << k) == 0 {
            continue;
        }
        idx[k] = 0;
        if *fed < w.rows {
            row[k] = *fed as i32;
            *fed += 1;
            l.active |= 1 << k;
        } else {
            l.active &= !(1 << k);
        }
    }
    l.row = _mm256_loadu_si256(row.as_ptr() as *const __m256i);
    l.idx = _mm256_loadu_si256(idx.as_ptr() as *const __m256i);
}

/// One step down for every active lane; lanes at a leaf hand in its
/// value and take the next row.
///
/// # Safety
/// The CPU must have AVX2; `w` and `l` as [`walk`] sets them up (every
/// lane's row below `w.rows`, its node index inside the tree).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn round<const EXPLAIN: bool>(l: &mut Lanes, w: &Walk, fed: &mut usize) {
    let zero = _mm256_setzero_si256();
    let (one, low8, all) = (
        _mm256_set1_epi32(1),
        _mm256_set1_epi32(0xFF),
        _mm256_set1_epi32(-1),
    );
    let active = lanes(w, l.active);
    // Node i is three i32 words: feature u16 | bin u8 | missing_left u8, left, value.
    let off = _mm256_add_epi32(_mm256_add_epi32(l.idx, l.idx), l.idx);
    // Word and left side by side: one 64-bit load a lane, four lanes a
    // gather (half the loads of two 32-bit gathers), then split. On the
    // Zen 4 benchmark machine within noise (churn alone, 250k rows:
    // median user 4.27 against 4.35 s); CPUs whose gathers cost per
    // element gain more.
    let nodes64 = w.nodes as *const i64;
    let low = _mm256_mask_i32gather_epi64::<4>(
        zero,
        nodes64,
        _mm256_castsi256_si128(off),
        _mm256_cvtepi32_epi64(_mm256_castsi256_si128(active)),
    );
    let high = _mm256_mask_i32gather_epi64::<4>(
        zero,
        nodes64,
        _mm256_extracti128_si256::<1>(off),
        _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(active)),
    );
    // Even words of low and high, then odd: in lane order after the permute.
    let (low, high) = (_mm256_castsi256_ps(low), _mm256_castsi256_ps(high));
    let word = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_castps_si256(_mm256_shuffle_ps::<
        0b10_00_10_00,
    >(low, high)));
    let left = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_castps_si256(_mm256_shuffle_ps::<
        0b11_01_11_01,
    >(low, high)));
    let value = _mm256_mask_i32gather_ps::<4>(
        _mm256_setzero_ps(),
        w.nodes as *const f32,
        _mm256_add_epi32(off, _mm256_set1_epi32(2)),
        _mm256_castsi256_ps(active),
    );
    if EXPLAIN && l.pending != 0 {
        let (at, v, pv) = (ints(l.pend_at), floats(value), floats(l.pend_value));
        for k in 0..LANES {
            if l.pending & (1 << k) != 0 {
                *w.sums.add(at[k] as usize) += v[k] - pv[k];
            }
        }
    }
    let leaf = l.active & bitset(_mm256_cmpeq_epi32(left, l.idx));
    let step = l.active & !leaf;
    let step_v = lanes(w, step);
    let feature = _mm256_min_epu32(
        _mm256_and_si256(word, _mm256_set1_epi32(0xFFFF)),
        w.last_feature,
    );
    let threshold = _mm256_and_si256(_mm256_srli_epi32::<16>(word), low8);
    let missing_left =
        _mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_srli_epi32::<24>(word), zero), all);
    let at = _mm256_add_epi32(_mm256_mullo_epi32(l.row, w.p), feature);
    let bin = _mm256_and_si256(
        _mm256_mask_i32gather_epi32::<1>(zero, w.bins, at, step_v),
        low8,
    );
    let missing = _mm256_cmpeq_epi32(bin, zero);
    // Bins and thresholds are 0..=255: a signed compare is exact.
    let at_most = _mm256_xor_si256(_mm256_cmpgt_epi32(bin, threshold), all);
    let go_left = _mm256_or_si256(
        _mm256_and_si256(missing, missing_left),
        _mm256_andnot_si256(missing, at_most),
    );
    let go_right = _mm256_andnot_si256(go_left, step_v);
    let next = _mm256_min_epu32(
        _mm256_add_epi32(left, _mm256_and_si256(go_right, one)),
        w.last_node,
    );
    if EXPLAIN {
        l.pending = step;
        l.pend_at = at;
        l.pend_value = value;
    }
    l.idx = _mm256_blendv_epi8(l.idx, next, step_v);
    if leaf != 0 {
        // Each row reaches one leaf: note its value (added to acc after the walk).
        let (row, v) = (ints(l.row), floats(value));
        for k in 0..LANES {
            if leaf & (1 << k) != 0 {
                *w.leaf_values.add(row[k] as usize) = v[k];
            }
        }
        refill(l, leaf, w, fed);
    }
}
