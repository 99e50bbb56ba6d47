//! `churn-train generate --holdings`: a seeded monthly panel of product
//! holdings (one row per customer and month) with a *planted* adoption
//! mechanism, so product matching can be tested against a known truth.
//!
//! Every customer is drawn as in the flat table (same columns, the label
//! left out), plus a risk questionnaire and twenty holding flags
//! (`has_credit_card` … `has_estate_planning`, the products of
//! `data/products.toml`). Planted mechanism, month by month:
//! - A true risk tolerance C* (1–5) from capacity: 2, +1 under 35, −1 from
//!   65, +1 for income ≥ 60,000, +1 for a balance ≥ 50,000, −1 with overdue
//!   payments, plus noise. 55% of customers answered the questionnaire
//!   (`risk_profile`: `C3`, `3` or `moderate`, a few invalid answers); the
//!   rest have a blank.
//! - A product not held is taken up in a month with probability
//!   `sigmoid(−6.4 + 1.5·affinity + retake + fit)`, where affinity follows life stage (cards and
//!   consumer loans young; mortgages and pensions mid-life; retirement
//!   income older, a student account under 25), value (funds, notes,
//!   private banking and estate planning with balance; FX accounts and a
//!   premium card with income), holdings (card holders → bond funds and
//!   travel insurance, borrowers → insurance, mortgage → home insurance),
//!   complaints (fee waivers); retake = +2.5 for a product dropped the
//!   month before; fit = −4 for a product riskier than C* (taken up only
//!   rarely). experiments/analysis/offers_oracle.py ranks by this truth.
//! - A held product is dropped with probability 1.5% a month.
//! - 1% of customers leave each month (absent from later months) and 0.3%
//!   of customer-months are missing from the extract (a gap).
//!
//! `--dynamics` adds what a real bank's panel has and the plain mechanism
//! lacks (a seeded stream of its own: without the flag the panel is the
//! same byte for byte):
//! - Joint additions: a pension plan is taken up with a fee waiver in the
//!   same month (probability 0.7, a salary package) and a mortgage with
//!   home insurance (0.6). Neither is known a month ahead.
//! - Re-additions: payroll-like products (pension plan, fee waiver,
//!   savings, money market) and cards and insurance lapse for a month 8% of
//!   the time and come back the month after with probability 0.6 (held two
//!   months before, dropped the month before: about a quarter of all
//!   additions).
//! - Swings of the addition mix: each month every product's log-odds of a
//!   take-up move by a draw of N(0, 0.4²), the pension plan's and the fee
//!   waiver's by N(0, 1.0²) (campaigns), so one month's mix is not the next.
//! - Rare products: estate planning and structured notes are taken up by
//!   very few (log-odds −2 lower).
//!
//! Output: `holdings.csv` (all months) and `latest.csv` (the last month: the
//! batch a scoring job would get) in the `--out` folder.

use super::{normal, row, Person, COLUMNS};
use crate::error::{Error, Result};
use crate::io::with_atomic_writer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Months in the panel by default.
pub const MONTHS: usize = 8;

/// The generated products: (holding column, risk rating).
pub const PRODUCTS: [(&str, u8); 20] = [
    ("has_credit_card", 1),
    ("has_consumer_loan", 1),
    ("has_mortgage", 1),
    ("has_savings", 1),
    ("has_insurance", 1),
    ("has_bond_fund", 2),
    ("has_pension_plan", 2),
    ("has_equity_fund", 3),
    ("has_retirement_income", 2),
    ("has_structured_note", 4),
    ("has_private_banking", 3),
    ("has_fee_waiver", 1),
    ("has_travel_insurance", 1),
    ("has_car_loan", 1),
    ("has_student_account", 1),
    ("has_money_market", 1),
    ("has_home_insurance", 1),
    ("has_fx_account", 2),
    ("has_premium_card", 1),
    ("has_estate_planning", 2),
];

