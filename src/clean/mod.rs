//! From a raw table to a modelling dataset: label normalisation, duplicate ids,
//! identifier and free-text exclusion, numeric coercion; everything changed is
//! counted in a [`DataReport`] so a validator can see what the data went through.
//!
//! Imputation and encoding are *not* done here: they are fitted per training
//! fold by [`crate::features::FeaturePipeline`] to avoid leakage.

mod columns;
mod labels;
pub mod leakage;

pub(crate) use columns::exclusion;
pub use columns::{is_name_like, typed_columns};
pub use labels::labels;

use crate::error::{Error, Result};
use crate::fairness::{Attribute, AttributeSpec, FairnessConfig, Role};
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::{self, Inferred};
use crate::ingest::{interned::Interned, RawColumn, RawTable};
pub(crate) use columns::is_period_name;
use columns::{dedupe, detect_id, select_rows};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which file to read and what its columns mean.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Customer table (CSV or Parquet). `None` = the embedded default.
    pub path: Option<PathBuf>,
    /// Label column.
    pub target: String,
    /// The label value meaning "churned", when it cannot be inferred.
    pub positive: Option<String>,
    /// Customer id column (never a feature; used to de-duplicate and in outputs).
    pub id: Option<String>,
    /// Columns to leave out of the model.
    pub drop: Vec<String>,
    /// Numeric-looking columns to treat as categories (codes).
    pub categorical: Vec<String>,
    /// CSV delimiter; detected from the header line when unset.
    pub delimiter: Option<char>,
    /// Snapshot / period column (e.g. `2024-06`): never a feature; the report
    /// shows results per period. Detected by name (period, snapshot, month, date) when unset.
    pub period: Option<String>,
    /// Columns to break results down by in the report (customer groups).
    /// Empty: categorical features with at most 12 levels, a tenure band, the value tier.
    pub groups: Vec<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            path: None,
            target: "churned".into(),
            positive: None,
            id: None,
            drop: vec![],
            categorical: vec![],
            delimiter: None,
            period: None,
            groups: vec![],
        }
    }
}

/// A column left out of the model, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Excluded {
    pub name: String,
    pub reason: String,
}

/// What cleaning found and changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DataReport {
    pub file: String,
    pub rows_read: usize,
    pub duplicates_removed: usize,
    pub rows_used: usize,
    pub columns_read: usize,
    pub target: String,
    pub positive_label: String,
    pub negative_label: String,
    pub positives: usize,
    pub positive_rate: f64,
    pub id_column: Option<String>,
    /// Text cells in numeric columns that did not parse and became missing.
    pub coerced_cells: BTreeMap<String, usize>,
    /// Missing cells per numeric feature (imputed with the fold median).
    pub imputed_cells: BTreeMap<String, usize>,
    /// Missing cells per categorical feature (kept as their own level).
    pub missing_category_cells: BTreeMap<String, usize>,
    pub excluded_columns: Vec<Excluded>,
    pub numeric_features: Vec<String>,
    pub categorical_features: Vec<String>,
    /// Protected attributes: kept for the fairness report, not features.
    pub protected: Vec<String>,
    /// Protected attributes kept as features on purpose (`--allow-protected`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_allowed: Vec<String>,
    /// Sensitive attributes (age-like): features, reported per group.
    pub sensitive: Vec<String>,
    /// A table built from raw logs: rows left out of each log and why, the
    /// log's dates, customers per snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<crate::logs::LogReport>,
    /// The target leakage screen (see [`leakage`]): columns screened, the
    /// suspects left out, those kept on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leakage: Option<leakage::LeakageReport>,
    /// Columns whose numbers are written with a decimal comma, thousands
    /// separators or a currency, and how (see [`crate::ingest::numbers`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub number_formats: BTreeMap<String, crate::ingest::numbers::NumberFormat>,
    /// Date columns and their patterns: each is the feature `<col>_days`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub date_formats: BTreeMap<String, String>,
    /// The date the `_days` features count back from, and how it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_rule: Option<String>,
    /// Dates after the reference date, per date column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub future_dated_cells: BTreeMap<String, usize>,
    /// Cells per categorical column rewritten to their level's most
    /// frequent spelling (`FRANCE`, ` france` → `France`: see
    /// [`crate::features::spelling`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified_spellings: BTreeMap<String, usize>,
    /// Column roles (balance, spend, activity …), each with how it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<crate::reference::roles::Roles>,
    /// What the roles make of customer value: CLV sources, tiers, warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<crate::reference::value::ValueReport>,
}

