//! Outcomes: did acting work? Campaign effects against a holdout group
//! ([`campaign`]) on exact statistics ([`stats`]). Below the flows, above
//! ingest: it reads tables and returns reports, writes nothing.

pub mod campaign;
pub mod stats;
