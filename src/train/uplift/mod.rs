//! `churn-train uplift`: read a campaign table through the training
//! pipeline (cleaning, leakage screen, the arm carried beside the rows and
//! never a feature), cross-validate the uplift learners with folds
//! stratified by arm × outcome, keep the best by out-of-fold Qini, refit it
//! on every row, and write the run folder (uplift.json, oof_uplift.csv,
//! with `--test` test_uplift.csv) and the uplift artifact.
//!
//! Nothing is written until every learner has been fitted and measured.

mod job;
mod output;
mod screen;

pub use job::{Goal, UpliftJob};

use super::read_clean;
use crate::clean::Dataset;
use crate::error::{Error, Result};
use crate::features::{FeaturePipeline, TransformStats};
use crate::outcomes::uplift::artifact::UpliftArtifact;
use crate::outcomes::uplift::learners::{LearnerKind, Prediction, UpliftModel, BLENDED};
use crate::outcomes::uplift::Figures;
use crate::progress::{Phases, Progress};
use crate::split::{self, Fold};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What an uplift run produced.
#[derive(Debug)]
pub struct UpliftOutcome {
    pub run_dir: PathBuf,
    pub model_path: PathBuf,
    pub learner: LearnerKind,
    /// Each learner's out-of-fold figures.
    pub cv: BTreeMap<String, Figures>,
}

/// The campaign's rows of the two arms: the cleaned data, each row's arm
/// (treated or not) and the rows of other arms left out, per arm.
pub(crate) struct Campaign {
    pub data: Dataset,
    pub treated: Vec<bool>,
    pub left_out: BTreeMap<String, usize>,
    pub decrease: bool,
    /// Columns the arms-balance screen left out.
    pub after_treatment: Vec<screen::AfterTreatment>,
}

impl Campaign {
    /// 1 where the outcome went the bank's way (kept, converted).
    pub fn success(&self, y: &[u8]) -> Vec<u8> {
        y.iter()
            .map(|&v| if self.decrease { 1 - v } else { v })
            .collect()
    }

    /// The ranking score of a prediction: the uplift in the bank's direction.
    pub fn score(&self, p: &Prediction) -> Vec<f64> {
        let sign = if self.decrease { -1.0 } else { 1.0 };
        p.uplift.iter().map(|u| sign * u).collect()
    }
}

/// Read and clean the campaign table; keep the two arms' rows.
fn read_campaign(job: &UpliftJob, progress: &Progress) -> Result<Campaign> {
    let mut cfg = job.cfg.clone();
    // Carried as a protected column: aligned with the rows through
    // cleaning and deduplication, and never a feature.
    cfg.fairness.protected.push(job.arm.clone());
    let (mut data, _, _) = read_clean(&cfg, progress, &mut Phases::default())?;
    let at = data
        .attributes
        .iter()
        .position(|a| a.spec.name == job.arm)
        .ok_or_else(|| Error::at(&data.report.file, &job.arm, None, "arm column not found"))?;
    let groups = data.attributes.remove(at).groups;
    let (mut rows, mut treated, mut left_out) = (Vec::new(), Vec::new(), BTreeMap::new());
    for (r, g) in groups.iter().enumerate() {
        match &**g {
            g if g == job.control => (rows.push(r), treated.push(false)),
            g if g == job.treatment => (rows.push(r), treated.push(true)),
            g => {
                *left_out.entry(g.to_string()).or_insert(0) += 1;
                continue;
            }
        };
    }
    for (label, flag) in [(&job.control, "control"), (&job.treatment, "treatment")] {
        let present = treated.iter().any(|&t| t == (flag == "treatment"));
        if !present {
            let arms: Vec<String> = left_out.keys().map(|k| format!("{k:?}")).collect();
            return Err(Error::at(
                &data.report.file,
                &job.arm,
                None,
                format!(
                    "{flag} label {label:?} not found (other arms: {})",
                    arms.join(", ")
                ),
            ));
        }
    }
    if !left_out.is_empty() {
        let parts: Vec<String> = left_out.iter().map(|(a, n)| format!("{a} {n}")).collect();
        progress.stage(format!(
            "{} rows of other arms left out ({})",
            left_out.values().sum::<usize>(),
            parts.join(", ")
        ));
    }
    let mut data = data.subset(&rows);
    let after_treatment = screen::screen(&mut data.table, &treated, &job.cfg.leakage.allow);
    for a in &after_treatment {
        progress.warn(format!(
            "{}: differs between the arms beyond chance (p {:.1e}): recorded after the treatment? left out (--allow-leaky {} keeps it)",
            a.column, a.p_value, a.column
        ));
    }
    if data.table.names.is_empty() {
        return Err(Error::data(
            &data.report.file,
            "no feature column left after the arms-balance screen (see --allow-leaky)",
        ));
    }
    let outcome = &data.report.target;
    let goal = job.goal.resolve(outcome);
    if job.goal == Goal::Auto {
        progress.stage(format!(
            "goal: {} {outcome} ({}; --goal sets it)",
            if goal == Goal::Decrease {
                "decrease"
            } else {
                "increase"
            },
            if goal == Goal::Decrease {
                "a churn-like name"
            } else {
                "not a churn-like name"
            }
        ));
    }
    let share = treated.iter().filter(|&&t| t).count() as f64 / treated.len() as f64;
    if job.learners.contains(&LearnerKind::ClassTransformation) && !(0.4..=0.6).contains(&share) {
        progress.warn(format!(
            "class transformation assumes equal arms; {:.0}% of the rows are treated, so its ranking is biased",
            100.0 * share
        ));
    }
    Ok(Campaign {
        data,
        treated,
        left_out,
        decrease: goal == Goal::Decrease,
        after_treatment,
    })
}

