//! Product matching: what to offer each customer.
//!
//! [`catalog`] holds the products (risk rating R1–R5, holding column,
//! eligibility), [`risk`] the customer's risk tolerance C1–C5, [`inputs`]
//! reads both from a table, [`panel`] turns monthly holdings snapshots into
//! "took up product p by next month" examples, [`fit`] learns one
//! propensity model per product and backtests the ranking out of time,
//! and [`rank`] applies suitability (R ≤ C, never a held or ineligible
//! product) and orders what is left. The fitted [`OffersModel`] is saved
//! next to the churn model (`models/<run-id>.offers.json`,
//! `models/offers-latest`) and applied by `churn-score` with the same
//! feature code.

pub mod catalog;
pub mod fit;
pub mod inputs;
pub mod metrics;
pub mod panel;
pub mod rank;
pub mod risk;

use crate::error::{Error, Result};
use crate::features::{FeaturePipeline, TransformStats};
use crate::models::engine::binning::shared::SharedCuts;
use crate::models::FittedModel;
use catalog::Catalog;
use inputs::{Rows, Spec};
use ndarray::{s, Array2};
use serde::{Deserialize, Serialize};
use std::path::Path;

const FORMAT: &str = "churn-offers";
const FORMAT_VERSION: u32 = 1;
/// Offers listed per customer in offers.csv.
pub const TOP: usize = 7;
/// Offers per customer in the scores.
pub const SCORED: usize = 3;
/// Rows from which the product models bin a batch together: ranking its
/// cells among every model's cuts costs more than a few rows repay (a
/// request to the service brings one customer).
const SHARED_BINNING_ROWS: usize = 1024;

/// How a product's propensity is predicted.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Propensity {
    Model {
        model: FittedModel,
        /// Share of non-take-ups the model was fitted on (1 = all; see
        /// [`fit::FitSettings::max_examples`]): its odds are scaled back by it.
        #[serde(default = "all_kept", skip_serializing_if = "is_all_kept")]
        negatives_kept: f64,
    },
    /// Too few take-ups to learn from: every customer gets the base rate.
    BaseRate { rate: f64 },
}

/// One product's propensity model and what it was learned from.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductModel {
    pub id: String,
    /// Training examples (customer-months not holding it) and take-ups.
    pub rows: usize,
    pub positives: usize,
    /// Out-of-fold ROC AUC (grouped by customer), when cross-validated (a
    /// product with too few take-ups is not).
    pub auc: Option<f64>,
    pub propensity: Propensity,
}

/// The fitted offers: catalog, feature transform, one model per product.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct OffersModel {
    pub format: String,
    pub format_version: u32,
    pub run_id: String,
    pub created_at: String,
    /// The catalog, with the rule-input columns as detected in training.
    pub catalog: Catalog,
    pub id_column: String,
    pub risk_column: Option<String>,
    /// Customer attributes → encoded columns (as the churn models' pipeline).
    pub pipeline: FeaturePipeline,
    pub products: Vec<ProductModel>,
    /// Number columns the training panel wrote as extracts do (`1.234,50`),
    /// read the same way at scoring (absent: plain numbers).
    #[serde(
        default,
        skip_serializing_if = "crate::ingest::formats::Formats::is_empty"
    )]
    pub formats: crate::ingest::formats::Formats,
    pub checksum: String,
}

impl crate::artifact::Checksummed for OffersModel {
    const KIND: &'static str = "offers";
    const FORMAT: &'static str = FORMAT;
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    fn checksum_mut(&mut self) -> &mut String {
        &mut self.checksum
    }
    fn format(&self) -> (&str, u32) {
        (&self.format, self.format_version)
    }
}

/// Encoded feature names after the attributes: holdings, changes, level.
pub fn extra_names(catalog: &Catalog) -> Vec<String> {
    let ids = || catalog.products.iter().map(|p| p.id.as_str());
    ids()
        .map(|id| format!("holds:{id}"))
        .chain(ids().map(|id| format!("change:{id}")))
        .chain(["risk_level".to_string()])
        .collect()
}

/// The model matrix of `rows`: encoded attributes, holdings, holding
/// changes against `prev` (per product, the same customers' holdings a
/// period before; NaN or `None` when unknown) and the risk level.
pub fn matrix(
    pipe: &FeaturePipeline,
    rows: &Rows,
    prev: Option<&[Vec<f64>]>,
    stats: &mut TransformStats,
) -> Array2<f64> {
    let n = rows.len();
    let (w, k) = (pipe.width(), rows.held.len());
    let mut x = Array2::from_elem((n, w + 2 * k + 1), f64::NAN);
    if w > 0 {
        x.slice_mut(s![.., ..w])
            .assign(&pipe.transform_all(&rows.attributes, stats));
    }
    for (p, held) in rows.held.iter().enumerate() {
        for r in 0..n {
            let h = inputs::holding_value(held[r]);
            x[[r, w + p]] = h;
            if let Some(prev) = prev {
                x[[r, w + k + p]] = h - prev[p][r];
            }
        }
    }
    for r in 0..n {
        x[[r, w + 2 * k]] = rows.level[r] as f64;
    }
    x
}

