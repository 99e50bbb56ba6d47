//! The batch job's outputs: the scores (a file, stdout or a database table
//! that commits last) and the end of a run — the reject-rate guard, the
//! summary, eval.json, the report and the table printed.

use super::plan::Plan;
use super::summary::{DriftSummary, Summary};
use super::totals::Totals;
use super::write::ScoreWriter;
use super::{report, ScoreOutcome};
use crate::artifact::Artifact;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::io::csv_field;
use crate::io::{write_atomic, write_json};
use crate::progress::Progress;
use crate::reference::value;
use crate::scoring::contact::Candidate;
use crate::scoring::explain::Reasons;
use crate::scoring::offers::OffersSummary;
use crate::scoring::rows::{self, Scored};
use std::path::Path;

/// Where the scores go: a file (or stdout), or a database table written in
/// one transaction that commits after every other output. One per job: the
/// size of the file variant does not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Output {
    File(ScoreWriter),
    Table(Box<dyn crate::sink::TableSink>),
}

impl Output {
    /// Open where the scores go (a database table's rows carry the run's stamp).
    pub fn open(cfg: &Config, plan: &Plan, art: &Artifact, progress: &Progress) -> Result<Output> {
        let s = &cfg.score;
        Ok(match &plan.db {
            None => Output::File(ScoreWriter::new(plan.target.as_deref(), s.format)?),
            Some(t) => {
                progress.stage(format!("scores into {} (table {})", t.display(), s.table));
                Output::Table(crate::sink::open(
                    t,
                    &s.table,
                    crate::sink::Stamp {
                        run_id: plan.run_id.clone(),
                        model_id: art.run_id.clone(),
                        scored_at: plan.started,
                        scored_at_text: crate::sink::iso(plan.started),
                    },
                )?)
            }
        })
    }

    pub fn write(&mut self, s: &Scored, reasons: &Reasons) -> Result<()> {
        match self {
            Output::File(w) => w.write(s, reasons),
            Output::Table(t) => t.write(&rows::table_columns(s), rows::table_rows(s, reasons)),
        }
    }

    /// Move a file into place; hand back a table still to commit.
    pub fn finish(self) -> Result<Option<Box<dyn crate::sink::TableSink>>> {
        match self {
            Output::File(w) => w.finish().map(|()| None),
            Output::Table(t) => Ok(Some(t)),
        }
    }

    /// Drop what was written (a table rolls back when dropped).
    pub fn abandon(self) {
        if let Output::File(w) = self {
            w.abandon();
        }
    }
}

/// End a run whose every chunk was scored: refuse a broken extract (too
/// many rejects: rejects.csv stays, no scores), else finish the scores,
/// complete the summary and write the run's other outputs; the database
/// commits only after all of them.
pub(super) fn finish(
    cfg: &Config,
    mut plan: Plan,
    art: &Artifact,
    writer: Output,
    totals: Totals,
    offers_summary: OffersSummary,
    progress: &Progress,
) -> Result<ScoreOutcome> {
    let s = &cfg.score;
    let Totals {
        mut summary,
        drift,
        eval,
        rejects,
        previous,
        fairness,
        contacts,
    } = totals;
    summary.rows_rejected = rejects.finish()?;
    let read = summary.rows_read.max(1) as f64;
    if summary.rows_rejected as f64 > s.max_reject_rate * read {
        writer.abandon();
        plan.cleanup.keep();
        return Err(Error::data(
            plan.data.display(),
            format!(
                "{} of {} rows rejected ({:.1}%), more than --max-reject-rate {}: the extract looks broken; no scores written, reasons in {}",
                summary.rows_rejected,
                summary.rows_read,
                100.0 * summary.rows_rejected as f64 / read,
                s.max_reject_rate,
                plan.run_dir.join("rejects.csv").display()
            ),
        ));
    }
    let table = writer.finish()?;
    if summary.clv_unknown > 0 {
        summary.clv_note = Some(clv_note(&art.scoring.roles));
    }
    summary.output = plan.db.as_ref().map(|t| t.display());
    summary.fairness = fairness.finish();
    summary.offers = Some(offers_summary);
    summary.warning_cutoffs = Some(s.warning.unwrap_or(art.scoring.warning));
    let (score_psi, features) = drift.finish(&art.scoring);
    summary.drift = Some(DriftSummary {
        score: score_psi,
        features,
        score_distribution: drift.score_distribution(&art.scoring),
    });
    if let Some(m) = previous {
        summary.migration = Some(m.finish()?);
    }
    if let Some(list) = contacts {
        let (list, contact_summary) = list.finish();
        write_contacts(&plan.run_dir.join("contacts.csv"), &list)?;
        summary.contacts = Some(contact_summary);
    }
    let run_dir = &plan.run_dir;
    let evaluation = eval.finish(art.threshold);
    if let Some(ev) = &evaluation {
        write_json(&run_dir.join("eval.json"), ev)?;
    }
    write_json(&run_dir.join("summary.json"), &summary)?;
    if let Some(table) = table {
        // The database sees the run last: only a job that wrote every
        // output commits its rows.
        let record = crate::sink::RunRecord {
            model_checksum: art.checksum.clone(),
            rows_read: summary.rows_read,
            rows_scored: summary.rows_scored,
            rows_rejected: summary.rows_rejected,
            summary_json: serde_json::to_string(&summary)
                .map_err(|e| Error::format(run_dir.join("summary.json"), e))?,
            started_at: plan.started,
        };
        table.commit(&record)?;
    }
    if let Some(f) = &plan.from_logs {
        f.keep(run_dir)?;
    }
    let labelled = evaluation.as_ref().map(|ev| (&eval, ev));
    write_atomic(
        &run_dir.join("report.html"),
        report::render(art, &summary, labelled).as_bytes(),
    )?;
    print_table(s, &summary, plan.to_stdout)?;
    progress.stage(format!("outputs: {}", run_dir.display()));
    plan.cleanup.keep();
    Ok(ScoreOutcome {
        run_dir: plan.run_dir,
        scores: plan.target,
        summary,
    })
}

/// The summary table: on stderr when the scores go to stdout.
fn print_table(s: &crate::config::ScoreConfig, summary: &Summary, to_stdout: bool) -> Result<()> {
    let table = summary.table();
    if to_stdout {
        if !s.quiet {
            eprint!("{table}");
        }
    } else if !s.quiet {
        crate::io::print_stdout(&table)?;
    }
    Ok(())
}

/// Why some customers' CLV is unknown.
fn clv_note(roles: &Option<crate::reference::roles::Roles>) -> String {
    match roles {
        Some(r) if value::sources(r).is_empty() => "the model's training table had no value column (margin, revenue/fees, spend, balance, products): name one in [roles] and retrain".into(),
        _ => "their value cells (margin, revenue, spend, balance, products) are empty".into(),
    }
}

/// contacts.csv: the contact list, best first.
fn write_contacts(path: &Path, list: &[Candidate]) -> Result<()> {
    crate::io::with_atomic_writer(path, |w| {
        writeln!(
            w,
            "id,rank,expected_value,churn_probability,warning_level,value_tier,action,offer_1"
        )?;
        for (k, c) in list.iter().enumerate() {
            writeln!(
                w,
                "{},{},{:.2},{},{},{},{},{}",
                csv_field(&c.id),
                k + 1,
                c.expected_value,
                c.probability,
                c.level,
                csv_field(&c.tier),
                csv_field(&c.action),
                csv_field(&c.offer)
            )?;
        }
        Ok(())
    })
}