const NAMES: [&str; 5] = [
    "conservative",
    "moderately conservative",
    "moderate",
    "moderately aggressive",
    "aggressive",
];

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A customer's planted affinity for product `p` (log-odds).
fn affinity(p: usize, c: &Person, balance: f64, held: &[bool]) -> f64 {
    let (young, mid, older) = (c.age < 35.0, (35.0..55.0).contains(&c.age), c.age >= 55.0);
    let b = |x: bool, v: f64| if x { v } else { 0.0 };
    match p {
        0 => b(young, 2.5) - b(older, 1.5),
        1 => b(young, 2.0) + b(c.income < 30_000.0, 1.0) - b(c.credit < 580.0, 2.0),
        2 => b(mid, 2.2) + b(c.income >= 50_000.0, 1.2) - b(older, 2.0) - b(young, 0.5),
        3 => b(balance >= 20_000.0, 1.5) - b(balance < 5_000.0, 1.0),
        4 => b(held[1] || held[2], 2.8),
        5 => b(held[0], 1.0) + b(balance >= 30_000.0, 1.8) + b(older, 0.6),
        6 => b(mid, 2.2) - b(young, 1.0),
        7 => b(balance >= 50_000.0, 2.2) + b(young, 0.5),
        8 => b(older, 3.0) - b(young, 3.0),
        9 => b(balance >= 100_000.0, 3.0),
        10 => b(balance >= 200_000.0, 3.5) - 1.0,
        11 => b(c.complaints > 0, 2.5),
        12 => b(young, 1.5) + b(held[0], 1.5),
        13 => b(mid, 1.0) + b(c.income >= 40_000.0, 1.5) - b(c.credit < 600.0, 2.0),
        14 => b(c.age < 25.0, 3.5) - 2.0,
        15 => b(balance >= 10_000.0, 2.0) - b(young, 1.0),
        16 => b(held[2], 3.5) - 1.0,
        17 => b(c.income >= 80_000.0, 3.0) - 0.5,
        18 => b(c.income >= 70_000.0, 2.5) + b(held[0], 0.8),
        _ => b(older && balance >= 50_000.0, 3.5) - 1.0,
    }
}

/// The log-odds penalty of product `p` for a customer of true risk
/// tolerance `tolerance`: −4 when the product is riskier (taken up only
/// rarely).
fn fit(p: usize, tolerance: u8) -> f64 {
    if PRODUCTS[p].1 <= tolerance {
        0.0
    } else {
        -4.0
    }
}

/// The customer's true risk tolerance (1–5).
fn true_tolerance(rng: &mut ChaCha8Rng, c: &Person) -> u8 {
    let b = |x: bool| x as i32 as f64;
    let points = 2.0 + b(c.age < 35.0) - b(c.age >= 65.0)
        + b(c.income >= 60_000.0)
        + b(c.balance >= 50_000.0)
        - b(c.overdue > 0)
        + 0.7 * normal(rng);
    points.round().clamp(1.0, 5.0) as u8
}

/// The questionnaire cell: blank (not answered), or the level in one of
/// the three accepted spellings, or (rarely) an invalid answer.
fn questionnaire(rng: &mut ChaCha8Rng, level: u8) -> String {
    let u: f64 = rng.random();
    if u >= 0.55 {
        return String::new();
    }
    if u < 0.004 {
        return "C7".into();
    }
    match rng.random_range(0..3) {
        0 => format!("C{level}"),
        1 => format!("{level}"),
        _ => NAMES[level as usize - 1].to_string(),
    }
}

