//! Command-line flags of both binaries (clap derive). Each flag overrides the
//! matching field of [`Config`]; `resolve` applies them over the TOML file.

use crate::config::{
    set, Calibration, ClassWeight, Config, Engine, ModelKind, OffersJob, OffersSettings,
    ThresholdRule,
};
use crate::error::Result;
use crate::logs::{ChurnRule, LogsConfig, Validation};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod campaign;
mod score;
pub use campaign::{CampaignArgs, CampaignCommand};
mod thresholds;
mod uplift;
pub use score::{ScoreArgs, ScoreCommand, ServeArgs};
pub use thresholds::ThresholdsArgs;
pub use uplift::{LearnerChoice, UpliftArgs};

/// Train churn models with stratified cross-validation, save the best one.
///
/// With no arguments, trains on the embedded synthetic bank table in data/.
#[derive(Debug, Parser)]
#[command(name = "churn-train", version, args_conflicts_with_subcommands = true)]
pub struct TrainCli {
    #[command(subcommand)]
    pub command: Option<TrainCommand>,
    /// Permission bits the files and folders holding customer data leave
    /// out [default: 077, owner only; e.g. 027 lets the group read].
    #[arg(long, global = true, value_parser = crate::io::parse_umask)]
    pub umask: Option<u32>,
    #[command(flatten)]
    pub args: TrainArgs,
}

/// Extra tasks of `churn-train`.
// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Write a synthetic bank customer table (the generator behind data/),
    /// or with --logs a synthetic bank's customer, transaction and event logs.
    Generate(GenerateArgs),
    /// Build the point-in-time feature table (one row per customer and
    /// as-of date, with the label when its window is inside the log) from
    /// raw logs and write it, for inspection or reuse.
    Features(FeaturesArgs),
    /// Out-of-time / hold-out evaluation: fit each model on --data, score
    /// --test, print fit time, predict speed and metrics as JSON lines.
    Holdout(HoldoutArgs),
    /// Print the column roles training would choose (balance, credit
    /// limit, products, tenure, income, revenue, cost, spend, activity,
    /// margin), why, the CLV sources and the value tiers' features —
    /// without training.
    Roles(RolesArgs),
    /// What a randomised campaign did: per treatment arm and outcome
    /// against the control (holdout) arm, the difference and relative lift
    /// with their intervals, p-values, incremental counts, and a check of
    /// the arms' sizes against the planned split; `campaign plan` sizes one.
    Campaign(CampaignArgs),
    /// For whom does contact help: S-, T-, X-learner or class
    /// transformation on gradient boosting, cross-validated by Qini; writes
    /// uplift.json, the out-of-fold uplift and the uplift artifact
    /// churn-score --uplift applies.
    Uplift(UpliftArgs),
    /// Re-assess a past scoring run's thresholds against what happened:
    /// per threshold group and scoring month the realised precision,
    /// recall and flag rate, the threshold the rule would choose now, and
    /// a drift flag; writes thresholds.json and report.html.
    Thresholds(ThresholdsArgs),
    /// Random search over a family's hyperparameters, every trial scored by
    /// the run's stratified cross-validation; writes tune.csv and the best
    /// configuration as a TOML file --config accepts.
    Tune(TuneArgs),
    /// Fit next-best-offer models: one propensity model per catalog product
    /// from a holdings panel (--period) or a snapshot, an out-of-time
    /// backtest against a popularity baseline, offers.csv for the latest
    /// period, and the offers artifact churn-score applies.
    Offers(OffersArgs),
    /// List the training runs under a folder, newest first, with data
    /// fingerprint, best model and key metrics; flag drops against the
    /// previous run.
    Compare(CompareArgs),
}

/// Options of `churn-train offers`.
#[derive(Debug, Args)]
pub struct OffersArgs {
    /// Holdings panel or customer table, CSV or Parquet [default: the
    /// embedded data/holdings/holdings.csv, with --id customer_id --period
    /// period --risk-column risk_profile].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Customer id column (required with --data).
    #[arg(long)]
    pub id: Option<String>,
    /// Period column (YYYY-MM, YYYY-MM-DD with or without a time, YYYYMM,
    /// YYYYMMDD, quarters like 2024Q2, or period numbers): the data is a
    /// panel (one row per customer and period) and the target is "took up
    /// the product by the next period". Without it, propensity is "holds
    /// the product" (a weaker fallback).
    #[arg(long)]
    pub period: Option<String>,
    /// Product catalog (TOML) [default: data/products.toml].
    #[arg(long)]
    pub products: Option<PathBuf>,
    /// Risk questionnaire column (1-5, C1-C5 or the level names); customers
    /// without an answer get the catalog's estimate.
    #[arg(long)]
    pub risk_column: Option<String>,
    /// Where the run folder goes [default: experiments].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the offers artifact and models/offers-latest go [default: models].
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// Random seed (folds, models).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// CSV delimiter [default: detected].
    #[arg(long)]
    pub delimiter: Option<char>,
    /// No progress output.
    #[arg(short, long)]
    pub quiet: bool,
}

