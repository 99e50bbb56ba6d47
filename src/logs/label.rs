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
        match rule {
            ChurnRule::Inactive => {
                (dense.within(&seq, &day, d, end)).for_each(|(_, c)| labels[c] = 0)
            }
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
                for (i, c) in dense.within(&seq, &day, d, end) {
                    if kinds[i] == close {
                        labels[c] = 1;
                    }
                }
            }
            ChurnRule::Drop(x) => {
                // Sums of the window's and the previous window's amounts,
                // as polars sums a group (see [`super::fold`]).
                let amount = values::<Float64Type>(src, t, AMOUNT)?;
                let mut sums = vec![(Sum::default(), Sum::default(), false); dense.len()];
                for (i, c) in dense.within(&seq, &day, d - horizon, end) {
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

#[cfg(test)]
mod tests {
    use super::super::{LogSet, LogsConfig};
    use super::*;

    /// Each customer's rows of `log` with `d0 ≤ day < d1`.
    fn rows_of(logs: &Logs, log: &DataFrame, d0: Day, d1: Day) -> Vec<Vec<usize>> {
        let ints = |f: &DataFrame, n: &str| -> Vec<i64> {
            let c = f.column(n).unwrap().cast(&DataType::Int64).unwrap();
            c.i64().unwrap().into_no_null_iter().collect()
        };
        let (seq, day) = (ints(log, SEQ), ints(log, DAY));
        (ints(&logs.customers, SEQ).into_iter())
            .map(|c| {
                (0..seq.len())
                    .filter(|&i| seq[i] == c && day[i] >= d0.into() && day[i] < d1.into())
                    .collect()
            })
            .collect()
    }

    /// Each rule's label equals its definition applied one customer at a
    /// time, over several buckets.
    #[test]
    fn labels_follow_each_rule_customer_by_customer() {
        let tmp = crate::io::TempDir::new().unwrap();
        let dir = tmp.path();
        crate::synth::logs::generate(dir, 400, 3).unwrap();
        let cfg = LogsConfig {
            customers: Some(dir.join("customers.csv")),
            transactions: Some(dir.join("transactions.parquet")),
            events: Some(dir.join("events.csv")),
            partitions: super::super::Partitions::Fixed(3),
            ..LogsConfig::default()
        };
        let set = LogSet::read(&cfg).unwrap();
        let d = super::super::dates::parse_as_of("2024-03-01").unwrap();
        let h = 90;
        let mut churned = [0; 3];
        for b in 0..3 {
            let logs = set.bucket(b).unwrap();
            let all = vec![true; logs.customers.height()];
            let label = |rule| {
                let w = Window::new(&logs, d, h, rule).unwrap();
                let c = w.column(&all);
                c.i32().unwrap().into_no_null_iter().collect::<Vec<i32>>()
            };
            let t = &logs.transactions;
            let amount: Vec<f64> = t
                .column(AMOUNT)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect();
            let after = rows_of(&logs, t, d, d + h);
            let expect: Vec<i32> = after.iter().map(|r| i32::from(r.is_empty())).collect();
            assert_eq!(label(ChurnRule::Inactive), expect);
            churned[0] += expect.iter().sum::<i32>();
            let ev = logs.events.as_ref().unwrap();
            let kinds: Vec<i32> = ev
                .column(EVENT)
                .unwrap()
                .i32()
                .unwrap()
                .into_no_null_iter()
                .collect();
            let closes = rows_of(&logs, ev, d, d + h);
            let close = i32::from(kind::ACCOUNT_CLOSE);
            let expect: Vec<i32> = (closes.iter())
                .map(|r| i32::from(r.iter().any(|&i| kinds[i] == close)))
                .collect();
            assert_eq!(label(ChurnRule::Closed), expect);
            churned[1] += expect.iter().sum::<i32>();
            let before = rows_of(&logs, t, d - h, d);
            let total = |r: &Vec<usize>| r.iter().map(|&i| amount[i]).sum::<f64>();
            let expect: Vec<i32> = (after.iter().zip(&before))
                .map(|(a, p)| i32::from(total(a) < 0.5 * total(p)))
                .collect();
            assert_eq!(label(ChurnRule::Drop(0.5)), expect);
            churned[2] += expect.iter().sum::<i32>();
        }
        // Each rule labels some customers and not all.
        assert!(churned.iter().all(|&c| c > 0 && c < 400), "{churned:?}");
    }
}