/// Products taken up together: (lead, follower, probability the follower
/// comes in the lead's month) — pension plan → fee waiver, mortgage → home
/// insurance.
const JOINT: [(usize, usize, f64); 2] = [(6, 11, 0.7), (2, 16, 0.6)];
/// Products that lapse for a month (payroll-like, or cards and insurance
/// left unpaid): credit card, savings, insurance, pension plan, fee waiver,
/// money market.
const LAPSING: [usize; 6] = [0, 3, 4, 6, 11, 15];
/// Products the campaigns swing harder: pension plan, fee waiver.
const CAMPAIGNED: [usize; 2] = [6, 11];
/// Products taken up by very few: structured note, estate planning.
const RARE: [usize; 2] = [9, 19];

/// The `--dynamics` mechanisms (see the module doc).
pub struct Dynamics {
    /// Per month, per product: the shift of a take-up's log-odds.
    shift: Vec<[f64; PRODUCTS.len()]>,
}

impl Dynamics {
    /// The month-by-month swings of `months` months, from their own seeded
    /// stream.
    pub fn new(months: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_D1CE);
        let shift = (0..months)
            .map(|_| {
                let mut row = [0.0; PRODUCTS.len()];
                for (p, v) in row.iter_mut().enumerate() {
                    let sd = if CAMPAIGNED.contains(&p) { 1.0 } else { 0.4 };
                    let rare = if RARE.contains(&p) { 2.0 } else { 0.0 };
                    *v = sd * normal(&mut rng) - rare;
                }
                row
            })
            .collect();
        Dynamics { shift }
    }
}

/// One customer's holdings through a month: drops, lapses, take-ups
/// (re-additions after a lapse, joint additions with `--dynamics`).
struct Month<'a> {
    tolerance: u8,
    person: &'a Person,
    balance: f64,
    m: usize,
    dynamics: Option<&'a Dynamics>,
}

impl Month<'_> {
    fn step(
        &self,
        rng: &mut ChaCha8Rng,
        held: &mut [bool; PRODUCTS.len()],
        dropped: &mut [bool],
        lapsed: &mut [bool],
    ) {
        let before = *held;
        for p in 0..PRODUCTS.len() {
            if before[p] {
                dropped[p] = rng.random::<f64>() < 0.015;
                held[p] = !dropped[p];
                if let (Some(_), false) = (self.dynamics, dropped[p]) {
                    lapsed[p] = LAPSING.contains(&p) && rng.random::<f64>() < 0.08;
                    held[p] = !lapsed[p];
                }
                continue;
            }
            if std::mem::take(&mut lapsed[p]) && rng.random::<f64>() < 0.6 {
                held[p] = true;
                continue;
            }
            let fit = fit(p, self.tolerance);
            let retake = if dropped[p] { 2.5 } else { 0.0 };
            let shift = self.dynamics.map_or(0.0, |d| d.shift[self.m][p]);
            let logit =
                -6.4 + fit + retake + shift + 1.5 * affinity(p, self.person, self.balance, &before);
            held[p] = rng.random::<f64>() < sigmoid(logit);
            dropped[p] = false;
        }
        if self.dynamics.is_some() {
            for (lead, follower, prob) in JOINT {
                if held[lead] && !before[lead] && !held[follower] && rng.random::<f64>() < prob {
                    held[follower] = true;
                }
            }
        }
    }
}

