//! Column roles: which column of a customer table is the balance, the
//! credit limit, the product count, the tenure, the income, the revenue or
//! fees the bank earns, the customer's spend, the activity, the margin.
//!
//! Why a module of its own: CLV ([`super::value`]), the value tiers
//! ([`super::segment`]) and every list ranked by value rest on these
//! choices, and real extracts spell them in many ways (`Balance`,
//! `Total_Revolving_Bal`, `AUM`; `NumOfProducts`, `Total_Relationship_Count`;
//! `MonthlyCharges`, `fee_monthly` …). A substring match on one spelling
//! left every other bank's table with CLV 0 and no tiers, silently. So the
//! roles are decided once, at training, by a documented vocabulary matched
//! on the name's words (case, separators and camelCase ignored), by
//! content where the names say nothing (a money-like column), or by
//! `[roles]`; every choice carries its reason, is printed, written to
//! data_report.json and stored in the artifact, so scoring computes value
//! exactly as training did.

use crate::error::{Error, Result};
use crate::features::{FeatureData, FeatureTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a column means for customer value (declaration order = the order
/// roles are listed and value tier features are taken in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Margin (profit) the customer brings per period.
    Margin,
    /// Periodic money the bank earns: revenue, fees, charges, commissions.
    Revenue,
    /// Cost of serving the customer (revenue − cost is the margin).
    Cost,
    /// (revenue − cost) / revenue.
    Profitability,
    /// Transaction amount / spend.
    Spend,
    /// Deposits, balances, assets under management, revolving balance.
    Balance,
    CreditLimit,
    /// Number of products / relationship count.
    Products,
    /// Months or days on book.
    Tenure,
    Income,
    /// Transaction count, logins, visits, an active flag.
    Activity,
}

/// How a role's column was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    Name,
    Content,
    Config,
}

/// The column chosen for a role, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleChoice {
    pub column: String,
    pub how: How,
    pub reason: String,
    /// Money flows (margin, revenue, cost, spend): the periods (months)
    /// one value covers, from the name (`_365d`, `annual`, `monthly`, `12_mon`)
    /// or the role's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<f64>,
}

/// The roles of a table's columns, by role.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Roles(pub BTreeMap<Role, RoleChoice>);

/// Words that say a column is not a level of anything but a change, a
/// ratio, an earlier window or a score.
const NOT_A_LEVEL: [&str; 20] = [
    "chng",
    "change",
    "trend",
    "ratio",
    "pct",
    "percent",
    "share",
    "prev",
    "previous",
    "ago",
    "delta",
    "growth",
    "diff",
    "last",
    "recency",
    "score",
    "rank",
    "utilization",
    "id",
    "code",
];

/// One spelling: every word of `all` in the name (singular forms).
struct Spelling {
    all: &'static [&'static str],
}

const fn s(all: &'static [&'static str]) -> Spelling {
    Spelling { all }
}

/// The vocabulary of a role: its spellings, the words that rule a column
/// out, words that make it likelier and words that make it less likely.
struct Vocabulary {
    role: Role,
    spellings: &'static [Spelling],
    veto: &'static [&'static str],
    prefer: &'static [&'static str],
    avoid: &'static [&'static str],
}

