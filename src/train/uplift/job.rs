//! A `churn-train uplift` job: the training configuration (data, id,
//! drop, folds, seed, the boosting hyperparameters) plus the campaign's
//! arms, the outcome's direction and the learners to try.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::outcomes::uplift::learners::LearnerKind;
use std::path::PathBuf;

/// Which way the bank wants the outcome to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// From the outcome's name: decrease for churn-like names (churn,
    /// exit, attrition, closed, lapsed, left, cancel), else increase.
    Auto,
    Increase,
    Decrease,
}

impl Goal {
    /// The goal for outcome `name` (`Auto` decided by its name).
    pub fn resolve(self, name: &str) -> Goal {
        if self != Goal::Auto {
            return self;
        }
        let l = name.to_ascii_lowercase();
        let churn_like = [
            "churn", "exit", "attrit", "closed", "lapse", "left", "cancel",
        ]
        .iter()
        .any(|w| l.contains(w));
        if churn_like {
            Goal::Decrease
        } else {
            Goal::Increase
        }
    }
}

/// A resolved `churn-train uplift` job.
#[derive(Debug, Clone)]
pub struct UpliftJob {
    /// The training configuration; its target is the outcome.
    pub cfg: Config,
    pub arm: String,
    pub control: String,
    pub treatment: String,
    pub goal: Goal,
    /// The learners to cross-validate (`auto`: all, the best by Qini kept).
    pub learners: Vec<LearnerKind>,
    /// A later (or held-out) labelled campaign table to score and measure.
    pub test: Option<PathBuf>,
    /// Cross-validate (out-of-fold figures, `auto`'s choice); off, the one
    /// learner named is fitted on every row and only `--test` measures it.
    pub cross_validate: bool,
}

impl UpliftJob {
    pub fn validate(&self) -> Result<()> {
        if self.control == self.treatment {
            return Err(Error::Config(format!(
                "uplift: --control and --treatment are the same label {:?}",
                self.control
            )));
        }
        if self.cfg.logs.is_set() {
            return Err(Error::Config(
                "uplift takes a flat campaign table (--data), not logs".into(),
            ));
        }
        if self.learners.is_empty() {
            return Err(Error::Config("uplift: no learner selected".into()));
        }
        if !self.cross_validate && self.learners.len() != 1 {
            return Err(Error::Config(
                "uplift --no-cv needs one --learner (auto chooses by cross-validation)".into(),
            ));
        }
        self.cfg.validate_train()
    }
}
