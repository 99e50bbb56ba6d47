//! Acting on a score: the warning level (global or per-segment cut-offs) and
//! the playbook rule for warning level × value tier.

use crate::config::SegmentRule;
use crate::error::{Error, Result};
use crate::features::{FeatureData, FeatureTable};
use crate::reference::WarningCutoffs;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One playbook rule; `*` matches anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookRule {
    pub warning: String,
    pub tier: String,
    pub action: String,
    pub owner: String,
    pub contact_within_days: u32,
}

/// The response playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub rule: Vec<PlaybookRule>,
}

impl Playbook {
    pub fn load(path: &Path) -> Result<Playbook> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The default playbook: `data/playbook.toml` where the repository is at
    /// hand (so edits to it apply), else the copy compiled into the binary,
    /// so that a deployed `churn-score` needs no file beside it.
    pub fn shipped() -> Result<Playbook> {
        let path = crate::config::embedded(crate::config::DEFAULT_PLAYBOOK);
        if path.exists() {
            return Self::load(&path);
        }
        Self::parse(
            include_str!("../../data/playbook.toml"),
            "the built-in playbook",
        )
    }

    /// A playbook from TOML text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Playbook> {
        let p: Playbook = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{source}: {}", e.message())))?;
        for lvl in ["red", "orange", "yellow", "green"] {
            for tier in crate::reference::segment::TIERS {
                if p.find(lvl, tier).is_none() {
                    return Err(Error::Config(format!(
                        "{source}: no rule for warning '{lvl}' × tier '{tier}'"
                    )));
                }
            }
        }
        Ok(p)
    }

    /// The first rule matching this level and tier.
    pub fn find(&self, warning: &str, tier: &str) -> Option<&PlaybookRule> {
        self.rule.iter().find(|r| {
            (r.warning == warning || r.warning == "*") && (r.tier == tier || r.tier == "*")
        })
    }
}

/// Warning cut-offs per row: the first matching segment rule, else the global ones.
pub struct Levels<'a> {
    pub global: WarningCutoffs,
    pub rules: &'a [SegmentRule],
}

impl Levels<'_> {
    /// The warning level of row `i` with probability `p` and value tier `tier`.
    pub fn level(&self, table: &FeatureTable, i: usize, p: f64, tier: &str) -> &'static str {
        self.level_or(table, i, p, tier, self.global)
    }

    /// [`Levels::level`] with `otherwise` where no segment rule matches
    /// (a threshold group's cut-offs).
    pub fn level_or(
        &self,
        table: &FeatureTable,
        i: usize,
        p: f64,
        tier: &str,
        otherwise: WarningCutoffs,
    ) -> &'static str {
        let rule = self.rules.iter().find(|r| {
            let tier_ok = r.tier.as_deref().is_none_or(|t| t == tier);
            let col_ok = r.column.as_deref().is_none_or(|c| match table.get(c) {
                Some(FeatureData::Numeric(v)) => {
                    let x = v[i];
                    !x.is_nan() && r.min.is_none_or(|m| x >= m) && r.max.is_none_or(|m| x <= m)
                }
                _ => false,
            });
            tier_ok && col_ok
        });
        match rule {
            Some(r) => WarningCutoffs {
                red: r.red,
                orange: r.orange,
                yellow: r.yellow,
            }
            .level(p),
            None => otherwise.level(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_playbook_covers_every_pair_and_gaps_are_named() {
        let p = Playbook::parse(include_str!("../../data/playbook.toml"), "built-in").unwrap();
        assert!(p
            .find("red", "high-value")
            .is_some_and(|r| !r.action.is_empty()));
        let partial = "[[rule]]\nwarning = \"red\"\ntier = \"*\"\naction = \"call\"\nowner = \"RM\"\ncontact_within_days = 2\n";
        let err = Playbook::parse(partial, "mine.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mine.toml") && err.contains("'orange'"),
            "{err}"
        );
    }
}
