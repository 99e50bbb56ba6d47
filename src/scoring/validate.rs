//! Validation of a scoring batch against the artifact's schema.
//!
//! Missing required columns stop the job before anything is written (listing
//! them all); extra columns are ignored. Row-level problems — a number that
//! does not parse, a negative value in a column that was never negative, an
//! unknown label — send the row to the rejects file with its row number and
//! reason, and the run continues: rows read = rows scored + rows rejected.

use crate::artifact::{Artifact, ColumnSchema};
use crate::error::{Error, Result, RowProblem};
use crate::fairness::{group_labels, Attribute};
use crate::features::{FeatureData, FeatureTable};
use crate::ingest::schema::{self, Cell};
use crate::ingest::RawTable;

/// A rejected row.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// Data-row number in its source (1-based, header excluded).
    pub row: usize,
    pub source: String,
    pub why: RowProblem,
}

impl Reject {
    /// The reason as the rejects file writes it: `column 'X': problem`.
    pub fn reason(&self) -> String {
        self.why.to_string()
    }
}

/// The valid rows of a chunk, typed per the schema.
#[derive(Debug, Clone)]
pub struct Batch {
    pub table: FeatureTable,
    pub ids: Vec<String>,
    /// 0/1 labels when the label column is present.
    pub labels: Option<Vec<u8>>,
    /// The artifact's protected and sensitive columns present in the chunk:
    /// each valid row's group, for the batch's fairness figures.
    pub attributes: Vec<Attribute>,
    pub rejects: Vec<Reject>,
    /// Columns copied to the scores as they are (a log-built table's
    /// `rfm_cell`, `lifecycle_stage`), each valid row's text.
    pub extra: Vec<(String, Vec<String>)>,
    /// The offers' inputs of the valid rows, when offers are applied.
    pub offers: Option<crate::offers::inputs::Rows>,
}

/// Every schema column that `names` lacks, or an error listing them.
pub fn check_columns(artifact: &Artifact, source: &str, names: &[String]) -> Result<()> {
    let missing: Vec<&str> = artifact
        .schema
        .iter()
        .map(|c| artifact.formats.source_column(&c.name))
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::data(
            source,
            format!("missing required column(s): {}", missing.join(", ")),
        ))
    }
}

/// Type the rows of `raw` per the artifact (and the offers model, when
/// offers are applied); bad rows become rejects.
pub fn validate(
    artifact: &Artifact,
    offers: Option<&crate::offers::OffersModel>,
    raw: &RawTable,
) -> Result<Batch> {
    check_columns(artifact, &raw.source, &raw.names)?;
    // Numbers written as the training file wrote them (a decimal comma …)
    // read as there, dates as days; a cell in no such format stays as
    // written. Only those columns are copied to be rewritten.
    let formatted = (!artifact.formats.is_empty()).then(|| artifact.formats.formatted(raw));
    let n = raw.n_rows();
    let mut reason: Vec<Option<RowProblem>> = vec![None; n];
    let mut typed: Vec<(String, FeatureData)> = Vec::with_capacity(artifact.schema.len());
    for col in &artifact.schema {
        let cells = formatted
            .as_ref()
            .and_then(|f| f.column(&col.name))
            .or_else(|| raw.column(&col.name))
            .ok_or_else(|| Error::at(&raw.source, &col.name, None, "column vanished"))?;
        typed.push((
            col.name.clone(),
            type_column(artifact, col, cells, &mut reason),
        ));
    }
    let labels = read_labels(artifact, raw, &mut reason);
    if let Some(m) = offers {
        let missing = m.missing_columns(&raw.names);
        if !missing.is_empty() {
            return Err(Error::data(
                &raw.source,
                format!("offers: missing column(s): {}", missing.join(", ")),
            ));
        }
    }
    let offer_rows = offers.map(|m| {
        // The panel's number formats, on a copy (rarely: most panels are plain).
        if m.formats.is_empty() {
            crate::offers::inputs::read(raw, &m.spec(), &mut reason)
        } else {
            let mut copy = raw.clone();
            m.formats.apply(&mut copy);
            crate::offers::inputs::read(&copy, &m.spec(), &mut reason)
        }
    });
    let keep: Vec<usize> = (0..n).filter(|&r| reason[r].is_none()).collect();
    let mut rejects = rejects(raw, &mut reason);
    rejects.sort_by_key(|r| r.row);
    let id_col = artifact.id_column.as_deref().and_then(|c| raw.column(c));
    let ids = keep
        .iter()
        .map(|&r| {
            id_col
                .and_then(|c| c.text(r))
                .unwrap_or_else(|| raw.row(r).to_string())
        })
        .collect();
    let mut table = FeatureTable::default();
    for (name, data) in typed {
        table.push(name, select(data, &keep));
    }
    let labels = labels.map(|l| keep.iter().map(|&r| l[r]).collect());
    let attributes = artifact
        .fairness
        .iter()
        .filter_map(|spec| {
            let col = raw.column(&spec.name)?;
            Some(Attribute {
                spec: spec.clone(),
                groups: group_labels(&spec.name, col, Some(&keep)),
            })
        })
        .collect();
    let extra = artifact
        .passthrough()
        .iter()
        .filter_map(|&name| {
            let col = raw.column(name)?;
            let cells = keep
                .iter()
                .map(|&r| col.text(r).unwrap_or_default())
                .collect();
            Some((name.to_string(), cells))
        })
        .collect();
    Ok(Batch {
        table,
        ids,
        labels,
        attributes,
        rejects,
        extra,
        offers: offer_rows.map(|o| o.select(&keep)),
    })
}

