//! The false-node scorer eight rows at a time in AVX2 lanes, for CPUs
//! without AVX-512 (common in cloud fleets). The same scheme as
//! [`super::avx512`]: a split compared with eight rows' bins clears its
//! left leaves in the lanes that fail it, here by an AND with the split's
//! mask where a lane fails and all ones where it does not (AVX2 has no
//! masked AND). Exit leaves come from the lowest set bit, their values are
//! gathered and added to each lane's f64 sum in tree order: the same bits
//! as the scalar path.
//!
//! Safety does not rest on the trees being well formed: a leaf index is
//! clamped into the leaf values, and bins are gathered inside `binned`.

use super::{QuickTrees, BINS};
use std::arch::x86_64::*;

const LANES: usize = 8;

/// Add each tree's leaf value to `acc[r]` for the rows of whole blocks of
/// eight, and with `leaves` note each row's leaf of tree t (its index in
/// `q.values`) at `leaves[r * trees + t]`; returns how many rows that was
/// (the caller scores the rest).
///
/// # Safety
/// The CPU must have AVX2; every tree at most 32 leaves; `binned` of
/// `acc.len()` rows of `q.n_features` bins plus 3 bytes of padding, and
/// shorter than `i32::MAX` bytes; `leaves` empty or of `acc.len()` rows.
#[target_feature(enable = "avx2")]
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
    let all = _mm256_set1_epi32(-1);
    let low8 = _mm256_set1_epi32(0xFF);
    let zero = _mm256_setzero_si256();
    let lane_rows = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let stride = _mm256_mullo_epi32(lane_rows, _mm256_set1_epi32(p as i32));
    let last_value = _mm256_set1_epi32(q.n_leaves as i32 - 1);
    let (bias, exponent) = (_mm256_set1_epi32(127), _mm256_set1_epi32(0xFF));
    let mut live = vec![all; q.first_leaf.len()];
    let bins = binned.as_ptr() as *const i32;
    for block in 0..blocks {
        let r0 = block * LANES;
        live.iter_mut().for_each(|m| *m = all);
        let rows_at = _mm256_add_epi32(stride, _mm256_set1_epi32((r0 * p) as i32));
        for f in (0..p).filter(|&f| q.used[f]) {
            let at = _mm256_add_epi32(rows_at, _mm256_set1_epi32(f as i32));
            let v = _mm256_and_si256(_mm256_i32gather_epi32::<1>(bins, at), low8);
            let missing = _mm256_cmpeq_epi32(v, zero);
            if _mm256_testz_si256(missing, missing) == 0 {
                let (lo, hi) = (q.miss_ends[f] as usize, q.miss_ends[f + 1] as usize);
                for i in lo..hi {
                    let t = *q.miss_tree.get_unchecked(i) as usize;
                    let m = _mm256_set1_epi32(*q.miss_mask.get_unchecked(i) as i32);
                    let l = live.get_unchecked_mut(t);
                    // Lanes not missing keep their bits: m | !missing.
                    *l = _mm256_and_si256(*l, _mm256_or_si256(m, _mm256_xor_si256(missing, all)));
                }
            }
            // Splits of f in bin order; bins are 0..=255, so the signed
            // compare is exact; a missing lane (bin 0) fails none.
            let (lo, hi) = (
                q.ends[f * BINS] as usize,
                q.ends[f * BINS + BINS - 1] as usize,
            );
            for i in lo..hi {
                let split = _mm256_set1_epi32(*q.bin.get_unchecked(i) as i32);
                let fails = _mm256_cmpgt_epi32(v, split);
                if _mm256_testz_si256(fails, fails) != 0 {
                    break;
                }
                let t = *q.tree.get_unchecked(i) as usize;
                let m = _mm256_set1_epi32(*q.mask.get_unchecked(i) as i32);
                let l = live.get_unchecked_mut(t);
                *l = _mm256_and_si256(*l, _mm256_or_si256(m, _mm256_xor_si256(fails, all)));
            }
        }
        let (mut lo_sum, mut hi_sum) = (
            _mm256_loadu_pd(acc.as_ptr().add(r0)),
            _mm256_loadu_pd(acc.as_ptr().add(r0 + 4)),
        );
        for (t, m) in live.iter().enumerate() {
            // Lowest set bit alone; its index is the exponent of its float
            // value (bit 31 converts negative: the sign is masked off).
            let low = _mm256_and_si256(*m, _mm256_sub_epi32(zero, *m));
            let bits = _mm256_castps_si256(_mm256_cvtepi32_ps(low));
            let exp = _mm256_and_si256(_mm256_srli_epi32::<23>(bits), exponent);
            let leaf = _mm256_sub_epi32(exp, bias);
            let first = _mm256_set1_epi32(*q.first_leaf.get_unchecked(t) as i32);
            let at = _mm256_min_epu32(_mm256_add_epi32(first, leaf), last_value);
            let value = _mm256_i32gather_ps::<4>(q.values.as_ptr(), at);
            if note {
                let mut lanes = [0u32; LANES];
                _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, at);
                for (k, &leaf) in lanes.iter().enumerate() {
                    *leaves.get_unchecked_mut((r0 + k) * trees + t) = leaf;
                }
            }
            lo_sum = _mm256_add_pd(lo_sum, _mm256_cvtps_pd(_mm256_castps256_ps128(value)));
            hi_sum = _mm256_add_pd(hi_sum, _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(value)));
        }
        _mm256_storeu_pd(acc.as_mut_ptr().add(r0), lo_sum);
        _mm256_storeu_pd(acc.as_mut_ptr().add(r0 + 4), hi_sum);
    }
    blocks * LANES
}
