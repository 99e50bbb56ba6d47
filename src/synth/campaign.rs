//! `churn-train generate --campaign`: a seeded retention campaign over the
//! flat generator's customers, with a *planted* heterogeneous effect, so the
//! campaign statistics and the uplift learners are tested against a known
//! truth (as `hazard.csv` is for the logs).
//!
//! Every customer is drawn as in the flat table (same columns and churn
//! mechanism, the label left out) and randomised to one of three arms with
//! equal chances: `control` (the holdout), `call` and `email`. The call
//! moves the churn probability by an amount the customer's columns decide
//! (the churn mechanism's log-odds without its per-customer noise, ℓ): by
//! σ(ℓ + effect) − σ(ℓ), the effect by the first rule that applies:
//! - lost cause: σ(ℓ) ≥ 0.55 (churn likely whatever is done) — no effect;
//! - do not disturb: no complaints, tenure ≥ 120 months and active — +1.0
//!   (contact reminds a quiet, loyal customer to look around);
//! - persuadable: a complaint in the last 12 months, or inactive — −1.2
//!   and down to −2.2 more with the balance (−1.0 × min(balance / 50,000, 1):
//!   more to lose, more to gain from a retention offer);
//! - sure thing: everyone else — −0.2.
//!
//! The email's effect is 0.4 × the call's; a probability moved past 0 or 1
//! stops there. Outcomes: `churned` (drawn from
//! the customer's arm's probability) and `revenue_12m` (monthly profit over
//! the months stayed). `effects.csv` holds the truth per customer: the
//! segment, the churn probability under each arm, the retention uplift of
//! each treatment (P(churn | control) − P(churn | arm)) and a CLV (two
//! years of positive monthly profit).

use super::{row, COLUMNS};
use crate::error::{Error, Result};
use crate::io::with_atomic_writer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The arms, control first.
pub const ARMS: [&str; 3] = ["control", "call", "email"];
/// The email's effect as a share of the call's (log-odds).
const EMAIL_SHARE: f64 = 0.4;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The planted segment and the call's effect on the log-odds of churning.
fn call_effect(p: &super::Person) -> (&'static str, f64) {
    if sigmoid(p.observed) >= 0.55 {
        ("lost_cause", 0.0)
    } else if p.complaints == 0 && p.tenure >= 120.0 && p.active == 1 {
        ("do_not_disturb", 1.0)
    } else if p.complaints >= 1 || p.active == 0 {
        ("persuadable", -1.2 - (p.balance / 50_000.0).min(1.0))
    } else {
        ("sure_thing", -0.2)
    }
}

/// Write a campaign of `customers` into `dir`: `campaign.csv` (the flat
/// table's columns, `arm`, `churned`, `revenue_12m`) and `effects.csv`.
pub fn generate(dir: &Path, customers: usize, seed: u64) -> Result<()> {
    if customers == 0 {
        return Err(Error::Config(
            "generate --campaign: --customers must be at least 1".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0CA3_9A16);
    let mut table = String::new();
    let mut truth =
        String::from("customer_id,segment,p_control,p_call,p_email,uplift_call,uplift_email,clv\n");
    let header: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|&c| c != "churned")
        .collect();
    table += &format!("{},arm,churned,revenue_12m\n", header.join(","));
    for i in 0..customers {
        let (cells, person) = row(&mut rng, 500_000 + i as u64, false);
        let (segment, effect) = call_effect(&person);
        let base = sigmoid(person.logit);
        let moved = |e: f64| {
            (base + sigmoid(person.observed + e) - sigmoid(person.observed)).clamp(0.0, 1.0)
        };
        let p = [base, moved(effect), moved(EMAIL_SHARE * effect)];
        let arm = rng.random_range(0..ARMS.len());
        let churned = rng.random::<f64>() < p[arm];
        let months = if churned { rng.random_range(0..12) } else { 12 } as f64;
        let revenue = person.profit * months;
        table += &format!(
            "{},{},{},{revenue:.2}\n",
            cells.join(","),
            ARMS[arm],
            churned as u8
        );
        truth += &format!(
            "{},{segment},{:.6},{:.6},{:.6},{:.6},{:.6},{:.2}\n",
            cells[0],
            p[0],
            p[1],
            p[2],
            p[0] - p[1],
            p[0] - p[2],
            person.profit.max(0.0) * 24.0
        );
    }
    for (name, text) in [("campaign.csv", &table), ("effects.csv", &truth)] {
        with_atomic_writer(&dir.join(name), |w| w.write_all(text.as_bytes()))?;
    }
    Ok(())
}
