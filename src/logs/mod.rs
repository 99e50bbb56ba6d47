//! Point-in-time customer tables from a bank's raw logs: a customer table,
//! a transaction log and an event log (logins, branch visits, complaints,
//! overdue notices, product openings and closures, account closures) become
//! one row per customer and as-of date, with the churn label of the window
//! after it.
//!
//! Why a stage of its own: a bank has logs, not a labelled table, and the
//! one thing that must never happen is the future leaking into a feature.
//! Every feature of snapshot D uses only log rows dated strictly before D;
//! the label uses only rows in [D, D + horizon). The output is an ordinary
//! [`RawTable`](crate::ingest::RawTable) with `customer_id`, `as_of`, the
//! features and `churned`, so cleaning, cross-validation, the model
//! families, the artifact and the scoring flow are the ones a flat table
//! goes through: one feature pipeline for training, scoring and serving.
//!
//! The log is read once, in batches ([`source`]), typed and split into
//! customer buckets ([`bucket`]); each bucket is aggregated alone with
//! polars lazy group-bys (no per-row loop in Rust), and the buckets' rows
//! are put back in the customer table's order before the one step that
//! needs every customer (the RFM cut points): any number of buckets gives
//! the same table to the bit. Feature names are stable and defined in the
//! README.

pub mod aggregate;
pub mod bucket;
pub mod dates;
pub mod label;
pub mod read;
pub mod rfm;
pub mod source;

use crate::error::{Error, Result};
use dates::Day;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use bucket::Partitions;
pub use read::{LogReport, LogSet, Logs};
pub use rfm::RfmCuts;

/// Column names the log tables are read with (`[logs.columns]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogColumns {
    /// Customer id, in all three files.
    pub customer_id: String,
    /// Account opening date (customer table).
    pub open_date: String,
    /// Date or date-time of a transaction or event.
    pub timestamp: String,
    /// Transaction amount (≥ 0; the direction, if any, is in `kind`).
    pub amount: String,
    /// Optional per-transaction revenue and cost (profitability).
    pub revenue: String,
    pub cost: String,
    /// Optional account balance after the transaction.
    pub balance: String,
    /// Event kind (event log).
    pub event_kind: String,
}

impl Default for LogColumns {
    fn default() -> Self {
        LogColumns {
            customer_id: "customer_id".into(),
            open_date: "open_date".into(),
            timestamp: "timestamp".into(),
            amount: "amount".into(),
            revenue: "revenue".into(),
            cost: "cost".into(),
            balance: "balance".into(),
            event_kind: "kind".into(),
        }
    }
}

/// Which event kinds mean what (`[logs.kinds]`, compared case-insensitively).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EventKinds {
    pub login: Vec<String>,
    pub branch_visit: Vec<String>,
    pub complaint: Vec<String>,
    pub overdue: Vec<String>,
    pub product_open: Vec<String>,
    pub product_close: Vec<String>,
    pub account_close: Vec<String>,
}

impl Default for EventKinds {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        EventKinds {
            login: v(&["login", "online_login", "app_login"]),
            branch_visit: v(&["branch_visit", "branch"]),
            complaint: v(&["complaint"]),
            overdue: v(&["overdue", "overdue_notice"]),
            product_open: v(&["product_open", "product_opened"]),
            product_close: v(&["product_close", "product_closed"]),
            account_close: v(&["account_close", "closed", "account_closed"]),
        }
    }
}

/// What "churned" means in the window after the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ChurnRule {
    /// No transaction in the window.
    Inactive,
    /// An account-close event in the window.
    Closed,
    /// Window amount below (1 − X) × the same-length window before.
    Drop(f64),
}

impl std::str::FromStr for ChurnRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "inactive" => Ok(ChurnRule::Inactive),
            "closed" => Ok(ChurnRule::Closed),
            other => match other.strip_prefix("drop:").map(str::parse::<f64>) {
                Some(Ok(x)) if x > 0.0 && x <= 1.0 => Ok(ChurnRule::Drop(x)),
                _ => Err(Error::Config(format!(
                    "churn rule '{s}': expected inactive, closed or drop:X with 0 < X ≤ 1"
                ))),
            },
        }
    }
}

impl std::fmt::Display for ChurnRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChurnRule::Inactive => write!(f, "inactive"),
            ChurnRule::Closed => write!(f, "closed"),
            ChurnRule::Drop(x) => write!(f, "drop:{x}"),
        }
    }
}

impl TryFrom<String> for ChurnRule {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ChurnRule> for String {
    fn from(r: ChurnRule) -> String {
        r.to_string()
    }
}

/// How a log-based training run is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Validation {
    /// Stratified k-fold over all snapshots, grouped by customer.
    Kfold,
    /// k-fold over all snapshots but the latest; the latest is the test set.
    OutOfTime,
}

