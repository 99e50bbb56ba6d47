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
//! The log is read once, in batches ([`source`]), typed ([`typing`]) and split into
//! customer buckets ([`bucket`]); each bucket is aggregated alone — one
//! pass over its rows per snapshot ([`fold`]), the derived columns and the
//! label column by column ([`aggregate`], [`label`]) — and the buckets' rows, ranges of the customer
//! table, are handed on in its order after the one step that needs every
//! customer, the RFM cut points ([`build`]): any number of buckets gives
//! the same table to the bit. Feature names are stable and defined in the
//! README.

pub mod aggregate;
pub mod bucket;
pub mod build;
pub mod customers;
pub mod dates;
pub mod fold;
pub mod ids;
pub mod label;
pub mod names;
pub mod read;
pub mod report;
pub mod rfm;
pub mod rows;
pub mod source;
pub mod typing;

use crate::error::{Error, Result};
use dates::Day;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use bucket::Partitions;
pub use build::{build_table, merge_parts};
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

text_serde!(ChurnRule);

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
    /// Only the customers of bucket K of N (`--bucket K/N`, a Spark task on
    /// that bucket's logs): no RFM cut points are fitted on such a part —
    /// `churn-train features --merge` fits them on all parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<bucket::Slice>,
    /// The whole log's first and last dates (`--log-span FIRST..LAST`), for
    /// a run that sees one bucket's logs: label windows and as-of dates are
    /// judged against the whole log, not the bucket's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_span: Option<String>,
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
            bucket: None,
            log_span: None,
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

    /// A job's log files, as-of dates and run settings (buckets, temporary
    /// folder, `--bucket`, `--log-span`) over a model's stored settings.
    pub fn inputs_from(&mut self, job: &LogsConfig) {
        self.customers = job.customers.clone();
        self.transactions = job.transactions.clone();
        self.events = job.events.clone();
        self.as_of = job.as_of.clone();
        self.partitions = job.partitions;
        self.temp_dir = job.temp_dir.clone();
        self.bucket = job.bucket;
        self.log_span = job.log_span.clone();
    }

    /// `--log-span FIRST..LAST` as day numbers.
    pub fn span(&self) -> Result<Option<(Day, Day)>> {
        let Some(s) = &self.log_span else {
            return Ok(None);
        };
        let bad = || {
            Error::Config(format!(
                "--log-span '{s}': expected FIRST..LAST (YYYY-MM-DD)"
            ))
        };
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let (a, b) = (
            dates::parse_as_of(a).map_err(|_| bad())?,
            dates::parse_as_of(b).map_err(|_| bad())?,
        );
        if a > b {
            return Err(bad());
        }
        Ok(Some((a, b)))
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
        self.span()?;
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
    if cfg.bucket.is_some() {
        return Err(Error::Config(
            "--bucket builds one bucket's features (churn-train features, churn-score); training needs every customer"
                .into(),
        ));
    }
    let mut logs = LogSet::read(cfg)?;
    let days = cfg.dates()?;
    let (frame, cuts, counts) = build_table(&mut logs, cfg, &days, true, None)?;
    let cuts = cuts.ok_or_else(|| Error::Config("no RFM cut points were fitted".into()))?;
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
/// features` or for scoring and write it to `out` part by part (it is
/// never held whole): with the label when every window is inside the log
/// (`labels`: `None` = when possible), RFM with `cuts` (a model's) or
/// fitted on this table. Returns (rows, columns), what reading found and
/// the seconds of its phases.
pub fn write_feature_table(
    cfg: &LogsConfig,
    labels: Option<bool>,
    cuts: Option<&RfmCuts>,
    out: &std::path::Path,
) -> Result<((usize, usize), LogReport, crate::progress::Phases)> {
    let mut logs = LogSet::read(cfg)?;
    let days = cfg.dates()?;
    let horizon = cfg.horizon_days()?;
    let labels = labels.unwrap_or_else(|| days.iter().all(|&d| d + horizon <= logs.last_day + 1));
    let mut sink = crate::io::FrameSink::create(out)?;
    let (_, counts) = build::parts(&mut logs, cfg, &days, labels, cuts, &mut |mut f| {
        sink.push(&mut f)
    })?;
    let shape = sink.commit()?;
    logs.phases.mark("write");
    let mut report = logs.report.clone();
    report.snapshots = counts;
    Ok((shape, report, logs.phases))
}
