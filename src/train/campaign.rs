//! `churn-train campaign`: read a campaign's table (one row per customer:
//! arm, outcomes), measure each treatment arm against the control
//! ([`crate::outcomes::campaign`]), write `campaign.json` in a run folder
//! of its own and print the table; `campaign plan` sizes a campaign.

use crate::error::{Error, Result};
use crate::io::write_json;
use crate::outcomes::campaign::{analyse, CampaignJob, CampaignReport};
use crate::progress::Progress;
use std::path::PathBuf;

/// Run `churn-train campaign`; the run folder and the report.
pub fn run(job: &CampaignJob) -> Result<(PathBuf, CampaignReport)> {
    let progress = Progress::new(job.quiet);
    progress.stage(format!("reading {}", job.data.display()));
    let raw = crate::ingest::read_table(&job.data, job.delimiter)?;
    let report = analyse(job, &raw)?;
    if let Some(s) = report.srm.as_ref().filter(|s| s.mismatch) {
        progress.warn(format!(
            "sample ratio mismatch: arm sizes {:?} against the planned split {:?} (chi2 {:.2}, p {:.2e}): the assignment is suspect, and so is every effect",
            s.counts, s.split, s.chi2, s.p_value
        ));
    }
    let (_, stamp) = crate::artifact::format_time(crate::artifact::now_epoch());
    let name = crate::io::unique_name(&format!("campaign-{stamp}"), |n| job.out.join(n).exists());
    let dir = job.out.join(&name);
    // Written under a hidden name, renamed into place when complete.
    let staging = job.out.join(format!(".{name}.partial"));
    let written = (|| {
        crate::io::private_dirs(&staging).map_err(|e| Error::io(&staging, e))?;
        write_json(&staging.join("campaign.json"), &report)?;
        let html = crate::report::campaign::render(&report);
        crate::io::write_atomic(&staging.join("report.html"), html.as_bytes())?;
        std::fs::rename(&staging, &dir).map_err(|e| Error::io(&dir, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    crate::io::print_stdout(&report.table())?;
    progress.stage(format!("wrote {}", dir.join("campaign.json").display()));
    Ok((dir, report))
}

/// `churn-train campaign plan`: customers per arm, as a line.
pub fn plan(baseline: f64, mde: f64, power: f64, alpha: f64) -> Result<String> {
    let n = crate::outcomes::stats::customers_per_arm(baseline, mde, power, alpha).ok_or_else(|| {
        crate::error::Error::Config(format!(
            "campaign plan: need 0 <= baseline <= 1, 0 <= baseline + mde <= 1 and mde != 0 (got {baseline}, {mde})"
        ))
    })?;
    Ok(format!(
        "customers per arm: {} ({n:.3}) to detect {:+} on a rate of {baseline} with power {power} at two-sided alpha {alpha}\n",
        n.ceil(),
        mde
    ))
}
