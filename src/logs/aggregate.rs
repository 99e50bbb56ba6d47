//! The features of one snapshot: lazy polars group-bys over the log rows
//! dated strictly before the as-of date D, joined onto the customers open
//! before D. Names and definitions (also in the README):
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
use super::label::Window;
#[cfg(test)]
use super::read::{kind, AMOUNT, DAY, EVENT, ROW};
use super::read::{Logs, SnapshotCounts, OPEN_DAY, SEQ};
use super::{AS_OF, ID, LABEL};
use crate::error::{Error, Result};
use polars::prelude::*;
use polars_lazy::prelude::*;

pub use super::names::{LONGEST_WINDOW, TREND, WINDOWS};
pub const LIFECYCLE: &str = "lifecycle_stage";
/// Lifecycle rule thresholds.
const NEW_DAYS: i32 = 365;
const DECLINING: f64 = 0.7;
const GROWING: f64 = 1.3;

#[cfg(test)]
/// Days from a log row to D (1 = the day before D).
fn ago(d: Day) -> Expr {
    lit(d) - col(DAY)
}

#[cfg(test)]
/// Rows between `lo` (exclusive) and `hi` (inclusive) days before D.
fn within(d: Day, lo: i32, hi: i32) -> Expr {
    ago(d).gt(lit(lo)).and(ago(d).lt_eq(lit(hi)))
}

#[cfg(test)]
fn count(mask: Expr) -> Expr {
    mask.cast(DataType::UInt32).sum().cast(DataType::Float64)
}

#[cfg(test)]
fn amount(mask: Expr) -> Expr {
    col(AMOUNT).filter(mask).sum()
}

/// `(last + 1) / (previous + 1)`.
fn trend(last: &str, prev: &str) -> Expr {
    (col(last) + lit(1.0)) / (col(prev) + lit(1.0))
}

/// Per-customer aggregates of the transactions before D, as a polars
/// group-by: the reference [`super::fold`] is tested against.
#[cfg(test)]
pub(super) fn transaction_features(logs: &Logs, d: Day) -> LazyFrame {
    let mut aggs = vec![col(DAY).max().alias("last_txn_day")];
    for n in WINDOWS {
        aggs.push(count(within(d, 0, n)).alias(format!("txn_count_{n}d")));
        aggs.push(amount(within(d, 0, n)).alias(format!("txn_amount_{n}d")));
    }
    aggs.push(count(within(d, TREND, 2 * TREND)).alias("txn_count_prev_90d"));
    aggs.push(amount(within(d, TREND, 2 * TREND)).alias("txn_amount_prev_90d"));
    if logs.has_balance {
        aggs.push(latest_balance().alias("balance"));
    }
    if logs.has_profit {
        aggs.push(
            col("revenue")
                .filter(within(d, 0, 365))
                .sum()
                .alias("revenue_365d"),
        );
        aggs.push(
            col("cost")
                .filter(within(d, 0, 365))
                .sum()
                .alias("cost_365d"),
        );
    }
    let txn = logs.transactions.clone().lazy();
    let features = txn
        .clone()
        .filter(col(DAY).lt(lit(d)))
        .group_by([col(SEQ)])
        .agg(aggs);
    if !logs.has_balance {
        return features;
    }
    let earlier = txn
        .filter(col(DAY).lt(lit(d - TREND)))
        .group_by([col(SEQ)])
        .agg([latest_balance().alias("balance_90d_ago")]);
    features.left_join(earlier, col(SEQ), col(SEQ))
}

/// The balance of a customer's latest row: latest date, then latest in
/// file order (no sort of the log: the arg-max of a (day, row) key).
#[cfg(test)]
fn latest_balance() -> Expr {
    let key = col(DAY).cast(DataType::Int64) * lit(1i64 << 32) + col(ROW).cast(DataType::Int64);
    col("balance").get(key.arg_max(), true)
}

