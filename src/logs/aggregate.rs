//! The features of one snapshot: the per-customer aggregates of the log
//! rows dated strictly before the as-of date D ([`super::fold`]) beside
//! the customers open before D, and the columns derived from them. Names
//! and definitions (also in the README):
//!
//! - `tenure_days`: D − account opening date.
//! - `recency_days`: days from the last transaction to D (from the opening
//!   date when there is none).
//! - `txn_count_{30,90,180,365}d`, `txn_amount_{30,90,180,365}d`: count and
//!   sum of amounts in the last N days (day D−N … D−1).
//! - `txn_count_prev_90d`, `txn_amount_prev_90d`: the 90 days before those.
//! - `count_trend_90d`, `amount_trend_90d`, `login_trend_90d`: last 90 days
//!   vs the 90 before as `(last + 1) / (previous + 1)`: 1 = no change, finite
//!   when either window is empty (the zero-denominator rule).
//! - `logins_{30,90,180,365}d`, `logins_prev_90d`, `days_since_last_login`;
//!   `branch_visits_{90,365}d`; `complaints_{90,365}d`,
//!   `days_since_last_complaint`; `overdue_{90,365}d`; `products_opened_180d`,
//!   `products_closed_180d` (event log; `days_since_*` count from the
//!   opening date when there was none).
//! - `balance`, `balance_change_90d` (last balance before D minus the last
//!   before D−90) when the transactions carry a balance.
//! - `revenue_365d`, `profitability_365d` = (revenue − cost) / revenue
//!   (missing when revenue is 0) when they carry revenue and cost.
//! - `lifecycle_stage`: `new` (tenure < 365 days), else `declining` (count or
//!   amount trend ≤ 0.7), else `growing` (count trend ≥ 1.3), else `mature`.
//! - `r_score`, `f_score`, `m_score`, `rfm_cell`: see [`super::rfm`].
//!
//! Customers with an account-close event before D are left out (counted).

use super::dates::{iso, Day};
use super::fold::{le, lt, values};
use super::label::Window;
use super::read::{Logs, SnapshotCounts, OPEN_DAY, SEQ};
use super::{AS_OF, ID, LABEL};
use crate::error::{Error, Result};
use polars::prelude::*;

pub use super::names::{LONGEST_WINDOW, TREND, WINDOWS};
pub const LIFECYCLE: &str = "lifecycle_stage";
/// Lifecycle rule thresholds.
const NEW_DAYS: i32 = 365;
const DECLINING: f64 = 0.7;
const GROWING: f64 = 1.3;

/// The feature columns that count or sum (0 when a customer has no rows).
fn zero_filled(logs: &Logs) -> Vec<String> {
    let mut names: Vec<String> = WINDOWS
        .iter()
        .flat_map(|n| [format!("txn_count_{n}d"), format!("txn_amount_{n}d")])
        .chain(["txn_count_prev_90d".into(), "txn_amount_prev_90d".into()])
        .collect();
    if logs.has_profit {
        names.extend(["revenue_365d".into(), "cost_365d".into()]);
    }
    if logs.events.is_some() {
        names.extend(WINDOWS.iter().map(|n| format!("logins_{n}d")));
        names.extend(
            [
                "logins_prev_90d",
                "branch_visits_90d",
                "branch_visits_365d",
                "complaints_90d",
                "complaints_365d",
                "overdue_90d",
                "overdue_365d",
                "products_opened_180d",
                "products_closed_180d",
                "closed_before",
            ]
            .map(String::from),
        );
    }
    names
}

/// A float column's values.
fn floats(src: &str, frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = frame.column(name).map_err(|e| Error::polars(src, e))?;
    let c = c.f64().map_err(|e| Error::polars(src, e))?;
    Ok(c.iter().collect())
}

/// Days from `day_col` to D, or the tenure when it is missing.
fn days_since(src: &str, frame: &DataFrame, d: Day, day_col: &str, name: &str) -> Result<Column> {
    let c = frame.column(day_col).map_err(|e| Error::polars(src, e))?;
    let c = c.i32().map_err(|e| Error::polars(src, e))?;
    let tenure = floats(src, frame, "tenure_days")?;
    let v = (c.iter().zip(tenure)).map(|(day, t)| day.map(|day| f64::from(d - day)).or(t));
    Ok(Float64Chunked::from_iter_options(name.into(), v).into_column())
}

