//! `churn-train features`: the point-in-time feature table of some as-of
//! dates, written as CSV or Parquet for a data team to inspect or reuse —
//! one row per customer and snapshot, with `customer_id`, `as_of` and the
//! label when every label window is inside the log.
//!
//! With `--model`, the table is built exactly as that model's training and
//! scoring build it (its log settings and RFM cut points): the table scoring
//! would see, for parity checks and offline evaluation of a past snapshot.

use crate::artifact::Artifact;
use crate::error::Result;
use crate::logs;

/// What `churn-train features` does.
pub struct FeaturesJob {
    pub logs: crate::logs::LogsConfig,
    pub model: Option<std::path::PathBuf>,
    pub out: std::path::PathBuf,
    /// `--merge`: the folder of part tables.
    pub merge: Option<std::path::PathBuf>,
}

/// Build (or, with `--merge`, merge) and write the feature table; returns
/// (rows, columns, the seconds of its phases).
pub fn write(job: &FeaturesJob) -> Result<(usize, usize, String)> {
    let art = job.model.as_deref().map(Artifact::load).transpose()?;
    let cuts = art.as_ref().and_then(|a| a.logs.as_ref()).map(|f| &f.rfm);
    if let Some(parts) = &job.merge {
        let mut phases = crate::progress::Phases::default();
        let mut frame = logs::merge_parts(&job.logs, parts, cuts)?;
        phases.mark("merge");
        crate::io::write_frame(&job.out, &mut frame)?;
        phases.mark("write");
        return Ok((frame.height(), frame.width(), phases.summary()));
    }
    let cfg = match &art {
        Some(a) => {
            let mut l = a.config.logs.clone();
            l.inputs_from(&job.logs);
            l.snapshots = job.logs.snapshots.clone();
            l
        }
        None => job.logs.clone(),
    };
    cfg.validate()?;
    let ((rows, cols), _, phases) = logs::write_feature_table(&cfg, None, cuts, &job.out)?;
    Ok((rows, cols, phases.summary()))
}
