//! A tree walk sixteen rows at a time in AVX-512 vector lanes, or eight at
//! a time in AVX2 lanes on CPUs without AVX-512 (common in cloud fleets).
//!
//! The scalar walk ([`Tree::walk_rows`]) spends ~8 cycles per node and row,
//! most of them bookkeeping around three dependent loads (node, bin, child);
//! scoring with reasons walks ~1,400 nodes per customer (100 trees), half of
//! all its CPU time. Here gathers load a node field for 16 rows (AVX-512:
//! the split word and child index as one 64-bit load a lane, which cut the
//! churn-alone scoring job's CPU by ~7% against two 32-bit gathers), and a
//! gather/scatter pair credits 16 rows' path contributions at once (the
//! lanes always hold distinct rows, so the scatter never collides).
//!
//! Results are bit-identical to the scalar walk: each row's leaf values are
//! added to `acc` in tree order, and each (row, feature) contribution sums
//! the same f32 value changes in the same order. The scalar walk stays the
//! fallback for other CPUs, and tests compare every path the CPU has with
//! it. `CHURN_SIMD=avx512|avx2|scalar` forces a path (the best the CPU has
//! at most), so each can be measured and tested on one machine; the older
//! `CHURN_NO_SIMD` still forces the scalar walk.
//!
//! AVX2 has gathers but no scatters: the AVX2 walk gathers node fields and
//! bins for eight rows at once and credits contributions lane by lane.
//!
//! Safety does not rest on the tree being well formed: gathered node indices
//! and features are clamped into their arrays, so a corrupt tree gives wrong
//! numbers, never an out-of-bounds read (loading an artifact rejects such
//! trees anyway).

use super::tree::Tree;

/// Bytes `binned` needs past its last row: bins are gathered four bytes at
/// a time.
pub const BIN_PADDING: usize = 3;

/// Fewer rows than this walk faster on the scalar path: lanes wait on
/// each other's gathers, and with few rows most lanes sit idle (measured on
/// a 100-tree forest with reasons, AVX2: 1 row 119 µs vector against 28 µs
/// scalar, 8 rows 25 against 16 µs a row, 16 rows even). The service's
/// one-customer requests take the scalar path; same bits either way.
pub const MIN_ROWS: usize = 16;

/// A way to walk trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Path {
    Scalar,
    Avx2,
    Avx512,
}

impl Path {
    pub const ALL: [Path; 3] = [Path::Avx512, Path::Avx2, Path::Scalar];

    /// `avx512`, `avx2` or `scalar` (logs, summary.json, `CHURN_SIMD`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        }
    }

    /// Can this CPU run the path?
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Path::Scalar => true,
                Path::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
                Path::Avx512 => {
                    std::arch::is_x86_feature_detected!("avx512f")
                        && std::arch::is_x86_feature_detected!("bmi2")
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Path::Scalar
        }
    }
}

/// The path this process walks with: the best the CPU has, or the one
/// `CHURN_SIMD` names if the CPU has it (else the best below it).
pub fn selected() -> Path {
    static PATH: std::sync::OnceLock<Path> = std::sync::OnceLock::new();
    *PATH.get_or_init(|| {
        let cap = match std::env::var("CHURN_SIMD").ok().as_deref() {
            _ if std::env::var_os("CHURN_NO_SIMD").is_some() => Path::Scalar,
            Some("scalar") => Path::Scalar,
            Some("avx2") => Path::Avx2,
            _ => Path::Avx512,
        };
        Path::ALL
            .into_iter()
            .find(|&p| p <= cap && p.supported())
            .unwrap_or(Path::Scalar)
    })
}

/// Walk rows `0..rows` of `binned` (row-major, `p` bins a row, then
/// [`BIN_PADDING`] bytes) through `tree`: adds each row's leaf value to
/// `acc[r]` and, with `sums`, each step's change in node value to
/// `sums[r * p + feature]` (the path contributions). Returns false, having
/// done nothing, when the selected path is the scalar one, there are fewer
/// than [`MIN_ROWS`] rows or the sizes overflow 32-bit offsets; the caller
/// then walks with [`Tree::walk_rows`].
pub fn walk(
    tree: &Tree,
    rows: usize,
    p: usize,
    binned: &[u8],
    acc: &mut [f64],
    sums: Option<&mut [f32]>,
) -> bool {
    rows >= MIN_ROWS && walk_with(selected(), tree, rows, p, binned, acc, sums)
}

/// [`walk`] on a given path (tests compare every path the CPU has); false
/// when the CPU lacks it.
pub fn walk_with(
    path: Path,
    tree: &Tree,
    rows: usize,
    p: usize,
    binned: &[u8],
    acc: &mut [f64],
    sums: Option<&mut [f32]>,
) -> bool {
    let cells = rows * p;
    let fits = p > 0
        && !tree.nodes.is_empty()
        && binned.len() >= cells + BIN_PADDING
        && acc.len() >= rows
        && sums.as_ref().is_none_or(|s| s.len() >= cells)
        && cells + BIN_PADDING <= i32::MAX as usize
        && tree.nodes.len() * 3 <= i32::MAX as usize;
    if !fits || path == Path::Scalar || !path.supported() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has the path's features (checked above) and the sizes were checked.
    unsafe {
        match (path, sums) {
            (Path::Avx512, Some(s)) => avx512::walk::<true>(tree, rows, p, binned, acc, s),
            (Path::Avx512, None) => avx512::walk::<false>(tree, rows, p, binned, acc, &mut []),
            (_, Some(s)) => avx2::walk::<true>(tree, rows, p, binned, acc, s),
            (_, None) => avx2::walk::<false>(tree, rows, p, binned, acc, &mut []),
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Does this process walk with vector lanes (see [`selected`])?
pub fn available() -> bool {
    selected() != Path::Scalar
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
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
        let go_left =
            (missing & missing_left) | (!missing & _mm512_cmple_epu32_mask(bin, threshold));
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
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
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
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn lanes(w: &Walk, m: u32) -> __m256i {
        let b = _mm256_and_si256(_mm256_set1_epi32(m as i32), w.bits);
        _mm256_cmpeq_epi32(b, w.bits)
    }

    /// The bit set of a vector mask.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn bitset(v: __m256i) -> u32 {
        _mm256_movemask_ps(_mm256_castsi256_ps(v)) as u32
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ints(v: __m256i) -> [i32; LANES] {
        let mut a = [0i32; LANES];
        _mm256_storeu_si256(a.as_mut_ptr() as *mut __m256i, v);
        a
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn floats(v: __m256) -> [f32; LANES] {
        let mut a = [0f32; LANES];
        _mm256_storeu_ps(a.as_mut_ptr(), v);
        a
    }

    /// Give the lanes of `free` the next rows (lowest lanes first), at the
    /// root; lanes left without a row go idle.
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
        let word =
            _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_castps_si256(_mm256_shuffle_ps::<
                0b10_00_10_00,
            >(low, high)));
        let left =
            _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_castps_si256(_mm256_shuffle_ps::<
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
}
