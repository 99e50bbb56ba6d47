//! Suitability and ranking: which products a customer may be offered, and
//! in which order. The one place the rules live — training's offers.csv,
//! its backtest and scoring all rank through [`rank`].
//!
//! A product is offered only when **its rating R ≤ the customer's level
//! C**, the customer does not hold it, and every eligibility rule of the
//! catalog is met on known data: an unknown age, balance, tier or life
//! stage fails a rule that needs it (an offer is never made on a guess).
//! Retention products go only to customers at orange or red warning
//! levels, and then rank first. The rest rank by expected value
//! (propensity × margin) when every product has a margin, else by
//! propensity; ties keep catalog order.

use super::catalog::{Catalog, Product};

/// What the rules need to know of one customer.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    /// Risk-tolerance level 1..=5.
    pub level: u8,
    pub age: f64,
    pub balance: f64,
    pub tier: Option<&'a str>,
    pub stage: Option<&'static str>,
    /// Churn warning level (`None` when not scored).
    pub warning: Option<&'a str>,
    /// 1 = holds product p (catalog order).
    pub held: &'a [u8],
}

/// May `p` (the catalog's product number `k`) be offered to `c`?
pub fn eligible(p: &Product, k: usize, c: &Profile) -> bool {
    let known_in = |v: f64, lo: Option<f64>, hi: Option<f64>| {
        (lo.is_none() && hi.is_none())
            || (!v.is_nan() && lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v <= hi))
    };
    p.risk <= c.level
        && c.held.get(k) == Some(&0)
        && known_in(c.age, p.min_age, p.max_age)
        && known_in(c.balance, p.min_balance, None)
        && (p.tiers.is_empty() || c.tier.is_some_and(|t| p.tiers.iter().any(|x| x == t)))
        && (p.lifecycle.is_empty() || c.stage.is_some_and(|s| p.lifecycle.iter().any(|x| x == s)))
        && (!p.retention || matches!(c.warning, Some("red" | "orange")))
}

/// The value a product is ranked by: expected value or propensity.
pub fn value(catalog: &Catalog, k: usize, propensity: f64) -> f64 {
    match (catalog.uses_margins(), catalog.products[k].margin) {
        (true, Some(m)) => propensity * m,
        _ => propensity,
    }
}

/// The top `n` eligible products for `c` by `propensity` (one per catalog
/// product): (product number, ranking value), best first.
pub fn rank(catalog: &Catalog, c: &Profile, propensity: &[f64], n: usize) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    rank_into(catalog, c, propensity, n, &mut out);
    out
}

/// [`rank`] into `out` (cleared first), so that ranking many customers
/// reuses one list. Each eligible product is inserted after every product
/// that ranks at least as high (a stable order: equal values keep catalog
/// order), and the list never grows past `n`: with a catalog of 20 and a
/// top 3, no sort of the whole catalog per customer.
pub fn rank_into(
    catalog: &Catalog,
    c: &Profile,
    propensity: &[f64],
    n: usize,
    out: &mut Vec<(usize, f64)>,
) {
    out.clear();
    let retention = |k: usize| catalog.products[k].retention;
    // Does `a` rank strictly above `b`? Retention first, then value.
    let above = |a: (usize, f64), b: (usize, f64)| {
        (retention(a.0).cmp(&retention(b.0)))
            .then(a.1.total_cmp(&b.1))
            .is_gt()
    };
    for (k, p) in catalog.products.iter().enumerate() {
        if !eligible(p, k, c) {
            continue;
        }
        let offer = (k, value(catalog, k, propensity[k]));
        let at = out.partition_point(|&o| !above(offer, o));
        if at < n {
            out.insert(at, offer);
            out.truncate(n);
        }
    }
}

/// Average precision at `k` of a ranked list against the products the
/// customer took (`relevant`, non-empty).
pub fn average_precision(ranked: &[usize], relevant: &[usize], k: usize) -> f64 {
    let (mut hits, mut sum) = (0usize, 0.0);
    for (i, p) in ranked.iter().take(k).enumerate() {
        if relevant.contains(p) {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    sum / relevant.len().min(k).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_precision_matches_hand_counts() {
        // Hits at ranks 1 and 3 of 2 relevant: (1/1 + 2/3) / 2.
        let ap = average_precision(&[4, 7, 2], &[4, 2], 7);
        assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(average_precision(&[1, 2], &[9], 7), 0.0);
    }
}
