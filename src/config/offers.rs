//! A `churn-train offers` job: its settings and the embedded panel's
//! defaults, resolved here so a library caller gets the same job the
//! command line does.

use super::{embedded, DEFAULT_HOLDINGS, DEFAULT_PRODUCTS, MODEL_DIR, RUNS_DIR};
use crate::error::{Error, Result};
use std::path::PathBuf;

/// A resolved `churn-train offers` job.
#[derive(Debug, Clone)]
pub struct OffersJob {
    pub data: PathBuf,
    pub id: String,
    pub period: Option<String>,
    pub products: PathBuf,
    pub risk_column: Option<String>,
    pub out: PathBuf,
    pub model_dir: PathBuf,
    pub seed: u64,
    pub delimiter: Option<char>,
    pub quiet: bool,
}

/// What an offers job was told (every field optional but the seed).
#[derive(Debug, Clone, Default)]
pub struct OffersSettings {
    pub data: Option<PathBuf>,
    pub id: Option<String>,
    pub period: Option<String>,
    pub products: Option<PathBuf>,
    pub risk_column: Option<String>,
    pub out: Option<PathBuf>,
    pub model_dir: Option<PathBuf>,
    pub seed: u64,
    pub delimiter: Option<char>,
    pub quiet: bool,
}

impl OffersSettings {
    /// Settings → job: without data, the embedded panel and its columns; a
    /// table of one's own needs its id column named.
    pub fn resolve(self) -> Result<OffersJob> {
        let (data, id, period, risk_column) = match self.data {
            Some(d) => (
                d,
                self.id
                    .ok_or_else(|| Error::Config("offers: --data needs --id COL".into()))?,
                self.period,
                self.risk_column,
            ),
            None => (
                embedded(&format!("{DEFAULT_HOLDINGS}/holdings.csv")),
                self.id.unwrap_or_else(|| "customer_id".into()),
                self.period.or_else(|| Some("period".into())),
                self.risk_column.or_else(|| Some("risk_profile".into())),
            ),
        };
        Ok(OffersJob {
            data,
            id,
            period,
            products: self.products.unwrap_or_else(|| embedded(DEFAULT_PRODUCTS)),
            risk_column,
            out: self.out.unwrap_or_else(|| RUNS_DIR.into()),
            model_dir: self.model_dir.unwrap_or_else(|| MODEL_DIR.into()),
            seed: self.seed,
            delimiter: self.delimiter,
            quiet: self.quiet,
        })
    }
}
