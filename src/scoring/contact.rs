//! Who to contact under a capacity or a budget, by the value a contact is
//! expected to save — not by churn probability alone: a likely leaver worth
//! little saves less than a less likely one worth much.
//!
//! Without an uplift model the expected value saved by contacting a
//! customer is the documented fallback
//! `P(churn) × accept rate × CLV − contact cost − incentive × accept rate`:
//! a contacted churner stays when they accept the offer (the accept rate),
//! every contact costs, and the incentive is paid to those who accept. A
//! customer whose CLV is unknown has no expected value and is never on the
//! list (counted). Each customer's value is a column of scores.csv; the
//! list itself needs the whole batch, so it is kept as the `capacity` best
//! seen so far (memory bounded by the capacity, not the batch) and written
//! as contacts.csv when the batch ends. A budget buys `budget / (contact
//! cost + incentive × accept rate)` contacts. Beside the list, the same
//! number of customers taken by churn probability alone, and the value
//! they would have saved: the comparison a CRM team asks for.

pub use crate::config::ContactConfig;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

/// One customer on (or in the running for) the list.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub expected_value: f64,
    pub probability: f64,
    /// Arrival order in the batch: equal values keep the earlier customer.
    pub order: u64,
    pub id: String,
    pub level: &'static str,
    pub tier: Arc<str>,
    pub action: Arc<str>,
    pub offer: String,
}

/// A candidate ranked by a key (higher first, earlier first on ties); the
/// heap keeps the worst on top, so the list drops it when a better one
/// comes.
struct Ranked(f64, Candidate);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    /// "Greater" = worse: a lower key, or a later customer at the same key.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then(self.1.order.cmp(&other.1.order))
    }
}

/// The best `slots` candidates by a key.
struct Best {
    slots: usize,
    heap: BinaryHeap<Ranked>,
}

impl Best {
    fn new(slots: usize) -> Best {
        Best {
            slots,
            heap: BinaryHeap::new(),
        }
    }