/// A cleaned dataset: features, 0/1 labels (1 = churned), customer ids.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub table: FeatureTable,
    pub y: Vec<u8>,
    /// Customer ids (or 1-based row numbers when there is no id column).
    pub ids: Vec<String>,
    /// Snapshot / period of every row, when the data has a period column.
    pub period: Option<Vec<String>>,
    /// Protected and sensitive columns, each row's group (fairness report).
    pub attributes: Vec<Attribute>,
    pub report: DataReport,
    /// How the file wrote its cells (what scoring must read the same way).
    pub formats: crate::ingest::formats::Formats,
}

impl Dataset {
    /// The rows `rows` (in that order) as a dataset of their own; the
    /// cleaning report is the whole table's.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let pick = |v: &[String]| rows.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        Dataset {
            table: self.table.select(rows),
            y: rows.iter().map(|&i| self.y[i]).collect(),
            ids: pick(&self.ids),
            period: self.period.as_deref().map(pick),
            attributes: self
                .attributes
                .iter()
                .map(|a| Attribute {
                    spec: a.spec.clone(),
                    groups: rows.iter().map(|&i| a.groups[i].clone()).collect(),
                })
                .collect(),
            report: self.report.clone(),
            formats: self.formats.clone(),
        }
    }
}

/// Clean `raw` for training according to `cfg`. Takes the table so each
/// column's text is freed as soon as it is converted: on large files the
/// text cells and the features are then never all in memory together.
pub fn clean(mut raw: RawTable, cfg: &DataConfig, fairness: &FairnessConfig) -> Result<Dataset> {
    let raw = &mut raw;
    let src = raw.source.as_str();
    if raw.n_rows() == 0 {
        return Err(Error::data(src, "the file has a header but no rows"));
    }
    let target_idx = target_and_named_columns(raw, cfg, fairness)?;
    let period_col = cfg
        .period
        .clone()
        .or_else(|| raw.names.iter().find(|n| is_period_name(n)).cloned());
    let (id_col, keep) = match cfg.id.clone() {
        Some(id) => {
            let keep = dedupe(raw, Some(&id), period_col.as_deref());
            (Some(id), keep)
        }
        None => match detect_id(raw, target_idx) {
            Some((id, firsts)) if period_col.is_none() => (Some(id), firsts.keep),
            Some((id, _)) => {
                let keep = dedupe(raw, Some(&id), period_col.as_deref());
                (Some(id), keep)
            }
            None => (None, dedupe(raw, None, None)),
        },
    };
    let mut report = DataReport {
        file: src.to_string(),
        rows_read: raw.n_rows(),
        duplicates_removed: raw.n_rows() - keep.len(),
        rows_used: keep.len(),
        columns_read: raw.names.len(),
        target: cfg.target.clone(),
        id_column: id_col.clone(),
        ..DataReport::default()
    };
    // Without duplicates every row is kept: columns are then moved, not copied.
    let all_kept = keep.len() == raw.n_rows();
    let subset = |col: RawColumn| match all_kept {
        true => col,
        false => select_rows(&col, &keep),
    };
    let (y, pos, neg) = labels(
        src,
        &cfg.target,
        &subset(raw.columns[target_idx].clone()),
        &keep,
        cfg.positive.as_deref(),
    )?;
    report.positives = y.iter().map(|&v| v as usize).sum();
    report.positive_rate = report.positives as f64 / y.len() as f64;
    report.positive_label = pos;
    report.negative_label = neg;
    let ids = match id_col.as_deref().and_then(|c| raw.column(c)) {
        Some(c) => {
            use rayon::prelude::*;
            keep.par_iter()
                .map(|&r| c.text(r).unwrap_or_default())
                .collect()
        }
        None => keep
            .iter()
            .map(|&r| (raw.first_row + r).to_string())
            .collect(),
    };

    let period = period_col.as_ref().and_then(|c| raw.column(c)).map(|c| {
        keep.iter()
            .map(|&r| c.text(r).unwrap_or_else(|| "missing".into()))
            .collect()
    });

    // Columns are judged in parallel (each is independent), then reported
    // in the file's order.
    let columns: Vec<(&String, RawColumn)> = raw
        .names
        .iter()
        .zip(std::mem::take(&mut raw.columns))
        .enumerate()
        .filter(|(i, _)| *i != target_idx)
        .map(|(_, (name, col))| (name, col))
        .collect();
    let judged: Vec<(&String, Judged)> = {
        use rayon::prelude::*;
        columns
            .into_par_iter()
            .map(|(name, col)| {
                let col = subset(col);
                let period = Some(name) == period_col.as_ref();
                let j = judge_column(name, col, period, id_col.as_deref(), cfg, fairness);
                (name, j)
            })
            .collect()
    };
    let (table, attributes) = features_of(judged, &mut report);
    if table.names.is_empty() {
        return Err(Error::data(
            src,
            "no usable feature column (all were identifiers, constant, dropped or the target)",
        ));
    }
    Ok(Dataset {
        table,
        y,
        ids,
        period,
        attributes,
        report,
        formats: Default::default(),
    })
}