impl OffersArgs {
    /// Flags → job (the embedded panel's defaults live in `config`).
    pub fn resolve(self) -> Result<OffersJob> {
        OffersSettings {
            data: self.data,
            id: self.id,
            period: self.period,
            products: self.products,
            risk_column: self.risk_column,
            out: self.out,
            model_dir: self.model_dir,
            seed: self.seed,
            delimiter: self.delimiter,
            quiet: self.quiet,
        }
        .resolve()
    }
}

/// Options of `churn-train compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Folder holding the run folders.
    #[arg(default_value = crate::config::RUNS_DIR)]
    pub dir: PathBuf,
    /// Flag a run whose selection metric is worse than the previous run's by more than this.
    #[arg(long, default_value_t = 0.005)]
    pub tolerance: f64,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `churn-train tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Trials (parameter draws) per family.
    #[arg(long, default_value_t = 20)]
    pub trials: usize,
    /// Stop starting new trials after this long: 90s, 10m, 1h [default: none].
    #[arg(long)]
    pub budget: Option<String>,
    #[command(flatten)]
    pub args: TrainArgs,
}

impl TuneArgs {
    /// The trial count and the time budget in seconds.
    pub fn limits(&self) -> Result<(usize, Option<f64>)> {
        if self.trials == 0 {
            return Err(crate::error::Error::Config(
                "--trials must be at least 1".into(),
            ));
        }
        let budget = self.budget.as_deref().map(parse_duration).transpose()?;
        Ok((self.trials, budget))
    }
}

/// "90s", "10m", "1h" or plain seconds.
fn parse_duration(s: &str) -> Result<f64> {
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let scale = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        _ => 0.0,
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && scale > 0.0 => Ok(v * scale),
        _ => Err(crate::error::Error::Config(format!(
            "--budget '{s}': expected a duration like 90s, 10m or 1h"
        ))),
    }
}

/// Options of `churn-train holdout`.
#[derive(Debug, Args)]
pub struct HoldoutArgs {
    /// The later (or held-out) labelled table to evaluate on.
    #[arg(long)]
    pub test: PathBuf,
    #[command(flatten)]
    pub args: TrainArgs,
}

/// Options of `churn-train roles`: the training flags (--data, --config …).
#[derive(Debug, Args)]
pub struct RolesArgs {
    #[command(flatten)]
    pub args: TrainArgs,
}

/// The log files and snapshot dates of a log-based run (training, scoring
/// and `features`); each overrides the `[logs]` section of `--config`.
#[derive(Debug, Args, Default, Clone)]
pub struct LogInputArgs {
    /// Customer table of a raw-log run (customer_id, open_date, static attributes).
    #[arg(long)]
    pub customers: Option<PathBuf>,
    /// Transaction log (customer_id, timestamp, amount [, revenue, cost, balance]).
    #[arg(long)]
    pub transactions: Option<PathBuf>,
    /// Event log (customer_id, timestamp, kind).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// As-of date(s), YYYY-MM-DD: features use log rows strictly before it.
    #[arg(long = "as-of", value_delimiter = ',')]
    pub as_of: Option<Vec<String>>,
    /// strftime format of log dates that are not ISO (e.g. %y%m%d).
    #[arg(long)]
    pub date_format: Option<String>,
    /// Label window after each as-of date [default: 90d].
    #[arg(long)]
    pub horizon: Option<String>,
    /// Customer buckets the logs are processed in: peak memory follows a
    /// bucket, not the log; any number gives the same result. `auto` sizes
    /// them from the logs and the memory available [default: auto].
    #[arg(long)]
    pub partitions: Option<crate::logs::Partitions>,
    /// Folder for the bucket files (removed at the end of the run)
    /// [default: the system's temporary folder].
    #[arg(long)]
    pub temp_dir: Option<PathBuf>,
    /// Only the customers of bucket K of N, on that bucket's logs (a Spark
    /// task: see spark/README.md); `churn-train features` then writes a
    /// part for `--merge`.
    #[arg(long)]
    pub bucket: Option<crate::logs::bucket::Slice>,
    /// The whole log's first and last dates, FIRST..LAST, when these logs
    /// are one bucket of it.
    #[arg(long)]
    pub log_span: Option<String>,
}

impl LogInputArgs {
    /// The logs an outcome is built from with the training label rule
    /// (`churn_rule` over the default), when these flags give the customer
    /// and transaction logs and exactly one `--as-of` date; not validated.
    pub fn one_as_of(&self, churn_rule: Option<ChurnRule>) -> Option<LogsConfig> {
        let mut logs = LogsConfig::default();
        self.clone().apply(&mut logs);
        set(&mut logs.churn_rule, churn_rule);
        (logs.is_set() && logs.as_of.len() == 1).then_some(logs)
    }

    /// Apply these flags over `logs`.
    pub fn apply(self, logs: &mut LogsConfig) {
        set(&mut logs.customers, self.customers.map(Some));
        set(&mut logs.transactions, self.transactions.map(Some));
        set(&mut logs.events, self.events.map(Some));
        set(&mut logs.as_of, self.as_of);
        set(&mut logs.date_format, self.date_format.map(Some));
        set(&mut logs.horizon, self.horizon);
        set(&mut logs.partitions, self.partitions);
        set(&mut logs.temp_dir, self.temp_dir.map(Some));
        set(&mut logs.bucket, self.bucket.map(Some));
        set(&mut logs.log_span, self.log_span.map(Some));
    }
}

/// Options of `churn-train features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub logs: LogInputArgs,
    /// Snapshot range instead of --as-of: START..END:monthly.
    #[arg(long)]
    pub snapshots: Option<String>,
    /// Churn rule of the label: inactive, closed or drop:X [default: inactive].
    #[arg(long)]
    pub churn_rule: Option<ChurnRule>,
    /// Build the features as this model's training did (its RFM cut points
    /// and log settings) instead of fitting the cut points on this table.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// TOML file with a [logs] section; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Merge the Parquet parts of `--bucket K/N` runs in this folder into
    /// one table (rows in --customers' order, RFM cut points fitted on all
    /// parts or the --model's) instead of building features.
    #[arg(long, conflicts_with_all = ["transactions", "events", "bucket"])]
    pub merge: Option<PathBuf>,
    /// Output file (.csv or .parquet).
    #[arg(long)]
    pub out: PathBuf,
}

