//! A holdings panel (one row per customer and period) → take-up examples.
//!
//! Periods are read as months (`2024-06`, `2024/06`, `202406`), days
//! (`2024-06-30`, `20240630`) or plain period numbers, one kind per file,
//! and ordered in time. A *transition* is a customer present in a period
//! and in the next one: its features are the customer's row now (and the
//! holding changes against the period before, when present), its targets
//! the holdings next period. A customer missing from a period between two
//! present ones (a gap) or absent after some period (left) has no
//! transition there; both are counted and reported, never guessed.

use super::catalog::Catalog;
use super::inputs::{self, holding_value, Rows, Spec};
use crate::clean::{exclusion, DataConfig};
use crate::error::{Error, Result};
use crate::fairness::attributes::looks_protected;
use crate::ingest::schema::{self, Inferred};
use crate::ingest::{RawColumn, RawTable};
use crate::logs::dates::from_civil;
use serde::Serialize;
use std::collections::HashMap;

/// A customer present in period `t` (row `now`) and `t + 1` (row `next`).
#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub now: usize,
    pub next: usize,
    /// The customer's row in period `t − 1`, when present.
    pub prev: Option<usize>,
    /// Index of period `t + 1`.
    pub to: usize,
}

/// What the panel held, for offers_metrics.json.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PanelReport {
    pub rows: usize,
    pub customers: usize,
    pub periods: Vec<String>,
    pub customers_per_period: Vec<usize>,
    pub transitions: usize,
    /// Customer-periods missing between two periods the customer is in.
    pub missing_customer_periods: usize,
    /// Customers absent from the panel's later periods.
    pub customers_left: usize,
    /// Questionnaire answers that were not a level (estimated instead).
    pub invalid_risk_answers: usize,
    /// Text cells of number columns read as missing.
    pub coerced_cells: usize,
    /// Blank or NA holding cells: the holding is unknown (never offered,
    /// not an example for that product).
    pub unknown_holding_cells: usize,
    pub features: Vec<String>,
    /// Columns left out of the features, with why.
    pub excluded: Vec<(String, String)>,
}

/// The typed panel and its transitions.
pub struct Panel {
    /// No period column: one snapshot, every row its own "transition" and
    /// the target is "holds p" (the weaker fallback).
    pub snapshot: bool,
    pub rows: Rows,
    pub ids: Vec<String>,
    /// Period index of every row.
    pub period_of: Vec<usize>,
    pub transitions: Vec<Transition>,
    /// The latest period's rows, each with the customer's row a period before.
    pub latest: Vec<(usize, Option<usize>)>,
    pub report: PanelReport,
}

/// A period label as (kind, ordinal): 0 months (`2024-06`, `202406`,
/// `2024/06`), 1 days (`2024-06-30`, `20240630`; a time of day after the
/// date, as database and Spark exports write timestamps, is ignored),
/// 2 period numbers, 3 quarters (`2024Q2`, `2024-Q2`, `2024 Q2`).
pub fn period_key(s: &str) -> Option<(u8, i64)> {
    let t = s.trim();
    let num = |a: &str| a.parse::<i64>().ok();
    if let Some(key) = quarter(t) {
        return Some(key);
    }
    // `2024-06-30 00:00:00`, `2024-06-30T00:00:00Z`: the date part.
    let t = match t.split_once([' ', 'T']) {
        Some((date, time)) if date.len() == 10 && time.contains(':') => date,
        _ => t,
    };
    let month = |y: i64, m: i64| (1..=12).contains(&m).then_some((0, y * 12 + m - 1));
    let day = |y: i64, m: i64, d: i64| {
        ((1..=12).contains(&m) && (1..=31).contains(&d))
            .then(|| (1, from_civil(y as i32, m as u32, d as u32) as i64))
    };
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    match parts.as_slice() {
        [y, m] if y.len() == 4 => month(num(y)?, num(m)?),
        [y, m, d] if y.len() == 4 => day(num(y)?, num(m)?, num(d)?),
        [one] if one.len() == 6 && one.bytes().all(|b| b.is_ascii_digit()) => {
            month(num(&one[..4])?, num(&one[4..])?)
        }
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => {
            day(num(&one[..4])?, num(&one[4..6])?, num(&one[6..])?)
        }
        [one] => num(one).map(|n| (2, n)),
        _ => None,
    }
}

/// `2024Q2`, `2024-Q2`, `2024/Q2`, `2024 q2` as (3, year·4 + quarter − 1).
fn quarter(t: &str) -> Option<(u8, i64)> {
    let (year, q) = t.split_at_checked(4)?;
    let q = q.trim_start_matches(['-', '/', ' ']);
    let q = q.strip_prefix(['Q', 'q'])?;
    let (y, q) = (year.parse::<i64>().ok()?, q.parse::<i64>().ok()?);
    (year.bytes().all(|b| b.is_ascii_digit()) && (1..=4).contains(&q)).then_some((3, y * 4 + q - 1))
}