/// Write the panel of `customers` customers over `months` months into the
/// folder `out`; `dynamics` adds joint additions, re-additions, swings of
/// the mix and rare products.
pub fn generate(
    out: &Path,
    customers: usize,
    months: usize,
    seed: u64,
    dynamics: bool,
) -> Result<()> {
    let months_n = months.max(1);
    let dynamics = dynamics.then(|| Dynamics::new(months_n, seed));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let id_base = 500_000 + (seed % 97) * 1_000_000;
    let base: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "churned" && *c != "has_credit_card")
        .collect();
    let card_at = COLUMNS.iter().position(|c| *c == "has_credit_card");
    let balance_at = COLUMNS.iter().position(|c| *c == "balance");
    let tenure_at = COLUMNS.iter().position(|c| *c == "tenure_months");
    let mut header = format!("customer_id,period,{}", base[1..].join(","));
    header.push_str(",risk_profile");
    for (col, _) in PRODUCTS {
        header.push(',');
        header.push_str(col);
    }
    // Each month's rows go to a temporary file of their own (customers in id
    // order), joined in month order at the end: memory stays flat in N.
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let tmp = crate::io::TempDir::new()?;
    let month_path = |m: usize| tmp.path().join(format!("month-{m}.csv"));
    let mut months = (0..months_n)
        .map(|m| {
            let path = month_path(m);
            std::fs::File::create(&path)
                .map(|f| BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| Error::io(&path, e))
        })
        .collect::<Result<Vec<_>>>()?;
    for i in 0..customers {
        let (mut cells, person) = row(&mut rng, id_base + i as u64, false);
        let tolerance = true_tolerance(&mut rng, &person);
        let answer = questionnaire(&mut rng, tolerance);
        let mut held = [false; PRODUCTS.len()];
        let mut balance = person.balance;
        for (p, h) in held.iter_mut().enumerate() {
            let fit = fit(p, tolerance);
            let prior = if p == 0 {
                person.card as f64 * 3.0 - 1.5
            } else {
                -2.6
            };
            *h = rng.random::<f64>()
                < sigmoid(prior + fit + affinity(p, &person, balance, &[false; PRODUCTS.len()]));
        }
        let mut dropped = [false; PRODUCTS.len()];
        let mut lapsed = [false; PRODUCTS.len()];
        let tenure0: f64 = tenure_at.map_or(0.0, |t| cells[t].parse().unwrap_or(0.0));
        for (m, rows) in months.iter_mut().enumerate() {
            if m > 0 {
                if rng.random::<f64>() < 0.01 {
                    break;
                }
                balance = (balance * (0.03 * normal(&mut rng)).exp()).round();
                let month = Month {
                    tolerance,
                    person: &person,
                    balance,
                    m,
                    dynamics: dynamics.as_ref(),
                };
                month.step(&mut rng, &mut held, &mut dropped, &mut lapsed);
            }
            if rng.random::<f64>() < 0.003 {
                continue;
            }
            if let Some(b) = balance_at {
                cells[b] = format!("{balance}");
            }
            if let Some(t) = tenure_at {
                cells[t] = format!("{}", tenure0 + m as f64);
            }
            let line = panel_line(&cells, card_at, m, &answer, &held);
            rows.write_all(line.as_bytes())
                .map_err(|e| Error::io(month_path(m), e))?;
        }
    }
    for (m, w) in months.into_iter().enumerate() {
        w.into_inner()
            .map_err(|e| Error::io(month_path(m), e.into_error()))?;
    }
    let join = |name: &str, from: std::ops::Range<usize>| {
        with_atomic_writer(&out.join(name), |w| {
            writeln!(w, "{header}")?;
            for m in from.clone() {
                std::io::copy(&mut std::fs::File::open(month_path(m))?, w)?;
            }
            Ok(())
        })
    };
    join("holdings.csv", 0..months_n)?;
    join("latest.csv", months_n - 1..months_n)
}

/// One panel row: the customer's cells (without the card-holding column,
/// which the product flags carry), the month after the id, the risk
/// answer and the product flags.
fn panel_line(
    cells: &[String],
    card_at: Option<usize>,
    m: usize,
    answer: &str,
    held: &[bool],
) -> String {
    let mut line = String::with_capacity(200);
    for (k, cell) in cells.iter().enumerate() {
        if Some(k) == card_at {
            continue;
        }
        if k == 1 {
            line.push_str(&format!(",2024-{:02}", m + 1));
        }
        if k > 0 {
            line.push(',');
        }
        line.push_str(cell);
    }
    line.push(',');
    line.push_str(answer);
    for &h in held {
        line.push_str(if h { ",1" } else { ",0" });
    }
    line.push('\n');
    line
}