/// The documented vocabulary (README "Column roles"); words are matched
/// after splitting the name at separators, camelCase and digits, lower-cased,
/// a plural `s` dropped.
const VOCABULARY: [Vocabulary; 11] = [
    Vocabulary {
        role: Role::Margin,
        spellings: &[s(&["margin"]), s(&["profit"]), s(&["contribution"])],
        veto: &["rate"],
        prefer: &[],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Revenue,
        spellings: &[
            s(&["revenue"]),
            s(&["fee"]),
            s(&["charge"]),
            s(&["commission"]),
        ],
        veto: &["rate"],
        prefer: &["monthly", "month"],
        // Cumulative sums over the whole relationship are not periodic.
        avoid: &["total", "cumulative", "lifetime", "cum"],
    },
    Vocabulary {
        role: Role::Cost,
        spellings: &[s(&["cost"]), s(&["expense"])],
        veto: &["rate"],
        prefer: &[],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Profitability,
        spellings: &[s(&["profitability"])],
        veto: &[],
        prefer: &[],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Spend,
        spellings: &[
            s(&["spend"]),
            s(&["spending"]),
            s(&["amount"]),
            s(&["amt"]),
            s(&["sale"]),
            s(&["turnover"]),
            s(&["purchase", "value"]),
        ],
        veto: &[
            "loan", "limit", "credit", "balance", "bal", "income", "salary",
        ],
        prefer: &["trans", "txn", "transaction", "purchase", "card"],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Balance,
        spellings: &[
            s(&["balance"]),
            s(&["bal"]),
            s(&["aum"]),
            s(&["deposit"]),
            s(&["saving"]),
            s(&["asset"]),
            s(&["investment"]),
        ],
        veto: &["has", "is", "flag"],
        prefer: &["total", "avg", "average"],
        avoid: &[],
    },
    Vocabulary {
        role: Role::CreditLimit,
        spellings: &[s(&["limit"]), s(&["credit", "line"])],
        veto: &[],
        prefer: &["credit"],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Products,
        spellings: &[
            s(&["product"]),
            s(&["relationship", "count"]),
            s(&["holding"]),
            s(&["num", "account"]),
        ],
        veto: &["type", "name", "has", "is", "opened", "closed"],
        prefer: &["num", "count", "nb", "number"],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Tenure,
        spellings: &[
            s(&["tenure"]),
            s(&["on", "book"]),
            s(&["seniority"]),
            s(&["vintage"]),
            s(&["customer", "since"]),
            s(&["month", "customer"]),
            s(&["opened"]),
            s(&["joined"]),
        ],
        veto: &["product", "count", "num", "number"],
        prefer: &[],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Income,
        spellings: &[
            s(&["income"]),
            s(&["salary"]),
            s(&["earning"]),
            s(&["wage"]),
        ],
        veto: &["net", "interest", "fee"],
        prefer: &[],
        avoid: &[],
    },
    Vocabulary {
        role: Role::Activity,
        spellings: &[
            s(&["trans", "ct"]),
            s(&["trans", "count"]),
            s(&["txn", "count"]),
            s(&["txn", "ct"]),
            s(&["txn", "cnt"]),
            s(&["transaction", "count"]),
            s(&["num", "transaction"]),
            s(&["transaction"]),
            s(&["frequency"]),
            s(&["freq"]),
            s(&["login"]),
            s(&["visit"]),
            s(&["session"]),
            s(&["active"]),
            s(&["activity"]),
            s(&["order", "count"]),
            s(&["purchase", "count"]),
        ],
        veto: &[
            "inactive",
            "contact",
            "complaint",
            "dependent",
            "dependant",
            "day",
            "since",
            "amount",
            "amt",
            "spend",
            "value",
            "sum",
        ],
        prefer: &["count", "ct", "cnt"],
        avoid: &[],
    },
];

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Margin,
        Role::Revenue,
        Role::Cost,
        Role::Profitability,
        Role::Spend,
        Role::Balance,
        Role::CreditLimit,
        Role::Products,
        Role::Tenure,
        Role::Income,
        Role::Activity,
    ];

    /// The name in `[roles]` and data_report.json.
    pub fn name(self) -> &'static str {
        match self {
            Role::Margin => "margin",
            Role::Revenue => "revenue",
            Role::Cost => "cost",
            Role::Profitability => "profitability",
            Role::Spend => "spend",
            Role::Balance => "balance",
            Role::CreditLimit => "credit_limit",
            Role::Products => "products",
            Role::Tenure => "tenure",
            Role::Income => "income",
            Role::Activity => "activity",
        }
    }

    fn from_name(name: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                Error::Config(format!(
                    "[roles] {name}: not a role (one of {})",
                    Role::ALL.map(Role::name).join(", ")
                ))
            })
    }

    /// Roles that measure money: a column with two values (a flag) is not one.
    fn is_money(self) -> bool {
        !matches!(self, Role::Products | Role::Tenure | Role::Activity)
    }

    /// A flow's periods when its name gives no window: revenue, cost and
    /// margin are periodic (one period); spend is `spend_periods`.
    fn default_periods(self, spend_periods: f64) -> Option<f64> {
        match self {
            Role::Margin | Role::Revenue | Role::Cost => Some(1.0),
            Role::Spend => Some(spend_periods),
            _ => None,
        }
    }

    /// Roles whose columns describe value in the tiers.
    pub fn is_value(self) -> bool {
        !matches!(self, Role::Cost | Role::Profitability | Role::Activity)
    }
}

