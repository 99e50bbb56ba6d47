//! Thresholds per customer group (`churn-train --threshold-by COL[,COL...]`).
//!
//! One threshold does not fit every customer: new customers leave more
//! often than long-standing ones, high-value customers are worth a call at
//! a lower risk. With `--threshold-by` the run's threshold rule is applied
//! to the out-of-fold scores of each group separately, and each group's
//! warning cut-offs follow its threshold by the same rule as the global
//! ones ([`WarningCutoffs::derive`] on the group's scores and churn rate).
//! A group with fewer positives than `--min-group-positives` (default 50)
//! keeps the global threshold and cut-offs, and says so (`fallback`): a
//! threshold fitted on a handful of churners is noise.
//!
//! A group is the combination of the columns' values (`France / Female`):
//! a categorical input's level, a numeric input's value (at most
//! [`MAX_LEVELS`] distinct values: bands, counts), or `value_tier`, the
//! tier scoring assigns. Batch scoring, the database sink and the service
//! look each customer's group up in the artifact through [`keys`], the
//! one function that builds group names, so all three flag alike; a group
//! never seen in training scores with the global threshold.
//!
//! Seasons: `season` groups by the calendar month of each training row's
//! period (log snapshots, or `--period` holding dates), `quarter` by its
//! quarter. Scoring takes the month from `--season` (a month number or a
//! date), else the as-of date of log scoring, else today's date, so the
//! month's thresholds serve the whole batch.
//!
//! Under `capacity:S` the total capacity (S of all customers) is shared
//! among the groups in proportion to their expected churners (the sum of
//! their out-of-fold probabilities), then each group flags its share.

use super::WarningCutoffs;
use crate::features::{FeatureData, FeatureTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The derived column of value tiers, usable in `--threshold-by`.
pub const TIER: &str = "value_tier";
/// Most distinct values a `--threshold-by` column may have.
pub const MAX_LEVELS: usize = 50;
/// The calendar month of each row's period, as a `--threshold-by` column.
pub const SEASON: &str = "season";
/// The calendar quarter of each row's period.
pub const QUARTER: &str = "quarter";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The named windows of `--calendar FILE`, as a `--threshold-by` column.
pub const CALENDAR: &str = "calendar";

/// The month (1–12) of a period or season value: a month number, or a
/// date `YYYY-MM` / `YYYY-MM-DD` (`None` otherwise).
pub fn month_of(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Ok(m) = s.parse::<u32>() {
        return (1..=12).contains(&m).then_some(m);
    }
    let mut it = s.splitn(3, '-');
    let (y, m) = (it.next()?, it.next()?);
    let m: u32 = m.parse().ok()?;
    (y.len() == 4 && y.parse::<i32>().is_ok() && (1..=12).contains(&m)).then_some(m)
}

/// The day (days since 1970-01-01) of a period or season value: a date
/// `YYYY-MM-DD`, `YYYY-MM` (its first day), or a month number (its first
/// day in `year`).
pub fn day_of(s: &str, year: i32) -> Option<i32> {
    let s = s.trim();
    if let Some(d) = crate::ingest::dates::parse_iso(s) {
        return Some(d);
    }
    let m = month_of(s)?;
    let y = match s.split_once('-') {
        Some((y, _)) => y.parse().ok()?,
        None => year,
    };
    Some(crate::ingest::dates::from_civil(y, m, 1))
}

/// What groups may be made of beside the table's columns.
#[derive(Default, Clone, Copy)]
pub struct Derived<'a> {
    /// Each row's value tier.
    pub tiers: Option<&'a [Arc<str>]>,
    /// Each row's date (its period, or the scoring date).
    pub days: Option<&'a [i32]>,
    /// The windows of `--calendar`.
    pub calendar: &'a [crate::ingest::calendar::Window],
}

/// Does `by` group by season, quarter or calendar window (so each row's
/// date is needed)?
pub fn dated(by: &[String]) -> bool {
    by.iter()
        .any(|c| c == SEASON || c == QUARTER || c == CALENDAR)
}

/// The scores column naming each customer's threshold group.
pub const COLUMN: &str = "threshold_group";
/// The `threshold_group` of a customer scored with the global threshold.
pub const GLOBAL: &str = "global";
/// A missing value's name in a group.
const MISSING: &str = "(missing)";

/// The thresholds of every group met in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupThresholds {
    /// The columns (or [`TIER`]) whose values make the groups.
    pub by: Vec<String>,
    /// The threshold rule, as `--threshold-rule` writes it.
    pub rule: String,
    pub min_positives: usize,
    pub groups: BTreeMap<String, GroupThreshold>,
    /// The windows of `--calendar` (for `calendar` groups at scoring).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendar: Vec<crate::ingest::calendar::Window>,
}

/// One group's threshold and cut-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupThreshold {
    pub threshold: f64,
    pub warning: WarningCutoffs,
    /// Cross-validated rows and churners of the group.
    pub rows: usize,
    pub positives: usize,
    /// Too few positives: the global threshold and cut-offs serve it.
    pub fallback: bool,
}