impl FeaturesArgs {
    /// `[logs]` of `--config` ← these flags; the model, output, parts.
    pub fn resolve(self) -> Result<crate::train::features::FeaturesJob> {
        let mut logs = Config::load(self.config.as_deref())?.logs;
        self.logs.apply(&mut logs);
        set(&mut logs.snapshots, self.snapshots.map(Some));
        set(&mut logs.churn_rule, self.churn_rule);
        if let Some(merge) = self.merge {
            if logs.customers.is_none() {
                return Err(crate::error::Error::Config(
                    "--merge needs --customers (the order of the rows)".into(),
                ));
            }
            return Ok(crate::train::features::FeaturesJob {
                logs,
                model: self.model,
                out: self.out,
                merge: Some(merge),
            });
        }
        if !logs.is_set() {
            return Err(crate::error::Error::Config(
                "features need --customers and --transactions".into(),
            ));
        }
        logs.validate()?;
        Ok(crate::train::features::FeaturesJob {
            logs,
            model: self.model,
            out: self.out,
            merge: None,
        })
    }
}

/// Options of `churn-train generate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("timed").args(["logs", "holdings"])))]
pub struct GenerateArgs {
    /// Number of customers of the flat table.
    #[arg(long, default_value_t = 20_000)]
    pub rows: usize,
    /// Write raw logs (customers.csv, transactions.parquet, events.csv and
    /// the planted hazard) into the --out folder instead of a flat table.
    #[arg(long)]
    pub logs: bool,
    /// With --logs: plant a calendar (a May promotion, December holidays)
    /// in activity and churn, written to calendar.csv.
    #[arg(long, requires = "logs")]
    pub calendar: bool,
    /// Write a monthly panel of product holdings (holdings.csv, latest.csv)
    /// into the --out folder instead of a flat table.
    #[arg(long, conflicts_with = "logs")]
    pub holdings: bool,
    /// Write a retention campaign with a planted effect per customer
    /// (campaign.csv, effects.csv) into the --out folder.
    #[arg(long, conflicts_with_all = ["logs", "holdings"])]
    pub campaign: bool,
    /// Number of customers of the logs, the holdings panel or the campaign
    /// [default: 20000 with --logs or --campaign, 2500 with --holdings].
    #[arg(long)]
    pub customers: Option<usize>,
    /// With --holdings: plant what real panels have — joint additions,
    /// re-additions after a month's lapse, month-to-month swings of the
    /// addition mix and rare products (see src/synth/holdings.rs).
    #[arg(long, requires = "holdings")]
    pub dynamics: bool,
    /// Months of the holdings panel or of the logs from 2023-01-01
    /// [default: 24 with --logs, 8 with --holdings].
    #[arg(long, requires = "timed")]
    pub months: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Leave out the label column (a scoring batch).
    #[arg(long)]
    pub no_label: bool,
    /// Output file (CSV) [default: data/customers.csv], or folder with
    /// --logs [default: data/logs], --holdings [default: data/holdings] or
    /// --campaign [default: data/campaign].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl GenerateArgs {
    /// Where the output goes: the flag, or the embedded data's place.
    pub fn out(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            if self.logs {
                crate::config::DEFAULT_LOGS
            } else if self.holdings {
                crate::config::DEFAULT_HOLDINGS
            } else if self.campaign {
                crate::config::DEFAULT_CAMPAIGN
            } else {
                crate::config::DEFAULT_DATA
            }
            .into()
        })
    }
}