/// Words ending in `s` that are not plurals.
const NOT_PLURAL: [&str; 5] = ["trans", "status", "bonus", "plus", "gross"];

/// The words of a column name: split at anything not a letter or digit, at
/// lower→upper (camelCase) and UPPER→Upper (`HTTPCount`) changes and between
/// letters and digits; lower-cased; a plural `s` dropped from words longer
/// than three letters (not from `ss` endings).
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1);
        let split = match prev {
            Some(p) if p.is_alphanumeric() => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() != c.is_alphabetic())
                    || (p.is_uppercase()
                        && c.is_uppercase()
                        && next.is_some_and(|n| n.is_lowercase()))
            }
            _ => false,
        };
        if split && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|w| {
            if w.len() > 3
                && w.ends_with('s')
                && !w.ends_with("ss")
                && !NOT_PLURAL.contains(&w.as_str())
            {
                w[..w.len() - 1].to_string()
            } else {
                w
            }
        })
        .collect()
}

/// The periods (months) a flow column covers, from its name's words:
/// `365d`/`90d` (days), `12m`/`12_mon`/`6_months`, `annual`/`yearly`,
/// `quarterly`, `monthly`, `weekly`, `daily`.
pub fn window(words: &[String]) -> Option<f64> {
    const DAYS_PER_PERIOD: f64 = 30.4375;
    for (i, w) in words.iter().enumerate() {
        if let Ok(n) = w.parse::<f64>() {
            match words.get(i + 1).map(String::as_str) {
                Some("d" | "day") => return Some(n / DAYS_PER_PERIOD),
                Some("m" | "mon" | "month" | "mo") => return Some(n),
                Some("w" | "wk" | "week") => return Some(n * 7.0 / DAYS_PER_PERIOD),
                Some("y" | "yr" | "year") => return Some(n * 12.0),
                _ => {}
            }
        }
    }
    words.iter().find_map(|w| match w.as_str() {
        "annual" | "yearly" | "year" | "ytd" => Some(12.0),
        "quarterly" | "quarter" => Some(3.0),
        "monthly" | "month" | "mtd" => Some(1.0),
        "weekly" | "week" => Some(7.0 / DAYS_PER_PERIOD),
        "daily" => Some(1.0 / DAYS_PER_PERIOD),
        _ => None,
    })
}

/// How well `words` spell `v`'s role: `None` when no spelling matches or a
/// veto word is present; else a score (more matched words, preferred words
/// and a longer window rank higher).
fn name_score(v: &Vocabulary, words: &[String]) -> Option<(i32, &'static Spelling)> {
    let has = |w: &str| words.iter().any(|x| x == w);
    if NOT_A_LEVEL.iter().chain(v.veto).any(|w| has(w)) {
        return None;
    }
    let best = v
        .spellings
        .iter()
        .filter(|sp| sp.all.iter().all(|w| has(w)))
        .max_by_key(|sp| sp.all.len())?;
    let bonus = v.prefer.iter().filter(|w| has(w)).count() as i32;
    let malus = v.avoid.iter().filter(|w| has(w)).count() as i32;
    Some((10 * best.all.len() as i32 + bonus - 3 * malus, best))
}

