//! The scoring flow: load → validate → transform → predict → segment → act → write.
//!
//! Chunks of `chunk_rows` customers flow through the same
//! [`FeaturePipeline`](crate::features::FeaturePipeline) and model the
//! artifact holds; only aggregates (counts, drift bins, the summary) live
//! across chunks, so memory stays flat in the number of customers (except
//! for offline evaluation, 10 bytes per labelled customer, and migration,
//! ~30 bytes per customer of the previous run).

pub mod act;
pub mod csv_log;
pub mod drift;
pub mod explain;
pub mod from_logs;
pub mod input;
pub mod migration;
pub mod offers;
pub mod report;
pub mod scorer;
pub mod summary;
pub mod validate;
pub mod write;

use crate::artifact::{self, Artifact};
use crate::config::OutputFormat;
use crate::config::{embedded, Config, DEFAULT_SCORE_DATA};
use crate::error::{Error, Result};
use crate::features::TransformStats;
use crate::io::csv_field;
use crate::io::{write_atomic, write_json};
use crate::progress::Progress;
use crate::reference::segment::{SegmentModel, SegmentSample};
use crate::reference::value;

use migration::Migration;
use std::path::{Path, PathBuf};

use summary::{DriftSummary, EvalRows, Summary};
use write::{ScoreWriter, Scored};

/// What a scoring job produced.
#[derive(Debug)]
pub struct ScoreOutcome {
    pub run_dir: PathBuf,
    /// The scores file (`None` for stdout).
    pub scores: Option<PathBuf>,
    pub summary: Summary,
}

