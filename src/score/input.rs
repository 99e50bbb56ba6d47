//! Where a scoring batch comes from: a CSV or Parquet file, a directory of
//! such parts (scored part by part, in name order), or CSV on stdin. Every
//! source is read in chunks of `chunk_rows` rows, so memory does not grow
//! with the batch.

use crate::artifact::Artifact;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::chunks::CsvChunks;
use crate::ingest::{from_dataframe, is_parquet, RawTable};
use crate::scoring::validate::{self, Batch};
use polars::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The batch's date columns and the day their `_days` count back from
/// (summary.json `dates`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatesSummary {
    /// Date column → its pattern, as training read it.
    pub formats: BTreeMap<String, String>,
    /// The batch's reference date (ISO), `None` when no date was read.
    pub reference_date: Option<String>,
    pub reference_rule: String,
    pub training_reference_date: Option<String>,
}

impl DatesSummary {
    /// The console line that says which reference the batch used.
    pub fn line(&self) -> String {
        let training = self.training_reference_date.as_deref().unwrap_or("none");
        match &self.reference_date {
            Some(d) => format!(
                "dates counted back from {d} ({}; training used {training})",
                self.reference_rule
            ),
            None => format!(
                "no date read in the batch: dates counted back from the training reference {training}"
            ),
        }
    }
}

/// A model with date inputs counts days back from the batch's own
/// reference date: `--as-of` when given, else the latest date in the
/// batch's date columns (one streaming pass over the parts before scoring),
/// by the rule training used; set on `art`'s formats, and said.
pub fn batch_reference(
    cfg: &Config,
    art: &mut Artifact,
    parts: &[PathBuf],
) -> Result<Option<DatesSummary>> {
    if art.formats.dates.is_empty() {
        return Ok(None);
    }
    let as_of = cfg.logs.as_of.first().map(String::as_str);
    let mut latest = None;
    if as_of.is_none() {
        for part in parts.iter().filter(|p| p.as_path() != Path::new("-")) {
            for chunk in open(part, cfg.data.delimiter, 100_000, (&[], &[]))? {
                latest = latest.max(art.formats.latest(&chunk?));
            }
        }
    }
    let day = as_of
        .and_then(|a| crate::ingest::dates::parse("%Y-%m-%d", a))
        .or(latest);
    art.formats.batch_reference = day;
    let mut rule = match (as_of, day) {
        (Some(_), _) => "--as-of",
        (None, Some(_)) => "the latest date in the batch's date columns",
        (None, None) => "no date in the batch: the training reference",
    }
    .to_string();
    if let Some(c) = &art.formats.reference_column {
        rule = format!("each row's period ({c}) where the batch has it, else {rule}");
    }
    Ok(Some(DatesSummary {
        formats: art.formats.dates.clone(),
        reference_date: day.map(crate::ingest::dates::iso),
        reference_rule: rule,
        training_reference_date: art.formats.reference.clone(),
    }))
}

/// A stream of chunks.
pub type Chunks = Box<dyn Iterator<Item = Result<RawTable>>>;