/// Distinct non-missing values of a column, up to `cap`.
fn distinct(v: &[f64], cap: usize) -> usize {
    let mut seen = crate::fast::FastSet::default();
    for x in v.iter().filter(|x| !x.is_nan()) {
        seen.insert(x.to_bits());
        if seen.len() >= cap {
            break;
        }
    }
    seen.len()
}

/// What a column's content says about money: non-negative, varied (a
/// fifth of the values distinct or more), a money-like scale (median at
/// least 100) and skewed to the right (mean above median), as balances,
/// salaries and spend are and scores, ages and counts are not. The
/// reason, when it looks like money.
fn money_like(v: &[f64]) -> Option<String> {
    const SAMPLE: usize = 20_000;
    let step = (v.len() / SAMPLE).max(1);
    let mut x: Vec<f64> = v
        .iter()
        .step_by(step)
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    if x.len() < 20 {
        return None;
    }
    let negative = x.iter().filter(|&&a| a < 0.0).count() as f64 / x.len() as f64;
    let distinct = distinct(&x, x.len()) as f64 / x.len() as f64;
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let median = crate::features::median(&mut x);
    (negative <= 0.01 && distinct >= 0.2 && median >= 100.0 && mean > median).then(|| {
        format!(
            "content: non-negative, {:.0}% distinct, median {median:.0} below mean {mean:.0} (money-like)",
            100.0 * distinct
        )
    })
}

impl Roles {
    pub fn get(&self, role: Role) -> Option<&RoleChoice> {
        self.0.get(&role)
    }

    /// The column of `role`, if chosen.
    pub fn column(&self, role: Role) -> Option<&str> {
        self.get(role).map(|c| c.column.as_str())
    }

