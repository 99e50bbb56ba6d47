//! The snapshot table, built bucket by bucket in two passes. First every
//! bucket's snapshots are aggregated, and parked — in memory with one
//! bucket, in the run's temporary folder with more — keeping aside only the
//! three columns the RFM cut points are fitted on. Then the cut points are
//! fitted once, on every customer, and the parts are handed on snapshot by
//! snapshot, bucket by bucket: buckets are consecutive ranges of the
//! customer table, so that is the table's order. The whole table is never
//! held unless the caller keeps it (training does; `churn-train features`
//! and scoring write it as it comes).

use super::read::{LogSet, SnapshotCounts, SEQ};
use super::{aggregate, bucket, dates::Day, label, rfm, LogsConfig, RfmCuts, AS_OF, ID};
use crate::error::{Error, Result};
use polars::prelude::*;
use rayon::prelude::*;
use std::path::PathBuf;

/// The calendar features of a snapshot taken on `d` (`--calendar-features`):
/// days to the next window and since the last, the same for every row.
fn add_calendar(
    frame: &mut DataFrame,
    windows: &[crate::ingest::calendar::Window],
    d: Day,
) -> PolarsResult<()> {
    let (to, since) = crate::ingest::calendar::distances(windows, d);
    let n = frame.height();
    frame.with_column(Column::new("days_to_window".into(), vec![to; n]))?;
    frame.with_column(Column::new("days_since_window".into(), vec![since; n]))?;
    Ok(())
}

/// Where a bucket's snapshot rows wait for the second pass.
enum Parked {
    Memory(DataFrame),
    Disk(PathBuf),
}

impl Parked {
    fn new(mut frame: DataFrame, spill: Option<PathBuf>) -> Result<Parked> {
        let Some(path) = spill else {
            return Ok(Parked::Memory(frame));
        };
        bucket::spill(&path, &mut frame)?;
        Ok(Parked::Disk(path))
    }

    fn take(self) -> Result<DataFrame> {
        match self {
            Parked::Memory(f) => Ok(f),
            Parked::Disk(path) => {
                let frame = bucket::unspill(&path);
                let _ = std::fs::remove_file(&path);
                frame
            }
        }
    }
}

/// Bucket `b`'s snapshots `days` (without `cust_seq`), labelled with a
/// `horizon`.
fn snapshots(
    logs: &LogSet,
    cfg: &LogsConfig,
    b: usize,
    days: &[Day],
    horizon: Option<i32>,
) -> Result<Vec<(DataFrame, SnapshotCounts)>> {
    let bucket = logs.bucket(b)?;
    let mut out = Vec::with_capacity(days.len());
    for &d in days {
        let label = match horizon {
            Some(h) => Some(label::Window::new(&bucket, d, h, cfg.churn_rule)?),
            None => None,
        };
        let (frame, c) = aggregate::snapshot(&bucket, d, label.as_ref())?;
        let frame = frame
            .drop(SEQ)
            .map_err(|e| Error::polars(&logs.source, e))?;
        out.push((frame, c));
    }
    Ok(out)
}