/// Folds stratified by arm × outcome: each arm's rows split by outcome
/// into `k` folds, the folds then joined.
fn folds_by_arm(y: &[u8], treated: &[bool], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let mut fold_of = vec![0usize; y.len()];
    for arm in [false, true] {
        let rows: Vec<usize> = (0..y.len()).filter(|&r| treated[r] == arm).collect();
        let ys: Vec<u8> = rows.iter().map(|&r| y[r]).collect();
        let folds = split::stratified_kfold(&ys, k, seed + arm as u64).map_err(|e| {
            Error::Config(format!(
                "uplift, {} arm: {e}",
                if arm { "treatment" } else { "control" }
            ))
        })?;
        for (f, fold) in folds.iter().enumerate() {
            fold.test.iter().for_each(|&i| fold_of[rows[i]] = f);
        }
    }
    Ok((0..k)
        .map(|f| Fold {
            train: (0..y.len()).filter(|&r| fold_of[r] != f).collect(),
            test: (0..y.len()).filter(|&r| fold_of[r] == f).collect(),
        })
        .collect())
}

/// Every learner's out-of-fold prediction (rows in the data's order).
fn cross_validate(
    job: &UpliftJob,
    c: &Campaign,
    folds: &[Fold],
    progress: &Progress,
) -> Result<Vec<Prediction>> {
    let n = c.data.y.len();
    let mut oof: Vec<Prediction> = job
        .learners
        .iter()
        .map(|_| Prediction {
            treated: vec![f64::NAN; n],
            control: vec![f64::NAN; n],
            uplift: vec![f64::NAN; n],
        })
        .collect();
    let spec = &job.cfg.gradient_boosting;
    for (f, fold) in folds.iter().enumerate() {
        progress.stage(format!("fold {} of {}", f + 1, folds.len()));
        let pipeline = FeaturePipeline::fit(&c.data.table, &fold.train, false);
        let mut stats = TransformStats::default();
        let x_train = pipeline.transform(&c.data.table, &fold.train, &mut stats);
        let x_test = pipeline.transform(&c.data.table, &fold.test, &mut stats);
        let y: Vec<u8> = fold.train.iter().map(|&r| c.data.y[r]).collect();
        let t: Vec<bool> = fold.train.iter().map(|&r| c.treated[r]).collect();
        for (kind, out) in job.learners.iter().zip(&mut oof) {
            if *kind == LearnerKind::Blend && blend_of_others(&job.learners) {
                continue;
            }
            let seed = job.cfg.train.seed.wrapping_add(f as u64);
            let model = UpliftModel::fit(*kind, spec, x_train.view(), &y, &t, seed)?;
            let p = model.predict(x_test.view());
            for (i, &r) in fold.test.iter().enumerate() {
                out.treated[r] = p.treated[i];
                out.control[r] = p.control[i];
                out.uplift[r] = p.uplift[i];
            }
        }
    }
    // A blend beside its members is their mean: the same as fitting it.
    if let Some(b) = job.learners.iter().position(|&k| k == LearnerKind::Blend) {
        if blend_of_others(&job.learners) {
            let members: Vec<Prediction> = BLENDED
                .iter()
                .filter_map(|k| job.learners.iter().position(|l| l == k))
                .map(|i| oof[i].clone())
                .collect();
            oof[b] = Prediction::mean(&members);
        }
    }
    Ok(oof)
}