/// `(last + 1) / (previous + 1)`.
fn trend(src: &str, frame: &DataFrame, last: &str, prev: &str, name: &str) -> Result<Column> {
    let (l, p) = (floats(src, frame, last)?, floats(src, frame, prev)?);
    let v = (l.into_iter().zip(p)).map(|(l, p)| Some((l? + 1.0) / (p? + 1.0)));
    Ok(Float64Chunked::from_iter_options(name.into(), v).into_column())
}

/// `(revenue − cost) / revenue`, missing unless revenue > 0.
fn profitability(src: &str, frame: &DataFrame) -> Result<Column> {
    let (r, c) = (
        floats(src, frame, "revenue_365d")?,
        floats(src, frame, "cost_365d")?,
    );
    let v = (r.into_iter().zip(c)).map(|(r, c)| {
        let r = r.filter(|&r| lt(0.0, r))?;
        Some((r - c?) / r)
    });
    Ok(Float64Chunked::from_iter_options("profitability_365d".into(), v).into_column())
}

/// The lifecycle rule (see the module doc).
fn lifecycle(src: &str, frame: &DataFrame) -> Result<Column> {
    let tenure = floats(src, frame, "tenure_days")?;
    let count = floats(src, frame, "count_trend_90d")?;
    let amount = floats(src, frame, "amount_trend_90d")?;
    let holds = |x: Option<f64>, f: &dyn Fn(f64) -> bool| x.is_some_and(f);
    let v: StringChunked = (0..tenure.len())
        .map(|i| {
            Some(if holds(tenure[i], &|t| lt(t, f64::from(NEW_DAYS))) {
                "new"
            } else if holds(count[i], &|c| le(c, DECLINING))
                || holds(amount[i], &|a| le(a, DECLINING))
            {
                "declining"
            } else if holds(count[i], &|c| c.is_nan() || c >= GROWING) {
                "growing"
            } else {
                "mature"
            })
        })
        .collect();
    Ok(v.with_name(LIFECYCLE.into()).into_column())
}

/// Append `part`'s columns but its `cust_seq` to `frame` (rows aligned); a
/// name `frame` already has gets `_right`, as a polars join names it.
fn append(src: &str, frame: &mut DataFrame, part: DataFrame) -> Result<()> {
    for c in part.columns().iter().cloned() {
        if c.name().as_str() == SEQ {
            continue;
        }
        let c = if frame.column(c.name().as_str()).is_ok() {
            let name = format!("{}_right", c.name());
            c.with_name(name.into())
        } else {
            c
        };
        frame.with_column(c).map_err(|e| Error::polars(src, e))?;
    }
    Ok(())
}

