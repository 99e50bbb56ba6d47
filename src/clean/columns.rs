//! Which columns are what: identifiers and names (never features), the
//! id and period columns, constant and nearly-distinct columns, and which
//! columns training may read as numbers. Rules by name come first, so a
//! column is judged the same way whatever its cells hold.

use super::DataConfig;
use crate::fairness::FairnessConfig;
use crate::ingest::schema::{self, Inferred};
use crate::ingest::{number_key, RawColumn, RawTable};

/// Share of distinct values above which a text column is an identifier or free text.
const DISTINCT_SHARE: f64 = 0.9;

/// Why a column is not a feature, if it is not. `kind` is the column's
/// inferred kind ([`schema::infer`], a pass over every cell), asked for only
/// when needed; the caller keeps the answer for what it does next.
pub(crate) fn exclusion(
    name: &str,
    col: &RawColumn,
    cfg: &DataConfig,
    id: Option<&str>,
    kind: &dyn Fn() -> Inferred,
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
    match kind() {
        Inferred::Text
            if n >= 20
                && distinct_up_to(col, (n as f64 * (1.0 - DISTINCT_SHARE)).ceil() as usize)
                    .is_some_and(|d| d as f64 > DISTINCT_SHARE * n as f64) =>
        {
            Some("identifier or free text (nearly all values distinct)".into())
        }
        // Distinct first: it stops at the first repeat, where reading
        // every cell as a number would not.
        Inferred::Numeric if n >= 100 && distinct_up_to(col, 0) == Some(n) && all_integers(col) => {
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
pub(crate) fn is_period_name(name: &str) -> bool {
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

/// The customer id column, detected by name and by its cells (mostly
/// distinct), with its [`Firsts`] (so de-duplicating by it hashes its cells
/// no second time).
pub(super) fn detect_id(raw: &RawTable, target_idx: usize) -> Option<(String, Firsts)> {
    raw.names.iter().enumerate().find_map(|(i, n)| {
        if i == target_idx || !is_id_name(n) {
            return None;
        }
        let col = &raw.columns[i];
        let firsts = Firsts::of(col, None);
        // Mostly distinct: a few repeated ids are duplicates to remove, not
        // a reason to doubt the id (missing counts as one value).
        (firsts.distinct as f64 >= 0.95 * col.len() as f64).then(|| (n.clone(), firsts))
    })
}

/// Which rows hold the first occurrence of their id (of their id and
/// period, with a period column): the rows de-duplicating keeps.
pub(super) struct Firsts {
    /// Rows kept, in row order: the first of each id, and every row
    /// without an id.
    pub keep: Vec<usize>,
    /// Distinct ids, missing counting as one.
    pub distinct: usize,
}

impl Firsts {
    /// Found by sorting (hash, row) pairs, hashed and sorted in parallel;
    /// rows whose hashes are equal are told apart by their text, so the
    /// answer is exact. (A hash set of a million ids was a third of the
    /// cleaning time; the sort is a few times faster.)
    pub fn of(col: &RawColumn, period: Option<&RawColumn>) -> Firsts {
        use rayon::prelude::*;
        use std::hash::BuildHasher;
        let key = |r: usize| Some((col.text_ref(r)?, period.and_then(|p| p.text_ref(r))));
        let hasher = foldhash::fast::FixedState::default();
        let mut hashed: Vec<(u64, usize)> = (0..col.len())
            .into_par_iter()
            .filter_map(|r| key(r).map(|k| (hasher.hash_one(k), r)))
            .collect();
        let missing = hashed.len() < col.len();
        hashed.par_sort_unstable();
        let mut repeat = vec![false; col.len()];
        for group in hashed.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
            // Equal hashes: order by text, then row; the first row of each
            // run of equal text is the first occurrence.
            let mut rows: Vec<usize> = group.iter().map(|&(_, r)| r).collect();
            rows.sort_by_cached_key(|&r| (key(r), r));
            for w in rows.windows(2) {
                repeat[w[1]] = key(w[0]) == key(w[1]);
            }
        }
        let keep: Vec<usize> = (0..col.len()).filter(|&r| !repeat[r]).collect();
        let distinct = keep.len() - (col.len() - hashed.len()) + missing as usize;
        Firsts { keep, distinct }
    }
}

/// An empty set with a fast fixed-seed hash (cells; nothing depends on its
/// order).
fn fast_set<T>() -> crate::fast::FastSet<T> {
    crate::fast::FastSet::default()
}

/// Rows to keep (all rows without an id column): the first of each id — of
/// each (id, period) when there is a period column, since stacked snapshots
/// repeat every customer.
pub(super) fn dedupe(raw: &RawTable, id: Option<&str>, period: Option<&str>) -> Vec<usize> {
    match id.and_then(|c| raw.column(c)) {
        Some(col) => Firsts::of(col, period.and_then(|c| raw.column(c))).keep,
        None => (0..raw.n_rows()).collect(),
    }
}

pub(super) fn select_rows(col: &RawColumn, rows: &[usize]) -> RawColumn {
    match col {
        // A gather of the cells' views: the kept rows share the column's
        // text buffers, no cell's text is copied.
        RawColumn::Text(v) => {
            let idx: Vec<polars::prelude::IdxSize> = rows
                .iter()
                .map(|&r| r as polars::prelude::IdxSize)
                .collect();
            let idx = polars::prelude::IdxCa::from_vec("rows".into(), idx);
            match polars::prelude::ChunkTake::take(v, &idx) {
                Ok(taken) => RawColumn::Text(taken.rechunk().into_owned()),
                Err(_) => RawColumn::Text(rows.iter().map(|&r| v.get(r)).collect()),
            }
        }
        RawColumn::Number(v) => RawColumn::Number(rows.iter().map(|&r| v[r]).collect()),
    }
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
    // Read in place: a cell that is not a number reads as missing.
    (0..col.len()).all(|r| match col.cell(r) {
        schema::Cell::Number(x) => x.fract() == 0.0,
        schema::Cell::Missing | schema::Cell::Text(_) => true,
    })
}