/// Per-customer aggregates of the events before D, as a polars group-by
/// (the reference of [`super::fold`]).
#[cfg(test)]
pub(super) fn event_features(events: &DataFrame, d: Day) -> LazyFrame {
    let is = |k: u8| col(EVENT).eq(lit(k));
    let last = |k: u8| col(DAY).filter(is(k)).max();
    let mut aggs = Vec::new();
    for n in WINDOWS {
        aggs.push(count(is(kind::LOGIN).and(within(d, 0, n))).alias(format!("logins_{n}d")));
    }
    aggs.push(count(is(kind::LOGIN).and(within(d, TREND, 2 * TREND))).alias("logins_prev_90d"));
    aggs.push(last(kind::LOGIN).alias("last_login_day"));
    for n in [90, 365] {
        aggs.push(
            count(is(kind::BRANCH).and(within(d, 0, n))).alias(format!("branch_visits_{n}d")),
        );
    }
    for n in [90, 365] {
        aggs.push(
            count(is(kind::COMPLAINT).and(within(d, 0, n))).alias(format!("complaints_{n}d")),
        );
        aggs.push(count(is(kind::OVERDUE).and(within(d, 0, n))).alias(format!("overdue_{n}d")));
    }
    aggs.push(last(kind::COMPLAINT).alias("last_complaint_day"));
    aggs.push(count(is(kind::PRODUCT_OPEN).and(within(d, 0, 180))).alias("products_opened_180d"));
    aggs.push(count(is(kind::PRODUCT_CLOSE).and(within(d, 0, 180))).alias("products_closed_180d"));
    aggs.push(count(is(kind::ACCOUNT_CLOSE)).alias("closed_before"));
    events
        .clone()
        .lazy()
        .filter(col(DAY).lt(lit(d)))
        .group_by([col(SEQ)])
        .agg(aggs)
}

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

