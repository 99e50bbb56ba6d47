//! Logistic regression hyperparameters (`[logistic_regression]`), validated
//! once when the configuration is read.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Logistic regression hyperparameters (linfa-logistic, L2 penalty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticParams {
    pub alpha: f64,
    pub max_iterations: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            alpha: 1.0,
            max_iterations: 300,
        }
    }
}

impl LogisticParams {
    pub fn alpha(mut self, v: f64) -> Self {
        self.alpha = v;
        self
    }

    /// Reject values linfa-logistic cannot fit with; errors name the config `key`.
    pub fn check(&self, key: &str) -> Result<()> {
        if !(self.alpha >= 0.0) {
            return Err(Error::Config(format!("{key}.alpha must be >= 0")));
        }
        if self.max_iterations == 0 {
            return Err(Error::Config(format!(
                "{key}.max_iterations must be at least 1"
            )));
        }
        Ok(())
    }
}
