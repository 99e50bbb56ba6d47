//! The churn label of a snapshot, from the log rows in the window
//! [D, D + horizon) only: `inactive` = no transaction in the window,
//! `closed` = an account-close event in it, `drop:X` = the window's amount
//! below (1 − X) × the amount of the same-length window before D.
//!
//! Day D itself belongs to the label window (features stop at D − 1), so no
//! day of the log is in both and none is in neither.

use super::dates::{iso, Day};
use super::fold::{lt, values, Dense, Sum};
use super::read::{kind, Logs, AMOUNT, DAY, EVENT, SEQ};
use super::{ChurnRule, LABEL};
use crate::error::{Error, Result};
use polars::prelude::*;

/// The label window of one snapshot.
#[derive(Clone)]
pub struct Window {
    /// The label of each customer of the bucket, in its customer table's
    /// order (a customer without a row in the window has the rule's
    /// default: churned when inactive, else not).
    labels: Vec<i32>,
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
        let src = logs.source.as_str();
        let dense = Dense::of(src, &logs.customers)?;
        let absent = i32::from(rule == ChurnRule::Inactive);
        let mut labels = vec![absent; dense.len()];
        let t = &logs.transactions;
        let (seq, day) = (
            values::<IdxType>(src, t, SEQ)?,
            values::<Int32Type>(src, t, DAY)?,
        );
        let (dense, seq, day) = (&dense, &seq, &day);
        let rows = |lo: Day| {
            (0..seq.len()).filter_map(move |i| {
                let c = (day[i] >= lo && day[i] < end).then(|| dense.at(seq[i]))??;
                Some((i, c))
            })
        };
        match rule {
            ChurnRule::Inactive => rows(d).for_each(|(_, c)| labels[c] = 0),
            ChurnRule::Closed => {
                let Some(ev) = &logs.events else {
                    return Err(Error::Config(
                        "--churn-rule closed needs an event log (--events)".into(),
                    ));
                };
                let (seq, day) = (
                    values::<IdxType>(src, ev, SEQ)?,
                    values::<Int32Type>(src, ev, DAY)?,
                );
                let kinds = values::<Int32Type>(src, ev, EVENT)?;
                let close = i32::from(kind::ACCOUNT_CLOSE);
                for i in 0..seq.len() {
                    if day[i] >= d && day[i] < end && kinds[i] == close {
                        if let Some(c) = dense.at(seq[i]) {
                            labels[c] = 1;
                        }
                    }
                }
            }
            ChurnRule::Drop(x) => {
                // Sums of the window's and the previous window's amounts,
                // as polars sums a group (see [`super::fold`]).
                let amount = values::<Float64Type>(src, t, AMOUNT)?;
                let mut sums = vec![(Sum::default(), Sum::default(), false); dense.len()];
                for (i, c) in rows(d - horizon) {
                    let s = &mut sums[c];
                    s.2 = true;
                    if day[i] >= d {
                        s.0.add(Some(amount[i]));
                    } else {
                        s.1.add(Some(amount[i]));
                    }
                }
                for (l, (after, before, any)) in labels.iter_mut().zip(&sums) {
                    if *any {
                        // `after < (1 − x) × before`.
                        *l = i32::from(lt(after.value(), (1.0 - x) * before.value()));
                    }
                }
            }
        }
        Ok(Window { labels })
    }

    /// The label column of the bucket's customers where `keep` holds.
    pub fn column(&self, keep: &[bool]) -> Column {
        let v: Vec<i32> = (self.labels.iter().zip(keep))
            .filter(|(_, &k)| k)
            .map(|(&l, _)| l)
            .collect();
        Int32Chunked::from_vec(LABEL.into(), v).into_column()
    }
}
