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
use crate::logs::{self, LogsConfig};
use std::path::Path;

/// Build and write the feature table; returns (rows, columns, the seconds
/// of its phases).
pub fn write(cfg: &LogsConfig, model: Option<&Path>, out: &Path) -> Result<(usize, usize, String)> {
    let art = model.map(Artifact::load).transpose()?;
    let cfg = match &art {
        Some(a) => {
            let mut l = a.config.logs.clone();
            l.customers = cfg.customers.clone();
            l.transactions = cfg.transactions.clone();
            l.events = cfg.events.clone();
            l.as_of = cfg.as_of.clone();
            l.snapshots = cfg.snapshots.clone();
            l.run_settings_from(cfg);
            l
        }
        None => cfg.clone(),
    };
    cfg.validate()?;
    let cuts = art.as_ref().and_then(|a| a.logs.as_ref()).map(|f| &f.rfm);
    let (mut frame, _, mut phases) = logs::feature_table(&cfg, None, cuts)?;
    crate::io::write_frame(out, &mut frame)?;
    phases.mark("write");
    Ok((frame.height(), frame.width(), phases.summary()))
}