/// One snapshot's feature rows (and label, with `window`), customers in
/// the customer table's order, with their row number (`cust_seq`) for
/// [`in_customer_order`].
pub fn snapshot(
    logs: &Logs,
    d: Day,
    window: Option<&Window>,
) -> Result<(DataFrame, SnapshotCounts)> {
    let src = logs.source.as_str();
    let err = |e| Error::polars(src, e);
    // The customers open before D; the aggregates are per customer of the
    // bucket in its order, so the same mask aligns them.
    let open = values::<Int32Type>(src, &logs.customers, OPEN_DAY)?;
    let keep: Vec<bool> = open.iter().map(|&o| o < d).collect();
    let mask: BooleanChunked = keep.iter().map(|&k| Some(k)).collect();
    let mut all = logs.customers.filter(&mask).map_err(err)?;
    let txn = super::fold::transactions(logs, d)?;
    append(src, &mut all, txn.filter(&mask).map_err(err)?)?;
    if let Some(ev) = &logs.events {
        let ev = super::fold::events(logs, ev, d)?;
        append(src, &mut all, ev.filter(&mask).map_err(err)?)?;
    }
    let set = |all: &mut DataFrame, c: Column| all.with_column(c).map(|_| ()).map_err(err);
    for n in zero_filled(logs) {
        let c = all.column(&n).map_err(err)?;
        if c.null_count() > 0 {
            let filled = c.fill_null(FillNullStrategy::Zero).map_err(err)?;
            set(&mut all, filled)?;
        }
    }
    let open = values::<Int32Type>(src, &all, OPEN_DAY)?;
    let tenure: Vec<f64> = open.iter().map(|&o| f64::from(d - o)).collect();
    set(
        &mut all,
        Float64Chunked::from_vec("tenure_days".into(), tenure).into_column(),
    )?;
    let recency = days_since(src, &all, d, "last_txn_day", "recency_days")?;
    set(&mut all, recency)?;
    let count = trend(
        src,
        &all,
        "txn_count_90d",
        "txn_count_prev_90d",
        "count_trend_90d",
    )?;
    set(&mut all, count)?;
    let amount = trend(
        src,
        &all,
        "txn_amount_90d",
        "txn_amount_prev_90d",
        "amount_trend_90d",
    )?;
    set(&mut all, amount)?;
    let mut drop = vec!["last_txn_day".to_string(), OPEN_DAY.into()];
    if logs.events.is_some() {
        let login = days_since(src, &all, d, "last_login_day", "days_since_last_login")?;
        let complaint = days_since(
            src,
            &all,
            d,
            "last_complaint_day",
            "days_since_last_complaint",
        )?;
        let logins = trend(
            src,
            &all,
            "logins_90d",
            "logins_prev_90d",
            "login_trend_90d",
        )?;
        for c in [login, complaint, logins] {
            set(&mut all, c)?;
        }
        drop.extend(["last_login_day".into(), "last_complaint_day".into()]);
    }
    if logs.has_balance {
        let (now, then) = (
            floats(src, &all, "balance")?,
            floats(src, &all, "balance_90d_ago")?,
        );
        let v = (now.into_iter().zip(then)).map(|(a, b)| Some(a? - b?));
        let c = Float64Chunked::from_iter_options("balance_change_90d".into(), v);
        set(&mut all, c.into_column())?;
        drop.push("balance_90d_ago".into());
    }
    if logs.has_profit {
        let p = profitability(src, &all)?;
        set(&mut all, p)?;
        drop.push("cost_365d".into());
    }
    let stage = lifecycle(src, &all)?;
    set(&mut all, stage)?;
    if let Some(w) = window {
        set(&mut all, w.column(&keep))?;
    }
    let opened_n = all.height();
    let mut closed_before = 0;
    if logs.events.is_some() {
        let closed = floats(src, &all, "closed_before")?;
        closed_before = (closed.iter()).filter(|v| v.unwrap_or(0.0) > 0.0).count();
        if closed_before > 0 {
            let open: BooleanChunked = closed.iter().map(|v| v.map(|v| v == 0.0)).collect();
            all = all.filter(&open).map_err(err)?;
        }
        drop.push("closed_before".into());
    }
    let mut frame = all.drop_many(drop);
    let as_of = StringChunked::full(AS_OF.into(), &iso(d), frame.height());
    set(&mut frame, as_of.into_column())?;
    let frame = order(src, frame)?;
    let churned = match frame.column(LABEL) {
        Ok(c) => Some(
            c.as_materialized_series()
                .sum::<f64>()
                .map_err(|e| Error::polars(src, e))? as usize,
        ),
        Err(_) => None,
    };
    let counts = SnapshotCounts {
        as_of: iso(d),
        customers: frame.height(),
        not_yet_open: logs.customers.height() - opened_n,
        closed_before,
        churned,
        history_days: (d - logs.first_day < LONGEST_WINDOW).then(|| i64::from(d - logs.first_day)),
    };
    Ok((frame, counts))
}

/// `customer_id`, `as_of` first, then the rest in their order.
fn order(src: &str, frame: DataFrame) -> Result<DataFrame> {
    let mut names: Vec<String> = vec![ID.into(), AS_OF.into()];
    names.extend(
        frame
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .filter(|n| n != ID && n != AS_OF),
    );
    frame.select(names).map_err(|e| Error::polars(src, e))
}

/// Snapshots stacked into one table (the same columns in each).
pub fn stack(src: &str, frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut it = frames.into_iter();
    let mut all = it
        .next()
        .ok_or_else(|| Error::Config("no as-of date given".into()))?;
    for f in it {
        all.vstack_mut(&f).map_err(|e| Error::polars(src, e))?;
    }
    all.rechunk_mut();
    Ok(all)
}

#[cfg(test)]
mod fold_tests {
    use super::super::fold::{events, transactions, Sum};
    use super::super::names::{AMOUNT, DAY, EVENT, ROW, TREND};
    use super::super::read::kind;
    use super::super::{LogSet, LogsConfig};
    use super::*;
    use std::collections::BTreeMap;

