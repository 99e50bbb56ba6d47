//! The false-node scorer sixteen rows at a time in AVX-512 lanes.
//!
//! Why: one row at a time, every failed split costs a load, an AND and a
//! store for that row alone. Here a split is compared with sixteen rows'
//! bins at once and clears its left leaves in the lanes that fail it (one
//! masked AND on the tree's sixteen 32-bit masks). A feature's splits are
//! sorted by bin, so the scan stops at the first split no lane fails.
//! Each lane's exit leaf is the lowest set bit of its mask; its value is
//! picked from the tree's values by a permute (no gather: see below) and
//! added to the lane's f64 sum tree by tree, the order of the scalar path,
//! so the bits are the same.
//!
//! Safety does not rest on the trees being well formed: a permute reads
//! only its two registers, loaded from inside the padded leaf values; a
//! leaf index noted for the caller is clamped into the leaf values, and
//! bins are gathered inside `binned` (the caller leaves
//! [`super::simd::BIN_PADDING`] bytes after its rows).

use super::{QuickTrees, BINS};
use std::arch::x86_64::*;

const LANES: usize = 16;

/// Add each tree's leaf value to `acc[r]` for the rows of whole blocks of
/// sixteen, and with `leaves` note each row's leaf of tree t (its index
/// in `q.values`) at `leaves[r * trees + t]`; returns how many rows that
/// was (the caller scores the rest).
///
/// # Safety
/// The CPU must have AVX-512F; every tree at most 32 leaves; `binned` of
/// `acc.len()` rows of `q.n_features` bins plus 3 bytes of padding, and
/// shorter than `i32::MAX` bytes; `leaves` empty or of `acc.len()` rows,
/// shorter than `i32::MAX` entries.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn add_leaf_sums(
    q: &QuickTrees,
    binned: &[u8],
    acc: &mut [f64],
    leaves: &mut [u32],
) -> usize {
    if !q.sizes_fit(binned, acc.len(), leaves) {
        return 0;
    }
    let (p, trees) = (q.n_features, q.first_leaf.len());
    let (blocks, note) = (acc.len() / LANES, !leaves.is_empty());
    let all = _mm512_set1_epi32(-1);
    let low8 = _mm512_set1_epi32(0xFF);
    let zero = _mm512_setzero_si512();
    let lane_rows = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let stride = _mm512_mullo_epi32(lane_rows, _mm512_set1_epi32(p as i32));
    let leaf_stride = _mm512_mullo_epi32(lane_rows, _mm512_set1_epi32(trees as i32));
    let last_value = _mm512_set1_epi32(q.n_leaves as i32 - 1);
    let bias = _mm512_set1_epi32(127);
    let mut live = vec![all; q.first_leaf.len()];
    let bins = binned.as_ptr() as *const i32;
    for block in 0..blocks {
        let r0 = block * LANES;
        live.iter_mut().for_each(|m| *m = all);
        let rows_at = _mm512_add_epi32(stride, _mm512_set1_epi32((r0 * p) as i32));
        for f in (0..p).filter(|&f| q.used[f]) {
            let at = _mm512_add_epi32(rows_at, _mm512_set1_epi32(f as i32));
            let v = _mm512_and_si512(_mm512_i32gather_epi32::<1>(at, bins), low8);
            let missing = _mm512_cmpeq_epi32_mask(v, zero);
            if missing != 0 {
                let (lo, hi) = (q.miss_ends[f] as usize, q.miss_ends[f + 1] as usize);
                for i in lo..hi {
                    let t = *q.miss_tree.get_unchecked(i) as usize;
                    let m = _mm512_set1_epi32(*q.miss_mask.get_unchecked(i) as i32);
                    let l = live.get_unchecked_mut(t);
                    *l = _mm512_mask_and_epi32(*l, missing, *l, m);
                }
            }
            // Splits of f in bin order; a missing lane (bin 0) fails none.
            let (lo, hi) = (
                q.ends[f * BINS] as usize,
                q.ends[f * BINS + BINS - 1] as usize,
            );
            for i in lo..hi {
                let fails =
                    _mm512_cmpgt_epu32_mask(v, _mm512_set1_epi32(*q.bin.get_unchecked(i) as i32));
                if fails == 0 {
                    break;
                }
                let t = *q.tree.get_unchecked(i) as usize;
                let m = _mm512_set1_epi32(*q.mask.get_unchecked(i) as i32);
                let l = live.get_unchecked_mut(t);
                *l = _mm512_mask_and_epi32(*l, fails, *l, m);
            }
        }
        let (mut lo_sum, mut hi_sum) = (
            _mm512_loadu_pd(acc.as_ptr().add(r0)),
            _mm512_loadu_pd(acc.as_ptr().add(r0 + 8)),
        );
        for (t, m) in live.iter().enumerate() {
            // Lowest set bit alone, then its index from the exponent of
            // its (exact) float value.
            let low = _mm512_and_si512(*m, _mm512_sub_epi32(zero, *m));
            let exp = _mm512_srli_epi32::<23>(_mm512_castps_si512(_mm512_cvtepu32_ps(low)));
            let leaf = _mm512_sub_epi32(exp, bias);
            let first = *q.first_leaf.get_unchecked(t) as usize;
            // The tree's (up to) 32 values in two registers, each lane's
            // picked by its leaf number: two loads and a permute instead of
            // a sixteen-lane gather (Zen 4 gathers cost ~8x more).
            let own = q.values.as_ptr().add(first);
            let value =
                _mm512_permutex2var_ps(_mm512_loadu_ps(own), leaf, _mm512_loadu_ps(own.add(LANES)));
            if note {
                let at = _mm512_min_epu32(
                    _mm512_add_epi32(_mm512_set1_epi32(first as i32), leaf),
                    last_value,
                );
                let to = _mm512_add_epi32(leaf_stride, _mm512_set1_epi32(t as i32));
                let base = leaves.as_mut_ptr().add(r0 * trees) as *mut i32;
                _mm512_i32scatter_epi32::<4>(base, to, at);
            }
            lo_sum = _mm512_add_pd(lo_sum, _mm512_cvtps_pd(_mm512_castps512_ps256(value)));
            let upper = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(value)));
            hi_sum = _mm512_add_pd(hi_sum, _mm512_cvtps_pd(upper));
        }
        _mm512_storeu_pd(acc.as_mut_ptr().add(r0), lo_sum);
        _mm512_storeu_pd(acc.as_mut_ptr().add(r0 + 8), hi_sum);
    }
    blocks * LANES
}
