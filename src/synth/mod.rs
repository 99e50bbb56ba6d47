//! The seeded generator of the embedded demo data (`data/customers.csv`,
//! `data/score_sample.csv`): a synthetic retail-bank customer table with
//! realistic columns and a *planted* churn mechanism, so the product runs on
//! a fresh machine with no customer data and the models have something real
//! to find.
//!
//! Planted mechanism (log-odds of churning within 12 months): complaints,
//! inactivity, a falling transaction count (recent vs earlier quarter),
//! overdue payments, single-product customers and short tenure raise it;
//! two products, salary-account activity and long tenure lower it; age acts
//! non-linearly (peaks around 50-60). About 20% churn. A few duplicate rows,
//! blanks and missing incomes exercise the cleaning steps.

pub mod campaign;
pub mod holdings;
pub mod logs;

use crate::error::Result;
use crate::io::with_atomic_writer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

const SURNAMES: [&str; 12] = [
    "Smith", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Jensen", "Novak", "Silva",
    "Brown", "Chen", "Okafor",
];
const REGIONS: [&str; 5] = ["Capital", "North", "South", "East", "West"];
const OCCUPATIONS: [&str; 5] = [
    "salaried",
    "self-employed",
    "public-sector",
    "retired",
    "student",
];

/// Column names of the generated table.
pub const COLUMNS: [&str; 24] = [
    "customer_id",
    "surname",
    "age",
    "gender",
    "region",
    "occupation",
    "tenure_months",
    "balance",
    "num_products",
    "credit_score",
    "has_credit_card",
    "is_active",
    "estimated_income",
    "txn_count_3m",
    "txn_count_prev_3m",
    "txn_amount_3m",
    "days_since_last_txn",
    "online_logins_30d",
    "branch_visits_90d",
    "complaints_12m",
    "overdue_payments_12m",
    "credit_utilisation",
    "monthly_profit",
    "churned",
];

pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let l = (-lambda).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// Write `rows` customers to `out` (without the label when `label` is false).
pub fn generate(out: &Path, rows: usize, seed: u64, label: bool) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let id_base = 100_000 + (seed % 97) * 1_000_000;
    let cols: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| label || *c != "churned")
        .collect();
    with_atomic_writer(out, |w| {
        writeln!(w, "{}", cols.join(","))?;
        let mut last = String::new();
        for i in 0..rows {
            // About 0.1% of rows repeat the previous customer (a double export).
            if i > 0 && rng.random::<f64>() < 0.001 {
                writeln!(w, "{last}")?;
                continue;
            }
            last = row(&mut rng, id_base + i as u64, label).0.join(",");
            writeln!(w, "{last}")?;
        }
        Ok(())
    })
}

/// What the holdings generator needs of a drawn customer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Person {
    pub age: f64,
    pub income: f64,
    pub balance: f64,
    pub credit: f64,
    pub overdue: u32,
    pub complaints: u32,
    pub card: u8,
    pub tenure: f64,
    pub active: u8,
    pub profit: f64,
    /// Log-odds of churning within 12 months (the planted mechanism, with
    /// this customer's own noise).
    pub logit: f64,
    /// The same without the noise: what the customer's columns tell.
    pub observed: f64,
}

