//! `churn-train generate --logs`: a seeded synthetic bank as raw logs — a
//! customer table, a transaction log and an event log over 24 months (or
//! `--months`: a longer log gives a full year of history before a first
//! training snapshot a year in) — with
//! a planted churn mechanism, so log ingestion, point-in-time features and
//! labels can be tested against a known truth.
//!
//! Planted mechanism, month by month (m = 0 … months − 1, from 2023-01-01):
//! - Every customer has a value scale (log-normal: few high-value, many
//!   low-value), a transaction rate (log-normal, ~1 a month) and a login
//!   rate; amounts are log-normal around the value scale; days follow a
//!   weekly pattern (weekends quieter) and a yearly one (December busier).
//! - Engagement e starts at 1. Each month a customer may start to
//!   disengage (3%, 5% with one product); from then on e shrinks to 55% a
//!   month, and transactions, logins and branch visits scale with e;
//!   complaints, product closures and balance outflows rise.
//! - Overdue notices: more for low-income customers and for disengaging ones.
//! - The monthly churn hazard, computed at the start of each month:
//!   `h = sigmoid(−6 + 3·(1 − e) + 0.9·min(complaints₃,3) + 0.7·min(overdue₃,3) − 0.5·(products − 1))`
//!   with complaints₃ / overdue₃ counted over the three months before. A
//!   churning customer gets an `account_close` event on a day of that month
//!   and no activity after it.
//! - `hazard.csv` (written up to 200,000 customers) holds h per customer and
//!   month start: the planted truth a model's ranking is compared with.
//! - With `--calendar`, a planted calendar on top: each May a promotion
//!   (transactions and logins ×1.5, churn logit −0.8: the offer keeps
//!   customers) and each December the holidays (churn logit +1.0: year-end
//!   switching, which no feature foresees). The windows go to
//!   `calendar.csv` (`start,end,name`) and the shifts into hazard.csv's h.
//!   Without the flag nothing changes (the same draws, the same bits).
//! - Gender is drawn at random and plays no part (the fairness checks
//!   should find no gap it explains).

use super::{normal, poisson};
use crate::error::{Error, Result};
use crate::logs::dates::{from_civil, iso, Day};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::Path;

/// Months simulated by default.
pub const MONTHS: u32 = 24;
/// Fewest months `--months` accepts: a log shorter than the longest
/// churn horizon plus a snapshot month teaches nothing.
const MIN_MONTHS: u32 = 6;
/// Most months `--months` accepts (ten years).
const MAX_MONTHS: u32 = 120;
/// Customers up to which hazard.csv is written.
const HAZARD_UP_TO: usize = 200_000;
const REGIONS: [&str; 5] = ["Capital", "North", "South", "East", "West"];

/// The planted calendar of `--calendar`: (month of the year, 0-based,
/// window name, churn logit shift, activity factor).
pub const CALENDAR: [(u32, &str, f64, f64); 2] =
    [(4, "promotion", -0.8, 1.5), (11, "holidays", 1.0, 1.0)];

/// The calendar's (churn logit shift, activity factor) in month `m`.
fn calendar_effect(on: bool, m: u32) -> (f64, f64) {
    CALENDAR
        .iter()
        .find(|c| on && c.0 == m % 12)
        .map_or((0.0, 1.0), |c| (c.2, c.3))
}

/// First day of month `m` of the simulation.
pub fn month_start(m: u32) -> Day {
    from_civil(2023 + (m / 12) as i32, m % 12 + 1, 1)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The columns of the transaction log as they are generated.
#[derive(Default)]
struct Transactions {
    id: Vec<i64>,
    day: Vec<i32>,
    amount: Vec<f64>,
    revenue: Vec<f64>,
    cost: Vec<f64>,
    balance: Vec<f64>,
    channel: Vec<&'static str>,
}

/// A day of month `m` drawn with the weekly pattern (weekends quieter).
fn weekday_weighted_day(rng: &mut ChaCha8Rng, m: u32) -> Day {
    let (start, end) = (month_start(m), month_start(m + 1));
    loop {
        let d = start + rng.random_range(0..end - start);
        // 1970-01-01 was a Thursday: (d + 3) % 7 is 0 on Mondays.
        let weight = match (d + 3).rem_euclid(7) {
            5 => 0.6,
            6 => 0.35,
            _ => 1.0,
        };
        if rng.random::<f64>() < weight {
            return d;
        }
    }
}

/// What `generate --logs` simulates.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub customers: usize,
    pub seed: u64,
    /// Plant the May promotion and the December holidays.
    pub calendar: bool,
    /// Months of log from 2023-01-01 ([`MONTHS`] by default).
    pub months: u32,
}

