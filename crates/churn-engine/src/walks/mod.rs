//! Prediction and path contributions over fitted trees. Every walk gives
//! the bits of the scalar one: [`simd`] walks sixteen (AVX-512) or eight
//! (AVX2) rows per lane group, [`quick`] scores many rows of small trees by
//! their false nodes, [`levels`] moves a block of rows one level per pass,
//! and [`across`] walks a lone row through several trees at once.

pub mod across;
pub mod levels;
pub mod quick;
pub mod simd;