/// Run a scoring job.
pub fn run(cfg: &Config) -> Result<ScoreOutcome> {
    let s = &cfg.score;
    let to_stdout = s.out.as_deref() == Some(Path::new("-"));
    let progress = Progress::new(s.quiet);
    let art = Artifact::load(&s.model)?;
    let walk = crate::models::engine::simd::selected().name();
    progress.stage(format!(
        "model {} ({}, trained {}); tree walk: {walk}",
        art.run_id, art.model_name, art.created_at
    ));
    let (_, stamp) = artifact::format_time(artifact::now_epoch());
    let runs_root = s.runs_dir();
    let wanted = s.run_id.clone().unwrap_or_else(|| format!("score-{stamp}"));
    // A re-run of a run id gets a folder of its own (`ID-2`); its database
    // rows replace the earlier run's, under the id asked for.
    let run_dir = runs_root.join(crate::io::unique_name(&wanted, |n| {
        runs_root.join(n).exists()
    }));
    // The run folder is this job's own: any failure removes it whole.
    let mut cleanup = RunFolderGuard::new(&run_dir, runs_root);
    // Features built from logs wait in a temporary folder (removed on any
    // failure) and join the run folder only when the run succeeds.
    let from_logs = match cfg.logs.is_set() {
        true => Some(from_logs::features(cfg, &art, &progress)?),
        false => None,
    };
    let data = match &from_logs {
        Some(f) => f.path(),
        None => s
            .data
            .clone()
            .unwrap_or_else(|| embedded(DEFAULT_SCORE_DATA)),
    };
    let parts = input::parts(&data)?;
    let mut headers = Vec::new();
    for part in &parts {
        match input::header(part, cfg.data.delimiter)? {
            Some(names) => {
                validate::check_columns(&art, &part.display().to_string(), &names)?;
                headers.push((part.display().to_string(), names));
            }
            // Standard input shows its columns only as it is read.
            None if s.offers.is_none() => headers.push(("standard input".into(), vec![])),
            None => {}
        }
    }
    let mut art = art;
    let dates = input::batch_reference(cfg, &mut art, &parts)?;
    if let Some(d) = &dates {
        progress.stage(d.line());
    }
    let art = art;
    let (offers_model, mut offers_summary) = offers::resolve(s, &headers)?;
    progress.stage(format!("offers: {}", offers_summary.note));
    let previous = s
        .previous
        .as_deref()
        .map(|p| Migration::load(p, s.chunk_rows, &run_dir.join("warning_rises.csv")))
        .transpose()?;
    let ext = match s.format {
        OutputFormat::Csv => "csv",
        OutputFormat::Parquet => "parquet",
    };
    let db = s
        .out
        .as_deref()
        .and_then(|o| crate::sink::Target::parse(&o.to_string_lossy()));
    let target = if to_stdout || db.is_some() {
        None
    } else {
        Some(
            s.out
                .clone()
                .unwrap_or_else(|| run_dir.join(format!("scores.{ext}"))),
        )
    };
    let from_stdin = parts.iter().any(|p| p == Path::new("-"));
    let (segments, value_tiers) = match (s.refit_segments, from_stdin) {
        (false, _) => {
            let note = match (&art.scoring.segments, &art.scoring.roles) {
                (Some(_), _) => "the model's (fitted on the training customers)",
                (None, Some(r)) if r.value_columns().is_empty() => {
                    "none: the training table had no value column (balance, products, tenure, income, revenue, spend); name one in [roles] and retrain"
                }
                (None, _) => "none (the model has no value tiers)",
            };
            (art.scoring.segments.clone(), note.to_string())
        }
        (true, false) => {
            progress.stage("refitting the value tiers on the whole batch (first pass)");
            let (model, sampled, seen) = refit_segments(cfg, &art, &parts)?;
            (
                Some(model),
                format!("refitted on this batch: {sampled} of its {seen} valid customers, sampled"),
            )
        }
        (true, true) => (
            None,
            format!(
                "refitted on the first chunk of standard input (up to {} customers)",
                s.chunk_rows
            ),
        ),
    };
    let scorer = scorer::Scorer::new(s, art, segments, offers_model)?;
    let art = &scorer.artifact;
    let started = std::time::SystemTime::now();
    let run_id = wanted;
    let mut writer = match &db {
        None => Output::File(ScoreWriter::new(target.as_deref(), s.format)?),
        Some(t) => {
            progress.stage(format!("scores into {} (table {})", t.display(), s.table));
            Output::Table(crate::sink::open(
                t,
                &s.table,
                crate::sink::Stamp {
                    run_id: run_id.clone(),
                    model_id: art.run_id.clone(),
                    scored_at: started,
                    scored_at_text: crate::sink::iso(started),
                },
            )?)
        }
    };
    let summary = Summary {
        model_run_id: art.run_id.clone(),
        model_name: art.model_name.clone(),
        value_tiers,
        dates,
        walk: walk.into(),
        logs: from_logs.as_ref().map(|f| f.report.clone()),
        ..Summary::default()
    };
    let rejects = csv_log::CsvLog::new(&run_dir.join("rejects.csv"), "source,row,reason");
    let mut totals = Totals {
        summary,
        drift: drift::Drift::new(&art.scoring),
        eval: EvalRows::default(),
        rejects,
        previous,
        fairness: Default::default(),
    };

    let job = (cfg, &scorer, &mut offers_summary);
    if let Err(e) = stream(job, &parts, &progress, &mut writer, &mut totals) {
        writer.abandon();
        return Err(e);
    }
    let Totals {
        mut summary,
        drift,
        eval,
        rejects,
        previous,
        fairness,
    } = totals;
    summary.rows_rejected = rejects.finish()?;
    // A broken extract: keep rejects.csv (the cause), write no scores.
    let read = summary.rows_read.max(1) as f64;
    if summary.rows_rejected as f64 > s.max_reject_rate * read {
        writer.abandon();
        cleanup.keep();
        return Err(Error::data(
            data.display(),
            format!(
                "{} of {} rows rejected ({:.1}%), more than --max-reject-rate {}: the extract looks broken; no scores written, reasons in {}",
                summary.rows_rejected,
                summary.rows_read,
                100.0 * summary.rows_rejected as f64 / read,
                s.max_reject_rate,
                run_dir.join("rejects.csv").display()
            ),
        ));
    }
    let table = writer.finish()?;
    if summary.clv_unknown > 0 {
        summary.clv_note = Some(clv_note(&art.scoring.roles));
    }
    summary.output = db.as_ref().map(|t| t.display());
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
            started_at: started,
        };
        table.commit(&record)?;
    }
    if let Some(f) = &from_logs {
        f.keep(&run_dir)?;
    }
    let labelled = evaluation.as_ref().map(|ev| (&eval, ev));
    write_atomic(
        &run_dir.join("report.html"),
        report::render(art, &summary, labelled).as_bytes(),
    )?;
    let table = summary.table();
    if to_stdout {
        if !s.quiet {
            eprint!("{table}");
        }
    } else if !s.quiet {
        crate::io::print_stdout(&table)?;
    }
    progress.stage(format!("outputs: {}", run_dir.display()));
    cleanup.keep();
    Ok(ScoreOutcome {
        run_dir,
        scores: target,
        summary,
    })
}

/// Where the scores go: a file (or stdout), or a database table written in
/// one transaction that commits after every other output. One per job: the
/// size of the file variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Output {
    File(ScoreWriter),
    Table(Box<dyn crate::sink::TableSink>),
}

impl Output {
    fn write(&mut self, s: &Scored, reasons: &explain::Reasons) -> Result<()> {
        match self {
            Output::File(w) => w.write(s, reasons),
            Output::Table(t) => t.write(&write::table_columns(s), write::table_rows(s, reasons)),
        }
    }

