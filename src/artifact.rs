//! The saved model: one self-describing JSON file.
//!
//! It holds everything scoring needs and everything an auditor asks for:
//! format version, crate version, feature schema, the fitted preprocessing,
//! the model, threshold and warning cut-offs, CV metrics, seed, a fingerprint
//! of the training data and the creation time. A SHA-256 over the fitted
//! parts detects corruption; another format version is refused by name.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::evaluate::metrics::Metrics;
use crate::fairness::{AttributeSpec, Role};
use crate::features::{FeaturePipeline, InputSpec};
use crate::models::{Calibrator, FittedModel};
use crate::reference::ScoringReference;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub const FORMAT: &str = "churn-model";
/// 2: the checksum covers the whole artifact (1: only the fitted parts).
pub const FORMAT_VERSION: u32 = 2;
/// File extension of artifacts.
pub const EXTENSION: &str = "model.json";

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub file: String,
    pub rows: usize,
    pub columns: usize,
    pub sha256: String,
}

/// One input column the model needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// The saved model.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub format: String,
    pub format_version: u32,
    pub crate_version: String,
    pub created_at: String,
    pub run_id: String,
    pub seed: u64,
    pub model_name: String,
    pub target: String,
    pub positive_label: String,
    pub negative_label: String,
    pub id_column: Option<String>,
    pub threshold: f64,
    pub threshold_rule: String,
    pub schema: Vec<ColumnSchema>,
    pub cv_metrics: BTreeMap<String, Metrics>,
    pub data: Fingerprint,
    pub config: Config,
    pub pipeline: FeaturePipeline,
    pub model: FittedModel,
    /// Applied to the model's probabilities before thresholds and warning
    /// levels (`--calibrate`; none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibrator>,
    pub scoring: ScoringReference,
    /// Protected and sensitive columns: reported per group at scoring, and
    /// never cited as a reason even when one is a feature.
    #[serde(default)]
    pub fairness: Vec<AttributeSpec>,
    /// How the training table was built from raw logs (none for a flat table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<crate::logs::LogFeatures>,
    /// How the training file wrote its numbers: scoring reads batches so.
    /// Omitted for a plain file (artifacts from before keep their checksum).
    #[serde(
        default,
        skip_serializing_if = "crate::ingest::formats::Formats::is_empty"
    )]
    pub formats: crate::ingest::formats::Formats,
    /// HMAC-SHA-256 of the canonical bytes under the signing key
    /// ([`crate::signing`]); absent for an unsigned model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
    /// SHA-256 of the artifact's JSON without this field.
    pub checksum: String,
}

impl Artifact {
    /// The input schema implied by a fitted pipeline.
    pub fn schema_of(pipe: &FeaturePipeline) -> Vec<ColumnSchema> {
        pipe.inputs
            .iter()
            .map(|s| match s {
                InputSpec::Numeric { name, .. } => ColumnSchema {
                    name: name.clone(),
                    kind: "numeric".into(),
                    categories: vec![],
                },
                InputSpec::Categorical { name, levels, .. } => ColumnSchema {
                    name: name.clone(),
                    kind: "categorical".into(),
                    categories: levels.clone(),
                },
            })
            .collect()
    }

