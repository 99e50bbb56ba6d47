//! The product catalog (`data/products.toml`, `--products FILE`): what the
//! bank can offer, each product's risk rating R1–R5, the column that says
//! who holds it, and its eligibility rules. Checked once when read, so a
//! catalog error stops a job before any data is touched, naming the product.

use super::risk::RiskRule;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Life stages by age (the domain's young / mid-life / older).
pub const STAGES: [&str; 3] = ["young", "mid-life", "older"];

/// One product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Stable id used in every output.
    pub id: String,
    pub name: String,
    /// Holding flag in the customer table (1/0, yes/no, true/false).
    pub column: String,
    /// Product risk rating R1..R5.
    pub risk: u8,
    #[serde(default)]
    pub category: String,
    /// Yearly margin per holder (expected value = propensity × margin).
    #[serde(default)]
    pub margin: Option<f64>,
    #[serde(default)]
    pub min_age: Option<f64>,
    #[serde(default)]
    pub max_age: Option<f64>,
    #[serde(default)]
    pub min_balance: Option<f64>,
    /// Value tiers it may be offered to (empty: all).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Life stages it may be offered to (empty: all).
    #[serde(default)]
    pub lifecycle: Vec<String>,
    /// A retention product: offered only at orange/red warning levels, and
    /// then ranked first.
    #[serde(default)]
    pub retention: bool,
}

/// Which customer-table columns hold the inputs of the eligibility and
/// risk-tolerance rules. Unset: found by name (case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Columns {
    pub age: Option<String>,
    pub income: Option<String>,
    pub balance: Option<String>,
    pub tenure: Option<String>,
    pub credit_score: Option<String>,
    pub overdue: Option<String>,
    /// A value-tier column, when the training data has one (scoring knows
    /// every customer's tier from the churn model).
    pub tier: Option<String>,
}

/// Names tried, in order, for each rule input.
const CANDIDATES: [(&str, &[&str]); 6] = [
    ("age", &["age", "customer_age"]),
    (
        "income",
        &[
            "estimated_income",
            "income",
            "estimatedsalary",
            "salary",
            "annual_income",
        ],
    ),
    ("balance", &["balance", "aum", "total_balance", "assets"]),
    ("tenure", &["tenure_months", "tenure"]),
    ("credit_score", &["credit_score", "creditscore"]),
    (
        "overdue",
        &["overdue_payments_12m", "overdue_payments", "overdue"],
    ),
];

impl Columns {
    /// Fill unset inputs from the data's column names.
    pub fn detect(&mut self, names: &[String]) {
        let find = |cands: &[&str]| {
            cands
                .iter()
                .find_map(|c| names.iter().find(|n| n.eq_ignore_ascii_case(c)).cloned())
        };
        for (key, cands) in CANDIDATES {
            let slot = match key {
                "age" => &mut self.age,
                "income" => &mut self.income,
                "balance" => &mut self.balance,
                "tenure" => &mut self.tenure,
                "credit_score" => &mut self.credit_score,
                _ => &mut self.overdue,
            };
            if slot.is_none() {
                *slot = find(cands);
            }
        }
    }

    /// The numeric rule inputs that are set: (role, column).
    pub fn numeric(&self) -> Vec<(&'static str, &str)> {
        [
            ("age", &self.age),
            ("income", &self.income),
            ("balance", &self.balance),
            ("tenure", &self.tenure),
            ("credit_score", &self.credit_score),
            ("overdue", &self.overdue),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// Ages that bound the life stages: young below `young_below`, older from
/// `older_from`, mid-life between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifeStages {
    pub young_below: f64,
    pub older_from: f64,
}

impl Default for LifeStages {
    fn default() -> Self {
        LifeStages {
            young_below: 35.0,
            older_from: 55.0,
        }
    }
}

impl LifeStages {
    /// The stage of `age` (`None` when unknown).
    pub fn of(&self, age: f64) -> Option<&'static str> {
        if age.is_nan() {
            None
        } else if age < self.young_below {
            Some(STAGES[0])
        } else if age < self.older_from {
            Some(STAGES[1])
        } else {
            Some(STAGES[2])
        }
    }
}

/// The whole catalog file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(rename = "product")]
    pub products: Vec<Product>,
    #[serde(default)]
    pub columns: Columns,
    #[serde(default)]
    pub life_stage: LifeStages,
    #[serde(default)]
    pub risk: RiskRule,
}