/// The parts to score: `-` (stdin), one file, or the CSV/Parquet files of a directory.
pub fn parts(data: &Path) -> Result<Vec<PathBuf>> {
    if data == Path::new("-") || data.is_file() {
        return Ok(vec![data.to_path_buf()]);
    }
    if !data.is_dir() {
        return Err(Error::io(
            data,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        ));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(data)
        .map_err(|e| Error::io(data, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && (is_parquet(p) || p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::data(
            data.display(),
            "the directory holds no .csv or .parquet parts",
        ));
    }
    Ok(files)
}

/// Column names of a part (for the up-front schema check); `None` for stdin.
pub fn header(part: &Path, delimiter: Option<char>) -> Result<Option<Vec<String>>> {
    if part == Path::new("-") {
        return Ok(None);
    }
    let source = part.display().to_string();
    if is_parquet(part) {
        let file = std::fs::File::open(part).map_err(|e| Error::io(part, e))?;
        let schema = ParquetReader::new(file)
            .schema()
            .map_err(|e| Error::data(&source, e))?;
        return Ok(Some(schema.iter_names().map(|n| n.to_string()).collect()));
    }
    let file = std::fs::File::open(part).map_err(|e| Error::io(part, e))?;
    Ok(Some(
        CsvChunks::new(BufReader::new(file), &source, delimiter, 1)?.header_names()?,
    ))
}

/// Open one part as a stream of chunks; CSV columns named in `numeric` are
/// parsed as numbers where they can be (see [`crate::ingest::parse_csv_typed`]),
/// those in `flags` while they can be
/// ([`CsvChunks::with_numbers_while_they_parse`]).
pub fn open(
    part: &Path,
    delimiter: Option<char>,
    chunk_rows: usize,
    (numeric, flags): (&[String], &[String]),
) -> Result<Chunks> {
    if part == Path::new("-") {
        let stdin = std::io::stdin().lock();
        return Ok(Box::new(
            CsvChunks::new(BufReader::new(stdin), "<stdin>", delimiter, chunk_rows)?
                .with_numeric(numeric.to_vec())
                .with_numbers_while_they_parse(flags.to_vec()),
        ));
    }
    let source = part.display().to_string();
    if is_parquet(part) {
        let file = std::fs::File::open(part).map_err(|e| Error::io(part, e))?;
        let total = ParquetReader::new(file)
            .num_rows()
            .map_err(|e| Error::data(&source, e))?;
        let path = part.to_path_buf();
        return Ok(Box::new((0..total).step_by(chunk_rows.max(1)).map(
            move |offset| {
                let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
                let df = ParquetReader::new(file)
                    .with_slice(Some((offset, chunk_rows)))
                    .finish()
                    .map_err(|e| Error::data(path.display(), e))?;
                from_dataframe(&path.display().to_string(), df, offset + 1)
            },
        )));
    }
    let file = std::fs::File::open(part).map_err(|e| Error::io(part, e))?;
    Ok(Box::new(
        CsvChunks::new(
            BufReader::with_capacity(1 << 20, file),
            &source,
            delimiter,
            chunk_rows,
        )?
        .with_numeric(numeric.to_vec())
        .with_numbers_while_they_parse(flags.to_vec()),
    ))
}

/// One validated chunk: the index of its part, the rows read, the batch.
pub struct Validated {
    pub part: usize,
    pub rows_read: usize,
    pub batch: Batch,
}

/// Read and validate the chunks of every part on a thread of its own, one
/// chunk ahead of `each`, so that parsing the next chunk overlaps scoring
/// this one. The hand-over waits for `each` to take the chunk, so this
/// holds at most two chunks (the one being read and the one `each` has).
/// Chunks arrive in order; the first error, from either side, stops both.
pub fn for_each_validated(
    parts: &[PathBuf],
    artifact: &Artifact,
    offers: Option<&crate::offers::OffersModel>,
    delimiter: Option<char>,
    chunk_rows: usize,
    mut each: impl FnMut(Validated) -> Result<()>,
) -> Result<()> {
    let mut numeric: Vec<String> = artifact
        .schema
        .iter()
        .filter(|c| c.kind == "numeric" && !artifact.formats.numbers.contains_key(&c.name))
        .map(|c| c.name.clone())
        .collect();
    let mut flags = Vec::new();
    if let Some(m) = offers {
        let spec = m.spec();
        numeric.extend(spec.attributes.into_iter().filter(|a| a.1).map(|a| a.0));
        flags.extend(m.catalog.products.iter().map(|p| p.column.clone()));
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Validated>>(0);
        scope.spawn(move || {
            for (part, path) in parts.iter().enumerate() {
                let chunks = match open(path, delimiter, chunk_rows, (&numeric, &flags)) {
                    Ok(c) => c,
                    Err(e) => return drop(tx.send(Err(e))),
                };
                for chunk in chunks {
                    let item = chunk.and_then(|raw| {
                        let batch = validate::validate(artifact, offers, &raw)?;
                        Ok(Validated {
                            part,
                            rows_read: raw.n_rows() + raw.skipped.len(),
                            batch,
                        })
                    });
                    let failed = item.is_err();
                    // A closed channel means the scoring side stopped.
                    if tx.send(item).is_err() || failed {
                        return;
                    }
                }
            }
        });
        for item in rx {
            each(item?)?;
        }
        Ok(())
    })
}
