//! report.html of `churn-train offers` (products, backtest, what is offered
//! by life stage and risk level), and the offers section of the scoring
//! report (top offers per value tier and warning level, expected value).

use super::page::{f4, Page};
use crate::offers::fit::{Backtest, Rolling};
use crate::offers::metrics::OffersMetrics;
use std::collections::BTreeMap;

/// Rows "group, product (share), …" of the top products of each group.
fn top_rows(groups: &BTreeMap<String, BTreeMap<String, usize>>, k: usize) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|(g, counts)| {
            let total: usize = counts.values().sum();
            let mut v: Vec<(&String, &usize)> = counts.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let mut row = vec![g.clone(), total.to_string()];
            row.extend(
                v.iter().take(k).map(|(p, n)| {
                    format!("{p} ({:.0}%)", 100.0 * **n as f64 / total.max(1) as f64)
                }),
            );
            row.resize(k + 2, String::new());
            row
        })
        .collect()
}

/// A "Product strategy" table: the top offered products per group.
pub fn strategy(
    page: &mut Page,
    id: &str,
    what: &str,
    groups: &BTreeMap<String, BTreeMap<String, usize>>,
) {
    page.table(
        id,
        &[what, "offers", "1st", "2nd", "3rd", "4th"],
        &top_rows(groups, 4),
    );
}

/// The rolling backtest: what it is, each period's figures and the mean.
fn backtest(page: &mut Page, r: &Rolling) {
    page.note(&format!(
        "This is a backtest, not a measurement of the offers below: for each of the last {} period(s), the models were refitted on the periods before it, every customer of the period before was ranked and compared with what they took up. The mean over the periods estimates next period's MAP@7; the spread shows how much one month's mix of take-ups moves it. A period whose models learned only from transitions without the period before (no holding changes) is shown but not in the mean.",
        r.periods.len()
    ));
    let line = |what: String, b: &Backtest| {
        vec![
            what,
            b.customers_with_take_up.to_string(),
            f4(b.model.map_at_7),
            f4(b.model_by_propensity.map_at_7),
            f4(b.popularity.map_at_7),
            f4(b.model.hit_at_3),
            f4(b.popularity.hit_at_3),
        ]
    };
    let mut rows: Vec<Vec<String>> = (r.periods.iter())
        .map(|b| {
            line(
                format!(
                    "{}{}",
                    b.period,
                    if b.counted { "" } else { " (not in the mean)" }
                ),
                b,
            )
        })
        .collect();
    rows.push(vec![
        "mean".into(),
        String::new(),
        f4(r.mean.map_at_7),
        f4(r.mean_by_propensity.map_at_7),
        f4(r.popularity_mean.map_at_7),
        f4(r.mean.hit_at_3),
        f4(r.popularity_mean.hit_at_3),
    ]);
    page.table(
        "backtest-table",
        &[
            "period ranked",
            "customers with a take-up",
            "MAP@7 as served",
            "MAP@7 by propensity",
            "MAP@7 popularity",
            "hit@3 as served",
            "hit@3 popularity",
        ],
        &rows,
    );
    page.note(&format!(
        "MAP@7 as served from {} to {} over the periods. Popularity ranks by each product's take-up rate under the same suitability rules; as served ranks by expected value when every product has a margin, which orders both rankings alike.",
        f4(r.map_at_7_min),
        f4(r.map_at_7_max)
    ));
}

/// The whole report of an offers training run.
pub fn render(m: &OffersMetrics) -> String {
    let mut page = Page::new("Next-best offers");
    let p = &m.panel;
    page.note(&format!(
        "{} rows, {} customers, periods {} … {} ({} transitions). Target: {}. Ranking: {}. Suitability: a product is offered only if its risk rating R ≤ the customer's level C, it is not held and every eligibility rule holds on known data.",
        p.rows,
        p.customers,
        p.periods.first().map_or("", String::as_str),
        p.periods.last().map_or("", String::as_str),
        p.transitions,
        m.target,
        m.ranking
    ));
    page.note(&format!(
        "Missing customer-periods (gaps): {}; customers who left the panel: {}; invalid risk answers (estimated instead): {}; number cells read as missing: {}; blank holding cells (holding unknown: not offered, no example): {}.",
        p.missing_customer_periods, p.customers_left, p.invalid_risk_answers, p.coerced_cells, p.unknown_holding_cells
    ));
    page.section("products", "Products");
    let rows: Vec<Vec<String>> = m
        .products
        .iter()
        .map(|l| {
            vec![
                l.id.clone(),
                format!("R{}", l.risk),
                l.category.clone(),
                l.model.to_string(),
                l.rows.to_string(),
                l.positives.to_string(),
                format!("{:.4}", l.take_up_rate),
                l.roc_auc_oof.map_or("–".into(), f4),
                l.offered_top3.to_string(),
            ]
        })
        .collect();
    page.table(
        "product-table",
        &[
            "product",
            "risk",
            "category",
            "model",
            "examples",
            "take-ups",
            "rate",
            "ROC AUC (OOF)",
            "in top 3",
        ],
        &rows,
    );
    page.section("backtest", "Out-of-time backtest");
    match &m.rolling_backtest {
        Some(r) => backtest(&mut page, r),
        None => page.note("No backtest: it needs a period column with at least three periods."),
    }
    page.section(
        "strategy",
        "Product strategy by life stage (latest period, top 3 offers)",
    );
    strategy(&mut page, "stage-table", "life stage", &m.top3_by_stage);
    page.section("risk", "Risk-tolerance levels (latest period)");
    let levels: Vec<Vec<String>> = m
        .risk_levels
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    page.table("risk-table", &["level and source", "customers"], &levels);
    page.note(&format!(
        "Customers with at least one offer: {}; with none (nothing suitable and eligible): {}.",
        m.customers_offered, m.customers_without_offer
    ));
    page.finish()
}