    /// Move a file into place; hand back a table still to commit.
    fn finish(self) -> Result<Option<Box<dyn crate::sink::TableSink>>> {
        match self {
            Output::File(w) => w.finish().map(|()| None),
            Output::Table(t) => Ok(Some(t)),
        }
    }

    /// Drop what was written (a table rolls back when dropped).
    fn abandon(self) {
        if let Output::File(w) = self {
            w.abandon();
        }
    }
}

/// Removes a scoring run's folder (and the runs root it created) unless
/// the run kept it: a failed job leaves no partial outputs.
struct RunFolderGuard {
    dir: PathBuf,
    root: Option<PathBuf>,
    keep: bool,
}

impl RunFolderGuard {
    fn new(dir: &Path, root: &Path) -> Self {
        RunFolderGuard {
            dir: dir.to_path_buf(),
            root: (!root.exists()).then(|| root.to_path_buf()),
            keep: false,
        }
    }

    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for RunFolderGuard {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
            if let Some(root) = &self.root {
                let _ = std::fs::remove_dir(root);
            }
        }
    }
}

/// What the batch adds up to across chunks (all but the scores file).
struct Totals {
    summary: Summary,
    drift: drift::Drift,
    eval: EvalRows,
    rejects: csv_log::CsvLog,
    previous: Option<Migration>,
    fairness: crate::fairness::BatchFairness,
}

impl Totals {
    fn add(
        &mut self,
        art: &Artifact,
        v: &input::Validated,
        scored: Option<&(Scored, TransformStats)>,
    ) -> Result<()> {
        self.summary.rows_read += v.rows_read;
        self.rejects.write(v.batch.rejects.len(), |w| {
            for r in &v.batch.rejects {
                writeln!(
                    w,
                    "{},{},{}",
                    csv_field(&r.source),
                    r.row,
                    csv_field(&r.reason())
                )?;
            }
            Ok(())
        })?;
        let Some((scored, stats)) = scored else {
            return Ok(());
        };
        merge(&mut self.summary.unseen_categories, &stats.unseen);
        merge(&mut self.summary.imputed_cells, &stats.imputed);
        self.drift
            .add(&art.scoring, &v.batch.table, &scored.probability);
        if let Some(m) = self.previous.as_mut() {
            for i in 0..scored.ids.len() {
                m.add(&scored.ids[i], &scored.tier[i], scored.level[i])?;
            }
        }
        self.eval.add(scored);
        self.summary.add(scored);
        let labels = scored.label.as_deref();
        self.fairness.add(
            &v.batch.attributes,
            &scored.probability,
            &scored.flag,
            &scored.level,
            labels,
        );
        if let Some((_, first)) = scored.extra.iter().find(|(n, _)| n == offers::FIRST_OFFER) {
            let offered: Vec<bool> = first.iter().map(|o| !o.is_empty()).collect();
            self.fairness.add_offers(&v.batch.attributes, &offered);
        }
        Ok(())
    }
}

/// A scored chunk on its way to the writer (`None`: every row rejected).
type Done = (input::Validated, Option<(Scored, TransformStats)>);

/// Score every chunk in a pipeline: read + validate on a thread of its own
/// ([`input::for_each_validated`]) → score, [`SCORING_WINDOW`] chunks at a
/// time, each on a thread of its own → add up + write, in chunk order. The
/// work around the model (features, tiers, playbook, offers ranking) is
/// serial within a chunk; scoring two chunks at once keeps both cores busy
/// through it (measured: ~1.55 of 2 cores busy with one chunk at a time).
/// At most the window's chunks, the one being read and the one being
/// written are in memory. Each chunk's offers summary is added to
/// `offers_summary` in chunk order, so the totals do not depend on which
/// chunk finished first.
fn stream(
    (cfg, scorer, offers_summary): (&Config, &scorer::Scorer, &mut offers::OffersSummary),
    parts: &[PathBuf],
    progress: &Progress,
    writer: &mut Output,
    totals: &mut Totals,
) -> Result<()> {
    let (art, offer_model) = (&scorer.artifact, scorer.offers.as_ref());
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Done>(0);
        let sink = scope.spawn(move || -> Result<()> {
            for (v, scored) in rx {
                totals.add(art, &v, scored.as_ref())?;
                if let Some((s, _)) = &scored {
                    writer.write(s, &explain::Reasons::new(art, &v.batch.table))?;
                }
            }
            Ok(())
        });
        let mut scoring = std::collections::VecDeque::new();
        // The oldest chunk in scoring, joined and handed to the writer. A
        // closed channel means the writer stopped on an error, which
        // joining it returns.
        let mut hand_over = |scoring: &mut std::collections::VecDeque<ScopedJoinHandle<_>>| {
            let Some(oldest) = scoring.pop_front() else {
                return Ok(());
            };
            let (done, part): (Done, offers::OffersSummary) = join(oldest)??;
            offers_summary.absorb(part);
            tx.send(done)
                .map_err(|_| Error::Internal("the score writer stopped".into()))
        };
        let mut current = usize::MAX;
        let fed = input::for_each_validated(
            parts,
            art,
            offer_model,
            cfg.data.delimiter,
            cfg.score.chunk_rows,
            |v| {
                if v.part != current {
                    current = v.part;
                    progress.stage(format!("scoring {}", parts[v.part].display()));
                }
                // Tiers fitted on the first chunk must come from the first chunk.
                let first_fits_tiers = scorer.fits_tiers_on_first_chunk();
                scoring.push_back(scope.spawn(move || score_chunk(scorer, v)));
                while scoring.len() >= SCORING_WINDOW || (first_fits_tiers && !scoring.is_empty()) {
                    hand_over(&mut scoring)?;
                }
                Ok(())
            },
        );
        let drained = (|| {
            fed?;
            while !scoring.is_empty() {
                hand_over(&mut scoring)?;
            }
            Ok(())
        })();
        drop(tx);
        let written = join(sink);
        written.and_then(|w| w).and(drained)
    })
}