fn all_kept() -> f64 {
    1.0
}

fn is_all_kept(r: &f64) -> bool {
    *r == 1.0
}

/// A probability from a model fitted on a share `kept` of the negatives,
/// as if fitted on all of them: odds × `kept`.
pub fn unsample(p: f64, kept: f64) -> f64 {
    if kept == 1.0 {
        return p;
    }
    let scaled = p * kept;
    scaled / (scaled + (1.0 - p))
}

impl Propensity {
    pub fn predict(&self, x: ndarray::ArrayView2<f64>) -> Vec<f64> {
        match self {
            Propensity::Model {
                model,
                negatives_kept,
            } => Self::unsampled(model.predict_proba(x), *negatives_kept),
            Propensity::BaseRate { rate } => vec![*rate; x.nrows()],
        }
    }

    fn unsampled(mut p: Vec<f64>, kept: f64) -> Vec<f64> {
        p.iter_mut().for_each(|v| *v = unsample(*v, kept));
        p
    }
}

impl OffersModel {
    /// The columns scoring reads, typed as in training.
    pub fn spec(&self) -> Spec<'_> {
        Spec {
            catalog: &self.catalog,
            attributes: self
                .pipeline
                .inputs
                .iter()
                .map(|i| {
                    let numeric = matches!(i, crate::features::InputSpec::Numeric { .. });
                    (i.name().to_string(), numeric)
                })
                .collect(),
            risk_column: self.risk_column.as_deref(),
            lenient_numbers: false,
        }
    }

    /// Every column a batch needs for offers.
    pub fn required_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self.spec().attributes.into_iter().map(|a| a.0).collect();
        cols.extend(self.catalog.products.iter().map(|p| p.column.clone()));
        cols
    }

    /// The required columns a batch with columns `names` lacks.
    pub fn missing_columns(&self, names: &[String]) -> Vec<String> {
        let mut need = self.required_columns();
        need.retain(|c| !names.contains(c));
        need
    }

    /// Per product (catalog order), every row's propensity. A batch of
    /// rows is binned once for all the product models ([`SharedCuts`]);
    /// the same propensities as each model binning on its own.
    pub fn propensities(&self, rows: &Rows, prev: Option<&[Vec<f64>]>) -> Vec<Vec<f64>> {
        let x = matrix(&self.pipeline, rows, prev, &mut TransformStats::default());
        // Each product's cuts, when its model has them (a native tree model).
        let own: Vec<_> = self
            .products
            .iter()
            .map(|m| match &m.propensity {
                Propensity::Model { model, .. } => model.bin_cuts(),
                Propensity::BaseRate { .. } => None,
            })
            .collect();
        let cuts: Vec<_> = own.iter().flatten().copied().collect();
        let shared = (x.nrows() >= SHARED_BINNING_ROWS && cuts.len() > 1)
            .then(|| SharedCuts::new(&cuts))
            .flatten()
            .filter(|s| s.n_features() == x.ncols());
        let Some(shared) = shared else {
            return self
                .products
                .iter()
                .map(|m| m.propensity.predict(x.view()))
                .collect();
        };
        let x = x.as_standard_layout();
        let ranks = shared.rank_rows(x.as_slice().unwrap_or(&[]));
        // The products with cuts, in catalog order, are `shared`'s 0, 1, ….
        let mut in_shared = 0..;
        self.products
            .iter()
            .zip(&own)
            .map(|(m, cuts)| match (&m.propensity, cuts) {
                (
                    Propensity::Model {
                        model,
                        negatives_kept,
                    },
                    Some(_),
                ) => {
                    let k = in_shared.next().unwrap_or_default();
                    let p = model.predict_proba_shared(x.view(), &shared, k, &ranks);
                    Propensity::unsampled(p, *negatives_kept)
                }
                (p, _) => p.predict(x.view()),
            })
            .collect()
    }

    /// Stamp the format and checksum and write atomically to `path`.
    pub fn save(&mut self, path: &Path) -> Result<()> {
        self.format = FORMAT.into();
        self.format_version = FORMAT_VERSION;
        crate::artifact::save_checksummed(self, path)
    }

    /// Load and verify an offers artifact.
    pub fn load(path: &Path) -> Result<OffersModel> {
        let m: OffersModel = crate::artifact::load_checksummed(path)?;
        let ids: Vec<&str> = m.catalog.products.iter().map(|p| p.id.as_str()).collect();
        let models: Vec<&str> = m.products.iter().map(|p| p.id.as_str()).collect();
        if ids != models || !m.pipeline.is_consistent() {
            return Err(Error::artifact(
                path,
                "inconsistent: the product models do not match the catalog",
            ));
        }
        m.catalog.check().map_err(|e| Error::artifact(path, e))?;
        Ok(m)
    }
}
