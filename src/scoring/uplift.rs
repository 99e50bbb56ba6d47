//! The uplift model at scoring (`churn-score --uplift`): each customer's
//! change in the chance of the outcome the bank wants if contacted (for a
//! churn campaign, the retention uplift), from the same validated batch the
//! churn model scores. The contact list then ranks by retention uplift ×
//! CLV − costs, the value a contact actually saves.
//!
//! The uplift model reads its inputs from the batch the churn model's
//! schema typed, so it may read only columns the churn model reads, of the
//! same kind: checked once when the models are loaded, not per row.

use crate::artifact::Artifact;
use crate::error::{Error, Result};
use crate::features::{FeatureTable, TransformStats};
use crate::outcomes::uplift::artifact::UpliftArtifact;
use std::path::Path;

/// Load the uplift artifact at `path` and check it can score the churn
/// model's batches.
pub fn load(path: &Path, churn: &Artifact) -> Result<UpliftArtifact> {
    let u = UpliftArtifact::load(path)?;
    for input in Artifact::schema_of(&u.pipeline) {
        let (name, kind) = (&input.name, &input.kind);
        match churn.schema.iter().find(|c| c.name == *name) {
            Some(c) if c.kind == *kind => {}
            Some(c) => {
                return Err(Error::artifact(
                    path,
                    format!(
                        "the uplift model reads {name} as {kind}, the churn model as {}: train both on the same table",
                        c.kind
                    ),
                ))
            }
            None => {
                return Err(Error::artifact(
                    path,
                    format!(
                        "the uplift model reads {name}, which the churn model does not: train both on the same customer columns"
                    ),
                ))
            }
        }
    }
    Ok(u)
}

/// Each row's uplift in the bank's direction (retention uplift for churn).
pub fn apply(u: &UpliftArtifact, table: &FeatureTable) -> Vec<f64> {
    // Imputed cells are the churn model's to count: the same cells.
    let x = u
        .pipeline
        .transform_all(table, &mut TransformStats::default());
    let sign = if u.decrease { -1.0 } else { 1.0 };
    u.model
        .predict(x.view())
        .uplift
        .into_iter()
        .map(|v| sign * v)
        .collect()
}
