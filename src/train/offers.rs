//! `churn-train offers`: catalog → panel → propensity models → backtest →
//! offers for the latest period → run folder + offers artifact.
//!
//! As a churn training run, nothing is written until every model is
//! fitted; the run folder is written under a hidden name and renamed into
//! place, and `models/offers-latest` moves only after the artifact is saved.

use crate::artifact;
use crate::config::OffersJob;
use crate::error::{Error, Result};
use crate::ingest::formats::Formats;
use crate::ingest::RawTable;
use crate::io::{csv_field, write_atomic, write_json};
use crate::offers::catalog::Catalog;
use crate::offers::fit::{self, FitSettings};
use crate::offers::metrics::{OffersMetrics, ProductLine};
use crate::offers::panel::{self, Panel};
use crate::offers::rank;
use crate::offers::{OffersModel, Propensity, TOP};
use crate::progress::Progress;
use crate::report::offers as page;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What an offers run produced.
#[derive(Debug)]
pub struct OffersOutcome {
    pub run_dir: PathBuf,
    pub model_path: PathBuf,
    pub metrics: OffersMetrics,
}

/// Numbers in the panel written as extracts write them (a decimal comma,
/// thousands separators, a currency), detected per column as for the
/// churn table and read as numbers (scoring reads its batches the same
/// way); said on the console. Dates are left as the panel reads them.
fn panel_formats(
    job: &OffersJob,
    catalog: &Catalog,
    raw: &mut RawTable,
    progress: &Progress,
) -> Formats {
    // Holding flags are judged as flags by the panel (a bad one is named there).
    let skip = |n: &str| {
        n == job.id
            || Some(n) == job.period.as_deref()
            || Some(n) == job.risk_column.as_deref()
            || catalog.products.iter().any(|p| p.column == n)
    };
    let (mut formats, partly) =
        Formats::detect(raw, &|n| !skip(n), &crate::config::IngestConfig::default());
    formats.dates.clear();
    for (name, f) in &formats.numbers {
        progress.stage(format!("{name}: numbers read with {}", f.describe()));
    }
    for p in &partly {
        progress.warn(crate::ingest::formats::partly_line(p));
    }
    formats.apply(raw);
    formats
}

/// Run `churn-train offers`.
pub fn run(job: &OffersJob) -> Result<OffersOutcome> {
    let progress = Progress::new(job.quiet);
    let mut catalog = Catalog::load(&job.products)?;
    progress.stage(format!("reading {}", job.data.display()));
    let mut raw = crate::ingest::read_table(&job.data, job.delimiter)?;
    let formats = panel_formats(job, &catalog, &mut raw, &progress);
    catalog.columns.detect(&raw.names);
    let panel = panel::build(
        &raw,
        &catalog,
        &job.id,
        job.period.as_deref(),
        job.risk_column.as_deref(),
    )?;
    drop(raw);
    let r = &panel.report;
    progress.stage(format!(
        "{} rows, {} customers, {} period(s), {} transitions; {} products",
        r.rows,
        r.customers,
        r.periods.len(),
        r.transitions,
        catalog.products.len()
    ));
    let settings = FitSettings {
        seed: job.seed,
        ..FitSettings::default()
    };
    let rolling = match panel.snapshot {
        true => None,
        false => {
            progress.stage(
                "rolling backtest: per period, refit on the periods before, rank its customers",
            );
            fit::rolling(&panel, &catalog, &settings, &|b| {
                progress.stage(format!(
                    "backtest {}: MAP@7 by propensity {:.4} vs popularity {:.4} ({:.2}x); \
                     as served {:.4} vs {:.4} ({:.2}x); hit@3 as served {:.3} vs {:.3}",
                    b.period,
                    b.model_by_propensity.map_at_7,
                    b.popularity_by_propensity.map_at_7,
                    b.map_lift_by_propensity,
                    b.model.map_at_7,
                    b.popularity.map_at_7,
                    b.map_lift,
                    b.model.hit_at_3,
                    b.popularity.hit_at_3
                ))
            })?
        }
    };
    if let Some(r) = &rolling {
        progress.stage(format!(
            "rolling backtest over {} period(s): MAP@7 as served {:.4} (from {:.4} to {:.4}), popularity {:.4}",
            r.periods.len(),
            r.mean.map_at_7,
            r.map_at_7_min,
            r.map_at_7_max,
            r.popularity_mean.map_at_7
        ));
    }
    progress.stage("fitting one propensity model per product (3-fold CV by customer)");
    let (pipeline, _, x) = fit::design(&panel, &panel.transitions);
    let products = fit::fit_products(&panel, &catalog, &panel.transitions, &x, &settings)?;
    drop(x);

    let (created_at, stamp) = artifact::format_time(artifact::now_epoch());
    let run_id = crate::io::unique_name(&format!("offers-{stamp}"), |id| {
        job.out.join(id).exists() || job.model_dir.join(format!("{id}.offers.json")).exists()
    });
    let mut model = OffersModel {
        format: String::new(),
        format_version: 0,
        run_id: run_id.clone(),
        created_at,
        catalog,
        id_column: job.id.clone(),
        risk_column: job.risk_column.clone(),
        pipeline,
        products,
        formats,
        checksum: String::new(),
    };
    // Offers for the latest period.
    let (csv, latest) = latest_offers(&panel, &model);
    let Latest {
        offered_top3,
        by_stage,
        risk_levels,
        offered,
        none,
    } = latest;
    let metrics = OffersMetrics {
        run_id: run_id.clone(),
        target: if panel.snapshot {
            "holds the product (no --period: weaker fallback)"
        } else {
            "took the product up by the next period"
        },
        ranking: if model.catalog.uses_margins() {
            "expected value: propensity x margin"
        } else {
            "propensity (some products have no margin)"
        },
        products: product_lines(&model, &offered_top3),
        panel: panel.report.clone(),
        backtest: rolling.as_ref().and_then(|r| r.last().cloned()),
        rolling_backtest: rolling,
        risk_levels,
        top3_by_stage: by_stage,
        customers_offered: offered,
        customers_without_offer: none,
    };

    let (run_dir, model_path) = publish(job, &mut model, &csv, &metrics)?;
    progress.stage(format!("offers model: {}", model_path.display()));
    progress.stage(format!("run:          {}", run_dir.display()));
    Ok(OffersOutcome {
        run_dir,
        model_path,
        metrics,
    })
}