    /// Value tier features: the value roles' columns, in role order, each once.
    pub fn value_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (r, c) in &self.0 {
            if r.is_value() && !out.contains(&c.column) {
                out.push(c.column.clone());
            }
        }
        out
    }

    /// Value tier activity features: the activity role's column.
    pub fn activity_columns(&self) -> Vec<String> {
        self.column(Role::Activity)
            .map(|c| vec![c.to_string()])
            .unwrap_or_default()
    }

    /// One line per role for the console: `balance = Balance (name: …)`.
    pub fn lines(&self) -> Vec<String> {
        Role::ALL
            .iter()
            .map(|r| match self.get(*r) {
                Some(c) => format!("{} = {} ({})", r.name(), c.column, c.reason),
                None => format!("{} = none", r.name()),
            })
            .collect()
    }

    /// Decide every role on `table`: `[roles]` first (`""` removes a role),
    /// then names, then — when no money column was named — content.
    pub fn detect(table: &FeatureTable, settings: &RoleSettings) -> Result<Roles> {
        let mut roles = Roles::default();
        let mut taken: Vec<String> = Vec::new();
        for (key, column) in &settings.columns {
            let role = Role::from_name(key)?;
            if column.is_empty() {
                continue;
            }
            match table.get(column) {
                Some(FeatureData::Numeric(_)) => {}
                Some(_) => {
                    return Err(Error::Config(format!(
                        "[roles] {key} = '{column}': the column is not numeric"
                    )))
                }
                None => {
                    return Err(Error::Config(format!(
                        "[roles] {key} = '{column}': no such feature column (identifiers, dropped and excluded columns are not features)"
                    )))
                }
            }
            let w = words(column);
            roles.0.insert(
                role,
                RoleChoice {
                    column: column.clone(),
                    how: How::Config,
                    reason: "config: [roles]".into(),
                    periods: window(&w).or(role.default_periods(settings.spend_periods)),
                },
            );
            taken.push(column.clone());
        }
        let numeric: Vec<(&String, &Vec<f64>)> = table
            .names
            .iter()
            .zip(&table.columns)
            .filter_map(|(n, c)| match c {
                FeatureData::Numeric(v) => Some((n, v)),
                FeatureData::Categorical(_) => None,
            })
            .collect();
        for v in &VOCABULARY {
            if roles.0.contains_key(&v.role) || settings.columns.contains_key(v.role.name()) {
                continue;
            }
            let mut best: Option<(i32, f64, &String, &Spelling)> = None;
            for (name, values) in &numeric {
                if taken.contains(name) || (v.role.is_money() && distinct(values, 3) < 3) {
                    continue;
                }
                let w = words(name);
                let Some((score, sp)) = name_score(v, &w) else {
                    continue;
                };
                // Of two flows or counts (spend over 30 and 365 days) the
                // longer window is the steadier measure.
                let span = match v.role.default_periods(1.0) {
                    Some(_) => window(&w).unwrap_or(0.0),
                    None if v.role == Role::Activity => window(&w).unwrap_or(0.0),
                    None => 0.0,
                };
                if best.as_ref().is_none_or(|b| (score, span) > (b.0, b.1)) {
                    best = Some((score, span, name, sp));
                }
            }
            if let Some((_, _, name, sp)) = best {
                let w = words(name);
                roles.0.insert(
                    v.role,
                    RoleChoice {
                        column: name.to_string(),
                        how: How::Name,
                        reason: format!("name: the words {}", sp.all.join("+")),
                        periods: window(&w).or(v.role.default_periods(settings.spend_periods)),
                    },
                );
                taken.push(name.to_string());
            }
        }
        let money = [Role::Margin, Role::Revenue, Role::Spend, Role::Balance];
        if !money.iter().any(|r| roles.0.contains_key(r))
            && !settings.columns.contains_key(Role::Balance.name())
        {
            let found = numeric
                .iter()
                .filter(|(n, _)| !taken.contains(n))
                .filter_map(|(n, v)| money_like(v).map(|why| (n, why, v)))
                .max_by(|a, b| {
                    let mean = |v: &Vec<f64>| v.iter().filter(|x| !x.is_nan()).sum::<f64>();
                    mean(a.2).total_cmp(&mean(b.2))
                });
            if let Some((name, why, _)) = found {
                roles.0.insert(
                    Role::Balance,
                    RoleChoice {
                        column: name.to_string(),
                        how: How::Content,
                        reason: format!("{why}; no name says so: confirm with [roles] balance"),
                        periods: None,
                    },
                );
            }
        }
        Ok(roles)
    }
}

/// Fail on a `[roles]` key that is not a role (before any data is read).
pub fn check_names<'a>(names: impl IntoIterator<Item = &'a String>) -> Result<()> {
    names
        .into_iter()
        .try_for_each(|n| Role::from_name(n).map(|_| ()))
}

