//! Reading the logs into typed polars frames, in batches and by customer
//! bucket: dates as day numbers, amounts as numbers, event kinds as codes,
//! each row keyed by its customer's row in the customer table
//! ([`super::customers`]). A row that cannot be used (no id, a date or
//! amount that does not parse, a negative amount, a customer id the
//! customer table lacks) is counted by reason in [`LogReport`] and left
//! out — never silently used, never a panic.

use super::customers::{only_bucket, read_customers, require};
use super::dates::{iso, Day};
pub use super::report::{FileCounts, LogReport, SnapshotCounts};
use super::{bucket, source, typing, LogsConfig};
use crate::error::{Error, Result};
use crate::ingest;
use polars::prelude::*;
use std::path::Path;

pub use super::names::kind;

pub use super::names::{AMOUNT, DAY, EVENT, OPEN_DAY, ROW, SEQ};

/// Why a row is left out (0 = used), in the order reasons are checked.
const MISSING_ID: u8 = 1;
const BAD_DATE: u8 = 2;
const BAD_AMOUNT: u8 = 3;
const NEGATIVE: u8 = 4;

/// One bucket's logs, typed and checked: what the aggregation and the
/// label of a snapshot read. The log's first and last dates are the whole
/// log's, whichever bucket this is.
#[derive(Debug, Clone)]
pub struct Logs {
    /// The transaction file, named in errors about the whole log.
    pub source: String,
    /// `cust_seq` (the customer's row number), `customer_id`, `open_day`,
    /// then the static attributes.
    pub customers: DataFrame,
    /// `cust_seq`, `row` (file order), `day`, `amount` [, `revenue`,
    /// `cost`] [, `balance`]. Logs are keyed by the customer's row number,
    /// not the id text: grouping and joining on integers is what makes
    /// tens of millions of rows cheap.
    pub transactions: DataFrame,
    /// `cust_seq`, `row`, `day`, `event` (a [`kind`] code).
    pub events: Option<DataFrame>,
    pub has_balance: bool,
    pub has_profit: bool,
    pub first_day: Day,
    pub last_day: Day,
}

/// The whole log, read once in batches and split into customer buckets
/// ([`super::bucket`]): the customer table in memory, the log rows by
/// bucket in memory (one bucket) or in the run's temporary folder.
pub struct LogSet {
    pub source: String,
    /// The customer table as in [`Logs::customers`].
    customers: DataFrame,
    transactions: bucket::Buckets,
    events: Option<bucket::Buckets>,
    pub has_balance: bool,
    pub has_profit: bool,
    pub first_day: Day,
    pub last_day: Day,
    pub report: LogReport,
    /// Number of customer buckets.
    pub partitions: usize,
    /// Bucket b holds the customer rows bounds[b] .. bounds[b + 1].
    bounds: Vec<usize>,
    /// Seconds spent reading each file (typing and bucketing included).
    pub phases: crate::progress::Phases,
    /// The bucket files' folder (removed with the set).
    _dir: Option<crate::io::TempDir>,
}

/// What reading one log in batches found.
struct LogRead {
    buckets: bucket::Buckets,
    counts: FileCounts,
    columns: Vec<String>,
    number_formats: std::collections::BTreeMap<String, crate::ingest::numbers::NumberFormat>,
    span: Option<(Day, Day)>,
}

/// The first and last day of two spans.
fn union(a: Option<(Day, Day)>, b: Option<(Day, Day)>) -> Option<(Day, Day)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (a, b) => a.or(b),
    }
}

/// Widen `span` by the days of a typed batch.
fn widen(span: &mut Option<(Day, Day)>, src: &str, f: &DataFrame) -> Result<()> {
    let d = f.column(DAY).map_err(|e| Error::polars(src, e))?;
    let d = d.i32().map_err(|e| Error::polars(src, e))?;
    *span = union(*span, d.min().zip(d.max()));
    Ok(())
}