/// What the latest period's offers add up to.
struct Latest {
    /// Per catalog product: customers offered it in their top 3.
    offered_top3: Vec<usize>,
    /// Top-3 offers per life stage and product.
    by_stage: BTreeMap<String, BTreeMap<String, usize>>,
    /// Customers per risk level and its source.
    risk_levels: BTreeMap<String, usize>,
    offered: usize,
    none: usize,
}

/// The latest period's customers ranked: offers.csv's text and the counts.
fn latest_offers(panel: &Panel, model: &OffersModel) -> (String, Latest) {
    let latest: Vec<usize> = panel.latest.iter().map(|l| l.0).collect();
    let rows = panel.rows.select(&latest);
    let before: Vec<Option<usize>> = panel.latest.iter().map(|l| l.1).collect();
    let prev = panel.holdings_at(&before);
    let props = model.propensities(&rows, (!panel.snapshot).then_some(&prev[..]));
    let held = fit::held_by_row(&rows);
    let cat = &model.catalog;
    let mut csv = String::from("id,rank,product,score,propensity\n");
    let mut offered_top3 = vec![0usize; cat.products.len()];
    let mut by_stage: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut risk_levels: BTreeMap<String, usize> = BTreeMap::new();
    let (mut offered, mut none) = (0, 0);
    for (r, &row) in latest.iter().enumerate() {
        let c = fit::profile(cat, &rows, r, None, None, &held[r]);
        let p: Vec<f64> = props.iter().map(|v| v[r]).collect();
        let ranked = rank::rank(cat, &c, &p, TOP);
        *risk_levels
            .entry(format!("C{} {}", rows.level[r], rows.source[r]))
            .or_default() += 1;
        if ranked.is_empty() {
            none += 1;
        } else {
            offered += 1;
        }
        let stage = c.stage.unwrap_or("unknown").to_string();
        for (k, (prod, score)) in ranked.iter().enumerate() {
            csv += &format!(
                "{},{},{},{score},{}\n",
                csv_field(&panel.ids[row]),
                k + 1,
                cat.products[*prod].id,
                p[*prod]
            );
            if k < 3 {
                offered_top3[*prod] += 1;
                *by_stage
                    .entry(stage.clone())
                    .or_default()
                    .entry(cat.products[*prod].id.clone())
                    .or_default() += 1;
            }
        }
    }
    let latest = Latest {
        offered_top3,
        by_stage,
        risk_levels,
        offered,
        none,
    };
    (csv, latest)
}

/// Each product's line of offers_metrics.json: its model, take-ups and
/// out-of-fold AUC, and how often it was offered in a top 3.
fn product_lines(model: &OffersModel, offered_top3: &[usize]) -> Vec<ProductLine> {
    model
        .products
        .iter()
        .zip(&model.catalog.products)
        .zip(offered_top3)
        .map(|((m, p), &top3)| ProductLine {
            id: p.id.clone(),
            name: p.name.clone(),
            risk: p.risk,
            category: p.category.clone(),
            model: match m.propensity {
                Propensity::Model { .. } => "gradient_boosting",
                Propensity::BaseRate { .. } if m.auc.is_some() => {
                    "base_rate (no out-of-fold gain over it)"
                }
                Propensity::BaseRate { .. } => "base_rate (too few take-ups)",
            },
            rows: m.rows,
            positives: m.positives,
            take_up_rate: m.positives as f64 / m.rows.max(1) as f64,
            roc_auc_oof: m.auc,
            offered_top3: top3,
        })
        .collect()
}

/// Write the run folder and save the offers model (the run folder under a
/// hidden name until the model is saved, as training does); the run folder
/// and the model's path.
fn publish(
    job: &OffersJob,
    model: &mut OffersModel,
    csv: &str,
    metrics: &OffersMetrics,
) -> Result<(PathBuf, PathBuf)> {
    let run_id = &model.run_id;
    let file_name = format!("{run_id}.offers.json");
    let model_path = job.model_dir.join(&file_name);
    let run_dir = job.out.join(run_id);
    std::fs::create_dir_all(&job.model_dir).map_err(|e| Error::io(&job.model_dir, e))?;
    crate::io::publish_dir(&run_dir, |staging| {
        write_atomic(&staging.join("offers.csv"), csv.as_bytes())?;
        write_json(&staging.join("offers_metrics.json"), metrics)?;
        write_atomic(
            &staging.join("report.html"),
            page::render(metrics).as_bytes(),
        )?;
        model.save(&model_path)
    })?;
    crate::io::replace_symlink(&job.model_dir.join("offers-latest"), &file_name)?;
    Ok((run_dir, model_path))
}