/// The batch's labels as 1/0 when it carries the target column (offline
/// evaluation); a label that is none of the training labels marks its row.
fn read_labels(
    artifact: &Artifact,
    raw: &RawTable,
    reason: &mut [Option<RowProblem>],
) -> Option<Vec<u8>> {
    let n = raw.n_rows();
    let label_col = raw.column(&artifact.target);
    let mut labels = label_col.map(|_| Vec::with_capacity(n));
    if let (Some(col), Some(out)) = (label_col, labels.as_mut()) {
        for (r, reason) in reason.iter_mut().enumerate().take(n) {
            let v = col.text(r).map(|t| match schema::parse_cell(Some(&t)) {
                Cell::Number(x) => schema::format_number(x),
                _ => t,
            });
            match v {
                Some(v) if v == artifact.positive_label => out.push(1),
                Some(v) if v == artifact.negative_label => out.push(0),
                other => {
                    out.push(0);
                    reason.get_or_insert_with(|| {
                        RowProblem::at(
                            &artifact.target,
                            format!(
                                "label {:?} is not one of the training labels",
                                other.unwrap_or_default()
                            ),
                        )
                    });
                }
            }
        }
    }
    labels
}

/// Every marked row and every unreadable record, as rejects (unsorted).
fn rejects(raw: &RawTable, reason: &mut [Option<RowProblem>]) -> Vec<Reject> {
    let n = raw.n_rows();
    let unparsed = raw.skipped.iter().map(|(row, why)| Reject {
        row: *row,
        source: raw.source.clone(),
        why: RowProblem::record(format!("unreadable record: {why}")),
    });
    (0..n)
        .filter_map(|r| {
            reason[r].take().map(|why| Reject {
                row: raw.row(r),
                source: raw.source.clone(),
                why,
            })
        })
        .chain(unparsed)
        .collect()
}

fn type_column(
    artifact: &Artifact,
    col: &ColumnSchema,
    cells: &crate::ingest::RawColumn,
    reason: &mut [Option<RowProblem>],
) -> FeatureData {
    if col.kind == "categorical" {
        return FeatureData::Categorical(schema::to_categories(cells));
    }
    let min = artifact
        .scoring
        .features
        .iter()
        .find(|h| h.name == col.name)
        .and_then(|h| h.min);
    let mut values = Vec::with_capacity(cells.len());
    for (r, reason) in reason.iter_mut().enumerate().take(cells.len()) {
        let x = match cells.cell(r) {
            Cell::Missing => f64::NAN,
            Cell::Number(x) => {
                if x < 0.0 && min.is_some_and(|m| m >= 0.0) {
                    reason.get_or_insert_with(|| {
                        RowProblem::at(
                            &col.name,
                            format!("negative value {x} (never negative in training)"),
                        )
                    });
                }
                x
            }
            Cell::Text(t) => {
                reason.get_or_insert_with(|| {
                    RowProblem::at(&col.name, format!("'{t}' is not a number"))
                });
                f64::NAN
            }
        };
        values.push(x);
    }
    FeatureData::Numeric(values)
}

fn select(data: FeatureData, keep: &[usize]) -> FeatureData {
    if keep.len() == data.len() {
        return data;
    }
    data.select(keep)
}
