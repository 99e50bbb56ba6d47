//! The churn label of a snapshot, from the log rows in the window
//! [D, D + horizon) only: `inactive` = no transaction in the window,
//! `closed` = an account-close event in it, `drop:X` = the window's amount
//! below (1 − X) × the amount of the same-length window before D.
//!
//! Day D itself belongs to the label window (features stop at D − 1), so no
//! day of the log is in both and none is in neither.

use super::dates::{iso, Day};
use super::read::{kind, Logs, AMOUNT, DAY, EVENT, SEQ};
use super::{ChurnRule, LABEL};
use crate::error::{Error, Result};
use polars_lazy::prelude::*;

/// The label window of one snapshot.
#[derive(Clone)]
pub struct Window {
    /// Label per customer the window's aggregate names.
    labels: LazyFrame,
    /// Label of the customers it does not name (no row in the window).
    absent: u8,
}

impl Window {
    /// Error when the window reaches past the log: the label is unknowable.
    pub fn new(logs: &Logs, d: Day, horizon: i32, rule: ChurnRule) -> Result<Window> {
        let end = d + horizon; // exclusive
        if end > logs.last_day + 1 {
            return Err(Error::data(
                &logs.source,
                format!(
                    "the label window of as-of {} ({} days) ends {}, after the log's last date {}: \
                     the label cannot be known (use an earlier --as-of or a shorter --horizon)",
                    iso(d),
                    horizon,
                    iso(end - 1),
                    iso(logs.last_day)
                ),
            ));
        }
        let in_window = col(DAY).gt_eq(lit(d)).and(col(DAY).lt(lit(end)));
        let txn = logs.transactions.clone().lazy();
        let labels = match rule {
            ChurnRule::Inactive => txn
                .filter(in_window)
                .group_by([col(SEQ)])
                .agg([col(DAY).count().alias("n")])
                .select([col(SEQ), lit(0u8).alias(LABEL)]),
            ChurnRule::Closed => {
                let Some(ev) = &logs.events else {
                    return Err(Error::Config(
                        "--churn-rule closed needs an event log (--events)".into(),
                    ));
                };
                ev.clone()
                    .lazy()
                    .filter(in_window.and(col(EVENT).eq(lit(kind::ACCOUNT_CLOSE))))
                    .group_by([col(SEQ)])
                    .agg([col(DAY).count().alias("n")])
                    .select([col(SEQ), lit(1u8).alias(LABEL)])
            }
            ChurnRule::Drop(x) => {
                let before = col(DAY).gt_eq(lit(d - horizon)).and(col(DAY).lt(lit(d)));
                txn.filter(col(DAY).gt_eq(lit(d - horizon)).and(col(DAY).lt(lit(end))))
                    .group_by([col(SEQ)])
                    .agg([
                        col(AMOUNT).filter(in_window).sum().alias("after"),
                        col(AMOUNT).filter(before).sum().alias("before"),
                    ])
                    .select([
                        col(SEQ),
                        when(col("after").lt(lit(1.0 - x) * col("before")))
                            .then(lit(1u8))
                            .otherwise(lit(0u8))
                            .alias(LABEL),
                    ])
            }
        };
        let absent = u8::from(rule == ChurnRule::Inactive);
        Ok(Window { labels, absent })
    }

    /// `features` with the label column added.
    pub fn join(&self, features: LazyFrame) -> LazyFrame {
        features
            .left_join(self.labels.clone(), col(SEQ), col(SEQ))
            .with_column(col(LABEL).fill_null(lit(self.absent)))
    }
}
