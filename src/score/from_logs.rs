//! Scoring from raw logs: the snapshot's features are built with the
//! artifact's own log settings (column mapping, event kinds, date format)
//! and its training RFM cut points, written to the run folder as
//! `features.parquet` (what was scored, for audit), and that file is then
//! scored by the unchanged flow — tiers, warning levels, reasons, actions,
//! drift and rejects are the flat table's.
//!
//! The label is never attached: scoring does not look past the as-of date,
//! so the same snapshot scored from a full log and from the log cut at the
//! as-of date gives the same bytes.

use crate::artifact::Artifact;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::logs::{self, LogReport, LogsConfig};
use crate::progress::Progress;
use std::path::{Path, PathBuf};

/// The artifact's log settings with this job's files and as-of date.
pub fn settings(cfg: &Config, art: &Artifact) -> Result<LogsConfig> {
    if art.logs.is_none() {
        return Err(Error::Config(format!(
            "model {} was trained on a flat table, not on logs: score it with --data",
            art.run_id
        )));
    }
    let job = &cfg.logs;
    let mut l = art.config.logs.clone();
    l.customers = job.customers.clone();
    l.transactions = job.transactions.clone();
    l.events = job.events.clone();
    l.as_of = job.as_of.clone();
    l.snapshots = None;
    if job.date_format.is_some() {
        l.date_format = job.date_format.clone();
    }
    if job.delimiter.is_some() {
        l.delimiter = job.delimiter;
    }
    if l.events.is_none() && art.config.logs.events.is_some() {
        return Err(Error::Config(
            "the model was trained with an event log: give --events".into(),
        ));
    }
    Ok(l)
}

/// Build the snapshot's features into `run_dir/features.parquet`.
pub fn features(
    cfg: &Config,
    art: &Artifact,
    run_dir: &Path,
    progress: &Progress,
) -> Result<(PathBuf, LogReport)> {
    let l = settings(cfg, art)?;
    let cuts = art.logs.as_ref().map(|f| &f.rfm);
    progress.stage(format!(
        "building features as of {} from the logs",
        l.as_of.join(",")
    ));
    let (mut frame, report) = logs::feature_table(&l, Some(false), cuts)?;
    let path = run_dir.join("features.parquet");
    crate::io::write_frame(&path, &mut frame)?;
    Ok((path, report))
}
