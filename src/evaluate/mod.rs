//! Model evaluation: metrics, threshold choice, cross-validation.

pub mod curves;
pub mod cv;
pub mod metrics;
pub mod profit;
pub mod threshold;
