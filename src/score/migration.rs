//! Tier migration against an earlier scoring run (`--previous scores.csv`):
//! a from → to matrix of value tiers, and the customers whose warning level
//! rose — a move like high-value → dormant is itself a warning signal.

use crate::error::{Error, Result};
use crate::ingest::read_table;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const LEVELS: [&str; 4] = ["green", "yellow", "orange", "red"];

fn rank(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0)
}

/// A customer whose warning level went up.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rise {
    pub id: String,
    pub from: String,
    pub to: String,
    pub tier: String,
}

/// Migration between the previous run and this one.
pub struct Migration {
    previous: HashMap<String, (String, String)>,
    pub matrix: BTreeMap<String, BTreeMap<String, usize>>,
    pub rises: Vec<Rise>,
    pub matched: usize,
}

impl Migration {
    /// Read an earlier scores file (columns id, value_tier, warning_level).
    pub fn load(path: &Path) -> Result<Migration> {
        let t = read_table(path, None)?;
        let col = |name: &str| t.column(name).ok_or_else(|| Error::at(path.display(), name, None, "column missing in the previous scores"));
        let (id, tier, level) = (col("id")?, col("value_tier")?, col("warning_level")?);
        let previous = (0..t.n_rows())
            .filter_map(|r| Some((id.text(r)?, (tier.text(r).unwrap_or_default(), level.text(r).unwrap_or_default()))))
            .collect();
        Ok(Migration { previous, matrix: BTreeMap::new(), rises: vec![], matched: 0 })
    }

    /// Record this run's tier and level of customer `id`.
    pub fn add(&mut self, id: &str, tier: &str, level: &str) {
        let Some((old_tier, old_level)) = self.previous.get(id) else { return };
        self.matched += 1;
        *self.matrix.entry(old_tier.clone()).or_default().entry(tier.to_string()).or_default() += 1;
        if rank(level) > rank(old_level) {
            self.rises.push(Rise { id: id.to_string(), from: old_level.clone(), to: level.to_string(), tier: tier.to_string() });
        }
    }
}
