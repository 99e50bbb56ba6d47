//! What an uplift run writes: the test table's scores, the run folder
//! (uplift.json, oof_uplift.csv, test_uplift.csv — customer rows, so
//! private) and the artifact, published as the training run is (a hidden
//! folder renamed into place after the artifact is saved).

use super::{Campaign, UpliftJob};
use crate::error::{Error, Result};
use crate::features::{FeaturePipeline, TransformStats};
use crate::io::csv_field;
use crate::outcomes::uplift::artifact::{UpliftArtifact, EXTENSION, LATEST};
use crate::outcomes::uplift::learners::{LearnerKind, Prediction, UpliftModel};
use crate::outcomes::uplift::{arm_rate, deciles, qini_points, Decile, Figures};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The artifact's file name for run `id`.
pub fn model_file(id: &str) -> String {
    format!("{id}.{EXTENSION}")
}

/// The `--test` table scored: its rows of the two arms and the figures.
pub struct Tested {
    pub ids: Vec<String>,
    pub y: Vec<u8>,
    pub treated: Vec<bool>,
    pub prediction: Prediction,
    pub figures: Figures,
    pub deciles: Vec<Decile>,
    pub left_out: usize,
}

/// The `--test` table read, its rows of the two arms encoded: read while
/// the learner is fitted (it does not need the model).
pub struct TestInput {
    ids: Vec<String>,
    y: Vec<u8>,
    treated: Vec<bool>,
    x: ndarray::Array2<f64>,
    left_out: usize,
}

/// Read and encode the labelled campaign table at `path`.
pub fn read_test(
    job: &UpliftJob,
    c: &Campaign,
    pipeline: &FeaturePipeline,
    path: &Path,
) -> Result<TestInput> {
    let mut raw = crate::ingest::read_table(path, job.cfg.data.delimiter)?;
    c.data.formats.apply(&mut raw);
    let src = raw.source.clone();
    let arm = raw
        .column(&job.arm)
        .ok_or_else(|| Error::at(&src, &job.arm, None, "arm column not found"))?
        .clone();
    let test = crate::clean::conform(&raw, &c.data)?;
    let ids: Vec<String> = match c
        .data
        .report
        .id_column
        .as_deref()
        .and_then(|n| raw.column(n))
    {
        Some(col) => (0..raw.n_rows())
            .map(|r| col.text(r).unwrap_or_default())
            .collect(),
        None => test.ids.clone(),
    };
    let (mut rows, mut treated) = (Vec::new(), Vec::new());
    for r in 0..raw.n_rows() {
        match arm.text(r) {
            Some(a) if a == job.control => (rows.push(r), treated.push(false)),
            Some(a) if a == job.treatment => (rows.push(r), treated.push(true)),
            _ => continue,
        };
    }
    if !treated.iter().any(|&t| t) || treated.iter().all(|&t| t) {
        return Err(Error::at(
            &src,
            &job.arm,
            None,
            format!(
                "the test table needs rows of both arms {:?} and {:?}",
                job.control, job.treatment
            ),
        ));
    }
    Ok(TestInput {
        x: pipeline.transform(&test.table, &rows, &mut TransformStats::default()),
        y: rows.iter().map(|&r| test.y[r]).collect(),
        ids: rows.iter().map(|&r| ids[r].clone()).collect(),
        left_out: raw.n_rows() - rows.len(),
        treated,
    })
}

impl TestInput {
    /// Score the table with the refitted learner.
    pub fn score(self, c: &Campaign, model: &UpliftModel) -> Tested {
        let prediction = model.predict(self.x.view());
        let (success, score) = (c.success(&self.y), c.score(&prediction));
        Tested {
            figures: Figures::of(&success, &score, &self.treated),
            deciles: deciles(&success, &score, &self.treated),
            ids: self.ids,
            left_out: self.left_out,
            y: self.y,
            treated: self.treated,
            prediction,
        }
    }
}

/// Everything a run reports.
pub struct Run<'a> {
    pub job: &'a UpliftJob,
    pub campaign: &'a Campaign,
    /// The chosen learner's out-of-fold prediction (none without
    /// cross-validation).
    pub oof: Option<&'a Prediction>,
    /// Every learner's out-of-fold figures, in the job's order.
    pub figures: &'a [Figures],
    pub test: Option<&'a Tested>,
}

#[derive(Serialize)]
struct Summary<'a> {
    run_id: &'a str,
    outcome: &'a str,
    goal: &'static str,
    arm: &'a str,
    control: &'a str,
    treatment: &'a str,
    rows: usize,
    treated_rows: usize,
    control_rows: usize,
    left_out: &'a BTreeMap<String, usize>,
    /// Repeated rows (the same id twice) removed by cleaning, the first kept.
    duplicates_removed: usize,
    /// Columns left out as recorded after the treatment (arms-balance screen).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    after_treatment: &'a [super::screen::AfterTreatment],
    /// Success rates (the bank's direction) per arm, and their difference.
    success_treated: f64,
    success_control: f64,
    average_uplift: f64,
    learner: &'static str,
    cv: BTreeMap<&'static str, Figures>,
    deciles: Vec<Decile>,
    qini_curve: Vec<(f64, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<TestSummary<'a>>,
}

#[derive(Serialize)]
struct TestSummary<'a> {
    rows: usize,
    left_out: usize,
    figures: &'a Figures,
    deciles: &'a [Decile],
}