/// Chunks scored at once (see [`stream`]).
const SCORING_WINDOW: usize = 2;

type ScopedJoinHandle<'s, T> = std::thread::ScopedJoinHandle<'s, T>;

/// A scoring thread's result; its panic as an internal error.
fn join<T>(h: ScopedJoinHandle<'_, T>) -> Result<T> {
    h.join()
        .map_err(|_| Error::Internal("a scoring thread panicked".into()))
}

/// Score one validated chunk; its offers summary on its own.
fn score_chunk(
    scorer: &scorer::Scorer,
    mut v: input::Validated,
) -> Result<(Done, offers::OffersSummary)> {
    let mut offers_summary = offers::OffersSummary::default();
    if v.batch.ids.is_empty() {
        return Ok(((v, None), offers_summary));
    }
    let mut stats = TransformStats::default();
    // The ids move to the scores (the batch keeps its table for drift and reasons).
    let ids = std::mem::take(&mut v.batch.ids);
    let mut scored = scorer.score(&v.batch, ids, &mut stats, &mut offers_summary)?;
    let mut extra = std::mem::take(&mut v.batch.extra);
    extra.append(&mut scored.extra);
    scored.extra = extra;
    Ok(((v, Some((scored, stats))), offers_summary))
}

/// `--refit-segments` on files: a first pass predicts every customer (for
/// the CLV the tiers use) and samples the tier inputs; the tiers are fitted
/// on that sample before the scoring pass assigns them.
/// Returns the tiers, the customers sampled and the customers seen.
/// Why some customers' CLV is unknown.
fn clv_note(roles: &Option<crate::reference::roles::Roles>) -> String {
    match roles {
        Some(r) if value::sources(r).is_empty() => "the model's training table had no value column (margin, revenue/fees, spend, balance, products): name one in [roles] and retrain".into(),
        _ => "their value cells (margin, revenue, spend, balance, products) are empty".into(),
    }
}

fn refit_segments(
    cfg: &Config,
    art: &Artifact,
    parts: &[PathBuf],
) -> Result<(SegmentModel, usize, usize)> {
    let mut sample: Option<SegmentSample> = None;
    input::for_each_validated(
        parts,
        art,
        None,
        cfg.data.delimiter,
        cfg.score.chunk_rows,
        |v| {
            let table = &v.batch.table;
            if v.batch.ids.is_empty() {
                return Ok(());
            }
            let x = art
                .pipeline
                .transform_all(table, &mut TransformStats::default());
            let clv = value::clvs(
                &art.config.score.clv,
                art.scoring.roles.as_ref(),
                table,
                &art.probabilities(x.view()),
            );
            sample
                .get_or_insert_with(|| {
                    SegmentSample::new(
                        art.scoring.segments.as_ref(),
                        art.scoring.roles.as_ref(),
                        table,
                        art.seed,
                    )
                })
                .add(table, &clv)
        },
    )?;
    let sample = sample
        .ok_or_else(|| Error::Config("--refit-segments: the batch has no valid rows".into()))?;
    let (sampled, seen) = (sample.len(), sample.seen());
    Ok((sample.fit(art.seed)?, sampled, seen))
}

fn merge(
    into: &mut std::collections::BTreeMap<String, usize>,
    from: &std::collections::BTreeMap<String, usize>,
) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
