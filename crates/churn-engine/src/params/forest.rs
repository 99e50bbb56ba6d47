//! Random forest hyperparameters (`[random_forest]`), validated once when the
//! configuration is read. `max_features` is parsed into [`MaxFeatures`] at
//! that point, so a typo fails before any data is read and nothing parses it
//! again.

use crate::error::{Error, Result};
use crate::params::tree::{Criterion, TreeParams};
use serde::{Deserialize, Serialize};

/// Features tried at each split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MaxFeatures {
    Sqrt,
    Log2,
    All,
    /// A share of the features, in (0, 1].
    Share(f64),
    Count(usize),
}

impl std::str::FromStr for MaxFeatures {
    type Err = Error;

    /// "sqrt", "log2", "all", a count ("12") or a share in (0, 1] ("0.3").
    fn from_str(s: &str) -> Result<MaxFeatures> {
        match s {
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            "all" => Ok(MaxFeatures::All),
            _ => match (s.parse::<usize>(), s.parse::<f64>()) {
                (Ok(k), _) if k > 0 => Ok(MaxFeatures::Count(k)),
                (_, Ok(f)) if f > 0.0 && f <= 1.0 => Ok(MaxFeatures::Share(f)),
                _ => Err(Error::Config(format!(
                    "random_forest.max_features '{s}': expected sqrt, log2, all, a share in (0,1] or a count"
                ))),
            },
        }
    }
}

impl std::fmt::Display for MaxFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxFeatures::Sqrt => write!(f, "sqrt"),
            MaxFeatures::Log2 => write!(f, "log2"),
            MaxFeatures::All => write!(f, "all"),
            // Debug keeps the decimal point ("1.0"), so a share never reads back as a count.
            MaxFeatures::Share(s) => write!(f, "{s:?}"),
            MaxFeatures::Count(k) => write!(f, "{k}"),
        }
    }
}

impl TryFrom<String> for MaxFeatures {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse().map_err(|e: Error| e.to_string())
    }
}

impl From<MaxFeatures> for String {
    fn from(m: MaxFeatures) -> String {
        m.to_string()
    }
}

impl MaxFeatures {
    /// How many of `p` features to try.
    pub fn count(self, p: usize) -> usize {
        let k = match self {
            MaxFeatures::Sqrt => (p as f64).sqrt() as usize,
            MaxFeatures::Log2 => (p as f64).log2() as usize,
            MaxFeatures::All => p,
            MaxFeatures::Share(f) => (f * p as f64) as usize,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, p.max(1))
    }
}

/// Random forest hyperparameters. A decision tree is the one-tree case
/// ([`ForestParams::single_tree`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestParams {
    pub n_trees: usize,
    /// Per-tree limits (max_depth 0 = grow until min_samples_leaf stops it).
    /// A partial `[random_forest.tree]` section changes only the keys it
    /// sets: the rest keep the forest's defaults (fully grown trees), not
    /// the single decision tree's.
    #[serde(deserialize_with = "forest_tree")]
    pub tree: TreeParams,
    /// Features tried per split: "sqrt", "log2", "all", a share like "0.3" or a count.
    pub max_features: MaxFeatures,
    /// Bootstrap sample (true) or sampling without replacement of `subsample` rows.
    pub bootstrap: bool,
    /// Share of rows drawn per tree.
    pub subsample: f64,
    /// Compute out-of-bag AUC while fitting.
    pub oob_score: bool,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 200,
            tree: TreeParams {
                max_depth: 0,
                min_samples_leaf: 5,
                ..TreeParams::default()
            },
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
            subsample: 1.0,
            oob_score: true,
        }
    }
}

impl ForestParams {
    /// One tree on every row, every feature a candidate at every split.
    pub fn single_tree(tree: TreeParams) -> ForestParams {
        ForestParams {
            n_trees: 1,
            tree,
            max_features: MaxFeatures::All,
            bootstrap: false,
            subsample: 1.0,
            oob_score: false,
        }
    }

    pub fn n_trees(mut self, v: usize) -> Self {
        self.n_trees = v;
        self
    }

    pub fn tree(mut self, v: TreeParams) -> Self {
        self.tree = v;
        self
    }

    pub fn max_features(mut self, v: MaxFeatures) -> Self {
        self.max_features = v;
        self
    }

    pub fn bootstrap(mut self, v: bool) -> Self {
        self.bootstrap = v;
        self
    }

    pub fn oob_score(mut self, v: bool) -> Self {
        self.oob_score = v;
        self
    }

    /// Reject values that cannot produce a forest; errors name the config
    /// `key` (e.g. `random_forest`).
    pub fn check(&self, key: &str) -> Result<()> {
        self.tree.check(&format!("{key}.tree"))?;
        if self.n_trees == 0 {
            return Err(Error::Config(format!("{key}.n_trees must be at least 1")));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(Error::Config(format!("{key}.subsample must be in (0, 1]")));
        }
        if let MaxFeatures::Share(s) = self.max_features {
            if !(s > 0.0 && s <= 1.0) {
                return Err(Error::Config(format!(
                    "{key}.max_features share must be in (0, 1]"
                )));
            }
        }
        if self.max_features == MaxFeatures::Count(0) {
            return Err(Error::Config(format!(
                "{key}.max_features count must be at least 1"
            )));
        }
        Ok(())
    }
}

/// Keys a `[random_forest.tree]` section may set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreePatch {
    max_depth: Option<usize>,
    min_samples_leaf: Option<usize>,
    min_gain: Option<f64>,
    criterion: Option<Criterion>,
    max_bins: Option<usize>,
}

fn forest_tree<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<TreeParams, D::Error> {
    let p = TreePatch::deserialize(d)?;
    let d = ForestParams::default().tree;
    Ok(TreeParams {
        max_depth: p.max_depth.unwrap_or(d.max_depth),
        min_samples_leaf: p.min_samples_leaf.unwrap_or(d.min_samples_leaf),
        min_gain: p.min_gain.unwrap_or(d.min_gain),
        criterion: p.criterion.unwrap_or(d.criterion),
        max_bins: p.max_bins.unwrap_or(d.max_bins),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_features_reads_back_what_it_writes() {
        for s in ["sqrt", "log2", "all", "7", "0.3", "1.0"] {
            let m: MaxFeatures = s.parse().unwrap();
            assert_eq!(m.to_string(), s);
            assert_eq!(m.to_string().parse::<MaxFeatures>().unwrap(), m);
        }
        assert_eq!("1".parse::<MaxFeatures>().unwrap().count(10), 1);
        assert_eq!("1.0".parse::<MaxFeatures>().unwrap().count(10), 10);
        for bad in ["0", "1.5", "-1", "sqr", ""] {
            let e = bad.parse::<MaxFeatures>().unwrap_err().to_string();
            assert!(e.contains("random_forest.max_features"), "{e}");
        }
    }

    #[test]
    fn checks_name_the_key() {
        let e = ForestParams::default()
            .n_trees(0)
            .check("random_forest")
            .unwrap_err()
            .to_string();
        assert!(e.contains("random_forest.n_trees"), "{e}");
        let e = ForestParams::default()
            .tree(TreeParams::default().min_samples_leaf(0))
            .check("random_forest")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("random_forest.tree.min_samples_leaf"),
            "{e}"
        );
    }
}
