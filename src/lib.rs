//! # churn — churn early warning and customer value tiers for banks
//!
//! Training (`churn-train`):
//! [`ingest`] → [`clean`] → [`features`] → [`split`] → [`models`] →
//! [`evaluate`] → [`artifact`] → [`report`], orchestrated by [`train`].
//!
//! Scoring (`churn-score`): load the artifact → validate the batch →
//! transform with the *same* [`features::FeaturePipeline`] → predict →
//! segment into value tiers → act (warning levels, playbook) → write,
//! orchestrated by [`score`].
//!
//! The binaries only parse flags ([`cli`]) into one [`config::Config`] and
//! call the library; every error is an [`error::Error`] with file, column and
//! row context.

// Parameter checks are written `!(x >= 0.0)` on purpose: NaN fails them.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

/// `TryFrom<String>` and `Into<String>` through `FromStr` and `Display`,
/// for settings that serde reads and writes as their text
/// (`#[serde(try_from = "String", into = "String")]`).
macro_rules! text_serde {
    ($($t:ty),+ $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = <$t as std::str::FromStr>::Err;
            fn try_from(s: String) -> std::result::Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
    )+};
}

pub mod artifact;
pub mod clean;
pub mod cli;
pub mod compare;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod fairness;
pub mod fast;
pub mod features;
pub mod ingest;
pub mod io;
pub mod logs;
pub mod models;
pub mod offers;
pub mod outcomes;
pub mod progress;
pub mod reference;
pub mod report;
pub mod runtime;
pub mod score;
pub mod scoring;
pub mod serve;
pub mod signing;
pub mod sink;
pub mod split;
pub use churn_engine::stats;
pub mod synth;
pub mod tls;
pub mod train;

pub use error::{Error, Result};

/// The process exit code of a job's result: 0 on success and when standard
/// output was closed by its reader (`| head -1` is not a failure, as with
/// ripgrep and coreutils); otherwise `error: …` on one line and 1.
pub fn exit_code(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