/// The target column's index; an error naming the column when the target
/// or any column the configuration names is not in the file.
fn target_and_named_columns(
    raw: &RawTable,
    cfg: &DataConfig,
    fairness: &FairnessConfig,
) -> Result<usize> {
    let src = raw.source.as_str();
    let target_idx = raw.index_of(&cfg.target).ok_or_else(|| {
        Error::at(
            src,
            &cfg.target,
            None,
            format!(
                "target column not found; columns are: {}",
                raw.names.join(", ")
            ),
        )
    })?;
    for name in cfg
        .drop
        .iter()
        .chain(&cfg.categorical)
        .chain(&cfg.id)
        .chain(&cfg.period)
        .chain(&cfg.groups)
        .chain(&fairness.protected)
        .chain(&fairness.allow_protected)
        .chain(&fairness.sensitive)
    {
        if raw.index_of(name).is_none() {
            return Err(Error::at(
                src,
                name,
                None,
                "configured column not found in the file",
            ));
        }
    }
    Ok(target_idx)
}

/// The judged columns, in the file's order, as the feature table and the
/// fairness attributes; the report notes what became of each column.
fn features_of(
    judged: Vec<(&String, Judged)>,
    report: &mut DataReport,
) -> (FeatureTable, Vec<Attribute>) {
    let mut table = FeatureTable::default();
    let mut attributes = Vec::new();
    for (name, j) in judged {
        if let Some(a) = j.attribute {
            match a.spec.role {
                Role::Protected => report.protected.push(name.clone()),
                Role::ProtectedAllowed => report.protected_allowed.push(name.clone()),
                Role::Sensitive => report.sensitive.push(name.clone()),
            }
            attributes.push(a);
        }
        let data = match j.kind {
            Kind::Excluded(reason) => {
                report.excluded_columns.push(Excluded {
                    name: name.clone(),
                    reason,
                });
                continue;
            }
            Kind::Categorical(mut cats) => {
                let unified = crate::features::spelling::unify(&mut cats);
                if unified > 0 {
                    report.unified_spellings.insert(name.clone(), unified);
                }
                let missing = cats.iter().filter(|c| c.is_none()).count();
                if missing > 0 {
                    report.missing_category_cells.insert(name.clone(), missing);
                }
                report.categorical_features.push(name.clone());
                FeatureData::Categorical(cats)
            }
            Kind::Numeric(n) => {
                if n.coerced > 0 {
                    report.coerced_cells.insert(name.clone(), n.coerced);
                }
                if n.missing > 0 {
                    report.imputed_cells.insert(name.clone(), n.missing);
                }
                report.numeric_features.push(name.clone());
                FeatureData::Numeric(n.values)
            }
        };
        table.push(name.clone(), data);
    }
    (table, attributes)
}

/// What cleaning makes of one column: a fairness attribute (protected and
/// sensitive columns), and a feature or the reason it is not one.
struct Judged {
    attribute: Option<Attribute>,
    kind: Kind,
}

enum Kind {
    Excluded(String),
    Categorical(Vec<crate::features::Category>),
    Numeric(schema::NumericColumn),
}

fn judge_column(
    name: &str,
    col: RawColumn,
    period: bool,
    id: Option<&str>,
    cfg: &DataConfig,
    fairness: &FairnessConfig,
) -> Judged {
    let excluded = |reason: &str| Kind::Excluded(reason.into());
    if period {
        return Judged {
            attribute: None,
            kind: excluded("period column (results are reported per period)"),
        };
    }
    // A text column's cells are interned once, for its groups, its kind
    // and its categories or numbers.
    let interned = std::cell::OnceCell::new();
    let cells = || interned.get_or_init(|| Interned::of(&col, None));
    let role = (Some(name) != id).then(|| fairness.role(name)).flatten();
    let attribute = role.map(|role| Attribute {
        spec: AttributeSpec {
            name: name.to_string(),
            role,
        },
        groups: match col {
            RawColumn::Text(_) => crate::fairness::group_labels_interned(name, &col, cells()),
            RawColumn::Number(_) => crate::fairness::group_labels(name, &col, None),
        },
    });
    let inferred = std::cell::OnceCell::new();
    let infer = || {
        *inferred.get_or_init(|| match col {
            RawColumn::Text(_) => schema::infer_interned(&col, cells()),
            RawColumn::Number(_) => Inferred::Numeric,
        })
    };
    let kind = if role == Some(Role::Protected) {
        excluded("protected: not a feature")
    } else if let Some(reason) = exclusion(name, &col, cfg, id, &infer) {
        Kind::Excluded(reason)
    } else if cfg.categorical.iter().any(|c| c == name) || infer() == Inferred::Text {
        Kind::Categorical(schema::to_categories_interned(&col, cells()))
    } else {
        let cells = matches!(col, RawColumn::Text(_)).then(cells);
        Kind::Numeric(schema::into_numeric(col, cells))
    };
    Judged { attribute, kind }
}

