//! The integration tests: one binary, so the crate and its dependencies
//! are linked once and the fixtures in [`common`] are trained once per
//! process; one module per area.

#![allow(dead_code)]

#[macro_use]
mod common;
mod architecture;
mod boosting;
mod buckets;
mod campaign;
mod contacts;
mod crash;
mod engine;
mod fairness;
mod formats;
mod fuzz;
mod leakage;
mod limits;
mod logs;
mod metrics_oracle;
mod offers;
mod offers_dynamics;
mod private;
mod report;
mod score;
mod serve;
mod signing;
mod sink;
mod thresholds;
mod train;
mod uplift;
mod value;