/// Write `customers` customers' logs (24 months, no calendar) into `out`.
pub fn generate(out: &Path, customers: usize, seed: u64) -> Result<()> {
    let spec = Spec {
        customers,
        seed,
        calendar: false,
        months: MONTHS,
    };
    generate_with(out, spec)
}

/// [`generate`] as `spec` says. The default months give the same bits as
/// ever: the draws of a month do not depend on how many follow.
pub fn generate_with(out: &Path, spec: Spec) -> Result<()> {
    let Spec {
        customers,
        seed,
        calendar,
        months,
    } = spec;
    if customers == 0 {
        return Err(Error::Config("--customers must be at least 1".into()));
    }
    if !(MIN_MONTHS..=MAX_MONTHS).contains(&months) {
        return Err(Error::Config(format!(
            "--months {months}: the logs span {MIN_MONTHS} to {MAX_MONTHS} months"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let log_start = month_start(0);
    let mut txn = Transactions::default();
    let mut cust = Vec::with_capacity(customers * 48);
    let mut events = Vec::with_capacity(customers * 32);
    let mut hazard = Vec::new();
    writeln!(
        cust,
        "customer_id,open_date,age,gender,region,num_products,income"
    )
    .map_err(|e| Error::io(out, e))?;
    writeln!(events, "customer_id,timestamp,kind").map_err(|e| Error::io(out, e))?;
    let ev = |events: &mut Vec<u8>, id: i64, day: Day, kind: &str| {
        let _ = writeln!(events, "{id},{},{kind}", iso(day));
    };
    for i in 0..customers {
        let id = i as i64 + 1;
        let open = if rng.random::<f64>() < 0.7 {
            log_start - rng.random_range(30..3650)
        } else {
            log_start + rng.random_range(0..month_start(months - 4) - log_start)
        };
        let age = (18.0 + 50.0 * rng.random::<f64>().powf(0.8)).round();
        let products = 1 + (rng.random::<f64>() * 3.2) as u32;
        let income = (30_000.0 * (0.6 * normal(&mut rng)).exp()).round();
        let low_income = income < 22_000.0;
        let scale = 60.0 * (0.9 * normal(&mut rng)).exp();
        let rate = 0.8 * (0.6 * normal(&mut rng)).exp();
        let logins = 0.7 * (0.7 * normal(&mut rng)).exp();
        let mut balance = scale * 20.0 * (0.5 * normal(&mut rng)).exp();
        let _ = writeln!(
            cust,
            "{id},{},{},{},{},{products},{income}",
            iso(open),
            age,
            if rng.random::<bool>() { "F" } else { "M" },
            REGIONS[rng.random_range(0..REGIONS.len())]
        );
        let (mut e, mut disengaging) = (1.0f64, false);
        let (mut complaints, mut overdue) = ([0u32; 3], [0u32; 3]);
        for m in 0..months {
            let (start, end) = (month_start(m), month_start(m + 1));
            if end <= open {
                continue;
            }
            let c3 = complaints.iter().sum::<u32>().min(3) as f64;
            let o3 = overdue.iter().sum::<u32>().min(3) as f64;
            let (shift, boost) = calendar_effect(calendar, m);
            let h = sigmoid(
                -6.0 + 3.0 * (1.0 - e) + 0.9 * c3 + 0.7 * o3 - 0.5 * (products as f64 - 1.0)
                    + shift,
            );
            if customers <= HAZARD_UP_TO && start > open {
                hazard.push((id, start, h));
            }
            let churn_day =
                (rng.random::<f64>() < h).then(|| start + rng.random_range(0..end - start));
            let alive = |d: Day| d > open && churn_day.is_none_or(|c| d < c);
            let season = if m % 12 == 11 { 1.25 } else { 1.0 };
            for _ in 0..poisson(&mut rng, rate * e * season * boost) {
                let d = weekday_weighted_day(&mut rng, m);
                if !alive(d) {
                    continue;
                }
                let amount = (scale * (0.8 * normal(&mut rng)).exp() * 100.0).round() / 100.0;
                let inflow = rng.random::<f64>() < if disengaging { 0.2 } else { 0.45 };
                balance += if inflow { amount } else { -amount };
                txn.id.push(id);
                txn.day.push(d);
                txn.amount.push(amount);
                txn.revenue.push((amount * 0.012 * 100.0).round() / 100.0);
                txn.cost.push(0.15);
                txn.balance.push((balance * 100.0).round() / 100.0);
                txn.channel
                    .push(["card", "online", "atm", "branch"][rng.random_range(0..4)]);
            }
            let mut count_events = |rng: &mut ChaCha8Rng, lambda: f64, kind: &str| {
                let n = poisson(rng, lambda);
                let mut kept = 0;
                for _ in 0..n {
                    let d = start + rng.random_range(0..end - start);
                    if alive(d) {
                        ev(&mut events, id, d, kind);
                        kept += 1;
                    }
                }
                kept
            };
            count_events(&mut rng, logins * e * boost, "login");
            count_events(&mut rng, 0.15 * e, "branch_visit");
            let c = count_events(
                &mut rng,
                0.02 + if disengaging { 0.25 } else { 0.0 },
                "complaint",
            );
            let o = count_events(
                &mut rng,
                0.01 + if low_income { 0.05 } else { 0.0 } + if disengaging { 0.1 } else { 0.0 },
                "overdue_notice",
            );
            count_events(&mut rng, 0.01, "product_open");
            count_events(
                &mut rng,
                0.01 + if disengaging { 0.08 } else { 0.0 },
                "product_close",
            );
            complaints = [complaints[1], complaints[2], c];
            overdue = [overdue[1], overdue[2], o];
            if let Some(c) = churn_day {
                ev(&mut events, id, c, "account_close");
                break;
            }
            if !disengaging && rng.random::<f64>() < if products == 1 { 0.05 } else { 0.03 } {
                disengaging = true;
            }
            if disengaging {
                e = (e * 0.55).max(0.02);
            }
        }
    }
    write_logs(out, (&cust, &events, &hazard), txn)?;
    if calendar {
        let mut text = String::from("start,end,name\n");
        for year in 0..months.div_ceil(12) {
            for (month, name, _, _) in CALENDAR {
                let m = year * 12 + month;
                if m >= months {
                    continue;
                }
                let last = month_start(m + 1) - 1;
                text.push_str(&format!("{},{},{name}\n", iso(month_start(m)), iso(last)));
            }
        }
        crate::io::write_atomic(&out.join("calendar.csv"), text.as_bytes())?;
    }
    Ok(())
}

/// A customer's planted churn hazard in one month: (id, month start, hazard).
type Hazard = (i64, Day, f64);

/// The generated logs into `out`: customers.csv, events.csv, the planted
/// monthly hazard (small runs only) and transactions.parquet.
fn write_logs(
    out: &Path,
    (cust, events, hazard): (&[u8], &[u8], &[Hazard]),
    txn: Transactions,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    crate::io::write_atomic(&out.join("customers.csv"), cust)?;
    crate::io::write_atomic(&out.join("events.csv"), events)?;
    if !hazard.is_empty() {
        crate::io::with_atomic_writer(&out.join("hazard.csv"), |w| {
            writeln!(w, "customer_id,month,hazard")?;
            for (id, start, h) in hazard {
                writeln!(w, "{id},{},{h}", iso(*start))?;
            }
            Ok(())
        })?;
    }
    write_transactions(&out.join("transactions.parquet"), txn)
}

/// The transaction log as Parquet, in date order (file order within a day
/// is generation order, as a bank's extract would be).
fn write_transactions(path: &Path, t: Transactions) -> Result<()> {
    let src = path.display().to_string();
    let n = t.id.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| t.day[i]);
    let pick_f = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new(
                "customer_id".into(),
                order.iter().map(|&i| t.id[i]).collect::<Vec<i64>>(),
            ),
            Column::new(
                "timestamp".into(),
                order.iter().map(|&i| t.day[i]).collect::<Vec<i32>>(),
            )
            .cast(&DataType::Date)
            .map_err(|e| Error::polars(&src, e))?,
            Column::new("amount".into(), pick_f(&t.amount)),
            Column::new(
                "channel".into(),
                order.iter().map(|&i| t.channel[i]).collect::<Vec<&str>>(),
            ),
            Column::new("revenue".into(), pick_f(&t.revenue)),
            Column::new("cost".into(), pick_f(&t.cost)),
            Column::new("balance".into(), pick_f(&t.balance)),
        ],
    )
    .map_err(|e| Error::polars(&src, e))?;
    crate::io::write_frame(path, &mut df)
}