    type Bits = BTreeMap<String, Vec<Option<u64>>>;

    /// `frame`'s columns but `cust_seq` as bits (floats by their bit
    /// pattern: -0.0 is not 0.0).
    fn bits(frame: &DataFrame) -> Bits {
        let mut out = Bits::new();
        for c in frame.columns().iter().filter(|c| c.name().as_str() != SEQ) {
            let v: Vec<Option<u64>> = match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|x| x.map(f64::to_bits))
                    .collect(),
                _ => (c.cast(&DataType::Int64).unwrap().i64().unwrap().iter())
                    .map(|x| x.map(|x| x as u64))
                    .collect(),
            };
            out.insert(c.name().to_string(), v);
        }
        out
    }

    fn ints(f: &DataFrame, name: &str) -> Vec<i64> {
        let c = f.column(name).unwrap().cast(&DataType::Int64).unwrap();
        c.i64().unwrap().into_no_null_iter().collect()
    }

    fn opt_floats(f: &DataFrame, name: &str) -> Vec<Option<f64>> {
        f.column(name).unwrap().f64().unwrap().iter().collect()
    }

    /// The rows of each customer of the bucket dated before `d`, in file
    /// order: the group-by's groups, found the slow way.
    fn groups(customers: &DataFrame, log: &DataFrame, d: Day) -> Vec<Vec<usize>> {
        let (seq, day) = (ints(log, SEQ), ints(log, DAY));
        (ints(customers, SEQ).into_iter())
            .map(|c| {
                (0..seq.len())
                    .filter(|&i| seq[i] == c && day[i] < i64::from(d))
                    .collect()
            })
            .collect()
    }

    fn put(out: &mut Bits, name: &str, v: Option<f64>) {
        out.entry(name.into())
            .or_default()
            .push(v.map(f64::to_bits));
    }

    /// The transaction aggregates one customer at a time, each window by
    /// its own filter (the definitions in the module doc).
    fn reference_transactions(logs: &Logs, d: Day) -> Bits {
        let t = &logs.transactions;
        let (day, row, amount) = (ints(t, DAY), ints(t, ROW), opt_floats(t, AMOUNT));
        let d64 = i64::from(d);
        let mut out = Bits::new();
        for g in groups(&logs.customers, t, d) {
            let within = |lo: i64, hi: i64| -> Vec<usize> {
                g.iter()
                    .copied()
                    .filter(|&i| d64 - day[i] > lo && d64 - day[i] <= hi)
                    .collect()
            };
            let sum = |rows: &[usize], v: &[Option<f64>]| {
                let mut s = Sum::default();
                rows.iter().for_each(|&i| s.add(v[i]));
                s.value()
            };
            let last = g.iter().map(|&i| day[i]).max();
            out.entry("last_txn_day".into())
                .or_default()
                .push(last.map(|x| x as u64));
            let mut windows: Vec<(String, i64, i64)> = (WINDOWS.iter())
                .map(|&n| (format!("{n}d"), 0, i64::from(n)))
                .collect();
            windows.push(("prev_90d".into(), i64::from(TREND), i64::from(2 * TREND)));
            for (name, lo, hi) in windows {
                let rows = within(lo, hi);
                put(
                    &mut out,
                    &format!("txn_count_{name}"),
                    Some(rows.len() as f64),
                );
                put(
                    &mut out,
                    &format!("txn_amount_{name}"),
                    Some(sum(&rows, &amount)),
                );
            }
            if logs.has_profit {
                let rows = within(0, 365);
                put(
                    &mut out,
                    "revenue_365d",
                    Some(sum(&rows, &opt_floats(t, "revenue"))),
                );
                put(
                    &mut out,
                    "cost_365d",
                    Some(sum(&rows, &opt_floats(t, "cost"))),
                );
            }
            if logs.has_balance {
                let balance = opt_floats(t, "balance");
                let latest = |before: i64| {
                    (g.iter().filter(|&&i| day[i] < before))
                        .max_by_key(|&&i| (day[i], row[i]))
                        .and_then(|&i| balance[i])
                };
                put(&mut out, "balance", latest(d64));
                put(&mut out, "balance_90d_ago", latest(d64 - i64::from(TREND)));
            }
        }
        out
    }

    /// The event aggregates the same slow way.
    fn reference_events(logs: &Logs, ev: &DataFrame, d: Day) -> Bits {
        let (day, kinds) = (ints(ev, DAY), ints(ev, EVENT));
        let d64 = i64::from(d);
        let mut out = Bits::new();
        for g in groups(&logs.customers, ev, d) {
            let count = |k: u8, lo: i64, hi: i64| {
                let n = (g.iter())
                    .filter(|&&i| kinds[i] == i64::from(k))
                    .filter(|&&i| d64 - day[i] > lo && d64 - day[i] <= hi)
                    .count();
                Some(n as f64)
            };
            let last = |k: u8| {
                let last = (g.iter().filter(|&&i| kinds[i] == i64::from(k)))
                    .map(|&i| day[i])
                    .max();
                last.map(|x| x as u64)
            };
            for n in WINDOWS {
                put(
                    &mut out,
                    &format!("logins_{n}d"),
                    count(kind::LOGIN, 0, n.into()),
                );
            }
            let t = i64::from(TREND);
            put(&mut out, "logins_prev_90d", count(kind::LOGIN, t, 2 * t));
            out.entry("last_login_day".into())
                .or_default()
                .push(last(kind::LOGIN));
            out.entry("last_complaint_day".into())
                .or_default()
                .push(last(kind::COMPLAINT));
            for n in [90, 365] {
                put(
                    &mut out,
                    &format!("branch_visits_{n}d"),
                    count(kind::BRANCH, 0, n),
                );
                put(
                    &mut out,
                    &format!("complaints_{n}d"),
                    count(kind::COMPLAINT, 0, n),
                );
                put(
                    &mut out,
                    &format!("overdue_{n}d"),
                    count(kind::OVERDUE, 0, n),
                );
            }
            put(
                &mut out,
                "products_opened_180d",
                count(kind::PRODUCT_OPEN, 0, 180),
            );
            put(
                &mut out,
                "products_closed_180d",
                count(kind::PRODUCT_CLOSE, 0, 180),
            );
            put(
                &mut out,
                "closed_before",
                count(kind::ACCOUNT_CLOSE, i64::MIN, i64::MAX),
            );
        }
        out
    }

    /// On generated logs with nulls in revenue, amounts of -0.0 and several
    /// rows a day, the one-pass aggregates equal a customer-at-a-time
    /// computation of each definition to the bit, at as-of dates inside,
    /// before and after the log. (Before the one pass, polars' group-by
    /// computed them; the golden outputs carry its values.)
    #[test]
    fn one_pass_equals_each_definition_to_the_bit() {
        let tmp = crate::io::TempDir::new().unwrap();
        let dir = tmp.path();
        crate::synth::logs::generate(dir, 300, 5).unwrap();
        let path = dir.join("transactions.parquet");
        let mut t = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        let n = t.height();
        let revenue: Float64Chunked = (t.column("revenue").unwrap().f64().unwrap().iter())
            .enumerate()
            .map(|(i, v)| if i % 17 == 0 { None } else { v })
            .collect();
        let amount: Float64Chunked = (t.column("amount").unwrap().f64().unwrap().iter())
            .enumerate()
            .map(|(i, v)| if i % 101 == 0 { Some(-0.0) } else { v })
            .collect();
        t.with_column(revenue.with_name("revenue".into()).into_column())
            .unwrap();
        t.with_column(amount.with_name("amount".into()).into_column())
            .unwrap();
        assert!(n > 1000);
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut t)
            .unwrap();
        let cfg = LogsConfig {
            customers: Some(dir.join("customers.csv")),
            transactions: Some(path),
            events: Some(dir.join("events.csv")),
            ..LogsConfig::default()
        };
        let set = LogSet::read(&cfg).unwrap();
        let logs = set.bucket(0).unwrap();
        assert!(logs.has_balance && logs.has_profit);
        let ev = logs.events.clone().unwrap();
        for d in ["2023-01-15", "2023-06-01", "2024-02-29", "2025-03-01"] {
            let d = super::super::dates::parse_as_of(d).unwrap();
            let ours = bits(&transactions(&logs, d).unwrap());
            assert_eq!(
                ours,
                reference_transactions(&logs, d),
                "transactions as of {d}"
            );
            let ours = bits(&events(&logs, &ev, d).unwrap());
            assert_eq!(ours, reference_events(&logs, &ev, d), "events as of {d}");
        }
    }
}
