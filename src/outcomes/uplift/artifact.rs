//! The uplift artifact (`models/<run>.uplift.json`, `models/uplift-latest`):
//! the feature pipeline and the fitted learner, checksummed like the churn
//! model, so `churn-score --uplift` answers with the same uplift the
//! training run measured.

use super::learners::UpliftModel;
use super::Figures;
use crate::error::{Error, Result};
use crate::features::FeaturePipeline;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const FORMAT: &str = "churn-uplift";
pub const FORMAT_VERSION: u32 = 1;
/// The file name's ending.
pub const EXTENSION: &str = "uplift.json";
/// The name of the link to the newest uplift artifact in the model folder.
pub const LATEST: &str = "uplift-latest";

/// A fitted uplift model with what it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftArtifact {
    pub format: String,
    pub format_version: u32,
    pub crate_version: String,
    pub created_at: String,
    pub run_id: String,
    pub seed: u64,
    pub outcome: String,
    pub positive_label: String,
    /// `decrease`: the bank wants the outcome less often (churn); scores
    /// and rankings then use the retention uplift, −uplift.
    pub decrease: bool,
    pub arm: String,
    pub control: String,
    pub treatment: String,
    pub id_column: Option<String>,
    pub pipeline: FeaturePipeline,
    #[serde(
        default,
        skip_serializing_if = "crate::ingest::formats::Formats::is_empty"
    )]
    pub formats: crate::ingest::formats::Formats,
    pub model: UpliftModel,
    /// Every cross-validated learner's out-of-fold figures.
    pub cv: BTreeMap<String, Figures>,
    pub checksum: String,
}

impl crate::artifact::Checksummed for UpliftArtifact {
    const KIND: &'static str = "uplift";
    const FORMAT: &'static str = FORMAT;
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
    fn format(&self) -> (&str, u32) {
        (&self.format, self.format_version)
    }
}

impl UpliftArtifact {
    /// Stamp the checksum and write atomically to `path` (shared: an
    /// artifact holds no customer rows).
    pub fn save(&mut self, path: &Path) -> Result<()> {
        crate::artifact::save_checksummed(self, path)
    }

    /// Load and verify an uplift artifact.
    pub fn load(path: &Path) -> Result<UpliftArtifact> {
        let a: UpliftArtifact = crate::artifact::load_checksummed(path)?;
        if !a.pipeline.is_consistent() || a.model.n_features() != a.pipeline.width() {
            return Err(Error::artifact(
                path,
                "inconsistent: the learner's inputs do not match its feature pipeline",
            ));
        }
        Ok(a)
    }
}
