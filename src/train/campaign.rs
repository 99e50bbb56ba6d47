//! `churn-train campaign`: read a campaign's table (one row per customer:
//! arm, outcomes), measure each treatment arm against the control
//! ([`crate::outcomes::campaign`]), write `campaign.json` in a run folder
//! of its own and print the table; `campaign plan` sizes a campaign.

use crate::error::{Error, Result};
use crate::io::write_json;
use crate::outcomes::campaign::{analyse, CampaignJob, CampaignReport, LogsOutcome};
use crate::progress::Progress;
use std::path::PathBuf;

/// Run `churn-train campaign`; the run folder and the report.
pub fn run(job: &CampaignJob) -> Result<(PathBuf, CampaignReport)> {
    let progress = Progress::new(job.quiet);
    progress.stage(format!("reading {}", job.data.display()));
    let mut raw = crate::ingest::read_table(&job.data, job.delimiter)?;
    let from_logs = match &job.logs {
        Some(logs) => Some(outcome_from_logs(job, logs, &mut raw, &progress)?),
        None => None,
    };
    let mut report = analyse(job, &raw)?;
    report.outcome_from_logs = from_logs;
    if let Some(s) = report.srm.as_ref().filter(|s| s.mismatch) {
        progress.warn(format!(
            "sample ratio mismatch: arm sizes {:?} against the planned split {:?} (chi2 {:.2}, p {:.2e}): the assignment is suspect, and so is every effect",
            s.counts, s.split, s.chi2, s.p_value
        ));
    }
    let (_, stamp) = crate::artifact::format_time(crate::artifact::now_epoch());
    let name = crate::io::unique_name(&format!("campaign-{stamp}"), |n| job.out.join(n).exists());
    let dir = job.out.join(&name);
    crate::io::publish_dir(&dir, |staging| {
        write_json(&staging.join("campaign.json"), &report)?;
        let html = crate::report::campaign::render(&report);
        crate::io::write_atomic(&staging.join("report.html"), html.as_bytes())
    })?;
    crate::io::print_stdout(&report.table())?;
    progress.stage(format!("wrote {}", dir.join("campaign.json").display()));
    Ok((dir, report))
}

/// Add the outcome `churned` to the contacts `raw`: each customer's label
/// in the window after the as-of date, by the training label rule, from
/// the logs `logs` names. Customers the logs do not know get no outcome
/// (counted, said in one line).
fn outcome_from_logs(
    job: &CampaignJob,
    logs: &crate::logs::LogsConfig,
    raw: &mut crate::ingest::RawTable,
    progress: &Progress,
) -> Result<LogsOutcome> {
    use crate::logs::{ID, LABEL};
    let src = raw.source.clone();
    if raw.index_of(LABEL).is_some() {
        return Err(Error::at(
            &src,
            LABEL,
            None,
            "the contacts already have this column; the outcome is built from the logs",
        ));
    }
    let id = job.id.as_deref().unwrap_or(ID);
    let ids = raw
        .column(id)
        .ok_or_else(|| Error::at(&src, id, None, "id column not found"))?;
    let ids: Vec<Option<String>> = (0..ids.len()).map(|r| ids.text(r)).collect();
    let cells = labels_from_logs(logs, &ids, progress)?;
    let unknown = cells.iter().filter(|c| c.is_none()).count();
    if unknown > 0 {
        progress.warn(format!(
            "{src}: {unknown} contacted customer(s) not customers at the as-of date in the logs (unknown, opened later or already gone): no outcome (counted as missing)"
        ));
    }
    raw.names.push(LABEL.into());
    raw.columns
        .push(crate::ingest::RawColumn::from_strings(&cells));
    Ok(LogsOutcome {
        as_of: logs.as_of.join(","),
        horizon: logs.horizon.clone(),
        churn_rule: logs.churn_rule.to_string(),
        customers_not_in_logs: unknown,
    })
}

/// Each id's label (`churned`: "1"/"0") in the window after the as-of date
/// of `logs`, by the training label rule; `None` for a customer the logs
/// do not know at that date.
pub fn labels_from_logs(
    logs: &crate::logs::LogsConfig,
    ids: &[Option<String>],
    progress: &Progress,
) -> Result<Vec<Option<String>>> {
    use crate::logs::{ID, LABEL};
    let built = crate::logs::training_table(logs, &|m| progress.stage(m))?;
    let t = &built.table;
    let (log_ids, labels) = match (t.column(ID), t.column(LABEL)) {
        (Some(i), Some(l)) => (i, l),
        _ => {
            return Err(Error::data(
                &t.source,
                "the log table has no id or label column",
            ))
        }
    };
    let label_of: std::collections::HashMap<String, String> = (0..log_ids.len())
        .filter_map(|r| Some((log_ids.text(r)?, labels.text(r)?)))
        .collect();
    Ok(ids
        .iter()
        .map(|i| label_of.get(i.as_deref()?.trim()).cloned())
        .collect())
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
