//! From a raw table to a modelling dataset: label normalisation, duplicate ids,
//! identifier and free-text exclusion, numeric coercion; everything changed is
//! counted in a [`DataReport`] so a validator can see what the data went through.
//!
//! Imputation and encoding are *not* done here: they are fitted per training
//! fold by [`crate::features::FeaturePipeline`] to avoid leakage.

use crate::error::{Error, Result};
use crate::fairness::{Attribute, AttributeSpec, FairnessConfig, Role};
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::{self, Inferred};
use crate::ingest::{RawColumn, RawTable};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
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

/// Share of distinct values above which a text column is an identifier or free text.
const DISTINCT_SHARE: f64 = 0.9;

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
                    groups: pick(&a.groups),
                })
                .collect(),
            report: self.report.clone(),
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
    let id_col = cfg.id.clone().or_else(|| detect_id(raw, target_idx));
    let period_col = cfg
        .period
        .clone()
        .or_else(|| raw.names.iter().find(|n| is_period_name(n)).cloned());
    let keep = dedupe(raw, id_col.as_deref(), period_col.as_deref());
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
        Some(c) => keep
            .iter()
            .map(|&r| c.text(r).unwrap_or_default())
            .collect(),
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
                let j = judge_column(name, &col, period, id_col.as_deref(), cfg, fairness);
                (name, j)
            })
            .collect()
    };
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
            Kind::Categorical(cats) => {
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
    })
}

/// What cleaning makes of one column: a fairness attribute (protected and
/// sensitive columns), and a feature or the reason it is not one.
struct Judged {
    attribute: Option<Attribute>,
    kind: Kind,
}

enum Kind {
    Excluded(String),
    Categorical(Vec<Option<String>>),
    Numeric(schema::NumericColumn),
}

fn judge_column(
    name: &str,
    col: &RawColumn,
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
    let role = (Some(name) != id).then(|| fairness.role(name)).flatten();
    let attribute = role.map(|role| {
        let cells: Vec<Option<String>> = (0..col.len()).map(|r| col.text(r)).collect();
        Attribute {
            spec: AttributeSpec {
                name: name.to_string(),
                role,
            },
            groups: crate::fairness::group_labels(name, &cells),
        }
    });
    let kind = if role == Some(Role::Protected) {
        excluded("protected: not a feature")
    } else if let Some(reason) = exclusion(name, col, cfg, id) {
        Kind::Excluded(reason)
    } else if cfg.categorical.iter().any(|c| c == name) || schema::infer(col) == Inferred::Text {
        Kind::Categorical(schema::to_categories(col))
    } else {
        Kind::Numeric(schema::to_numeric(col))
    };
    Judged { attribute, kind }
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
    })
}

/// Why a column is not a feature, if it is not.
pub(crate) fn exclusion(
    name: &str,
    col: &RawColumn,
    cfg: &DataConfig,
    id: Option<&str>,
) -> Option<String> {
    if Some(name) == id {
        return Some("customer id".into());
    }
    if cfg.drop.iter().any(|d| d == name) {
        return Some("dropped by configuration".into());
    }
    if cfg.categorical.iter().any(|c| c == name) {
        return None;
    }
    if is_name_like(name) {
        return Some("identifier or personal name".into());
    }
    let n = col.len();
    if is_constant(col) {
        return Some("constant".into());
    }
    match schema::infer(col) {
        Inferred::Text
            if n >= 20
                && distinct_up_to(col, (n as f64 * (1.0 - DISTINCT_SHARE)).ceil() as usize)
                    .is_some_and(|d| d as f64 > DISTINCT_SHARE * n as f64) =>
        {
            Some("identifier or free text (nearly all values distinct)".into())
        }
        Inferred::Numeric if n >= 100 && all_integers(col) && distinct_up_to(col, 0) == Some(n) => {
            Some("identifier (distinct integer per row)".into())
        }
        _ => None,
    }
}