/// The `[logs]` section: where the logs are and how to read them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogsConfig {
    pub customers: Option<PathBuf>,
    pub transactions: Option<PathBuf>,
    pub events: Option<PathBuf>,
    /// As-of dates (YYYY-MM-DD).
    pub as_of: Vec<String>,
    /// `START..END:monthly` (instead of, or besides, `as_of`).
    pub snapshots: Option<String>,
    /// Label window length: `90d`, `12w`.
    pub horizon: String,
    pub churn_rule: ChurnRule,
    pub validation: Validation,
    /// CSV delimiter of the log files [default: detected per file].
    pub delimiter: Option<char>,
    /// strftime format of dates that are not ISO (e.g. `%y%m%d`).
    pub date_format: Option<String>,
    pub columns: LogColumns,
    pub kinds: EventKinds,
    /// Calendar windows whose distance every snapshot gains as features
    /// (`--calendar FILE --calendar-features`; stored with the model, so
    /// scoring builds the same columns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calendar: Vec<crate::ingest::calendar::Window>,
    /// Customer buckets the logs are processed in (`--partitions`): a
    /// setting of the run, not of the model (the result is the same).
    #[serde(skip_serializing_if = "Partitions::is_auto")]
    pub partitions: Partitions,
    /// Where the bucket files go [default: the system's temporary folder].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_dir: Option<PathBuf>,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            customers: None,
            transactions: None,
            events: None,
            as_of: Vec::new(),
            snapshots: None,
            horizon: "90d".into(),
            churn_rule: ChurnRule::Inactive,
            validation: Validation::Kfold,
            delimiter: None,
            date_format: None,
            columns: LogColumns::default(),
            kinds: EventKinds::default(),
            calendar: Vec::new(),
            partitions: Partitions::Auto,
            temp_dir: None,
        }
    }
}

/// Columns of every log-built table that are not features.
pub const ID: &str = "customer_id";
pub const AS_OF: &str = "as_of";
pub const LABEL: &str = "churned";
/// Columns of a log-built table that scoring copies into scores.csv.
pub const PASSTHROUGH: [&str; 2] = [rfm::CELL, aggregate::LIFECYCLE];

impl LogsConfig {
    /// Is a log source configured (instead of a flat customer table)?
    pub fn is_set(&self) -> bool {
        self.customers.is_some() || self.transactions.is_some()
    }

    /// Label window in days.
    pub fn horizon_days(&self) -> Result<i32> {
        dates::parse_days(&self.horizon)
    }

    /// The as-of dates, sorted, without repeats.
    pub fn dates(&self) -> Result<Vec<Day>> {
        let mut days = self
            .as_of
            .iter()
            .map(|s| dates::parse_as_of(s))
            .collect::<Result<Vec<_>>>()?;
        if let Some(spec) = &self.snapshots {
            days.extend(dates::snapshots(spec)?);
        }
        days.sort_unstable();
        days.dedup();
        Ok(days)
    }

    /// This run's own settings (buckets, temporary folder) over a model's
    /// stored ones.
    pub fn run_settings_from(&mut self, job: &LogsConfig) {
        self.partitions = job.partitions;
        self.temp_dir = job.temp_dir.clone();
    }

