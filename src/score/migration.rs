//! Tier migration against an earlier scoring run (`--previous scores.csv`):
//! a from → to matrix of value tiers, and the customers whose warning level
//! rose — a move like high-value → dormant is itself a warning signal.

use crate::error::{Error, Result};
use crate::io::csv_field;
use crate::score::csv_log::CsvLog;
use crate::score::input;
use crate::score::summary::{count, MigrationSummary};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;

const LEVELS: [&str; 4] = ["green", "yellow", "orange", "red"];

fn rank(level: &str) -> u8 {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0) as u8
}

/// A customer id as a 128-bit hash: the previous run is only ever looked up
/// by this run's ids, so its own ids need not be kept (two independent
/// 64-bit hashes; a collision among 10⁸ customers has odds below 10⁻²⁰).
type IdKey = [u64; 2];

fn key(id: &str) -> IdKey {
    let hash = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    [hash(0), hash(1)]
}

/// Migration between the previous run and this one.
pub struct Migration {
    /// Previous (tier index into `tiers`, warning rank) per customer: ~30
    /// bytes a customer, whatever the width of the previous scores file.
    previous: HashMap<IdKey, (u16, u8)>,
    tiers: Vec<String>,
    matrix: BTreeMap<String, BTreeMap<String, usize>>,
    /// `warning_rises.csv`: the customers whose warning level rose.
    rises: CsvLog,
    matched: usize,
}

impl Migration {
    /// Read an earlier scores file (CSV or Parquet; columns id, value_tier,
    /// warning_level), chunk by chunk, keeping only those three; rising
    /// customers will be written to `rises`.
    pub fn load(path: &Path, chunk_rows: usize, rises: &Path) -> Result<Migration> {
        let rises = CsvLog::new(rises, "id,from_level,to_level,value_tier");
        let mut m = Migration {
            previous: HashMap::new(),
            tiers: Vec::new(),
            matrix: BTreeMap::new(),
            rises,
            matched: 0,
        };
        for chunk in input::open(path, None, chunk_rows, (&[], &[]))? {
            let t = chunk?;
            let col = |name: &str| {
                t.column(name).ok_or_else(|| {
                    Error::at(
                        path.display(),
                        name,
                        None,
                        "column missing in the previous scores",
                    )
                })
            };
            let (id, tier, level) = (col("id")?, col("value_tier")?, col("warning_level")?);
            for r in 0..t.n_rows() {
                let Some(id) = id.text(r) else { continue };
                let tier = tier.text(r).unwrap_or_default();
                let t = match m.tiers.iter().position(|x| *x == tier) {
                    Some(t) => t,
                    None => {
                        m.tiers.push(tier);
                        m.tiers.len() - 1
                    }
                };
                m.previous.insert(
                    key(&id),
                    (t as u16, rank(&level.text(r).unwrap_or_default())),
                );
            }
        }
        Ok(m)
    }

    /// Record this run's tier and level of customer `id`.
    pub fn add(&mut self, id: &str, tier: &str, level: &str) -> Result<()> {
        let Some(&(old_tier, old_level)) = self.previous.get(&key(id)) else {
            return Ok(());
        };
        self.matched += 1;
        *count(
            count(&mut self.matrix, &self.tiers[old_tier as usize]),
            tier,
        ) += 1;
        if rank(level) <= old_level {
            return Ok(());
        }
        self.rises.write(1, |w| {
            writeln!(
                w,
                "{},{},{},{}",
                csv_field(id),
                LEVELS[old_level as usize],
                level,
                csv_field(tier)
            )
        })
    }

    /// Write `warning_rises.csv`; the summary of the migration.
    pub fn finish(self) -> Result<MigrationSummary> {
        Ok(MigrationSummary {
            matched_customers: self.matched,
            tier_matrix: self.matrix,
            warning_rises: self.rises.finish()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_run_read_in_chunks_gives_matrix_and_rises() {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("prev.csv");
        let prev = "id,churn_probability,warning_level,value_tier,reason_1\nA,0.1,green,high-value,\"x=1, y\"\nB,0.5,orange,potential,\nC,0.9,red,dormant,\n";
        std::fs::write(&path, prev).unwrap();
        let rises = dir.path().join("run/warning_rises.csv");
        let mut m = Migration::load(&path, 2, &rises).unwrap();
        m.add("A", "dormant", "yellow").unwrap(); // rose, and moved tier
        m.add("B", "potential", "orange").unwrap(); // same level
        m.add("C", "dormant", "orange").unwrap(); // fell
        m.add("Z", "potential", "red").unwrap(); // new customer
        let s = m.finish().unwrap();
        assert_eq!((s.matched_customers, s.warning_rises), (3, 1));
        assert_eq!(s.tier_matrix["high-value"]["dormant"], 1);
        assert_eq!(s.tier_matrix["potential"]["potential"], 1);
        assert_eq!(s.tier_matrix["dormant"]["dormant"], 1);
        assert_eq!(
            std::fs::read_to_string(&rises).unwrap(),
            "id,from_level,to_level,value_tier\nA,green,yellow,dormant\n"
        );
    }

    #[test]
    fn a_previous_file_without_the_columns_is_an_error_naming_them() {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("prev.csv");
        std::fs::write(&path, "id,score\nA,1\n").unwrap();
        let err = Migration::load(&path, 10, &dir.path().join("rises.csv"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("value_tier") && err.contains("prev.csv"),
            "{err}"
        );
    }
}
