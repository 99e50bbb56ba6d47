//! `churn-train uplift` flags → an [`UpliftJob`].

use super::TrainArgs;
use crate::error::{Error, Result};
use crate::outcomes::uplift::learners::LearnerKind;
use crate::train::uplift::{Goal, UpliftJob};
use clap::Args;
use std::path::PathBuf;

/// `--learner`: one learner, or `auto` (every one, the best by
/// out-of-fold Qini kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LearnerChoice {
    Auto,
    S,
    T,
    X,
    ClassTransformation,
    Dr,
    Blend,
}

/// Options of `churn-train uplift`.
#[derive(Debug, Args)]
pub struct UpliftArgs {
    /// Column holding each customer's arm.
    #[arg(long)]
    pub arm: String,
    /// The control (holdout) arm's label.
    #[arg(long)]
    pub control: String,
    /// The treatment arm's label (rows of other arms are left out, counted).
    #[arg(long)]
    pub treatment: String,
    /// The outcome column (0/1, yes/no, or two labels with --positive).
    #[arg(long)]
    pub outcome: String,
    /// Should treatment raise the outcome (a conversion) or lower it
    /// (churn: uplift is then reported and ranked as retention uplift).
    #[arg(long, value_enum, default_value_t = Goal::Auto)]
    pub goal: Goal,
    /// The uplift learner.
    #[arg(long, value_enum, default_value_t = LearnerChoice::Auto)]
    pub learner: LearnerChoice,
    /// A labelled campaign table to score after fitting on --data:
    /// test_uplift.csv and its metrics.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Fit the one --learner on every row without cross-validation (no
    /// out-of-fold figures or oof_uplift.csv; --test measures it).
    #[arg(long)]
    pub no_cv: bool,
    #[command(flatten)]
    pub args: TrainArgs,
}

impl UpliftArgs {
    pub fn resolve(self) -> Result<UpliftJob> {
        if self.args.target.is_some() {
            return Err(Error::Config(
                "uplift: the outcome is --outcome, not --target".into(),
            ));
        }
        let mut args = self.args;
        args.target = Some(self.outcome);
        let learners = match self.learner {
            LearnerChoice::Auto => LearnerKind::ALL.to_vec(),
            LearnerChoice::S => vec![LearnerKind::S],
            LearnerChoice::T => vec![LearnerKind::T],
            LearnerChoice::X => vec![LearnerKind::X],
            LearnerChoice::ClassTransformation => vec![LearnerKind::ClassTransformation],
            LearnerChoice::Dr => vec![LearnerKind::Dr],
            LearnerChoice::Blend => vec![LearnerKind::Blend],
        };
        let job = UpliftJob {
            cfg: args.resolve()?,
            arm: self.arm,
            control: self.control,
            treatment: self.treatment,
            goal: self.goal,
            learners,
            test: self.test,
            cross_validate: !self.no_cv,
        };
        job.validate()?;
        Ok(job)
    }
}
