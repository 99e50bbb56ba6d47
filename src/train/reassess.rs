//! `churn-train thresholds`: re-assess a past scoring run's thresholds
//! against what happened. Reads the run's scores.csv, joins each customer
//! to an outcome (a labels table, or the label built from raw logs after
//! the as-of date with the training rule), judges the flags per threshold
//! group and per scoring month ([`crate::outcomes::reassess`]), and writes
//! thresholds.json and report.html in a run folder of its own.

use crate::artifact::Artifact;
use crate::error::{Error, Result};
use crate::evaluate::threshold::ThresholdRule;
use crate::ingest::RawTable;
use crate::outcomes::accuracy::PERIOD_COLUMNS;
use crate::outcomes::reassess::{reassess, Judged, ReassessJob, Reassessment, Settings};
use crate::progress::Progress;
use std::collections::HashMap;
use std::path::PathBuf;

/// A label cell as churned (true) or not: `positive`, else 1/yes/true/y.
fn churned(cell: &str, positive: Option<&str>) -> Option<bool> {
    let c = cell.trim();
    match positive {
        Some(p) => Some(c == p),
        None => match c.to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "y" => Some(true),
            "0" | "no" | "false" | "n" => Some(false),
            _ => None,
        },
    }
}

/// Each scored id's outcome from the labels table (duplicated ids and
/// unreadable labels named with their row).
fn from_labels(
    job: &ReassessJob,
    path: &std::path::Path,
    ids: &[Option<String>],
) -> Result<Vec<Option<bool>>> {
    let t = crate::ingest::read_table(path, job.delimiter)?;
    let src = &t.source;
    let id_name = match &job.id {
        Some(i) => i.clone(),
        None => ["id", crate::logs::ID]
            .iter()
            .find(|n| t.index_of(n).is_some())
            .map_or("id".to_string(), |n| n.to_string()),
    };
    let label_name = job.label.as_deref().unwrap_or(crate::logs::LABEL);
    let id = t
        .column(&id_name)
        .ok_or_else(|| Error::at(src, &id_name, None, "id column not found (give --id)"))?;
    let label = t.column(label_name).ok_or_else(|| {
        Error::at(
            src,
            label_name,
            None,
            "outcome column not found (give --label)",
        )
    })?;
    let mut of: HashMap<String, bool> = HashMap::with_capacity(id.len());
    for r in 0..id.len() {
        let Some(i) = id.text(r) else { continue };
        let cell = label.text(r).unwrap_or_default();
        let y = churned(&cell, job.positive.as_deref()).ok_or_else(|| {
            Error::at(
                src,
                label_name,
                Some(t.row(r)),
                format!("{cell:?} is not a churn label (give --positive LABEL)"),
            )
        })?;
        if of.insert(i.trim().to_string(), y).is_some() {
            return Err(Error::at(
                src,
                &id_name,
                Some(t.row(r)),
                format!("customer {i:?} twice"),
            ));
        }
    }
    Ok(ids
        .iter()
        .map(|i| i.as_deref().and_then(|i| of.get(i.trim()).copied()))
        .collect())
}