/// One customer: the cells of a row (in [`COLUMNS`] order, the label last
/// when `label`) and the drawn values behind them.
pub(crate) fn row(rng: &mut ChaCha8Rng, id: u64, label: bool) -> (Vec<String>, Person) {
    let age = (18.0 + 12.0 * normal(rng).abs() + 30.0 * rng.random::<f64>())
        .min(88.0)
        .round();
    let gender = if rng.random::<f64>() < 0.5 { "F" } else { "M" };
    let region = REGIONS[rng.random_range(0..REGIONS.len())];
    let occ = if age >= 65.0 {
        "retired"
    } else if age < 24.0 && rng.random::<f64>() < 0.6 {
        "student"
    } else {
        OCCUPATIONS[rng.random_range(0..3)]
    };
    let tenure = (rng.random::<f64>().powf(1.3) * 240.0).round();
    let income =
        (35_000.0 * (0.45 * normal(rng)).exp() * if occ == "student" { 0.3 } else { 1.0 }).round();
    let products = [1, 1, 1, 2, 2, 2, 2, 3, 4][rng.random_range(0..9)] as f64;
    let balance = if rng.random::<f64>() < 0.3 {
        0.0
    } else {
        (income * 0.8 * (0.8 * normal(rng)).exp()).round()
    };
    let credit = (650.0 + 90.0 * normal(rng)).clamp(300.0, 850.0).round();
    let card = (rng.random::<f64>() < 0.7) as u8;
    let active = (rng.random::<f64>() < 0.55) as u8;
    let prev = poisson(rng, if active == 1 { 30.0 } else { 10.0 }) as f64;
    let decline = rng.random::<f64>() < 0.25;
    let recent = if decline {
        (prev * rng.random::<f64>() * 0.5).round()
    } else {
        poisson(rng, prev.max(1.0)) as f64
    };
    let amount = (recent * 60.0 * (0.5 * normal(rng)).exp()).round();
    let days_since = if recent > 0.0 {
        rng.random_range(0..30)
    } else {
        rng.random_range(30..200)
    };
    let logins = poisson(rng, if active == 1 { 12.0 } else { 3.0 });
    let visits = poisson(rng, 1.2);
    let complaints = poisson(rng, 0.35);
    let overdue = poisson(rng, if credit < 580.0 { 1.0 } else { 0.15 });
    let util = (rng.random::<f64>() * (0.3 + 0.7 * (credit < 600.0) as u8 as f64)).min(1.0);
    let profit = balance * 0.0015 + products * 2.0 - 1.5 + card as f64 * 1.0;

    let trend = (recent + 1.0) / (prev + 1.0);
    let age_effect = -((age - 55.0) / 12.0).powi(2) * 0.5 + 0.6;
    let observed = -2.7
        + 0.75 * complaints as f64
        + 0.9 * (1 - active) as f64
        + 1.3 * (trend < 0.5) as u8 as f64
        + 0.5 * overdue as f64
        + age_effect
        + match products as u8 {
            1 => 0.6,
            2 => -0.9,
            3 => 1.8,
            _ => 2.8,
        }
        - 0.004 * tenure
        + 0.4 * (region == "East") as u8 as f64
        + 0.6 * (balance > 100_000.0) as u8 as f64
        - 0.02 * logins as f64;
    let logit = observed + 0.6 * normal(rng);
    let churned = (rng.random::<f64>() < 1.0 / (1.0 + (-logit).exp())) as u8;

    let income_txt = if rng.random::<f64>() < 0.03 {
        String::new()
    } else {
        format!("{income}")
    };
    let region_txt = if rng.random::<f64>() < 0.005 {
        " ".to_string()
    } else {
        region.to_string()
    };
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let mut cells: Vec<String> = [
        format!("C{id}"),
        surname.to_string(),
        format!("{age}"),
        gender.to_string(),
        region_txt,
        occ.to_string(),
        format!("{tenure}"),
        format!("{balance}"),
        format!("{products}"),
        format!("{credit}"),
        format!("{card}"),
        format!("{active}"),
        income_txt,
        format!("{recent}"),
        format!("{prev}"),
        format!("{amount}"),
        format!("{days_since}"),
        format!("{logins}"),
        format!("{visits}"),
        format!("{complaints}"),
        format!("{overdue}"),
        format!("{util:.3}"),
        format!("{profit:.2}"),
    ]
    .into();
    if label {
        cells.push(format!("{churned}"));
    }
    let person = Person {
        age,
        income,
        balance,
        credit,
        overdue,
        complaints,
        card,
        tenure,
        active,
        profit,
        logit,
        observed,
    };
    (cells, person)
}
