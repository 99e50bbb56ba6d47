//! `[score.contact]`: the capacity or budget of a retention campaign and
//! the costs the contact list weighs (see `scoring::contact`).

use serde::{Deserialize, Serialize};

/// `[score.contact]` / `--capacity`, `--budget`, `--contact-cost`,
/// `--incentive-cost`, `--accept-rate`. The list is made when a capacity or
/// a budget is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactConfig {
    /// Customers the team can contact.
    pub capacity: Option<usize>,
    /// Money the campaign may spend (contact costs and expected incentives).
    pub budget: Option<f64>,
    /// Cost of one contact (call, letter).
    pub contact_cost: f64,
    /// Cost of the incentive, paid to those who accept.
    pub incentive_cost: f64,
    /// Share of contacted churners who accept and stay.
    pub accept_rate: f64,
}

impl Default for ContactConfig {
    fn default() -> Self {
        ContactConfig {
            capacity: None,
            budget: None,
            contact_cost: 1.0,
            incentive_cost: 10.0,
            accept_rate: 0.3,
        }
    }
}

impl ContactConfig {
    /// Is a contact list asked for?
    pub fn is_set(&self) -> bool {
        self.capacity.is_some() || self.budget.is_some()
    }

    pub fn is_default(&self) -> bool {
        *self == ContactConfig::default()
    }

    /// What one contact is expected to cost.
    pub fn cost_per_contact(&self) -> f64 {
        self.contact_cost + self.incentive_cost * self.accept_rate
    }

    /// How many customers the list holds: the capacity, or what the budget
    /// buys, whichever is smaller.
    pub fn slots(&self) -> usize {
        let bought = self.budget.map(|b| match self.cost_per_contact() {
            c if c > 0.0 => (b / c).floor().min(usize::MAX as f64) as usize,
            _ => usize::MAX,
        });
        match (self.capacity, bought) {
            (Some(c), Some(b)) => c.min(b),
            (Some(c), None) => c,
            (None, Some(b)) => b,
            (None, None) => 0,
        }
    }

    /// The expected value saved by contacting a customer with churn
    /// probability `p` and customer value `clv` (NaN when the value is
    /// unknown).
    pub fn expected_value(&self, p: f64, clv: f64) -> f64 {
        p * self.accept_rate * clv - self.cost_per_contact()
    }

    /// The expected value saved by contacting a customer whose retention
    /// uplift (from an uplift model) is `uplift` and value `clv`.
    pub fn expected_value_of_uplift(&self, uplift: f64, clv: f64) -> f64 {
        uplift * clv - self.cost_per_contact()
    }

    /// Errors name the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.capacity == Some(0) {
            return Err("score.contact.capacity (--capacity) must be at least 1".into());
        }
        if self.budget.is_some_and(|b| !(b > 0.0 && b.is_finite())) {
            return Err("score.contact.budget (--budget) must be a positive amount".into());
        }
        for (name, v) in [
            ("contact_cost (--contact-cost)", self.contact_cost),
            ("incentive_cost (--incentive-cost)", self.incentive_cost),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("score.contact.{name} must be 0 or more"));
            }
        }
        if !(self.accept_rate > 0.0 && self.accept_rate <= 1.0) {
            return Err("score.contact.accept_rate (--accept-rate) must be in (0, 1]".into());
        }
        Ok(())
    }
}