    /// Input columns copied into scores.csv (the RFM cell and lifecycle
    /// stage of a model trained on logs).
    pub fn passthrough(&self) -> &'static [&'static str] {
        match self.logs {
            Some(_) => &crate::logs::PASSTHROUGH,
            None => &[],
        }
    }

    /// Is input `name` a protected attribute (kept as a feature on purpose)?
    /// The calibrated probability of a model score (unchanged without a
    /// calibrator).
    #[inline]
    pub fn calibrated(&self, p: f64) -> f64 {
        self.calibration.as_ref().map_or(p, |c| c.apply(p))
    }

    /// P(churn) of every encoded row, calibrated as the run was.
    pub fn probabilities(&self, x: ndarray::ArrayView2<f64>) -> Vec<f64> {
        let mut p = self.model.predict_proba(x);
        if let Some(c) = &self.calibration {
            c.apply_all(&mut p);
        }
        p
    }

    pub fn is_protected(&self, name: &str) -> bool {
        self.fairness
            .iter()
            .any(|a| a.name == name && a.role != Role::Sensitive)
    }

    /// The SHA-256 of everything the artifact holds but the checksum
    /// itself — threshold, schema, configuration, pipeline, model, scoring
    /// reference — so any edit is caught at load (`path` names the artifact
    /// in the error, should it fail to serialise).
    pub fn compute_checksum(&mut self, path: &Path) -> Result<String> {
        let kept = std::mem::take(&mut self.checksum);
        let body = serde_json::to_string(&*self).map_err(|e| Error::artifact(path, e));
        self.checksum = kept;
        Ok(hex(&Sha256::digest(body?.as_bytes())))
    }

    /// The bytes a signature covers: the JSON with the checksum and the
    /// signature empty.
    fn canonical(&mut self, path: &Path) -> Result<String> {
        let (checksum, signature) = (
            std::mem::take(&mut self.checksum),
            std::mem::take(&mut self.signature),
        );
        let body = serde_json::to_string(&*self).map_err(|e| Error::artifact(path, e));
        (self.checksum, self.signature) = (checksum, signature);
        body
    }

    /// Sign with `key` (before the checksum is computed: it covers the
    /// signature).
    pub fn sign(&mut self, key: &[u8], path: &Path) -> Result<()> {
        let body = self.canonical(path)?;
        self.signature = crate::signing::sign(key, body.as_bytes());
        Ok(())
    }

    /// [`Artifact::load`], then, with a key file (`--verify-key`), refuse
    /// the model unless it is signed with that key.
    pub fn load_verified(path: &Path, key: Option<&Path>) -> Result<Artifact> {
        let mut art = Artifact::load(path)?;
        if let Some(key) = key {
            art.verify_signature(&crate::signing::read_key(key)?, path)?;
        }
        Ok(art)
    }

    /// Refuse a model that is unsigned or not signed with `key`.
    fn verify_signature(&mut self, key: &[u8], path: &Path) -> Result<()> {
        if self.signature.is_empty() {
            return Err(Error::artifact(
                path,
                "unsigned: --verify-key serves only models signed at training (--sign-key)",
            ));
        }
        let body = self.canonical(path)?;
        if !crate::signing::verify(key, body.as_bytes(), &self.signature) {
            return Err(Error::artifact(
                path,
                "the signature does not match the key: not a model signed for this service",
            ));
        }
        Ok(())
    }

    /// Write atomically to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| Error::artifact(path, e))?;
        crate::io::write_atomic(path, text.as_bytes())?;
        crate::io::share(path)
    }

    /// Load and verify an artifact.
    pub fn load(path: &Path) -> Result<Artifact> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::artifact(path, "not found: run churn-train first to create a model")
            }
            _ => Error::io(path, e),
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::artifact(path, format!("corrupted or not a model file ({e})")))?;
        if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
            return Err(Error::artifact(path, "not a churn model file"));
        }
        let version = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if version > FORMAT_VERSION as u64 {
            return Err(Error::artifact(path, format!("written by a newer churn (model format version {version}); this build reads version {FORMAT_VERSION}: upgrade churn to a release that reads version {version}")));
        }
        if version != FORMAT_VERSION as u64 {
            return Err(Error::artifact(path, format!("model format version {version} is older than this build's {FORMAT_VERSION}: retrain the model with this release")));
        }
        let mut a: Artifact = serde_json::from_value(value)
            .map_err(|e| Error::artifact(path, format!("corrupted ({e})")))?;
        let checksum = a.compute_checksum(path)?;
        if a.checksum != checksum {
            return Err(Error::artifact(path, "corrupted: checksum mismatch"));
        }
        a.checksum = checksum;
        // A model and a pipeline from different runs would fail mid-scoring.
        if !a.pipeline.is_consistent() {
            return Err(Error::artifact(
                path,
                "inconsistent: the feature pipeline's column names do not match its inputs",
            ));
        }
        if let Some(k) = a.model.n_features().filter(|&k| k != a.pipeline.width()) {
            return Err(Error::artifact(
                path,
                format!(
                    "inconsistent: the model takes {k} features, the feature pipeline makes {}",
                    a.pipeline.width()
                ),
            ));
        }
        Ok(a)
    }
}

/// Fingerprint a data file: name, shape and SHA-256 of its bytes.
pub fn fingerprint(path: &Path, rows: usize, columns: usize) -> Result<Fingerprint> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Fingerprint {
        file,
        rows,
        columns,
        sha256: hex(&h.finalize()),
    })
}

pub use crate::io::hex;

/// A model file beside the churn model (the offers and uplift models) that
/// carries its own format, version and a checksum over everything else:
/// saved and verified the same way.
pub trait Checksummed: Serialize + serde::de::DeserializeOwned {
    /// What the errors call it ("offers", "uplift").
    const KIND: &'static str;
    const FORMAT: &'static str;
    const FORMAT_VERSION: u32;
    fn checksum_mut(&mut self) -> &mut String;
    /// The format and version the file says it has.
    fn format(&self) -> (&str, u32);
}

/// The SHA-256 of `v` serialised with its checksum emptied.
fn checksum_of<T: Checksummed>(v: &mut T, path: &Path) -> Result<String> {
    let kept = std::mem::take(v.checksum_mut());
    let body = serde_json::to_string(&*v).map_err(|e| Error::artifact(path, e));
    *v.checksum_mut() = kept;
    Ok(hex(&Sha256::digest(body?.as_bytes())))
}

/// Stamp the checksum and write `v` atomically to `path`, readable to all
/// (an artifact holds no customer rows).
pub fn save_checksummed<T: Checksummed>(v: &mut T, path: &Path) -> Result<()> {
    *v.checksum_mut() = checksum_of(v, path)?;
    let text = serde_json::to_string(v).map_err(|e| Error::artifact(path, e))?;
    crate::io::write_atomic(path, text.as_bytes())?;
    crate::io::share(path)
}

/// Read `path` and check its format, version and checksum.
pub fn load_checksummed<T: Checksummed>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut v: T = serde_json::from_str(&text).map_err(|e| {
        Error::artifact(path, format!("corrupted or not an {} model ({e})", T::KIND))
    })?;
    let (format, version) = v.format();
    if format != T::FORMAT || version != T::FORMAT_VERSION {
        return Err(Error::artifact(
            path,
            format!(
                "not a version {} {} model (format {format} {version})",
                T::FORMAT_VERSION,
                T::KIND
            ),
        ));
    }
    let stored = v.checksum_mut().clone();
    if checksum_of(&mut v, path)? != stored {
        return Err(Error::artifact(path, "corrupted: checksum mismatch"));
    }
    Ok(v)
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set (reproducible
/// artifacts), else the clock.
pub fn now_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
}

/// RFC 3339 UTC time of epoch seconds, and a compact form for run ids.
pub fn format_time(epoch: u64) -> (String, String) {
    let days = (epoch / 86_400) as i32;
    let secs = epoch % 86_400;
    let (y, m, d) = crate::logs::dates::to_civil(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    (
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
        format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_format() {
        assert_eq!(super::format_time(0).0, "1970-01-01T00:00:00Z");
        assert_eq!(super::format_time(1_795_000_000).0, "2026-11-18T11:06:40Z");
    }
}