/// Options of a training run.
#[derive(Debug, Args, Default)]
pub struct TrainArgs {
    /// Customer table, CSV or Parquet [default: the embedded data/customers.csv].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Label column [default: churned].
    #[arg(long)]
    pub target: Option<String>,
    /// Label value that means "churned" (needed when the two values are not
    /// yes/no, 1/0 or true/false).
    #[arg(long)]
    pub positive: Option<String>,
    /// Customer id column (never a feature) [default: detected].
    #[arg(long)]
    pub id: Option<String>,
    /// Columns to leave out of the model.
    #[arg(long, value_delimiter = ',')]
    pub drop: Option<Vec<String>>,
    /// Numeric-coded columns to treat as categories.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// CSV delimiter [default: detected from the header].
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Decimal mark of number columns that read either way (`1,234`): `,`
    /// or `.` [default: the mark the file's other columns use, else `.`].
    #[arg(long)]
    pub decimal: Option<char>,
    /// Snapshot / period column: not a feature; the report shows results per
    /// period [default: a column named period, snapshot, snapshot_date, month or date].
    #[arg(long)]
    pub period: Option<String>,
    /// Columns to break results down by in report.html [default: categorical
    /// features with at most 12 levels, a tenure band, the value tier].
    #[arg(long, value_delimiter = ',')]
    pub groups: Option<Vec<String>>,
    /// Protected attributes to keep as features on purpose (gender, marital
    /// status … are left out by default); the model card then warns, and
    /// reason codes still never cite them.
    #[arg(long, value_delimiter = ',')]
    pub allow_protected: Option<Vec<String>>,
    /// Columns the target leakage screen flags but that stay features on
    /// purpose (recorded in the artifact and the data report); suspects are
    /// left out by default (see `[leakage]`).
    #[arg(long, value_delimiter = ',')]
    pub allow_leaky: Option<Vec<String>>,
    #[command(flatten)]
    pub logs: LogInputArgs,
    /// Snapshot range instead of (or besides) --as-of: START..END:monthly.
    #[arg(long)]
    pub snapshots: Option<String>,
    /// What churned means in the window after an as-of date: inactive (no
    /// transaction), closed (account-close event) or drop:X (amount down by
    /// more than X) [default: inactive].
    #[arg(long)]
    pub churn_rule: Option<ChurnRule>,
    /// kfold (grouped by customer) or out-of-time (test on the latest
    /// snapshot or period) [default: kfold].
    #[arg(long, value_enum)]
    pub validation: Option<Validation>,
    /// TOML file that can set every option; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Models to fit: decision_tree, random_forest, logistic_regression,
    /// gradient_boosting, and the fusions vote and stack over the others
    /// [default: the four single-model families].
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<ModelKind>>,
    /// Cross-validation folds [default: 5].
    #[arg(long)]
    pub folds: Option<usize>,
    /// Random seed: same seed, same results, whatever the thread count [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threshold rule: max_f1, max_ks, profit, recall:R, capacity:S (flag
    /// at most the share S) or fixed:T [default: max_f1].
    #[arg(long)]
    pub threshold_rule: Option<ThresholdRule>,
    /// A threshold (and warning cut-offs) per group of these columns: the
    /// rule applied to each group's out-of-fold scores; `value_tier` for
    /// the value tiers; at most 50 values a column.
    #[arg(long, value_delimiter = ',')]
    pub threshold_by: Option<Vec<String>>,
    /// A group with fewer churners keeps the global threshold [default: 50].
    #[arg(long)]
    pub min_group_positives: Option<usize>,
    /// Shrink each group's threshold towards the global one with this many
    /// churners' weight: (n·own + K·global) / (n + K) [default: 0, none].
    #[arg(long)]
    pub threshold_shrink: Option<f64>,
    /// Named calendar windows (CSV start,end,name: holidays, promotions,
    /// salary days) for `--threshold-by calendar` and `--calendar-features`.
    #[arg(long)]
    pub calendar: Option<PathBuf>,
    /// With --calendar and logs: every snapshot gains the days to the next
    /// calendar window and since the last as features (scoring builds them
    /// from the as-of date).
    #[arg(long, requires = "calendar")]
    pub calendar_features: bool,
    /// Metric that selects the saved model [default: roc_auc].
    #[arg(long)]
    pub select_metric: Option<String>,
    /// Class weights for the tree models [default: none].
    #[arg(long)]
    pub class_weight: Option<ClassWeight>,
    /// Tree backend: native, linfa or smartcore [default: native].
    #[arg(long)]
    pub engine: Option<Engine>,
    /// Calibrate probabilities on the out-of-fold scores: none, sigmoid
    /// (Platt) or isotonic [default: none].
    #[arg(long, value_enum)]
    pub calibrate: Option<Calibration>,
    /// Run folder root [default: experiments].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Model artifact folder [default: models].
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// Sign the model with the key in this file (HMAC-SHA-256): scoring
    /// and the service with --verify-key serve only signed models.
    #[arg(long)]
    pub sign_key: Option<PathBuf>,
    /// No progress output.
    #[arg(short, long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// Defaults ← TOML (`--config`) ← these flags, validated.
    pub fn resolve(self) -> Result<Config> {
        let mut c = Config::load(self.config.as_deref())?;
        let d = &mut c.data;
        set(&mut d.path, self.data.map(Some));
        set(&mut d.target, self.target);
        set(&mut d.positive, self.positive.map(Some));
        set(&mut d.id, self.id.map(Some));
        set(&mut d.drop, self.drop);
        set(&mut d.categorical, self.categorical);
        set(&mut d.delimiter, self.delimiter.map(Some));
        set(&mut d.period, self.period.map(Some));
        set(&mut c.ingest.decimal, self.decimal.map(Some));
        set(&mut d.groups, self.groups);
        set(&mut c.fairness.allow_protected, self.allow_protected);
        set(&mut c.leakage.allow, self.allow_leaky);
        if self.calendar_features {
            let path = self.calendar.as_deref().unwrap_or(std::path::Path::new(""));
            c.logs.calendar = crate::ingest::calendar::read(path)?;
        }
        let t = &mut c.train;
        set(&mut t.models, self.models);
        set(&mut t.folds, self.folds);
        set(&mut t.seed, self.seed);
        set(&mut t.threshold_rule, self.threshold_rule);
        set(&mut t.threshold_by, self.threshold_by);
        set(&mut t.min_group_positives, self.min_group_positives);
        set(&mut t.threshold_shrink, self.threshold_shrink);
        set(&mut t.calendar, self.calendar.clone().map(Some));
        set(&mut t.select_metric, self.select_metric);
        set(&mut t.class_weight, self.class_weight);
        set(&mut t.engine, self.engine);
        set(&mut t.calibrate, self.calibrate);
        set(&mut t.out, self.out);
        set(&mut t.model_dir, self.model_dir);
        set(&mut t.sign_key, self.sign_key.map(Some));
        t.quiet |= self.quiet;
        self.logs.apply(&mut c.logs);
        set(&mut c.logs.snapshots, self.snapshots.map(Some));
        set(&mut c.logs.churn_rule, self.churn_rule);
        set(&mut c.logs.validation, self.validation);
        if c.logs.is_set() {
            c.log_defaults()?;
        }
        c.validate_train()?;
        Ok(c)
    }
}
