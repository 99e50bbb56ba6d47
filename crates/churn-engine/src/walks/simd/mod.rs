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

use crate::tree::Tree;

/// Bytes `binned` needs past its last row: bins are gathered four bytes at
/// a time.
pub const BIN_PADDING: usize = 3;

/// Fewer rows than this walk faster on the scalar path: lanes wait on
/// each other's gathers, and with few rows most lanes sit idle (the two
/// paths break even at about sixteen rows: docs/benchmarks.md, "Design measurements"). The service's
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
mod avx512;

#[cfg(target_arch = "x86_64")]
mod avx2;