/// Attribute columns (name, numeric?) and excluded columns (name, why).
type Attributes = (Vec<(String, bool)>, Vec<(String, String)>);

/// The attribute columns of a panel: every column but the id, the period,
/// holdings, the questionnaire, a tier column, protected attributes and
/// identifier-like columns; numeric when its cells read as numbers.
fn attributes(raw: &RawTable, catalog: &Catalog, skip: &[&str]) -> Attributes {
    let mut keep = Vec::new();
    let mut excluded = Vec::new();
    let cfg = DataConfig::default();
    for (name, col) in raw.names.iter().zip(&raw.columns) {
        let inferred = std::cell::OnceCell::new();
        let infer = || *inferred.get_or_init(|| schema::infer(col));
        let why = if skip.contains(&name.as_str()) {
            Some("id, period or risk questionnaire".to_string())
        } else if catalog.products.iter().any(|p| p.column == *name) {
            Some("holding flag (a feature as holds:/change:)".into())
        } else if catalog.columns.tier.as_deref() == Some(name) {
            Some("value tier (eligibility only)".into())
        } else if looks_protected(name) {
            Some("protected attribute".into())
        } else {
            exclusion(name, col, &cfg, None, &infer)
        };
        match why {
            Some(w) => excluded.push((name.clone(), w)),
            None => keep.push((name.clone(), infer() == Inferred::Numeric)),
        }
    }
    (keep, excluded)
}

/// Read a panel: type every row (a bad holding flag or period stops with
/// the file, column and row), order the periods, find the transitions.
pub fn build(
    raw: &RawTable,
    catalog: &Catalog,
    id: &str,
    period: Option<&str>,
    risk_column: Option<&str>,
) -> Result<Panel> {
    let src = raw.source.as_str();
    let need = |c: &str| {
        raw.column(c)
            .ok_or_else(|| Error::at(src, c, None, "column not in the data"))
    };
    let id_col = need(id)?;
    let period_col = period.map(need).transpose()?;
    if let Some(c) = risk_column {
        need(c)?;
    }
    catalog.check_columns(src, &raw.names)?;
    let n = raw.n_rows();
    if n == 0 {
        return Err(Error::data(src, "no rows"));
    }
    let skip: Vec<&str> = [Some(id), period, risk_column]
        .into_iter()
        .flatten()
        .collect();
    let (attrs, excluded) = attributes(raw, catalog, &skip);
    let spec = Spec {
        catalog,
        attributes: attrs,
        risk_column,
        lenient_numbers: true,
    };
    let mut reason = vec![None; n];
    let rows = inputs::read(raw, &spec, &mut reason);
    if let Some((r, why)) = reason
        .iter_mut()
        .enumerate()
        .find_map(|(r, w)| w.take().map(|w| (r, w)))
    {
        return Err(Error::Data {
            file: src.into(),
            column: why.column,
            row: Some(raw.row(r)),
            message: why.problem,
        });
    }
    let (ids, period_of, periods) = periods_and_ids(raw, (id, id_col), (period, period_col))?;
    let t_count = periods.len();
    let (by_customer, first_seen) = rows_by_customer(raw, id, &ids, &period_of, &periods)?;
    let mut report = PanelReport {
        rows: n,
        customers: by_customer.len(),
        customers_per_period: vec![0; t_count],
        invalid_risk_answers: rows.invalid_answers,
        coerced_cells: rows.coerced,
        unknown_holding_cells: rows.unknown_holdings,
        features: spec.attributes.iter().map(|a| a.0.clone()).collect(),
        excluded,
        ..PanelReport::default()
    };
    let mut transitions = Vec::new();
    let mut latest = Vec::new();
    for cid in &first_seen {
        let slots = &by_customer[cid];
        let present: Vec<usize> = (0..t_count).filter(|&t| slots[t].is_some()).collect();
        let (first, last) = (present[0], *present.last().unwrap_or(&0));
        report.missing_customer_periods += last - first + 1 - present.len();
        report.customers_left += (last + 1 < t_count) as usize;
        for &t in &present {
            report.customers_per_period[t] += 1;
        }
        if let Some(r) = slots[t_count - 1] {
            latest.push((r, t_count.checked_sub(2).and_then(|p| slots[p])));
        }
        if period.is_none() {
            let r = slots[0].unwrap_or_default();
            transitions.push(Transition {
                now: r,
                next: r,
                prev: None,
                to: 0,
            });
        }
        for t in 0..t_count.saturating_sub(1) {
            if let (Some(now), Some(next)) = (slots[t], slots[t + 1]) {
                let prev = t.checked_sub(1).and_then(|p| slots[p]);
                transitions.push(Transition {
                    now,
                    next,
                    prev,
                    to: t + 1,
                });
            }
        }
    }
    report.transitions = transitions.len();
    report.periods = periods;
    Ok(Panel {
        snapshot: period.is_none(),
        rows,
        ids,
        period_of,
        transitions,
        latest,
        report,
    })
}