impl LogSet {
    /// Read, type and bucket the files `cfg` names.
    pub fn read(cfg: &LogsConfig) -> Result<LogSet> {
        let need = |p: &Option<std::path::PathBuf>, what: &str| {
            p.clone()
                .ok_or_else(|| Error::Config(format!("logs need --{what}")))
        };
        let (cust_path, txn_path) = (
            need(&cfg.customers, "customers")?,
            need(&cfg.transactions, "transactions")?,
        );
        let mut sizes = vec![source::size(&txn_path)?];
        if let Some(e) = &cfg.events {
            sizes.push(source::size(e)?);
        }
        let partitions = bucket::resolve(cfg.partitions, &sizes);
        let dir = match partitions {
            1 => None,
            _ => Some(bucket::temp_dir(cfg.temp_dir.as_deref())?),
        };
        let mut phases = crate::progress::Phases::default();
        let (customers, cust_counts) = read_customers(&cust_path, cfg)?;
        let customers = match cfg.bucket {
            None => customers,
            Some(slice) => only_bucket(&cust_path, customers, slice)?,
        };
        phases.mark("read customers");
        let ids = super::ids::Ids::of(&cust_path.display().to_string(), &customers, partitions)?;
        let txn_src = txn_path.display().to_string();
        let txn = read_log(
            &txn_path,
            cfg,
            Log::Transactions,
            &ids,
            partitions,
            dir.as_ref(),
        )?;
        phases.mark("read transactions");
        if txn.counts.rows_used == 0 {
            return Err(Error::data(
                &txn_src,
                "the transaction log has no usable rows (see the counts in data_report.json)",
            ));
        }
        let c = &cfg.columns;
        let has = |n: &String| txn.columns.contains(n);
        let has_balance = has(&c.balance);
        let has_profit = has(&c.revenue) && has(&c.cost);
        let events = match &cfg.events {
            None => None,
            Some(path) => Some(read_log(
                path,
                cfg,
                Log::Events,
                &ids,
                partitions,
                dir.as_ref(),
            )?),
        };
        phases.mark("read events");
        let span = union(txn.span, events.as_ref().and_then(|e| e.span));
        let Some((mut first_day, mut last_day)) = span else {
            return Err(Error::data(&txn_src, "the log has no dated rows"));
        };
        if let Some((first, last)) = cfg.span()? {
            if first_day < first || last_day > last {
                return Err(Error::data(
                    &txn_src,
                    format!(
                        "the log runs from {} to {}, outside --log-span {}..{}",
                        iso(first_day),
                        iso(last_day),
                        iso(first),
                        iso(last)
                    ),
                ));
            }
            (first_day, last_day) = (first, last);
        }
        let (ev_buckets, ev_counts) = match events {
            Some(e) => (Some(e.buckets), Some(e.counts)),
            None => (None, None),
        };
        let bounds = bucket::bounds(customers.height(), partitions);
        Ok(LogSet {
            source: txn_src,
            customers,
            transactions: txn.buckets,
            events: ev_buckets,
            has_balance,
            has_profit,
            first_day,
            last_day,
            report: LogReport {
                customers: cust_counts,
                transactions: txn.counts,
                events: ev_counts,
                first_date: iso(first_day),
                last_date: iso(last_day),
                snapshots: Vec::new(),
                number_formats: txn.number_formats,
            },
            partitions,
            bounds,
            phases,
            _dir: dir,
        })
    }

    /// A file of the run's temporary folder (`None` with one bucket: what
    /// would go there stays in memory).
    pub fn spill_path(&self, name: &str) -> Option<std::path::PathBuf> {
        self._dir
            .as_ref()
            .map(|d| d.path().join(format!("{name}.parquet")))
    }

    /// The customer table's own columns (static attributes included).
    pub fn customer_columns(&self) -> Vec<String> {
        (self.customers.get_column_names().iter())
            .map(|n| n.to_string())
            .collect()
    }

    /// The logs of bucket `b` (0 ≤ b < [`Self::partitions`]).
    pub fn bucket(&self, b: usize) -> Result<Logs> {
        let src = self.source.as_str();
        // Buckets are consecutive ranges of rows: a slice, not a filter.
        let (start, end) = (self.bounds[b], self.bounds[b + 1]);
        let customers = self.customers.slice(start as i64, end - start);
        let transactions = self
            .transactions
            .load(b)?
            .ok_or_else(|| Error::data(src, "the transaction log has no usable rows"))?;
        let events = match &self.events {
            Some(e) => Some(match e.load(b)? {
                Some(f) => f,
                None => empty_events(),
            }),
            None => None,
        };
        Ok(Logs {
            source: self.source.clone(),
            customers,
            transactions,
            events,
            has_balance: self.has_balance,
            has_profit: self.has_profit,
            first_day: self.first_day,
            last_day: self.last_day,
        })
    }

    /// An as-of date must leave some history before it and may be at most
    /// the day after the log's last date (scoring "today").
    pub fn check_as_of(&self, d: Day) -> Result<()> {
        if d <= self.first_day || d > self.last_day + 1 {
            return Err(Error::data(
                &self.source,
                format!(
                    "as-of date {} is outside the log, which runs from {} to {}",
                    iso(d),
                    iso(self.first_day),
                    iso(self.last_day)
                ),
            ));
        }
        Ok(())
    }
}

/// An event frame without rows (an event log none of whose rows was usable).
fn empty_events() -> DataFrame {
    let schema = Schema::from_iter([
        Field::new(ROW.into(), IDX_DTYPE),
        Field::new(DAY.into(), DataType::Int32),
        // Kind codes are Int32 (this build of polars has no UInt8).
        Field::new(EVENT.into(), DataType::Int32),
        Field::new(SEQ.into(), IDX_DTYPE),
    ]);
    DataFrame::empty_with_schema(&schema)
}