fn summary<'a>(run: &'a Run, art: &'a UpliftArtifact) -> Summary<'a> {
    let c = run.campaign;
    let success = c.success(&c.data.y);
    let score = run.oof.map(|p| c.score(p));
    let n_treated = c.treated.iter().filter(|&&t| t).count();
    let all: Vec<usize> = (0..success.len()).collect();
    let rate = |arm| arm_rate(&success, &c.treated, &all, arm).1;
    let (st, sc) = (rate(true), rate(false));
    Summary {
        run_id: &art.run_id,
        outcome: &art.outcome,
        goal: if c.decrease { "decrease" } else { "increase" },
        arm: &art.arm,
        control: &art.control,
        treatment: &art.treatment,
        rows: c.treated.len(),
        treated_rows: n_treated,
        control_rows: c.treated.len() - n_treated,
        left_out: &c.left_out,
        duplicates_removed: c.data.report.duplicates_removed,
        after_treatment: &c.after_treatment,
        success_treated: st,
        success_control: sc,
        average_uplift: st - sc,
        learner: art.model.kind().name(),
        cv: run
            .job
            .learners
            .iter()
            .zip(run.figures)
            .map(|(k, f)| (k.name(), *f))
            .collect(),
        deciles: score
            .as_ref()
            .map_or_else(Vec::new, |s| deciles(&success, s, &c.treated)),
        qini_curve: score
            .as_ref()
            .map_or_else(Vec::new, |s| qini_points(&success, s, &c.treated)),
        test: run.test.map(|t| TestSummary {
            rows: t.ids.len(),
            left_out: t.left_out,
            figures: &t.figures,
            deciles: &t.deciles,
        }),
    }
}

/// The report page of a run's summary.
fn page<'a>(run: &'a Run, s: &'a Summary) -> crate::report::uplift::UpliftPage<'a> {
    crate::report::uplift::UpliftPage {
        about: format!(
            "Outcome {} ({}), arm {}: {} ({} rows) against {} ({} rows); success rates {:.4} against {:.4} (average uplift {:+.4}); {} rows of other arms left out.",
            s.outcome,
            s.goal,
            s.arm,
            s.treatment,
            s.treated_rows,
            s.control,
            s.control_rows,
            s.success_treated,
            s.success_control,
            s.average_uplift,
            s.left_out.values().sum::<usize>()
        ),
        learners: s.cv.iter().map(|(k, f)| (*k, f)).collect(),
        kept: s.learner,
        deciles: &s.deciles,
        qini: &s.qini_curve,
        test: run.test.map(|t| (&t.figures, &t.deciles[..])),
    }
}

/// Rows of a prediction as CSV: id, arm, outcome, p_treated, p_control,
/// uplift, and for a decrease goal the retention uplift.
fn prediction_csv(run: &Run, ids: &[String], y: &[u8], treated: &[bool], p: &Prediction) -> String {
    let j = run.job;
    let decrease = run.campaign.decrease;
    let mut out = String::from("id,arm,outcome,p_treated,p_control,uplift");
    out += if decrease {
        ",retention_uplift\n"
    } else {
        "\n"
    };
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.6}")
        } else {
            String::new()
        }
    };
    for r in 0..ids.len() {
        let arm = if treated[r] { &j.treatment } else { &j.control };
        out += &format!(
            "{},{},{},{},{},{}",
            csv_field(&ids[r]),
            csv_field(arm),
            y[r],
            num(p.treated[r]),
            num(p.control[r]),
            num(p.uplift[r])
        );
        if decrease {
            out += &format!(",{}", num(-p.uplift[r]));
        }
        out.push('\n');
    }
    out
}

/// Write the run folder and save the artifact; (run folder, artifact).
pub fn publish(run: &Run, art: &mut UpliftArtifact) -> Result<(PathBuf, PathBuf)> {
    let t = &run.job.cfg.train;
    let file = model_file(&art.run_id);
    let model_path = t.model_dir.join(&file);
    std::fs::create_dir_all(&t.model_dir).map_err(|e| Error::io(&t.model_dir, e))?;
    let run_dir = t.out.join(&art.run_id);
    let c = run.campaign;
    crate::io::publish_dir(&run_dir, |staging| {
        let sum = summary(run, art);
        crate::io::write_json(&staging.join("uplift.json"), &sum)?;
        let html = crate::report::uplift::render(&page(run, &sum));
        crate::io::write_atomic(&staging.join("report.html"), html.as_bytes())?;
        if let Some(p) = run.oof {
            let oof = prediction_csv(run, &c.data.ids, &c.data.y, &c.treated, p);
            crate::io::write_atomic(&staging.join("oof_uplift.csv"), oof.as_bytes())?;
        }
        if let Some(t) = run.test {
            let csv = prediction_csv(run, &t.ids, &t.y, &t.treated, &t.prediction);
            crate::io::write_atomic(&staging.join("test_uplift.csv"), csv.as_bytes())?;
        }
        art.save(&model_path)
    })?;
    crate::io::replace_symlink(&t.model_dir.join(LATEST), &file)?;
    Ok((run_dir, model_path))
}

/// The console table: each learner's out-of-fold figures, the kept one marked.
pub fn table(job: &UpliftJob, figures: &[Figures], kept: LearnerKind) -> String {
    if figures.is_empty() {
        return format!(
            "learner {} fitted without cross-validation (--no-cv)\n",
            kept.name()
        );
    }
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    let mut out = format!(
        "{:<22} {:>9} {:>10} {:>10} {:>10} {:>10}\n",
        "learner (out-of-fold)", "qini_auc", "uplift_auc", "uplift@10", "uplift@20", "uplift@30"
    );
    for (k, g) in job.learners.iter().zip(figures) {
        let name = format!("{}{}", k.name(), if *k == kept { " *" } else { "" });
        out += &format!(
            "{name:<22} {:>9} {:>10} {:>10} {:>10} {:>10}\n",
            f(g.qini_auc),
            f(g.uplift_auc),
            f(g.uplift_at_10),
            f(g.uplift_at_20),
            f(g.uplift_at_30)
        );
    }
    out
}
