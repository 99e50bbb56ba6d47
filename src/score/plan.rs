//! What a scoring job settles before the first chunk is read: the run
//! folder, the input parts and their headers (checked against the model),
//! the period reference, the offers model, the previous run, where the
//! scores go and which value tiers apply. Everything here can fail on a bad
//! flag or file, so it all fails before any score is written.

use super::from_logs::{self, LogFeatures};
use super::input::{self, DatesSummary};
use super::migration::Migration;
use crate::artifact::{self, Artifact};
use crate::config::{embedded, Config, OutputFormat, DEFAULT_SCORE_DATA};
use crate::error::{Error, Result};
use crate::features::TransformStats;
use crate::progress::Progress;
use crate::reference::segment::{SegmentModel, SegmentSample};
use crate::reference::value;
use crate::scoring::offers::{self, OffersSummary};
use crate::scoring::scorer::Scorer;
use crate::scoring::validate;
use std::path::{Path, PathBuf};

/// A scoring job, resolved.
pub(super) struct Plan {
    pub run_id: String,
    pub run_dir: PathBuf,
    /// Removes the run folder unless the job keeps it.
    pub cleanup: RunFolderGuard,
    pub from_logs: Option<LogFeatures>,
    /// The batch as named (a file, a folder of parts, `-`).
    pub data: PathBuf,
    pub parts: Vec<PathBuf>,
    pub dates: Option<DatesSummary>,
    pub offers_summary: OffersSummary,
    pub previous: Option<Migration>,
    /// A database target (`--out sqlite:…` / `postgres://…`).
    pub db: Option<crate::sink::Target>,
    /// The scores file (`None`: stdout or a database).
    pub target: Option<PathBuf>,
    pub to_stdout: bool,
    /// Which value tiers apply, in words.
    pub value_tiers: String,
    /// The tree walk this machine uses.
    pub walk: &'static str,
    /// When scoring started (the database rows' stamp).
    pub started: std::time::SystemTime,
}

impl Plan {
    /// Resolve the job and build its scorer.
    pub fn new(cfg: &Config, progress: &Progress) -> Result<(Plan, Scorer)> {
        let s = &cfg.score;
        let mut art = Artifact::load_verified(&s.model, s.verify_key.as_deref())?;
        let walk = crate::models::engine::simd::selected().name();
        progress.stage(format!(
            "model {} ({}, trained {}); tree walk: {walk}",
            art.run_id, art.model_name, art.created_at
        ));
        let (_, stamp) = artifact::format_time(artifact::now_epoch());
        let runs_root = s.runs_dir();
        let run_id = s.run_id.clone().unwrap_or_else(|| format!("score-{stamp}"));
        // A re-run of a run id gets a folder of its own (`ID-2`); its database
        // rows replace the earlier run's, under the id asked for.
        let run_dir = runs_root.join(crate::io::unique_name(&run_id, |n| {
            runs_root.join(n).exists()
        }));
        // The run folder is this job's own: any failure removes it whole.
        let cleanup = RunFolderGuard::new(&run_dir, runs_root);
        // Features built from logs wait in a temporary folder (removed on any
        // failure) and join the run folder only when the run succeeds.
        let from_logs = match cfg.logs.is_set() {
            true => Some(from_logs::features(cfg, &art, progress)?),
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
        let headers = headers(cfg, &art, &parts)?;
        let dates = input::batch_reference(cfg, &mut art, &parts)?;
        if let Some(d) = &dates {
            progress.stage(d.line());
        }
        let (offers_model, offers_summary) = offers::resolve(s, &headers)?;
        progress.stage(format!("offers: {}", offers_summary.note));
        let previous = s
            .previous
            .as_deref()
            .map(|p| Migration::load(p, s.chunk_rows, &run_dir.join("warning_rises.csv")))
            .transpose()?;
        let (db, target, to_stdout) = destination(cfg, &run_dir);
        let (segments, value_tiers) = tiers(cfg, &art, &parts, progress)?;
        let mut scorer = Scorer::new(s, art, segments, offers_model)?;
        if let Some(path) = &s.uplift {
            scorer.load_uplift(path)?;
            if let Some(u) = &scorer.uplift {
                let kind = u.model.kind().name();
                progress.stage(format!("uplift: {kind} learner on {}", u.outcome));
            }
        }
        let plan = Plan {
            run_id,
            run_dir,
            cleanup,
            from_logs,
            data,
            parts,
            dates,
            offers_summary,
            previous,
            db,
            target,
            to_stdout,
            value_tiers,
            walk,
            started: std::time::SystemTime::now(),
        };
        Ok((plan, scorer))
    }
}

/// Each part's header, checked against the model's columns (standard input
/// shows its columns only as it is read).
fn headers(cfg: &Config, art: &Artifact, parts: &[PathBuf]) -> Result<Vec<(String, Vec<String>)>> {
    let mut headers = Vec::new();
    for part in parts {
        match input::header(part, cfg.data.delimiter)? {
            Some(names) => {
                validate::check_columns(art, &part.display().to_string(), &names)?;
                headers.push((part.display().to_string(), names));
            }
            None if cfg.score.offers.is_none() => headers.push(("standard input".into(), vec![])),
            None => {}
        }
    }
    Ok(headers)
}

/// Where the scores go: (a database, a file, stdout).
fn destination(
    cfg: &Config,
    run_dir: &Path,
) -> (Option<crate::sink::Target>, Option<PathBuf>, bool) {
    let s = &cfg.score;
    let to_stdout = s.out.as_deref() == Some(Path::new("-"));
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
    (db, target, to_stdout)
}

/// The value tiers the job assigns, and the summary's words for them.
fn tiers(
    cfg: &Config,
    art: &Artifact,
    parts: &[PathBuf],
    progress: &Progress,
) -> Result<(Option<SegmentModel>, String)> {
    let from_stdin = parts.iter().any(|p| p == Path::new("-"));
    Ok(match (cfg.score.refit_segments, from_stdin) {
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
            let (model, sampled, seen) = refit_segments(cfg, art, parts)?;
            (
                Some(model),
                format!("refitted on this batch: {sampled} of its {seen} valid customers, sampled"),
            )
        }
        (true, true) => (
            None,
            format!(
                "refitted on the first chunk of standard input (up to {} customers)",
                cfg.score.chunk_rows
            ),
        ),
    })
}

/// `--refit-segments` on files: a first pass predicts every customer (for
/// the CLV the tiers use) and samples the tier inputs; the tiers are fitted
/// on that sample before the scoring pass assigns them.
/// Returns the tiers, the customers sampled and the customers seen.
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

/// Removes a scoring run's folder (and the runs root it created) unless
/// the run kept it: a failed job leaves no partial outputs.
pub(super) struct RunFolderGuard {
    dir: PathBuf,
    root: Option<PathBuf>,
    keep: bool,
}

impl RunFolderGuard {
    pub fn new(dir: &Path, root: &Path) -> Self {
        RunFolderGuard {
            dir: dir.to_path_buf(),
            root: (!root.exists()).then(|| root.to_path_buf()),
            keep: false,
        }
    }

    pub fn keep(&mut self) {
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