/// Column names that denote people or records rather than behaviour.
pub fn is_name_like(name: &str) -> bool {
    let l = name.to_ascii_lowercase().replace([' ', '-'], "_");
    let exact = [
        "id",
        "name",
        "surname",
        "first_name",
        "last_name",
        "firstname",
        "lastname",
        "full_name",
        "fullname",
        "email",
        "e_mail",
        "phone",
        "phone_number",
        "mobile",
        "address",
        "street",
        "rownumber",
        "row_number",
        "index",
        "ssn",
        "iban",
        "account_number",
    ];
    exact.contains(&l.as_str())
        || l.ends_with("_id")
        || l.ends_with("_name")
        || name.ends_with("Id")
        || name.ends_with("ID")
}

/// A column name taken for the period when none is configured.
fn is_period_name(name: &str) -> bool {
    ["period", "snapshot", "snapshot_date", "month", "date"]
        .contains(&name.to_ascii_lowercase().as_str())
}

/// A column name that may hold the customer id (see [`detect_id`]).
fn is_id_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.ends_with("id") || is_name_like(name) && l.contains("id")
}

/// The columns of a training table that may be read as numbers (see
/// [`crate::ingest::read_table_typed`]): every column but those whose text
/// cleaning keeps — the target, the id and period (configured or by name),
/// configured categories, protected and sensitive attributes (group
/// labels). A column left out here is read as text and judged by its cells
/// as before; one read as numbers holds exactly the cells its text gives.
pub fn typed_columns(names: &[String], cfg: &DataConfig, fairness: &FairnessConfig) -> Vec<String> {
    let listed = |l: &Option<String>, n: &String| l.as_ref() == Some(n);
    names
        .iter()
        .filter(|n| {
            **n != cfg.target
                && !listed(&cfg.id, n)
                && !listed(&cfg.period, n)
                && !cfg.categorical.contains(n)
                && !is_id_name(n)
                && !is_name_like(n)
                && !cfg.drop.contains(n)
                && !is_period_name(n)
                && fairness.role(n).is_none()
        })
        .cloned()
        .collect()
}

fn detect_id(raw: &RawTable, target_idx: usize) -> Option<String> {
    raw.names.iter().enumerate().find_map(|(i, n)| {
        let col = &raw.columns[i];
        let idish = is_id_name(n);
        // Mostly distinct: a few repeated ids are duplicates to remove, not a reason to doubt the id.
        let n_rows = col.len() as f64;
        (i != target_idx
            && idish
            && distinct_up_to(col, (0.05 * n_rows).floor() as usize)
                .is_some_and(|d| d as f64 >= 0.95 * n_rows))
        .then(|| n.clone())
    })
}

/// An empty set with a fast fixed-seed hash (ids and cells; nothing depends
/// on its order).
fn fast_set<T>() -> HashSet<T, foldhash::fast::FixedState> {
    HashSet::with_hasher(foldhash::fast::FixedState::default())
}

/// Rows to keep (all rows without an id column): the first of each id — of each (id, period) when there is
/// a period column, since stacked snapshots repeat every customer.
fn dedupe(raw: &RawTable, id: Option<&str>, period: Option<&str>) -> Vec<usize> {
    let Some(col) = id.and_then(|c| raw.column(c)) else {
        return (0..raw.n_rows()).collect();
    };
    let period = period.and_then(|c| raw.column(c));
    let mut seen = fast_set();
    (0..raw.n_rows())
        .filter(|&r| {
            col.text_ref(r).is_none_or(|v| {
                let p = period.and_then(|p| p.text_ref(r)).unwrap_or_default();
                seen.insert((v, p))
            })
        })
        .collect()
}

fn select_rows(col: &RawColumn, rows: &[usize]) -> RawColumn {
    match col {
        RawColumn::Text(v) => RawColumn::Text(rows.iter().map(|&r| v.get(r)).collect()),
        RawColumn::Number(v) => RawColumn::Number(rows.iter().map(|&r| v[r]).collect()),
    }
}

/// A number cell's identity: by bits, every NaN alike, missing as `None`.
fn number_key(x: Option<f64>) -> Option<u64> {
    x.map(|x| {
        if x.is_nan() {
            f64::NAN.to_bits()
        } else {
            x.to_bits()
        }
    })
}

/// Does the column hold at most one distinct value (missing counts as one)?
fn is_constant(col: &RawColumn) -> bool {
    match col {
        RawColumn::Text(_) => (1..col.len()).all(|r| col.text_ref(r) == col.text_ref(0)),
        RawColumn::Number(v) => v.iter().all(|&x| number_key(x) == number_key(v[0])),
    }
}