    fn offer(&mut self, key: f64, c: impl FnOnce() -> Candidate) {
        if self.slots == 0 {
            return;
        }
        if self.heap.len() < self.slots {
            self.heap.push(Ranked(key, c()));
            return;
        }
        let worst = self.heap.peek().map(|w| w.0);
        if worst.is_some_and(|w| key > w) {
            self.heap.pop();
            self.heap.push(Ranked(key, c()));
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<Candidate> {
        // Ascending by `Ord`, i.e. best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

/// The contact list of a batch, built chunk by chunk.
pub struct ContactList {
    cfg: ContactConfig,
    by_value: Best,
    by_probability: Best,
    seen: u64,
    no_value: usize,
    not_worth_it: usize,
}

impl ContactList {
    pub fn new(cfg: &ContactConfig) -> ContactList {
        let slots = cfg.slots();
        ContactList {
            cfg: cfg.clone(),
            by_value: Best::new(slots),
            by_probability: Best::new(slots),
            seen: 0,
            no_value: 0,
            not_worth_it: 0,
        }
    }

    /// One scored customer (`make` builds the row only when it may be kept).
    pub fn add(&mut self, ev: f64, p: f64, make: impl Fn(u64) -> Candidate) {
        let order = self.seen;
        self.seen += 1;
        if ev.is_nan() {
            self.no_value += 1;
            return;
        }
        // Top-N by probability alone, whatever their value (the comparison).
        self.by_probability.offer(p, || make(order));
        if ev <= 0.0 {
            self.not_worth_it += 1;
            return;
        }
        self.by_value.offer(ev, || make(order));
    }

    /// The list, best first, and its summary.
    pub fn finish(self) -> (Vec<Candidate>, ContactSummary) {
        let list = self.by_value.into_sorted();
        let by_p = self.by_probability.into_sorted();
        let mut by_tier: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
        for c in &list {
            *by_tier.entry(c.tier.to_string()).or_default() += 1;
            *by_level.entry(c.level.to_string()).or_default() += 1;
        }
        let summary = ContactSummary {
            rule: "P(churn) × accept rate × CLV − contact cost − incentive × accept rate (no uplift model)",
            capacity: self.cfg.capacity,
            budget: self.cfg.budget,
            slots: self.cfg.slots(),
            cost_per_contact: self.cfg.cost_per_contact(),
            accept_rate: self.cfg.accept_rate,
            contacted: list.len(),
            expected_value_saved: list.iter().map(|c| c.expected_value).sum(),
            spent: list.len() as f64 * self.cfg.cost_per_contact(),
            by_tier,
            by_level,
            top_by_probability: by_p.len(),
            top_by_probability_expected_value: by_p.iter().map(|c| c.expected_value).sum(),
            customers_without_value: self.no_value,
            customers_not_worth_a_contact: self.not_worth_it,
        };
        (list, summary)
    }
}

/// summary.json's `contacts`.
#[derive(Debug, Clone, Serialize)]
pub struct ContactSummary {
    pub rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    /// Customers the capacity or the budget allows.
    pub slots: usize,
    pub cost_per_contact: f64,
    pub accept_rate: f64,
    /// Customers on the list (fewer than the slots when fewer are worth a contact).
    pub contacted: usize,
    pub expected_value_saved: f64,
    pub spent: f64,
    pub by_tier: BTreeMap<String, usize>,
    pub by_level: BTreeMap<String, usize>,
    /// The same number of customers by churn probability alone, and the
    /// value they would save.
    pub top_by_probability: usize,
    pub top_by_probability_expected_value: f64,
    /// CLV unknown: no expected value, never listed.
    pub customers_without_value: usize,
    /// Expected value ≤ 0: a contact costs more than it saves.
    pub customers_not_worth_a_contact: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(order: u64, ev: f64, p: f64) -> Candidate {
        Candidate {
            expected_value: ev,
            probability: p,
            order,
            id: format!("c{order}"),
            level: "red",
            tier: Arc::from("gold"),
            action: Arc::from("call"),
            offer: String::new(),
        }
    }

    #[test]
    fn the_list_keeps_the_best_values_first_and_earlier_on_ties() {
        let cfg = ContactConfig {
            capacity: Some(3),
            ..ContactConfig::default()
        };
        let mut list = ContactList::new(&cfg);
        let rows = [
            (5.0, 0.9),
            (f64::NAN, 0.99),
            (9.0, 0.2),
            (-1.0, 0.95),
            (9.0, 0.1),
            (7.0, 0.5),
            (1.0, 0.8),
        ];
        for &(ev, p) in rows.iter() {
            list.add(ev, p, |o| cand(o, ev, p));
        }
        let (best, s) = list.finish();
        let ids: Vec<&str> = best.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c2", "c4", "c5"]);
        assert_eq!(s.expected_value_saved, 25.0);
        assert_eq!(
            (s.customers_without_value, s.customers_not_worth_a_contact),
            (1, 1)
        );
        // By probability: 0.95 (−1), 0.9 (5), 0.8 (1) → 5; the unknown-value
        // customer is not counted on either list.
        assert_eq!(s.top_by_probability_expected_value, 5.0);
        assert!(s.expected_value_saved >= s.top_by_probability_expected_value);
    }

    #[test]
    fn a_budget_buys_contacts_and_values_follow_the_rule() {
        let cfg = ContactConfig {
            budget: Some(100.0),
            contact_cost: 2.0,
            incentive_cost: 10.0,
            accept_rate: 0.3,
            ..ContactConfig::default()
        };
        assert_eq!(cfg.slots(), 20); // 100 / (2 + 10 × 0.3)
        let capped = ContactConfig {
            capacity: Some(7),
            ..cfg.clone()
        };
        assert_eq!(capped.slots(), 7);
        assert!((cfg.expected_value(0.5, 1000.0) - (150.0 - 5.0)).abs() < 1e-12);
        assert!(cfg.expected_value(0.5, f64::NAN).is_nan());
        assert!(ContactConfig {
            accept_rate: 0.0,
            ..cfg.clone()
        }
        .validate()
        .is_err());
        assert!(ContactConfig {
            capacity: Some(0),
            ..cfg
        }
        .validate()
        .is_err());
    }
}
