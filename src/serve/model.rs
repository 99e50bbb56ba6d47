//! The model a service answers with, and how a new one replaces it.
//!
//! A [`Loaded`] model is checked before it serves: the artifact's checksum
//! and format (as in batch), then a probe customer with every input
//! missing must score to a probability in [0, 1]. Requests take an `Arc`
//! of the current model, so a reload swaps the pointer and requests in
//! flight finish on the model they started with; a model that fails its
//! checks is refused and the old one keeps serving.

use super::request::Needs;
use crate::artifact::Artifact;
use crate::config::ScoreConfig;
use crate::error::{Error, Result};
use crate::ingest::{RawColumn, RawTable};
use crate::offers::OffersModel;
use crate::scoring::offers as score_offers;
use crate::scoring::scorer::Scorer;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// A checked model ready to serve.
pub struct Loaded {
    pub scorer: Scorer,
    /// `GET /v1/model`, rendered once.
    pub card: Vec<u8>,
    /// What every request must carry: the schema's fields, and the offers'
    /// when `--offers` was given.
    pub needs: Needs,
    /// The offers model's inputs: offers apply to requests carrying them all.
    pub offer_inputs: Vec<String>,
}

impl Loaded {
    /// Load, check and probe the model `settings` name.
    pub fn load(settings: &ScoreConfig) -> Result<Loaded> {
        let mut settings = settings.clone();
        // Tiers come from the model: a request is not a batch to refit on.
        settings.refit_segments = false;
        let artifact = Artifact::load_verified(&settings.model, settings.verify_key.as_deref())?;
        let (offers, _) = score_offers::resolve(&settings, &[])?;
        let offer_inputs = offers
            .as_ref()
            .map(|m| m.required_columns())
            .unwrap_or_default();
        let mut required: Vec<String> = artifact.schema.iter().map(|c| c.name.clone()).collect();
        if settings.offers.is_some() {
            required.extend(offer_inputs.iter().cloned());
        }
        let numeric = artifact
            .schema
            .iter()
            .filter(|c| c.kind == "numeric")
            .map(|c| c.name.clone())
            .collect();
        let segments = artifact.scoring.segments.clone();
        let card = card(&artifact, &settings.model, offers.as_ref())?;
        let mut scorer = Scorer::new(&settings, artifact, segments, offers)?;
        if let Some(path) = &settings.uplift {
            scorer.load_uplift(path)?;
        }
        let loaded = Loaded {
            scorer,
            card,
            needs: Needs::new(required, numeric),
            offer_inputs,
        };
        loaded.probe(&settings.model)?;
        Ok(loaded)
    }

    pub fn model_id(&self) -> &str {
        &self.scorer.artifact.run_id
    }

    /// Score one customer with every input missing.
    fn probe(&self, path: &Path) -> Result<()> {
        let empty: [Option<&str>; 1] = [None];
        let names: Vec<String> = self
            .scorer
            .artifact
            .schema
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let table = RawTable {
            source: "probe".into(),
            columns: names
                .iter()
                .map(|_| RawColumn::from_strings(&empty))
                .collect(),
            names,
            first_row: 0,
            rows: None,
            skipped: vec![],
        };
        let art = &self.scorer.artifact;
        let mut batch = crate::scoring::validate::validate(art, None, &table)?;
        let ids = std::mem::take(&mut batch.ids);
        let scored = self.scorer.score(
            &batch,
            ids,
            &mut Default::default(),
            &mut Default::default(),
        )?;
        match scored.probability.as_slice() {
            [p] if (0.0..=1.0).contains(p) => Ok(()),
            other => Err(Error::artifact(
                path,
                format!("a probe customer scored {other:?}, not one probability in [0, 1]"),
            )),
        }
    }
}

/// The model card: what a caller needs to build requests and read answers.
fn card(art: &Artifact, path: &Path, offers: Option<&OffersModel>) -> Result<Vec<u8>> {
    let inputs: Vec<serde_json::Value> = art
        .schema
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "kind": c.kind,
                "categories": c.categories,
            })
        })
        .collect();
    let card = serde_json::json!({
        "model_id": art.run_id,
        "model_name": art.model_name,
        "created_at": art.created_at,
        "crate_version": art.crate_version,
        "checksum": art.checksum,
        "file": path.display().to_string(),
        "target": art.target,
        "positive_label": art.positive_label,
        "id_column": art.id_column,
        "threshold": art.threshold,
        "threshold_rule": art.threshold_rule,
        "warning_cutoffs": art.scoring.warning,
        "threshold_groups": art.scoring.thresholds,
        "calibrated": art.calibration.is_some(),
        "cv_metrics": art.cv_metrics,
        "inputs": inputs,
        "offers": offers.map(|m| serde_json::json!({
            "model_id": m.run_id,
            "inputs": m.required_columns(),
        })),
    });
    serde_json::to_vec_pretty(&card).map_err(|e| Error::artifact(path, e))
}

/// What identifies the model file on disk: the file a link resolves to,
/// its length and modification time. A changed stamp means a new model.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp(Option<(PathBuf, u64, SystemTime)>);

impl Stamp {
    pub fn of(path: &Path) -> Stamp {
        let real = std::fs::canonicalize(path).ok();
        Stamp(real.and_then(|p| {
            let m = std::fs::metadata(&p).ok()?;
            Some((p, m.len(), m.modified().ok()?))
        }))
    }
}

/// The model being served, swapped whole by a reload.
pub struct Current {
    model: RwLock<Arc<Loaded>>,
}

impl Current {
    pub fn new(model: Loaded) -> Current {
        Current {
            model: RwLock::new(Arc::new(model)),
        }
    }

    /// The model a request is answered with (kept by the request until it ends).
    pub fn get(&self) -> Arc<Loaded> {
        match self.model.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn swap(&self, model: Loaded) {
        let new = Arc::new(model);
        match self.model.write() {
            Ok(mut m) => *m = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}