/// The scored rows joined to their outcomes, and how many had none.
fn judged(
    job: &ReassessJob,
    scores: &RawTable,
    progress: &Progress,
) -> Result<(Vec<Judged>, usize)> {
    let src = &scores.source;
    let col = |n: &str| {
        scores
            .column(n)
            .ok_or_else(|| Error::at(src, n, None, "column not found (a churn-score scores.csv?)"))
    };
    let (id, p, flag) = (col("id")?, col("churn_probability")?, col("churn_flag")?);
    let group = match &job.by {
        Some(b) => Some(col(b)?),
        None => scores.column(crate::reference::thresholds::COLUMN),
    };
    let period = PERIOD_COLUMNS.iter().find_map(|n| scores.column(n));
    let level = scores.column("warning_level");
    let ids: Vec<Option<String>> = (0..id.len()).map(|r| id.text(r)).collect();
    let outcome: Vec<Option<bool>> = match (&job.labels, &job.logs) {
        (Some(path), _) => from_labels(job, path, &ids)?,
        (None, Some(logs)) => super::campaign::labels_from_logs(logs, &ids, progress)?
            .iter()
            .map(|l| l.as_deref().and_then(|l| churned(l, None)))
            .collect(),
        (None, None) => {
            return Err(Error::Config(
                "thresholds: give --labels FILE, or logs (--customers, --transactions, --as-of) to build the outcome".into(),
            ))
        }
    };
    let mut rows = Vec::with_capacity(ids.len());
    let mut without = 0;
    for (r, y) in outcome.into_iter().enumerate() {
        let Some(churned) = y else {
            without += 1;
            continue;
        };
        let probability = p
            .text(r)
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|x| (0.0..=1.0).contains(x))
            .ok_or_else(|| {
                Error::at(
                    src,
                    "churn_probability",
                    Some(scores.row(r)),
                    "not a probability",
                )
            })?;
        let flagged = match flag.text(r).as_deref().map(str::trim) {
            Some("1") => true,
            Some("0") => false,
            other => {
                return Err(Error::at(
                    src,
                    "churn_flag",
                    Some(scores.row(r)),
                    format!("{other:?}: 0 or 1"),
                ))
            }
        };
        rows.push(Judged {
            group: group
                .and_then(|g| g.text(r))
                .unwrap_or_else(|| "all".into()),
            period: period.and_then(|c| c.text(r)),
            probability,
            flagged,
            churned,
            level: level.and_then(|l| l.text(r)).unwrap_or_default(),
        });
    }
    Ok((rows, without))
}

/// Run `churn-train thresholds`: the run folder and the re-assessment.
pub fn run(job: &ReassessJob) -> Result<(PathBuf, Reassessment)> {
    let progress = Progress::new(job.quiet);
    let art = job.model.as_deref().map(Artifact::load).transpose()?;
    let scores = crate::ingest::read_table(&job.scores, job.delimiter)?;
    let (rows, without) = judged(job, &scores, &progress)?;
    if rows.is_empty() {
        return Err(Error::data(&scores.source, "no scored customer has an outcome: check the ids of --labels (or the logs' as-of date)"));
    }
    if without > 0 {
        progress.warn(format!(
            "{}: {without} scored customer(s) without an outcome, left out",
            scores.source
        ));
    }
    let rule = match (job.rule, &art) {
        (Some(r), _) => r,
        (None, Some(a)) => a.threshold_rule.parse().unwrap_or(ThresholdRule::MaxF1),
        (None, None) => ThresholdRule::MaxF1,
    };
    let used = |g: &str| -> Option<f64> {
        let a = art.as_ref()?;
        let own = a.scoring.thresholds.as_ref().and_then(|t| t.own(g));
        Some(own.map_or(a.threshold, |o| o.threshold))
    };
    let settings = Settings {
        rule,
        tolerance: job.tolerance,
        min_positives: job.min_positives,
    };
    let report = reassess(&rows, &used, settings, without);
    for g in &report.drifted {
        let c = &report.groups[g];
        progress.warn(format!(
            "threshold group {g}: the rule {rule} would now choose {:.4}, the run used {:.4} (tolerance {})",
            c.rule_threshold.unwrap_or(f64::NAN),
            c.used_threshold.unwrap_or(f64::NAN),
            job.tolerance
        ));
    }
    let (_, stamp) = crate::artifact::format_time(crate::artifact::now_epoch());
    let name = crate::io::unique_name(&format!("thresholds-{stamp}"), |n| job.out.join(n).exists());
    let dir = job.out.join(&name);
    crate::io::publish_dir(&dir, |staging| {
        crate::io::write_json(&staging.join("thresholds.json"), &report)?;
        let html = crate::report::reassess::render(&report);
        crate::io::write_atomic(&staging.join("report.html"), html.as_bytes())
    })?;
    crate::io::print_stdout(&report.table())?;
    progress.stage(format!("wrote {}", dir.join("thresholds.json").display()));
    Ok((dir, report))
}