impl Dataset {
    /// Screen the features `screened` accepts for target leakage
    /// ([`leakage::screen`]) and leave the suspects out (but those
    /// `cfg.allow` keeps); the screen goes into the data report.
    pub fn drop_leaks(
        &mut self,
        cfg: &leakage::LeakageConfig,
        screened: &dyn Fn(&str) -> bool,
    ) -> &leakage::LeakageReport {
        let r = &self.report;
        let screen = leakage::screen(
            &self.table,
            &self.y,
            &r.target,
            &r.positive_label,
            cfg,
            screened,
        );
        for s in &screen.suspects {
            let Some(i) = self.table.names.iter().position(|n| *n == s.column) else {
                continue;
            };
            self.table.names.remove(i);
            self.table.columns.remove(i);
            let r = &mut self.report;
            r.numeric_features.retain(|n| *n != s.column);
            r.categorical_features.retain(|n| *n != s.column);
            r.imputed_cells.remove(&s.column);
            r.coerced_cells.remove(&s.column);
            r.missing_category_cells.remove(&s.column);
            r.excluded_columns.push(Excluded {
                name: s.column.clone(),
                reason: format!("target leakage suspect: {}", s.reason),
            });
        }
        self.report.leakage.insert(screen)
    }
}

/// Read another table (a later period, a hold-out file) with the column kinds
/// and labels of an already cleaned training dataset.
pub fn conform(raw: &RawTable, train: &Dataset) -> Result<Dataset> {
    let src = raw.source.as_str();
    let r = &train.report;
    let target = raw
        .column(&r.target)
        .ok_or_else(|| Error::at(src, &r.target, None, "target column not found"))?;
    let rows: Vec<usize> = (0..raw.n_rows()).collect();
    let (y, pos, _) = labels(src, &r.target, target, &rows, Some(&r.positive_label))?;
    if pos != r.positive_label {
        return Err(Error::at(
            src,
            &r.target,
            None,
            "labels differ from the training data",
        ));
    }
    let mut table = FeatureTable::default();
    for (name, col) in train.table.names.iter().zip(&train.table.columns) {
        let cells = raw
            .column(name)
            .ok_or_else(|| Error::at(src, name, None, "feature column not found"))?;
        table.push(
            name.clone(),
            match col {
                FeatureData::Numeric(_) => FeatureData::Numeric(schema::to_numeric(cells).values),
                FeatureData::Categorical(_) => {
                    FeatureData::Categorical(schema::to_categories(cells))
                }
            },
        );
    }
    let ids = rows
        .iter()
        .map(|r| (raw.first_row + r).to_string())
        .collect();
    let report = DataReport {
        file: src.to_string(),
        rows_read: raw.n_rows(),
        rows_used: raw.n_rows(),
        ..r.clone()
    };
    Ok(Dataset {
        table,
        y,
        ids,
        period: None,
        attributes: Vec::new(),
        report,
        formats: train.formats.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[&str]) -> RawColumn {
        RawColumn::from_strings(&v.iter().map(Some).collect::<Vec<_>>())
    }

    #[test]
    fn label_pairs() {
        let (y, p, _) = labels("f", "t", &text(&["Yes", "No", "No"]), &[0, 1, 2], None).unwrap();
        assert_eq!((y, p.as_str()), (vec![1, 0, 0], "Yes"));
        let (y, _, _) = labels("f", "t", &text(&["1.0", "0", "1"]), &[0, 1, 2], None).unwrap();
        assert_eq!(y, vec![1, 0, 1]);
        let (y, _, _) =
            labels("f", "t", &RawColumn::Number(vec![0.0, 1.0]), &[0, 1], None).unwrap();
        assert_eq!(y, vec![0, 1]);
        let e = labels("f", "t", &text(&["a", "b", "c"]), &[0, 1, 2], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'a', 'b', 'c'"), "{e}");
        let e = labels("f", "t", &text(&["a", "a"]), &[0, 1], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("only one class"), "{e}");
        let (y, _, _) = labels(
            "f",
            "t",
            &text(&["Attrited", "Existing"]),
            &[0, 1],
            Some("Attrited"),
        )
        .unwrap();
        assert_eq!(y, vec![1, 0]);
    }

    #[test]
    fn name_like() {
        for n in [
            "Surname",
            "CustomerId",
            "customerID",
            "customer_id",
            "RowNumber",
            "email",
        ] {
            assert!(is_name_like(n), "{n}");
        }
        for n in ["Balance", "Paid", "Tenure", "Geography"] {
            assert!(!is_name_like(n), "{n}");
        }
    }
}
