//! The scoring flow: load → validate → transform → predict → segment → act → write.

pub mod config;
pub mod reference;
pub mod segment;
pub mod value;