/// A column's value in row `i` as text.
fn cell(col: &FeatureData, i: usize) -> String {
    match col {
        FeatureData::Categorical(v) => v[i].as_deref().unwrap_or(MISSING).to_string(),
        FeatureData::Numeric(v) if v[i].is_nan() => MISSING.to_string(),
        FeatureData::Numeric(v) => format!("{}", v[i]),
    }
}

/// Each row's group name (the columns' values joined by ` / `); an error
/// names a column that is neither in `table` nor `value_tier` with tiers.
pub fn keys(
    by: &[String],
    table: &FeatureTable,
    derived: Derived,
) -> std::result::Result<Vec<String>, String> {
    let n = table.n_rows();
    let mut out = vec![String::new(); n];
    for (k, name) in by.iter().enumerate() {
        let value: Box<dyn Fn(usize) -> String> = match (table.get(name), derived.tiers) {
            (Some(col), _) => Box::new(move |i| cell(col, i)),
            (None, Some(t)) if name == TIER => Box::new(move |i| t[i].to_string()),
            (None, None) if name == TIER => {
                return Err(format!(
                    "{TIER}: this table has no value tiers (no value column was found; see `churn-train roles`)"
                ))
            }
            (None, _) if name == SEASON || name == QUARTER || name == CALENDAR => {
                let Some(d) = derived.days else {
                    return Err(format!(
                        "{name}: needs each row's period as a date (log snapshots, or --period with YYYY-MM[-DD] values)"
                    ));
                };
                let month = move |i: usize| crate::ingest::dates::to_civil(d[i]).1;
                let windows = derived.calendar;
                match name.as_str() {
                    SEASON => Box::new(move |i| MONTHS[month(i) as usize - 1].to_string()),
                    QUARTER => Box::new(move |i| format!("Q{}", month(i).div_ceil(3))),
                    _ if windows.is_empty() => {
                        return Err(format!("{CALENDAR}: give the windows with --calendar FILE"))
                    }
                    _ => Box::new(move |i| crate::ingest::calendar::name_of(windows, d[i]).to_string()),
                }
            }
            (None, _) => {
                return Err(format!(
                    "{name}: not a column of the training table (an input of the model) nor {TIER}"
                ))
            }
        };
        for (i, key) in out.iter_mut().enumerate() {
            if k > 0 {
                key.push_str(" / ");
            }
            key.push_str(&value(i));
        }
    }
    Ok(out)
}

/// Every column of `by` has at most [`MAX_LEVELS`] values in `table`.
pub fn check_levels(
    by: &[String],
    table: &FeatureTable,
    derived: Derived,
) -> std::result::Result<(), String> {
    for name in by {
        let values = keys(std::slice::from_ref(name), table, derived)?;
        let distinct: std::collections::BTreeSet<&str> =
            values.iter().map(String::as_str).collect();
        if distinct.len() > MAX_LEVELS {
            return Err(format!(
                "{name}: {} distinct values, more than {MAX_LEVELS} groups: give a band or a category column",
                distinct.len()
            ));
        }
    }
    Ok(())
}

/// The rows of each group.
pub fn members(keys: &[String]) -> BTreeMap<&str, Vec<usize>> {
    let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        m.entry(k.as_str()).or_default().push(i);
    }
    m
}

impl GroupThresholds {
    /// The group's own threshold and cut-offs (`None`: the global ones
    /// serve it: a fallback group, or one never seen in training).
    pub fn own(&self, key: &str) -> Option<&GroupThreshold> {
        self.groups.get(key).filter(|g| !g.fallback)
    }
}

/// Precision, recall and flag rate of flags `p >= t` on labels `y`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rates {
    pub precision: f64,
    pub recall: f64,
    pub flag_rate: f64,
}

impl Rates {
    pub fn of(y: &[u8], p: &[f64], t: impl Fn(usize) -> f64) -> Rates {
        let (mut tp, mut flagged, mut pos) = (0usize, 0usize, 0usize);
        for i in 0..y.len() {
            let f = p[i] >= t(i);
            flagged += f as usize;
            tp += (f && y[i] == 1) as usize;
            pos += (y[i] == 1) as usize;
        }
        let ratio = |a: usize, b: usize| match b {
            0 => 0.0,
            _ => a as f64 / b as f64,
        };
        Rates {
            precision: ratio(tp, flagged),
            recall: ratio(tp, pos),
            flag_rate: ratio(flagged, y.len()),
        }
    }
}

/// A group's line in metrics.json (`thresholds.<group>`): its threshold
/// and out-of-fold rates under it, beside the rates under the global one.
#[derive(Debug, Clone, Serialize)]
pub struct GroupStats {
    pub threshold: f64,
    pub rule: String,
    pub precision: f64,
    pub recall: f64,
    pub flag_rate: f64,
    pub positives: usize,
    pub rows: usize,
    pub fallback: bool,
    pub global: Rates,
}