/// Days from `day_col` to D, or the tenure when it is missing.
fn days_since(d: Day, day_col: &str) -> Expr {
    (lit(d) - col(day_col))
        .cast(DataType::Float64)
        .fill_null(col("tenure_days"))
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
    let opened = logs
        .customers
        .clone()
        .lazy()
        .filter(col(OPEN_DAY).lt(lit(d)));
    let txn = super::fold::transactions(logs, d)?.lazy();
    let mut lf = opened.left_join(txn, col(SEQ), col(SEQ));
    if let Some(ev) = &logs.events {
        let ev = super::fold::events(logs, ev, d)?.lazy();
        lf = lf.left_join(ev, col(SEQ), col(SEQ));
    }
    let zero: Vec<Expr> = zero_filled(logs)
        .iter()
        .map(|n| col(n.as_str()).fill_null(lit(0.0)))
        .collect();
    lf = lf
        .with_columns(zero)
        .with_column(
            (lit(d) - col(OPEN_DAY))
                .cast(DataType::Float64)
                .alias("tenure_days"),
        )
        .with_columns([
            days_since(d, "last_txn_day").alias("recency_days"),
            trend("txn_count_90d", "txn_count_prev_90d").alias("count_trend_90d"),
            trend("txn_amount_90d", "txn_amount_prev_90d").alias("amount_trend_90d"),
        ]);
    let mut drop = vec!["last_txn_day".to_string(), OPEN_DAY.into()];
    if logs.events.is_some() {
        lf = lf.with_columns([
            days_since(d, "last_login_day").alias("days_since_last_login"),
            days_since(d, "last_complaint_day").alias("days_since_last_complaint"),
            trend("logins_90d", "logins_prev_90d").alias("login_trend_90d"),
        ]);
        drop.extend(["last_login_day".into(), "last_complaint_day".into()]);
    }
    if logs.has_balance {
        lf = lf.with_column((col("balance") - col("balance_90d_ago")).alias("balance_change_90d"));
        drop.push("balance_90d_ago".into());
    }
    if logs.has_profit {
        lf = lf.with_column(
            when(col("revenue_365d").gt(lit(0.0)))
                .then((col("revenue_365d") - col("cost_365d")) / col("revenue_365d"))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("profitability_365d"),
        );
        drop.push("cost_365d".into());
    }
    lf = lf.with_column(
        when(col("tenure_days").lt(lit(NEW_DAYS as f64)))
            .then(lit("new"))
            .when(
                col("count_trend_90d")
                    .lt_eq(lit(DECLINING))
                    .or(col("amount_trend_90d").lt_eq(lit(DECLINING))),
            )
            .then(lit("declining"))
            .when(col("count_trend_90d").gt_eq(lit(GROWING)))
            .then(lit("growing"))
            .otherwise(lit("mature"))
            .alias(LIFECYCLE),
    );
    if let Some(w) = window {
        lf = w.join(lf);
    }
    let all = lf
        .sort([SEQ], SortMultipleOptions::default())
        .collect()
        .map_err(|e| Error::polars(src, e))?;
    let opened_n = all.height();
    let closed_before = if logs.events.is_some() {
        let c = all
            .column("closed_before")
            .map_err(|e| Error::polars(src, e))?;
        let c = c.f64().map_err(|e| Error::polars(src, e))?;
        c.iter().filter(|v| v.unwrap_or(0.0) > 0.0).count()
    } else {
        0
    };
    let mut lf = all.lazy();
    if logs.events.is_some() {
        lf = lf.filter(col("closed_before").eq(lit(0.0)));
        drop.push("closed_before".into());
    }
    let frame = lf
        .drop(by_name(drop.iter().map(String::as_str), true, false))
        .with_column(lit(iso(d)).alias(AS_OF))
        .collect()
        .map_err(|e| Error::polars(src, e))?;
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
    use super::super::fold::{events, transactions};
    use super::super::{LogSet, LogsConfig};
    use super::*;

    /// `frame`'s columns as bits (floats by their bit pattern: -0.0 is
    /// not 0.0), customers in row-number order, zero-filled as `snapshot`
    /// fills them.
    fn bits(
        customers: &DataFrame,
        frame: LazyFrame,
        zero: &[&str],
    ) -> Vec<(String, Vec<Option<u64>>)> {
        let all = customers
            .clone()
            .lazy()
            .select([col(SEQ)])
            .left_join(frame, col(SEQ), col(SEQ))
            .sort([SEQ], Default::default())
            .collect()
            .unwrap();
        let mut out = Vec::new();
        for c in all.columns() {
            let name = c.name().to_string();
            let c = if zero.iter().any(|z| name.contains(z)) {
                c.fill_null(FillNullStrategy::Zero).unwrap()
            } else {
                c.clone()
            };
            let v: Vec<Option<u64>> = match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|x| x.map(f64::to_bits))
                    .collect(),
                _ => c
                    .cast(&DataType::Int64)
                    .unwrap()
                    .i64()
                    .unwrap()
                    .iter()
                    .map(|x| x.map(|x| x as u64))
                    .collect(),
            };
            out.push((name, v));
        }
        out
    }

    /// On generated logs with nulls in revenue, amounts of -0.0 and several
    /// rows a day, the one-pass aggregates equal the polars group-by's to
    /// the bit, at as-of dates inside, before and after the log.
    #[test]
    fn one_pass_equals_the_group_by_to_the_bit() {
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
        let ev = logs.events.clone().unwrap();
        let zero = [
            "txn_count",
            "txn_amount",
            "revenue",
            "cost",
            "logins",
            "visits",
            "complaints_",
            "overdue",
            "products",
            "closed",
        ];
        for d in ["2023-01-15", "2023-06-01", "2024-02-29", "2025-03-01"] {
            let d = super::super::dates::parse_as_of(d).unwrap();
            let ours = bits(
                &logs.customers,
                transactions(&logs, d).unwrap().lazy(),
                &zero,
            );
            let theirs = bits(&logs.customers, transaction_features(&logs, d), &zero);
            assert_eq!(ours, theirs, "transactions as of {d}");
            let ours = bits(
                &logs.customers,
                events(&logs, &ev, d).unwrap().lazy(),
                &zero,
            );
            let theirs = bits(&logs.customers, event_features(&ev, d), &zero);
            assert_eq!(ours, theirs, "events as of {d}");
        }
    }
}