impl Catalog {
    /// Read and check a catalog file.
    pub fn load(path: &Path) -> Result<Catalog> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let catalog: Catalog = toml::from_str(&text).map_err(|e| {
            Error::format(path, e.to_string().lines().collect::<Vec<_>>().join(" "))
        })?;
        catalog.check().map_err(|m| Error::format(path, m))?;
        Ok(catalog)
    }

    /// Every rule a catalog must keep; the message names the product.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.products.is_empty() {
            return Err("the catalog lists no [[product]]".into());
        }
        let tiers = crate::reference::segment::TIERS;
        for (i, p) in self.products.iter().enumerate() {
            let bad = |m: String| Err(format!("product '{}': {m}", p.id));
            if p.id.trim().is_empty() || p.id.contains([',', '"', '\n']) {
                return Err(format!(
                    "product {}: id must be non-empty, without commas or quotes",
                    i + 1
                ));
            }
            if self.products[..i].iter().any(|q| q.id == p.id) {
                return bad("duplicate id".into());
            }
            if !(1..=5).contains(&p.risk) {
                return bad(format!("risk {} is outside 1-5 (R1..R5)", p.risk));
            }
            if p.column.trim().is_empty() {
                return bad("column is empty".into());
            }
            if p.margin.is_some_and(|m| !(m >= 0.0 && m.is_finite())) {
                return bad("margin must be a number >= 0".into());
            }
            if let (Some(lo), Some(hi)) = (p.min_age, p.max_age) {
                if lo > hi {
                    return bad(format!("min_age {lo} is above max_age {hi}"));
                }
            }
            if let Some(t) = p.tiers.iter().find(|t| !tiers.contains(&t.as_str())) {
                return bad(format!("unknown tier '{t}' (tiers: {})", tiers.join(", ")));
            }
            if let Some(s) = p.lifecycle.iter().find(|s| !STAGES.contains(&s.as_str())) {
                return bad(format!(
                    "unknown life stage '{s}' (stages: {})",
                    STAGES.join(", ")
                ));
            }
        }
        if !(self.life_stage.young_below <= self.life_stage.older_from) {
            return Err("life_stage: young_below must not exceed older_from".into());
        }
        self.risk.check()
    }

    /// Check that the data (`names`, from `source`) has every product's
    /// column; the error names the first product whose column is missing.
    pub fn check_columns(&self, source: &str, names: &[String]) -> Result<()> {
        for p in &self.products {
            if !names.contains(&p.column) {
                return Err(Error::at(
                    source,
                    &p.column,
                    None,
                    format!("product '{}': its holding column is not in the data", p.id),
                ));
            }
        }
        Ok(())
    }

    /// Do ranks use expected value (every product has a margin)?
    pub fn uses_margins(&self) -> bool {
        self.products.iter().all(|p| p.margin.is_some())
    }
}

/// Parse a holding flag: 1/0, yes/no, y/n, true/false (any case), 1.0/0.0.
pub fn parse_flag(cell: &str) -> Option<u8> {
    let t = cell.trim();
    let is = |words: [&str; 4]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if t == "0" {
        Some(0)
    } else if is(["1", "yes", "y", "true"]) {
        Some(1)
    } else if is(["0", "no", "n", "false"]) {
        Some(0)
    } else {
        match t.parse::<f64>() {
            Ok(1.0) => Some(1),
            Ok(0.0) => Some(0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Catalog, String> {
        let c: Catalog = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check().map(|_| c)
    }

    #[test]
    fn catalog_errors_name_the_product() {
        let one = "[[product]]\nid = \"card\"\nname = \"Card\"\ncolumn = \"has_card\"\nrisk = 1\n";
        assert!(parse(one).is_ok());
        let e = parse(&one.replace("risk = 1", "risk = 6")).unwrap_err();
        assert!(
            e.contains("product 'card'") && e.contains("outside 1-5"),
            "{e}"
        );
        let e = parse(&format!("{one}{one}")).unwrap_err();
        assert!(e.contains("duplicate"), "{e}");
        let e = parse(&one.replace("risk = 1", "risk = 1\ncolour = \"red\"")).unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = parse(&one.replace("risk = 1", "risk = 1\ntiers = [\"gold\"]")).unwrap_err();
        assert!(e.contains("unknown tier 'gold'"), "{e}");
    }

    #[test]
    fn flags_accept_the_usual_spellings_only() {
        for (t, v) in [
            ("1", 1),
            ("0", 0),
            ("Yes", 1),
            ("no", 0),
            ("TRUE", 1),
            ("1.0", 1),
        ] {
            assert_eq!(parse_flag(t), Some(v), "{t}");
        }
        for t in ["2", "", "maybe", "0.5"] {
            assert_eq!(parse_flag(t), None, "{t}");
        }
    }
}