/// Which log a batch belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Log {
    Transactions,
    Events,
}

/// Read one log in batches: type and check each, count what is left out,
/// and split the rows by customer bucket. The number formats of the money
/// columns are decided on the first batch and kept for the rest; every
/// part file must have the first one's columns.
fn read_log(
    path: &Path,
    cfg: &LogsConfig,
    log: Log,
    ids: &super::ids::Ids,
    partitions: usize,
    dir: Option<&crate::io::TempDir>,
) -> Result<LogRead> {
    let c = &cfg.columns;
    let (required, optional): (Vec<&String>, Vec<&String>) = match log {
        Log::Transactions => (
            vec![&c.customer_id, &c.timestamp, &c.amount],
            vec![&c.revenue, &c.cost, &c.balance],
        ),
        Log::Events => (vec![&c.customer_id, &c.timestamp, &c.event_kind], vec![]),
    };
    let wanted: Vec<&str> = (required.iter().chain(&optional))
        .map(|s| s.as_str())
        .collect();
    let money = [&c.amount, &c.revenue, &c.cost, &c.balance].map(String::as_str);
    let name = match log {
        Log::Transactions => "transactions",
        Log::Events => "events",
    };
    let mut pieces = bucket::Pieces::new(partitions, dir, name);
    let mut counts = FileCounts {
        file: path.display().to_string(),
        ..FileCounts::default()
    };
    let mut first: Option<(std::path::PathBuf, Vec<String>)> = None;
    let mut formats = std::collections::BTreeMap::new();
    let mut span = None;
    source::for_each_batch(path, cfg.delimiter, &wanted, &mut |file, mut raw| {
        let src = file.display().to_string();
        let present: Vec<String> = (raw.get_column_names().iter())
            .map(|n| n.to_string())
            .collect();
        match &first {
            None => {
                for name in &required {
                    require(&raw, &src, name)?;
                }
                if log == Log::Transactions {
                    formats = ingest::detect_numbers(&raw, &money);
                }
                first = Some((file.to_path_buf(), present));
            }
            Some((f0, cols)) => {
                let mut sorted = present.clone();
                sorted.sort();
                let mut expected = cols.clone();
                expected.sort();
                if sorted != expected {
                    return Err(Error::data(
                        &src,
                        format!(
                            "this part of the log has the columns [{}], {} has [{}]",
                            present.join(", "),
                            f0.display(),
                            cols.join(", ")
                        ),
                    ));
                }
            }
        }
        ingest::apply_numbers(&mut raw, &formats).map_err(|e| Error::polars(&src, e))?;
        let column = |name: &str| raw.column(name).map_err(|e| Error::polars(&src, e));
        // The ids are looked up while the other columns are typed.
        let id = column(&cfg.columns.customer_id)?;
        let (pos, cols) = rayon::join(
            || ids.find(&src, id),
            || match log {
                Log::Transactions => transaction_columns(&src, &raw, cfg),
                Log::Events => event_columns(&src, &raw, cfg),
            },
        );
        let (pos, cols) = (pos?, cols?);
        drop(raw);
        let amount = (log == Log::Transactions).then(|| &cols[1]);
        let reason = reasons(&src, &pos, &cols[0], amount)?;
        let (typed, batch) = checked(&src, cols, &reason, ids, &pos, counts.rows_read)?;
        counts.add(&batch);
        if log == Log::Events {
            let ev = typed.column(EVENT).and_then(|c| c.i32().cloned());
            let ev = ev.map_err(|e| Error::polars(&src, e))?;
            let other = i32::from(kind::OTHER);
            counts.other_kind += ev.iter().filter(|k| *k == Some(other)).count();
        }
        widen(&mut span, &src, &typed)?;
        pieces.push(typed)
    })?;
    let columns = first.map(|f| f.1).unwrap_or_default();
    Ok(LogRead {
        buckets: pieces.finish()?,
        counts,
        columns,
        number_formats: formats,
        span,
    })
}
/// The typed transaction columns of a raw batch: the day, the amount, then
/// the optional money columns.
fn transaction_columns(src: &str, raw: &DataFrame, cfg: &LogsConfig) -> Result<Vec<Column>> {
    let c = &cfg.columns;
    let column = |name: &str| raw.column(name).map_err(|e| Error::polars(src, e));
    let mut numbers = vec![(&c.amount, AMOUNT)];
    if raw.column(&c.revenue).is_ok() && raw.column(&c.cost).is_ok() {
        numbers.extend([(&c.revenue, "revenue"), (&c.cost, "cost")]);
    }
    if raw.column(&c.balance).is_ok() {
        numbers.push((&c.balance, "balance"));
    }
    let time = column(&c.timestamp)?;
    let (day, numbers) = rayon::join(
        || typing::day(src, time, cfg.date_format.as_deref(), DAY),
        || {
            (numbers.iter())
                .map(|&(from, to)| typing::number(src, column(from)?, to))
                .collect::<Result<Vec<_>>>()
        },
    );
    Ok(std::iter::once(day?).chain(numbers?).collect())
}

