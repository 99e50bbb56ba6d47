//! Outcomes: did acting work? Campaign effects against a holdout group
//! ([`campaign`]) on exact statistics ([`stats`]), and the warnings' accuracy
//! after the fact on the holdout ([`accuracy`]). Below the flows, above
//! ingest: it reads tables and returns reports, writes nothing.

pub mod accuracy;
pub mod campaign;
pub mod stats;