/// What role detection is told: `[roles]` (role → column, `""` for none)
/// and the default window of a spend column.
#[derive(Debug, Clone, Default)]
pub struct RoleSettings {
    pub columns: BTreeMap<String, String>,
    pub spend_periods: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str]) -> FeatureTable {
        let mut t = FeatureTable::default();
        for (k, n) in names.iter().enumerate() {
            let v = (0..200).map(|i| (i * (k + 3) % 97) as f64 * 37.5).collect();
            t.push(n.to_string(), FeatureData::Numeric(v));
        }
        t
    }

    fn detect(names: &[&str]) -> BTreeMap<&'static str, String> {
        let settings = RoleSettings {
            columns: BTreeMap::new(),
            spend_periods: 12.0,
        };
        Roles::detect(&table(names), &settings)
            .unwrap()
            .0
            .into_iter()
            .map(|(r, c)| (r.name(), c.column))
            .collect()
    }

    #[test]
    fn words_split_case_separators_and_digits() {
        assert_eq!(words("NumOfProducts"), ["num", "of", "product"]);
        assert_eq!(words("Total_Trans_Ct"), ["total", "trans", "ct"]);
        assert_eq!(words("txn_amount_365d"), ["txn", "amount", "365", "d"]);
        assert_eq!(words("HTTPCount"), ["http", "count"]);
        assert_eq!(
            words("Months_Inactive_12_mon"),
            ["month", "inactive", "12", "mon"]
        );
        assert!((window(&words("txn_amount_365d")).unwrap() - 11.99).abs() < 0.01);
        assert_eq!(window(&words("MonthlyCharges")), Some(1.0));
        assert_eq!(window(&words("Total_Trans_Amt")), None);
    }

    #[test]
    fn credit_card_spellings() {
        let r = detect(&[
            "Customer_Age",
            "Dependent_count",
            "Months_on_book",
            "Total_Relationship_Count",
            "Months_Inactive_12_mon",
            "Contacts_Count_12_mon",
            "Credit_Limit",
            "Total_Revolving_Bal",
            "Avg_Open_To_Buy",
            "Total_Amt_Chng_Q4_Q1",
            "Total_Trans_Amt",
            "Total_Trans_Ct",
            "Total_Ct_Chng_Q4_Q1",
            "Avg_Utilization_Ratio",
        ]);
        assert_eq!(r["balance"], "Total_Revolving_Bal");
        assert_eq!(r["credit_limit"], "Credit_Limit");
        assert_eq!(r["products"], "Total_Relationship_Count");
        assert_eq!(r["tenure"], "Months_on_book");
        assert_eq!(r["spend"], "Total_Trans_Amt");
        assert_eq!(r["activity"], "Total_Trans_Ct");
        assert_eq!(r.len(), 6, "{r:?}");
    }

    #[test]
    fn telco_and_log_spellings() {
        let r = detect(&["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]);
        assert_eq!(r["revenue"], "MonthlyCharges");
        assert_eq!(r["tenure"], "tenure");
        let r = detect(&[
            "txn_count_30d",
            "txn_amount_30d",
            "txn_count_365d",
            "txn_amount_365d",
            "txn_amount_prev_90d",
            "amount_trend_90d",
            "days_since_last_txn",
            "products_opened_180d",
            "tenure_days",
            "logins_90d",
        ]);
        assert_eq!(r["spend"], "txn_amount_365d");
        assert_eq!(r["activity"], "txn_count_365d");
        assert_eq!(r["tenure"], "tenure_days");
    }

    #[test]
    fn config_sets_and_removes_and_content_finds_money() {
        let mut settings = RoleSettings {
            columns: BTreeMap::from([
                ("balance".to_string(), "x1".to_string()),
                ("tenure".to_string(), String::new()),
            ]),
            spend_periods: 12.0,
        };
        let t = table(&["x1", "Tenure"]);
        let r = Roles::detect(&t, &settings).unwrap();
        assert_eq!(r.column(Role::Balance), Some("x1"));
        assert_eq!(r.get(Role::Balance).unwrap().how, How::Config);
        assert!(r.get(Role::Tenure).is_none());
        settings.columns.insert("wealth".into(), "x1".into());
        assert!(Roles::detect(&t, &settings).is_err());
        // A skewed, varied, non-negative column found by content.
        let mut t = FeatureTable::default();
        t.push(
            "age".into(),
            FeatureData::Numeric((0..500).map(|i| (20 + i % 50) as f64).collect()),
        );
        t.push(
            "v7".into(),
            FeatureData::Numeric(
                (0..500)
                    .map(|i| 100.0 * ((i * 37 % 500) as f64 / 60.0).exp())
                    .collect(),
            ),
        );
        let r = Roles::detect(&t, &RoleSettings::default()).unwrap();
        let b = r.get(Role::Balance).unwrap();
        assert_eq!((b.column.as_str(), b.how), ("v7", How::Content));
    }
}