/// The typed event columns of a raw batch: the day and the kind code.
fn event_columns(src: &str, raw: &DataFrame, cfg: &LogsConfig) -> Result<Vec<Column>> {
    let c = &cfg.columns;
    let column = |name: &str| raw.column(name).map_err(|e| Error::polars(src, e));
    let (time, kind) = (column(&c.timestamp)?, column(&c.event_kind)?);
    let (day, kinds) = rayon::join(
        || typing::day(src, time, cfg.date_format.as_deref(), DAY),
        || typing::kind_codes(src, kind, &cfg.kinds, EVENT),
    );
    Ok(vec![day?, kinds?])
}

/// Why each row is left out (0: used), the first reason that applies: no
/// id (`pos`: [`super::ids::Ids::find`]), no date, [no amount, a negative
/// amount].
fn reasons(src: &str, pos: &[u32], day: &Column, amount: Option<&Column>) -> Result<Vec<u8>> {
    let day = day.is_null();
    let mut out: Vec<u8> = (pos.iter().zip(day.iter()))
        .map(|(&p, d)| (p == super::ids::MISSING, d == Some(true)))
        .map(|(i, d)| {
            if i {
                MISSING_ID
            } else if d {
                BAD_DATE
            } else {
                0
            }
        })
        .collect();
    if let Some(a) = amount {
        let a = a.f64().map_err(|e| Error::polars(src, e))?;
        for (r, a) in out.iter_mut().zip(a.iter()) {
            if *r == 0 {
                *r = match a {
                    None => BAD_AMOUNT,
                    // Polars' order: NaN is not below zero.
                    Some(a) if a < 0.0 => NEGATIVE,
                    Some(_) => 0,
                };
            }
        }
    }
    Ok(out)
}

/// Number the rows of a batch typed into `cols` (its first row row
/// `offset` of the log), count and drop the rows `reason` rejects, then
/// those whose customer `pos` does not find; the rows are keyed by
/// `cust_seq` (and carry their bucket) from then on.
fn checked(
    src: &str,
    cols: Vec<Column>,
    reason: &[u8],
    ids: &super::ids::Ids,
    pos: &[u32],
    offset: usize,
) -> Result<(DataFrame, FileCounts)> {
    let rows = reason.len();
    let too_many = || Error::data(src, "the log has more rows than this build can number");
    let first = IdxSize::try_from(offset).map_err(|_| too_many())?;
    IdxSize::try_from(offset + rows).map_err(|_| too_many())?;
    let by = |code: u8| reason.iter().filter(|&&r| r == code).count();
    let unknown = (reason.iter().zip(pos))
        .filter(|&(&r, &p)| r == 0 && p == super::ids::UNKNOWN)
        .count();
    let keep = |i: usize| reason[i] == 0 && pos[i] != super::ids::UNKNOWN;
    let mut counts = FileCounts {
        file: src.to_string(),
        rows_read: rows,
        missing_id: by(MISSING_ID),
        bad_date: by(BAD_DATE),
        bad_amount: by(BAD_AMOUNT),
        negative_amount: by(NEGATIVE),
        unknown_customer: unknown,
        ..FileCounts::default()
    };
    let row = IdxCa::from_vec(
        ROW.into(),
        (0..rows).map(|i| first + i as IdxSize).collect(),
    );
    let typed = std::iter::once(row.into_column()).chain(cols).collect();
    let typed = DataFrame::new_infer_height(typed).map_err(|e| Error::polars(src, e))?;
    let used_rows: Vec<usize> = (0..rows).filter(|&i| keep(i)).collect();
    let mut used = if used_rows.len() == rows {
        typed
    } else {
        let mask: BooleanChunked = (0..rows).map(keep).collect();
        typed.filter(&mask).map_err(|e| Error::polars(src, e))?
    };
    let (seq, bucket): (Vec<IdxSize>, Vec<u32>) =
        used_rows.iter().map(|&i| ids.seq_bucket(pos[i])).unzip();
    used.with_column(IdxCa::from_vec(SEQ.into(), seq).into_column())
        .and_then(|u| {
            u.with_column(UInt32Chunked::from_vec(bucket::BUCKET.into(), bucket).into_column())
        })
        .map_err(|e| Error::polars(src, e))?;
    counts.rows_used = used.height();
    Ok((used, counts))
}
