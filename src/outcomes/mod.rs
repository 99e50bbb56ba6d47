//! Outcomes: did acting work, and for whom would it? Campaign effects
//! against a holdout group ([`campaign`]) on exact statistics ([`stats`]),
//! the warnings' accuracy after the fact on the holdout ([`accuracy`]), and
//! uplift — who a contact helps ([`uplift`]). Below the flows, above
//! ingest: it reads tables and returns reports; the one file it writes is
//! the uplift artifact, which scoring loads.

pub mod accuracy;
pub mod campaign;
mod columns;
pub mod reassess;
pub mod stats;
pub mod uplift;