/// Every group's [`GroupStats`] on the cross-validated rows, and the
/// whole table's under the group thresholds (`all`).
pub fn stats(
    gt: &GroupThresholds,
    cv_keys: &[String],
    y: &[u8],
    oof: &[f64],
    global: f64,
) -> (BTreeMap<String, GroupStats>, Rates) {
    let own_t = |k: &str| gt.own(k).map_or(global, |g| g.threshold);
    let groups = members(cv_keys)
        .into_iter()
        .filter_map(|(key, rows)| {
            let g = gt.groups.get(key)?;
            let yy: Vec<u8> = rows.iter().map(|&i| y[i]).collect();
            let pp: Vec<f64> = rows.iter().map(|&i| oof[i]).collect();
            let own = Rates::of(&yy, &pp, |_| own_t(key));
            let rule = match g.fallback {
                true => format!("global (fewer than {} positives)", gt.min_positives),
                false => gt.rule.clone(),
            };
            Some((
                key.to_string(),
                GroupStats {
                    threshold: own_t(key),
                    rule,
                    precision: own.precision,
                    recall: own.recall,
                    flag_rate: own.flag_rate,
                    positives: g.positives,
                    rows: g.rows,
                    fallback: g.fallback,
                    global: Rates::of(&yy, &pp, |_| global),
                },
            ))
        })
        .collect();
    let all = Rates::of(y, oof, |i| own_t(&cv_keys[i]));
    (groups, all)
}

/// metrics.json's `thresholds` (per group) and `threshold_by` (the whole).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThresholdReport {
    pub by: Vec<String>,
    pub min_group_positives: usize,
    /// Every cross-validated row under its group's threshold …
    pub with_groups: Rates,
    /// … and under the one global threshold.
    pub global: Rates,
    #[serde(skip)]
    pub groups: BTreeMap<String, GroupStats>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FeatureTable {
        let cat = |v: &[&str]| {
            FeatureData::Categorical(v.iter().map(|s| Some(Arc::<str>::from(*s))).collect())
        };
        FeatureTable {
            names: vec!["region".into(), "products".into()],
            columns: vec![
                cat(&["north", "south", "north", "south"]),
                FeatureData::Numeric(vec![1.0, 2.0, f64::NAN, 1.0]),
            ],
        }
    }

    #[test]
    fn groups_are_named_by_their_values_and_unknown_columns_refused() {
        let t = table();
        let by = vec!["region".to_string(), "products".to_string()];
        let none = Derived::default();
        let k = keys(&by, &t, none).unwrap();
        assert_eq!(
            k,
            ["north / 1", "south / 2", "north / (missing)", "south / 1"]
        );
        let tiers: Vec<Arc<str>> = ["high-value", "mass", "mass", "mass"]
            .map(Arc::from)
            .to_vec();
        let with_tiers = Derived {
            tiers: Some(&tiers),
            ..none
        };
        let k = keys(&[TIER.to_string()], &t, with_tiers).unwrap();
        assert_eq!(k[0], "high-value");
        assert!(keys(&[TIER.to_string()], &t, none)
            .unwrap_err()
            .contains("no value tiers"));
        assert!(keys(&["age".to_string()], &t, none)
            .unwrap_err()
            .starts_with("age:"));
        assert!(check_levels(&by, &t, none).is_ok());
        // Seasons from each row's date.
        let days = ["2024-12-24", "2025-01-01", "2024-06-30", "2023-12-01"]
            .map(|s| day_of(s, 2024).unwrap());
        let dated = Derived {
            days: Some(&days),
            ..none
        };
        let k = keys(&["season".into(), "region".into()], &t, dated).unwrap();
        assert_eq!(
            k,
            ["Dec / north", "Jan / south", "Jun / north", "Dec / south"]
        );
        assert_eq!(keys(&["quarter".into()], &t, dated).unwrap()[2], "Q2");
        assert!(keys(&["season".into()], &t, none)
            .unwrap_err()
            .contains("period"));
        assert_eq!(
            ["2024-12-01", "2024-03", "7", "13", "Dec", "24-01-01"].map(month_of),
            [Some(12), Some(3), Some(7), None, None, None]
        );
        assert_eq!(day_of("7", 2025), day_of("2025-07-01", 0));
        assert!(keys(&["calendar".into()], &t, dated)
            .unwrap_err()
            .contains("--calendar"));
        let windows = vec![crate::ingest::calendar::Window {
            start: "2024-12-01".into(),
            end: "2024-12-31".into(),
            name: "holidays".into(),
        }];
        let with_calendar = Derived {
            calendar: &windows,
            ..dated
        };
        let k = keys(&["calendar".into()], &t, with_calendar).unwrap();
        assert_eq!(k, ["holidays", "(no window)", "(no window)", "(no window)"]);
    }
}
