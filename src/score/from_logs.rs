//! Scoring from raw logs: the snapshot's features are built with the
//! artifact's own log settings (column mapping, event kinds, date format)
//! and its training RFM cut points, written to a temporary Parquet file
//! that the unchanged flow scores (and that joins the run folder as
//! `features.parquet`, what was scored, when the run succeeds) — tiers, warning levels, reasons, actions,
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
    l.inputs_from(job);
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

/// A snapshot's features, built from logs, waiting to be scored.
pub struct LogFeatures {
    dir: crate::io::TempDir,
    pub report: LogReport,
}

/// The features' file name, in the temporary folder and the run folder.
const FILE: &str = "features.parquet";

impl LogFeatures {
    /// The Parquet file to score.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(FILE)
    }

    /// Copy the scored features into the run folder (atomically).
    pub fn keep(&self, run_dir: &Path) -> Result<()> {
        let from = self.path();
        crate::io::with_atomic_writer(&run_dir.join(FILE), |w| {
            std::io::copy(&mut std::fs::File::open(&from)?, w).map(|_| ())
        })
    }
}

/// Build the snapshot's features into a temporary Parquet file.
pub fn features(cfg: &Config, art: &Artifact, progress: &Progress) -> Result<LogFeatures> {
    let l = settings(cfg, art)?;
    let cuts = art.logs.as_ref().map(|f| &f.rfm);
    progress.stage(format!(
        "building features as of {} from the logs",
        l.as_of.join(",")
    ));
    let dir = crate::io::TempDir::new()?;
    let (_, report, phases) =
        logs::write_feature_table(&l, Some(false), cuts, &dir.path().join(FILE))?;
    progress.stage(format!("logs: {}", phases.summary()));
    if let Some(line) = logs::short_history_line(&report.snapshots) {
        progress.warn(line);
    }
    Ok(LogFeatures { dir, report })
}
