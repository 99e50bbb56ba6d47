//! Column roles of a training run, decided once after cleaning and the
//! leakage screen: printed, written to data_report.json with what they make
//! of customer value (CLV sources, tiers) and stored with the scoring
//! reference, so scoring values customers as training did. Also
//! `churn-train roles`, which prints the choice without training.

use crate::clean::Dataset;
use crate::config::Config;
use crate::error::Result;
use crate::progress::Progress;
use crate::reference::roles::{RoleSettings, Roles};
use crate::reference::value::ValueReport;

/// Decide the roles of `data`'s columns, report them (console and data
/// report), warn where value cannot be measured; returns them.
pub fn decide(cfg: &Config, data: &mut Dataset, progress: &Progress) -> Result<Roles> {
    let mut columns = cfg.roles.clone();
    for (role, column) in cfg.score.clv.legacy_roles() {
        columns
            .entry(role.name().to_string())
            .or_insert_with(|| column.to_string());
    }
    let settings = RoleSettings {
        columns,
        spend_periods: cfg.score.clv.spend_periods,
    };
    let roles = Roles::detect(&data.table, &settings)?;
    for line in roles.lines() {
        progress.stage(format!("role {line}"));
    }
    let s = &cfg.score;
    let configured = (!s.value_columns.is_empty())
        .then_some((s.value_columns.as_slice(), s.activity_columns.as_slice()));
    let value = ValueReport::of(&s.clv, &roles, &data.table, configured);
    for w in &value.warnings {
        progress.warn(w);
    }
    data.report.roles = Some(roles.clone());
    data.report.value = Some(value);
    Ok(roles)
}

/// `churn-train roles`: read and clean the data as training does and print
/// each role's column and reason, the CLV sources and the tiers' features.
pub fn print(cfg: &Config) -> Result<()> {
    let progress = Progress::new(true);
    // Cleaning decides the roles as a training run does.
    let (data, _, _) = super::read_clean(cfg, &progress, &mut Default::default())?;
    let roles = data.report.roles.clone().unwrap_or_default();
    let mut text: String = roles.lines().into_iter().map(|l| l + "\n").collect();
    if let Some(v) = &data.report.value {
        let sources = if v.clv_sources.is_empty() {
            "none (CLV unknown)".to_string()
        } else {
            v.clv_sources.join(" > ")
        };
        // Its warnings went to standard error, as in training.
        text += &format!("clv sources = {sources}\ntiers = {}\n", v.tiers);
    }
    crate::io::print_stdout(&text)
}
