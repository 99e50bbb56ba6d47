//! The scoring flow: load → validate → transform → predict → segment → act → write.
//!
//! Chunks of `chunk_rows` customers flow through the same
//! [`FeaturePipeline`](crate::features::FeaturePipeline) and model the
//! artifact holds; only aggregates (counts, drift bins, the summary) live
//! across chunks, so memory stays flat in the number of customers (except
//! for offline evaluation, 10 bytes per labelled customer, and migration,
//! ~30 bytes per customer of the previous run).

pub mod csv_log;
pub mod drift;
pub mod from_logs;
pub mod input;
pub mod migration;
mod output;
mod pipeline;
mod plan;
pub mod report;
pub mod summary;
mod totals;
pub mod write;

use crate::config::Config;
use crate::error::Result;
use crate::progress::Progress;
use std::path::PathBuf;
use summary::{EvalRows, Summary};

/// What a scoring job produced.
#[derive(Debug)]
pub struct ScoreOutcome {
    pub run_dir: PathBuf,
    /// The scores file (`None` for stdout).
    pub scores: Option<PathBuf>,
    pub summary: Summary,
}

/// Run a scoring job: [`plan`] (everything that can fail on a flag or a
/// file, before any score) → [`pipeline`] (the chunks) → [`output`] (the
/// run's files, the database commit last).
pub fn run(cfg: &Config) -> Result<ScoreOutcome> {
    let progress = Progress::new(cfg.score.quiet);
    let (mut plan, scorer) = plan::Plan::new(cfg, &progress)?;
    let art = &scorer.artifact;
    let mut writer = output::Output::open(cfg, &plan, art, &progress)?;
    let summary = Summary {
        model_run_id: art.run_id.clone(),
        model_name: art.model_name.clone(),
        value_tiers: std::mem::take(&mut plan.value_tiers),
        dates: plan.dates.take(),
        walk: plan.walk.into(),
        logs: plan.from_logs.as_ref().map(|f| f.report.clone()),
        ..Summary::default()
    };
    let mut totals = totals::Totals {
        summary,
        drift: drift::Drift::new(&art.scoring),
        eval: EvalRows::default(),
        rejects: csv_log::CsvLog::new(&plan.run_dir.join("rejects.csv"), "source,row,reason"),
        previous: plan.previous.take(),
        fairness: Default::default(),
        contacts: (cfg.score.contact.is_set())
            .then(|| crate::scoring::contact::ContactList::new(&cfg.score.contact)),
    };
    let mut offers_summary = std::mem::take(&mut plan.offers_summary);
    let job = (cfg, &scorer, &mut offers_summary);
    if let Err(e) = pipeline::stream(job, &plan.parts, &progress, &mut writer, &mut totals) {
        writer.abandon();
        return Err(e);
    }
    output::finish(cfg, plan, art, writer, totals, offers_summary, &progress)
}
