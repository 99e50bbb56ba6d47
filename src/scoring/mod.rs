//! The per-customer scoring core: validate → transform → predict → explain →
//! value → segment → act → offers → result rows.
//!
//! One core under three front ends: the batch flow (`score`), the database
//! sink it writes through and the HTTP service (`serve`) all score through
//! [`scorer::Scorer::score`] and read its results as [`rows`], so a customer
//! gets the same fields, bit for bit, whichever way they were scored. What
//! only the batch job does (reading files in chunks, the run folder, drift,
//! migration, the summary and its report) stays in the flow.

pub mod act;
pub mod contact;
pub mod explain;
pub mod offers;
pub mod rows;
pub mod scorer;
pub mod uplift;
pub mod validate;