    /// Check the section: both files, at least one as-of date, a horizon.
    pub fn validate(&self) -> Result<()> {
        if !self.is_set() {
            return Ok(());
        }
        if self.customers.is_none() || self.transactions.is_none() {
            return Err(Error::Config(
                "logs need both --customers and --transactions".into(),
            ));
        }
        self.horizon_days()?;
        if self.dates()?.is_empty() {
            return Err(Error::Config(
                "logs need an as-of date: --as-of YYYY-MM-DD or --snapshots START..END:monthly"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// What training stores about how its table was built from logs, so that
/// scoring rebuilds the same features: the reading settings (in the run's
/// `[logs]` config), the horizon and rule, and the fitted RFM cut points.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogFeatures {
    pub horizon_days: i32,
    pub churn_rule: ChurnRule,
    /// The training snapshots.
    pub as_of: Vec<String>,
    pub rfm: RfmCuts,
}

/// The calendar features of a snapshot taken on `d` (`--calendar-features`):
/// days to the next window and since the last, the same for every row.
fn add_calendar(
    frame: &mut polars::prelude::DataFrame,
    windows: &[crate::ingest::calendar::Window],
    d: Day,
) -> polars::prelude::PolarsResult<()> {
    use polars::prelude::Column;
    let (to, since) = crate::ingest::calendar::distances(windows, d);
    let n = frame.height();
    frame.with_column(Column::new("days_to_window".into(), vec![to; n]))?;
    frame.with_column(Column::new("days_since_window".into(), vec![since; n]))?;
    Ok(())
}

/// Build the table of snapshots `days` from `logs`: features, and the label
/// when `labels` (an error when a window reaches past the log), RFM scores
/// with `cuts` or, when `None`, cut points fitted on this table. Each
/// bucket's snapshots are built alone; a snapshot's rows from all buckets
/// are then put in the customer table's order.
pub fn build_table(
    logs: &mut LogSet,
    cfg: &LogsConfig,
    days: &[Day],
    labels: bool,
    cuts: Option<&RfmCuts>,
) -> Result<(
    polars::prelude::DataFrame,
    RfmCuts,
    Vec<read::SnapshotCounts>,
)> {
    let horizon = cfg.horizon_days()?;
    for &d in days {
        logs.check_as_of(d)?;
    }
    let mut parts: Vec<Vec<polars::prelude::DataFrame>> = vec![Vec::new(); days.len()];
    let mut counts: Vec<Option<read::SnapshotCounts>> = vec![None; days.len()];
    for b in 0..logs.partitions {
        let bucket = logs.bucket(b)?;
        for (i, &d) in days.iter().enumerate() {
            let label = if labels {
                Some(label::Window::new(&bucket, d, horizon, cfg.churn_rule)?)
            } else {
                None
            };
            let (frame, c) = aggregate::snapshot(&bucket, d, label.as_ref())?;
            parts[i].push(frame);
            counts[i] = Some(match counts[i].take() {
                None => c,
                Some(sum) => sum.plus(&c),
            });
        }
    }
    logs.phases.mark("aggregate");
    let mut frames = Vec::with_capacity(days.len());
    for (p, &d) in parts.into_iter().zip(days) {
        let mut frame = aggregate::in_customer_order(&logs.source, p)?;
        if !cfg.calendar.is_empty() {
            add_calendar(&mut frame, &cfg.calendar, d)
                .map_err(|e| Error::polars(&logs.source, e))?;
        }
        frames.push(frame);
    }
    let table = aggregate::stack(&logs.source, frames)?;
    let cuts = match cuts {
        Some(c) => c.clone(),
        None => RfmCuts::fit(&logs.source, &table)?,
    };
    let table = cuts.apply(&logs.source, table)?;
    logs.phases.mark("order and RFM");
    Ok((table, cuts, counts.into_iter().flatten().collect()))
}

/// One warning line when some snapshots have less log behind them than
/// the longest feature window (their window features look like a quieter
/// customer: counted over the days the log holds); `None` when all have it.
pub fn short_history_line(counts: &[read::SnapshotCounts]) -> Option<String> {
    let short: Vec<(&str, i64)> = (counts.iter())
        .filter_map(|c| c.history_days.map(|h| (c.as_of.as_str(), h)))
        .collect();
    let (first, last) = (short.first()?, short.last()?);
    Some(format!(
        "{} of {} snapshot(s) ({} … {}) have less log history than the {}-day feature windows (from {} days): their window features count only what the log holds",
        short.len(),
        counts.len(),
        first.0,
        last.0,
        aggregate::LONGEST_WINDOW,
        short.iter().map(|s| s.1).min().unwrap_or_default()
    ))
}

/// A training table built from logs.
#[derive(Debug, Clone)]
pub struct Built {
    pub table: crate::ingest::RawTable,
    pub features: LogFeatures,
    pub report: LogReport,
    /// The customer table's own columns (static attributes): the only ones
    /// the target leakage screen judges, the rest being built point in time.
    pub customer_columns: Vec<String>,
}

/// Read the logs `cfg` names and build the labelled table of its as-of
/// dates; `say` reports progress.
pub fn training_table(cfg: &LogsConfig, say: &dyn Fn(String)) -> Result<Built> {
    say(format!(
        "reading logs {}",
        cfg.transactions
            .as_deref()
            .unwrap_or(std::path::Path::new(""))
            .display()
    ));
    let mut logs = LogSet::read(cfg)?;
    let days = cfg.dates()?;
    let (frame, cuts, counts) = build_table(&mut logs, cfg, &days, true, None)?;
    let mut report = logs.report.clone();
    report.snapshots = counts;
    let t = &report.transactions;
    say(format!(
        "logs in {} bucket(s): {}",
        logs.partitions,
        logs.phases.summary()
    ));
    say(format!(
        "log {} to {}: {} of {} transactions used; {} snapshot(s), {} customer rows",
        report.first_date,
        report.last_date,
        t.rows_used,
        t.rows_read,
        days.len(),
        frame.height()
    ));
    let table = crate::ingest::from_dataframe(&logs.source, frame, 1)?;
    Ok(Built {
        table,
        features: LogFeatures {
            horizon_days: cfg.horizon_days()?,
            churn_rule: cfg.churn_rule,
            as_of: days.iter().map(|&d| dates::iso(d)).collect(),
            rfm: cuts,
        },
        report,
        customer_columns: logs.customer_columns(),
    })
}

/// Build the feature table of `cfg`'s as-of dates for `churn-train
/// features` or for scoring: with the label when every window is inside
/// the log (`labels`: `None` = when possible), RFM with `cuts` (a model's)
/// or fitted on this table; also the seconds of its phases.
pub fn feature_table(
    cfg: &LogsConfig,
    labels: Option<bool>,
    cuts: Option<&RfmCuts>,
) -> Result<(
    polars::prelude::DataFrame,
    LogReport,
    crate::progress::Phases,
)> {
    let mut logs = LogSet::read(cfg)?;
    let days = cfg.dates()?;
    let horizon = cfg.horizon_days()?;
    let labels = labels.unwrap_or_else(|| days.iter().all(|&d| d + horizon <= logs.last_day + 1));
    let (frame, _, counts) = build_table(&mut logs, cfg, &days, labels, cuts)?;
    let mut report = logs.report.clone();
    report.snapshots = counts;
    Ok((frame, report, logs.phases))
}