/// The number of distinct values (missing counts as one), or `None` as
/// soon as more than `max_repeats` cells repeat an earlier value. The rules
/// only ask whether a column is (nearly) distinct on every row, so a column
/// of a few values is answered after a few rows instead of hashing every
/// cell (on 1M rows the full counts were a tenth of a training job).
fn distinct_up_to(col: &RawColumn, max_repeats: usize) -> Option<usize> {
    fn count<T: std::hash::Hash + Eq>(
        cells: impl Iterator<Item = T>,
        max_repeats: usize,
    ) -> Option<usize> {
        let mut seen = fast_set();
        let mut repeats = 0;
        for c in cells {
            if !seen.insert(c) {
                repeats += 1;
                if repeats > max_repeats {
                    return None;
                }
            }
        }
        Some(seen.len())
    }
    match col {
        RawColumn::Text(_) => count((0..col.len()).map(|r| col.text_ref(r)), max_repeats),
        RawColumn::Number(v) => count(v.iter().map(|&x| number_key(x)), max_repeats),
    }
}

fn all_integers(col: &RawColumn) -> bool {
    schema::to_numeric(col)
        .values
        .iter()
        .all(|x| x.is_nan() || x.fract() == 0.0)
}

/// Normalise the label column to 0/1 (1 = churned). Returns labels and the
/// positive / negative label text.
pub fn labels(
    src: &str,
    target: &str,
    col: &RawColumn,
    rows: &[usize],
    positive: Option<&str>,
) -> Result<(Vec<u8>, String, String)> {
    // Numbers are normalised so that "1", "1.0" and 1 are one label.
    let cells: Vec<Option<String>> = (0..col.len())
        .map(|r| {
            col.text(r).map(|t| match schema::parse_cell(Some(&t)) {
                schema::Cell::Number(x) => schema::format_number(x),
                _ => t,
            })
        })
        .collect();
    if let Some(r) = cells.iter().position(Option::is_none) {
        return Err(Error::at(
            src,
            target,
            Some(rows[r] + 1),
            "the label is blank",
        ));
    }
    let mut values: Vec<String> = cells
        .iter()
        .flatten()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    values.sort();
    let shown = || {
        values
            .iter()
            .take(10)
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if values.len() == 1 {
        return Err(Error::at(
            src,
            target,
            None,
            format!(
                "only one class present ({}): cannot train a churn model",
                shown()
            ),
        ));
    }
    if values.len() > 2 {
        return Err(Error::at(
            src,
            target,
            None,
            format!(
                "expected two label values, found {}: {}",
                values.len(),
                shown()
            ),
        ));
    }
    let pos = match positive {
        Some(p) => values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(p.trim()))
            .cloned()
            .ok_or_else(|| {
                Error::at(
                    src,
                    target,
                    None,
                    format!(
                        "--positive '{p}' is not one of the label values {}",
                        shown()
                    ),
                )
            })?,
        None => known_positive(&values).ok_or_else(|| {
            Error::at(
                src,
                target,
                None,
                format!(
                    "cannot tell which label means churn among {}: pass --positive",
                    shown()
                ),
            )
        })?,
    };
    let neg = values
        .iter()
        .find(|v| **v != pos)
        .cloned()
        .unwrap_or_default();
    let y = cells
        .iter()
        .map(|c| (c.as_deref() == Some(pos.as_str())) as u8)
        .collect();
    Ok((y, pos, neg))
}

fn known_positive(values: &[String]) -> Option<String> {
    let pairs = [
        ("1", "0"),
        ("yes", "no"),
        ("true", "false"),
        ("y", "n"),
        ("t", "f"),
        ("churned", "retained"),
        ("churn", "stay"),
    ];
    let lower: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
    pairs.iter().find_map(|(p, n)| {
        let i = lower.iter().position(|v| v == p)?;
        lower.iter().any(|v| v == n).then(|| values[i].clone())
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
        let (y, _, _) = labels(
            "f",
            "t",
            &RawColumn::Number(vec![Some(0.0), Some(1.0)]),
            &[0, 1],
            None,
        )
        .unwrap();
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
