//! The uplift artifact (`models/<run>.uplift.json`, `models/uplift-latest`):
//! the feature pipeline and the fitted learner, checksummed like the churn
//! model, so `churn-score --uplift` answers with the same uplift the
//! training run measured.

use super::learners::UpliftModel;
use super::Figures;
use crate::error::{Error, Result};
use crate::features::FeaturePipeline;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

impl UpliftArtifact {
    fn checksum_of(&mut self, path: &Path) -> Result<String> {
        let kept = std::mem::take(&mut self.checksum);
        let body = serde_json::to_string(&*self).map_err(|e| Error::artifact(path, e));
        self.checksum = kept;
        Ok(crate::artifact::hex(&Sha256::digest(body?.as_bytes())))
    }

    /// Stamp the checksum and write atomically to `path` (shared: an
    /// artifact holds no customer rows).
    pub fn save(&mut self, path: &Path) -> Result<()> {
        self.checksum = self.checksum_of(path)?;
        let text = serde_json::to_string(self).map_err(|e| Error::artifact(path, e))?;
        crate::io::write_atomic(path, text.as_bytes())?;
        crate::io::share(path)
    }

    /// Load and verify an uplift artifact.
    pub fn load(path: &Path) -> Result<UpliftArtifact> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut a: UpliftArtifact = serde_json::from_str(&text).map_err(|e| {
            Error::artifact(path, format!("corrupted or not an uplift model ({e})"))
        })?;
        if a.format != FORMAT || a.format_version != FORMAT_VERSION {
            return Err(Error::artifact(
                path,
                format!(
                    "not a version {FORMAT_VERSION} uplift model (format {} {})",
                    a.format, a.format_version
                ),
            ));
        }
        if a.checksum_of(path)? != a.checksum {
            return Err(Error::artifact(path, "corrupted: checksum mismatch"));
        }
        if !a.pipeline.is_consistent() || a.model.n_features() != a.pipeline.width() {
            return Err(Error::artifact(
                path,
                "inconsistent: the learner's inputs do not match its feature pipeline",
            ));
        }
        Ok(a)
    }
}