/// Are all of a blend's members cross-validated beside it?
fn blend_of_others(learners: &[LearnerKind]) -> bool {
    BLENDED.iter().all(|k| learners.contains(k))
}

/// Cross-validate every learner: their out-of-fold predictions, figures
/// and the index of the best by Qini (ties: the earlier).
fn measure(
    job: &UpliftJob,
    c: &Campaign,
    progress: &Progress,
) -> Result<(Vec<Prediction>, Vec<Figures>, usize)> {
    let t = &job.cfg.train;
    let folds = folds_by_arm(&c.data.y, &c.treated, t.folds, t.seed)?;
    let oof = cross_validate(job, c, &folds, progress)?;
    let success = c.success(&c.data.y);
    let figures: Vec<Figures> = oof
        .iter()
        .map(|p| Figures::of(&success, &c.score(p), &c.treated))
        .collect();
    let qini = |f: &Figures| f.qini_auc.unwrap_or(f64::NEG_INFINITY);
    let best = (0..figures.len()).fold(0, |b, i| {
        if qini(&figures[i]) > qini(&figures[b]) {
            i
        } else {
            b
        }
    });
    Ok((oof, figures, best))
}

/// Run `churn-train uplift`.
pub fn run(job: &UpliftJob) -> Result<UpliftOutcome> {
    let progress = Progress::new(job.cfg.train.quiet);
    let c = read_campaign(job, &progress)?;
    let (oof, figures, best) = match job.cross_validate {
        true => measure(job, &c, &progress)?,
        false => (Vec::new(), Vec::new(), 0),
    };
    let kind = job.learners[best];
    let cv: BTreeMap<String, Figures> = job
        .learners
        .iter()
        .zip(&figures)
        .map(|(k, f)| (k.name().to_string(), *f))
        .collect();
    if job.cross_validate {
        progress.stage(format!(
            "learner: {} (the best out-of-fold Qini)",
            kind.name()
        ));
    }
    let all: Vec<usize> = (0..c.data.y.len()).collect();
    let pipeline = FeaturePipeline::fit(&c.data.table, &all, false);
    let x = pipeline.transform(&c.data.table, &all, &mut TransformStats::default());
    let spec = &job.cfg.gradient_boosting;
    // The test table is read and encoded while the learner is fitted.
    let (model, test) = rayon::join(
        || {
            UpliftModel::fit(
                kind,
                spec,
                x.view(),
                &c.data.y,
                &c.treated,
                job.cfg.train.seed,
            )
        },
        || {
            (job.test.as_ref())
                .map(|path| output::read_test(job, &c, &pipeline, path))
                .transpose()
        },
    );
    let model = model?;
    let test = test?.map(|t| t.score(&c, &model));
    let (created_at, stamp) = crate::artifact::format_time(crate::artifact::now_epoch());
    let t = &job.cfg.train;
    let run_id = crate::io::unique_name(&format!("uplift-{stamp}"), |id| {
        t.out.join(id).exists() || t.model_dir.join(output::model_file(id)).exists()
    });
    let r = &c.data.report;
    let mut art = UpliftArtifact {
        format: crate::outcomes::uplift::artifact::FORMAT.into(),
        format_version: crate::outcomes::uplift::artifact::FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").into(),
        created_at,
        run_id,
        seed: t.seed,
        outcome: r.target.clone(),
        positive_label: r.positive_label.clone(),
        decrease: c.decrease,
        arm: job.arm.clone(),
        control: job.control.clone(),
        treatment: job.treatment.clone(),
        id_column: r.id_column.clone(),
        pipeline,
        formats: c.data.formats.clone(),
        model,
        cv: cv.clone(),
        checksum: String::new(),
    };
    let run = output::Run {
        job,
        campaign: &c,
        oof: oof.get(best),
        figures: &figures,
        test: test.as_ref(),
    };
    let (run_dir, model_path) = output::publish(&run, &mut art)?;
    crate::io::print_stdout(&output::table(job, &figures, kind))?;
    progress.stage(format!("model: {}", model_path.display()));
    progress.stage(format!("run:   {}", run_dir.display()));
    Ok(UpliftOutcome {
        run_dir,
        model_path,
        learner: kind,
        cv,
    })
}