/// Build the table of snapshots `days` from `logs` and hand it to `emit`
/// part by part in its order: features, the label when `labels` (an error
/// when a window reaches past the log), RFM scores with `cuts` or, when
/// `None`, cut points fitted on the whole table — none on a `--bucket`
/// part, whose cut points `--merge` fits. Returns the cut points used and
/// each snapshot's counts.
pub fn parts(
    logs: &mut LogSet,
    cfg: &LogsConfig,
    days: &[Day],
    labels: bool,
    cuts: Option<&RfmCuts>,
    emit: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<(Option<RfmCuts>, Vec<SnapshotCounts>)> {
    let src = logs.source.clone();
    let horizon = cfg.horizon_days()?;
    for &d in days {
        logs.check_as_of(d)?;
    }
    let fit = cuts.is_none() && cfg.bucket.is_none();
    let mut parked: Vec<Vec<Parked>> = days.iter().map(|_| Vec::new()).collect();
    let mut counts: Vec<Option<SnapshotCounts>> = vec![None; days.len()];
    let mut measures = Vec::new();
    // Buckets are aggregated two at a time (one per core of a small
    // machine; memory follows the two), and parked in their order.
    let all: Vec<usize> = (0..logs.partitions).collect();
    for group in all.chunks(bucket::at_once()) {
        let set: &LogSet = logs;
        let done: Vec<Result<Vec<_>>> = group
            .par_iter()
            .map(|&b| snapshots(set, cfg, b, days, labels.then_some(horizon)))
            .collect();
        for (&b, out) in group.iter().zip(done) {
            for (i, (frame, c)) in out?.into_iter().enumerate() {
                if fit {
                    measures.push(rfm::measures(&src, &frame)?);
                }
                let spill = logs.spill_path(&format!("out-{i}-{b}"));
                parked[i].push(Parked::new(frame, spill)?);
                counts[i] = Some(match counts[i].take() {
                    None => c,
                    Some(sum) => sum.plus(&c),
                });
            }
        }
    }
    logs.phases.mark("aggregate");
    let cuts = match cuts {
        Some(c) => Some(c.clone()),
        None if fit => Some(RfmCuts::fit(&src, &aggregate::stack(&src, measures)?)?),
        None => None,
    };
    for (row, &d) in parked.into_iter().zip(days) {
        for part in row {
            let mut frame = part.take()?;
            if !cfg.calendar.is_empty() {
                add_calendar(&mut frame, &cfg.calendar, d).map_err(|e| Error::polars(&src, e))?;
            }
            if let Some(c) = &cuts {
                frame = c.apply(&src, frame)?;
            }
            emit(frame)?;
        }
    }
    logs.phases.mark("assemble");
    Ok((cuts, counts.into_iter().flatten().collect()))
}

/// [`parts`] stacked into one table (training keeps it whole).
pub fn build_table(
    logs: &mut LogSet,
    cfg: &LogsConfig,
    days: &[Day],
    labels: bool,
    cuts: Option<&RfmCuts>,
) -> Result<(DataFrame, Option<RfmCuts>, Vec<SnapshotCounts>)> {
    let mut frames = Vec::new();
    let (cuts, counts) = parts(logs, cfg, days, labels, cuts, &mut |f| {
        frames.push(f);
        Ok(())
    })?;
    Ok((aggregate::stack(&logs.source, frames)?, cuts, counts))
}

/// `churn-train features --merge`: the part tables of `--bucket K/N` runs
/// (Parquet files in `parts`, any order) as one table — a snapshot's rows in
/// the customer table's order, snapshots by date — with the RFM scores of
/// `cuts` or of cut points fitted on it: the table one run on the whole log
/// builds.
pub fn merge_parts(
    cfg: &LogsConfig,
    parts: &std::path::Path,
    cuts: Option<&RfmCuts>,
) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let files = super::source::files(parts)?;
    let mut tables = Vec::with_capacity(files.len());
    for f in &files {
        let src = f.display().to_string();
        if !crate::ingest::is_parquet(f) {
            return Err(Error::data(
                &src,
                "a part table must be Parquet (as --bucket runs write it with --out part.parquet)",
            ));
        }
        let file = std::fs::File::open(f).map_err(|e| Error::io(f, e))?;
        let t = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&src, e))?;
        if let Some(first) = tables.first().map(|t: &DataFrame| t.schema()) {
            if t.schema() != first {
                return Err(Error::data(
                    &src,
                    format!("this part's columns differ from {}'s", files[0].display()),
                ));
            }
        }
        tables.push(t);
    }
    let src = parts.display().to_string();
    let err = |e| Error::polars(&src, e);
    let order = super::customers::customer_order(cfg)?;
    let table = aggregate::stack(&src, tables)?;
    // Rows by snapshot, then by the customer's row in --customers (an id
    // it lacks first); a stable sort.
    let (ids, seqs) = (
        order.column(ID).map_err(err)?,
        order.column(SEQ).map_err(err)?,
    );
    let seq_of: std::collections::HashMap<&str, IdxSize> = (ids.str().map_err(err)?.iter())
        .zip(seqs.idx().map_err(err)?.iter())
        .filter_map(|(id, seq)| Some((id?, seq?)))
        .collect();
    let keys: Vec<(Option<&str>, Option<IdxSize>)> = (table.column(AS_OF).map_err(err)?)
        .str()
        .map_err(err)?
        .iter()
        .zip(table.column(ID).map_err(err)?.str().map_err(err)?.iter())
        .map(|(as_of, id)| (as_of, id.and_then(|id| seq_of.get(id).copied())))
        .collect();
    let mut rows: Vec<IdxSize> = (0..keys.len() as IdxSize).collect();
    rows.sort_by_key(|&r| keys[r as usize]);
    let table = table
        .take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))
        .map_err(err)?;
    let cuts = match cuts {
        Some(c) => c.clone(),
        None => RfmCuts::fit(&src, &table)?,
    };
    cuts.apply(&src, table)
}