/// Each row's customer id and period (its index in time order), and the
/// periods' labels in time order: one kind of period per file; an error
/// naming the row for a period that does not parse or a missing id.
fn periods_and_ids(
    raw: &RawTable,
    (id, id_col): (&str, &RawColumn),
    (period, period_col): (Option<&str>, Option<&RawColumn>),
) -> Result<(Vec<String>, Vec<usize>, Vec<String>)> {
    let (src, n) = (raw.source.as_str(), raw.n_rows());
    let mut keys = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for r in 0..n {
        let text = period_col.map_or(String::new(), |c| c.text(r).unwrap_or_default());
        let key = period_col
            .map_or(Some((2, 0)), |_| period_key(&text))
            .filter(|k| keys.first().is_none_or(|f: &(u8, i64, String)| f.0 == k.0))
            .ok_or_else(|| {
                Error::at(src, period.unwrap_or_default(), Some(raw.row(r)), format!(
                    "period '{text}' does not parse (YYYY-MM, YYYY-MM-DD, YYYYQn or a period number, one kind per file)"
                ))
            })?;
        keys.push((key.0, key.1, text));
        let cid = id_col
            .text(r)
            .ok_or_else(|| Error::at(src, id, Some(raw.row(r)), "customer id is missing"))?;
        ids.push(cid);
    }
    let mut order: Vec<(i64, String)> =
        keys.iter().map(|k| (k.1, k.2.trim().to_string())).collect();
    order.sort();
    order.dedup_by(|a, b| a.0 == b.0);
    let index: HashMap<i64, usize> = order.iter().enumerate().map(|(i, k)| (k.0, i)).collect();
    let period_of: Vec<usize> = keys.iter().map(|k| index[&k.1]).collect();
    let periods: Vec<String> = order.into_iter().map(|k| k.1).collect();
    Ok((ids, period_of, periods))
}

/// Each customer's row per period (customers in first-seen order); an
/// error naming the row for a customer twice in one period.
#[allow(clippy::type_complexity)]
fn rows_by_customer<'a>(
    raw: &RawTable,
    id: &str,
    ids: &'a [String],
    period_of: &[usize],
    periods: &[String],
) -> Result<(HashMap<&'a str, Vec<Option<usize>>>, Vec<&'a str>)> {
    let (src, n, t_count) = (raw.source.as_str(), raw.n_rows(), periods.len());
    let mut by_customer: HashMap<&str, Vec<Option<usize>>> = HashMap::new();
    let mut first_seen: Vec<&str> = Vec::new();
    for r in 0..n {
        let slots = by_customer.entry(ids[r].as_str()).or_insert_with(|| {
            first_seen.push(ids[r].as_str());
            vec![None; t_count]
        });
        if let Some(other) = slots[period_of[r]].replace(r) {
            return Err(Error::at(
                src,
                id,
                Some(raw.row(r)),
                format!(
                    "customer '{}' appears twice in period '{}' (also row {})",
                    ids[r],
                    periods[period_of[r]],
                    raw.row(other)
                ),
            ));
        }
    }
    Ok((by_customer, first_seen))
}

impl Panel {
    /// Per product, the holdings of each transition's previous row (NaN
    /// when the customer was not in the panel the period before).
    pub fn previous(&self, ts: &[Transition]) -> Vec<Vec<f64>> {
        let before: Vec<Option<usize>> = ts.iter().map(|t| t.prev).collect();
        self.holdings_at(&before)
    }

    /// Per product, the holdings of rows `at` (NaN for `None`: the customer
    /// was not in the panel then).
    pub fn holdings_at(&self, at: &[Option<usize>]) -> Vec<Vec<f64>> {
        (self.rows.held.iter())
            .map(|h| {
                (at.iter())
                    .map(|r| r.map_or(f64::NAN, |r| holding_value(h[r])))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::period_key;

    #[test]
    fn period_kinds_order_in_time() {
        assert_eq!(period_key("2024-06"), period_key("202406"));
        assert!(period_key("2024-12").unwrap().1 < period_key("2025-01").unwrap().1);
        assert_eq!(period_key("2024-06-30").unwrap().0, 1);
        assert_eq!(period_key("7"), Some((2, 7)));
        assert_eq!(period_key("2024-06-30 00:00:00"), period_key("2024-06-30"));
        assert_eq!(period_key("2024-06-30T12:30:00Z"), period_key("20240630"));
        assert_eq!(period_key("2024-06"), period_key("2024/06"));
        assert_eq!(period_key("2024Q2"), period_key("2024-q2"));
        assert_eq!(period_key("2024 Q2"), Some((3, 2024 * 4 + 1)));
        assert!(period_key("2024Q4").unwrap().1 < period_key("2025-Q1").unwrap().1);
        for bad in [
            "2024-13",
            "June",
            "2024-06-31x",
            "",
            "2024Q5",
            "2024Q0",
            "Q2",
            "2024-06-30 later",
        ] {
            assert_eq!(period_key(bad), None, "{bad}");
        }
    }
}
