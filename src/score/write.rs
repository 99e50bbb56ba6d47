//! Writing per-customer scores: CSV or Parquet to a temporary file renamed
//! into place at the end (atomic), or CSV to stdout for pipe mode.

use crate::config::OutputFormat;
use crate::error::{Error, Result};
use crate::io::csv_field;
use crate::scoring::explain::{Reason, Reasons};
use crate::scoring::rows::{Scored, COLUMNS};
use polars::prelude::*;
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows formatted per parallel task.
const FORMAT_ROWS: usize = 4096;

/// CSV lines of `rows` of `s`.
fn format_rows(s: &Scored, reasons: &Reasons, rows: &[usize]) -> Vec<u8> {
    let mut b = Vec::with_capacity(rows.len() * 160);
    let mut text = String::new();
    for &i in rows {
        // Writing into a Vec cannot fail.
        let _ = write!(
            b,
            "{},{},{},{},{},",
            csv_field(&s.ids[i]),
            s.probability[i],
            s.flag[i],
            s.level[i],
            s.tier[i],
        );
        // An unknown CLV (no value source) is an empty cell.
        if !s.clv[i].is_nan() {
            let _ = write!(b, "{:.2}", s.clv[i]);
        }
        for r in s.reasons[i] {
            text.clear();
            reasons.push(&mut text, i, r);
            b.push(b',');
            b.extend_from_slice(csv_field(&text).as_bytes());
        }
        let _ = write!(
            b,
            ",{},{},{}",
            csv_field(&s.action[i]),
            csv_field(&s.owner[i]),
            s.contact_days[i]
        );
        for (_, v) in &s.extra {
            b.push(b',');
            b.extend_from_slice(csv_field(&v[i]).as_bytes());
        }
        if let Some(l) = &s.label {
            let _ = write!(b, ",{},{}", l[i], (l[i] == s.flag[i]) as u8);
        }
        b.push(b'\n');
    }
    b
}

// One per job: the size of the Parquet writer variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Sink {
    Csv(Box<dyn Write + Send>),
    Parquet(polars::io::parquet::write::BatchedWriter<File>),
    Pending,
}

/// A score writer; `finish` renames the temp file into place.
pub struct ScoreWriter {
    sink: Sink,
    format: OutputFormat,
    target: Option<PathBuf>,
    tmp: Option<PathBuf>,
    header_done: bool,
}

impl ScoreWriter {
    /// `None` = stdout (CSV).
    pub fn new(target: Option<&Path>, format: OutputFormat) -> Result<ScoreWriter> {
        let (sink, tmp) = match target {
            None => (
                Sink::Csv(Box::new(BufWriter::with_capacity(
                    1 << 20,
                    std::io::stdout(),
                ))),
                None,
            ),
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::io::private_dirs(dir).map_err(|e| Error::io(dir, e))?;
                }
                let tmp = crate::io::temp_sibling(path);
                let sink = match format {
                    OutputFormat::Csv => Sink::Csv(Box::new(BufWriter::with_capacity(
                        1 << 20,
                        crate::io::private_file(&tmp).map_err(|e| Error::io(&tmp, e))?,
                    ))),
                    OutputFormat::Parquet => Sink::Pending,
                };
                (sink, Some(tmp))
            }
        };
        let format = if target.is_none() {
            OutputFormat::Csv
        } else {
            format
        };
        Ok(ScoreWriter {
            sink,
            format,
            target: target.map(Path::to_path_buf),
            tmp,
            header_done: false,
        })
    }

    /// Write a scored chunk; `reasons` reads its reason codes as text.
    pub fn write(&mut self, s: &Scored, reasons: &Reasons) -> Result<()> {
        match self.format {
            OutputFormat::Csv => self.write_csv(s, reasons).map_err(|e| {
                Error::io(self.target.clone().unwrap_or_else(|| "<stdout>".into()), e)
            }),
            OutputFormat::Parquet => self.write_parquet(s, reasons),
        }
    }

    fn write_csv(&mut self, s: &Scored, reasons: &Reasons) -> std::io::Result<()> {
        let Sink::Csv(w) = &mut self.sink else {
            return Ok(());
        };
        if !self.header_done {
            write!(w, "{}", COLUMNS.join(","))?;
            for (name, _) in &s.extra {
                write!(w, ",{}", csv_field(name))?;
            }
            if s.label.is_some() {
                write!(w, ",label,correct")?;
            }
            writeln!(w)?;
            self.header_done = true;
        }
        // Rows are formatted in parallel, in order, and written in one go.
        let rows: Vec<usize> = (0..s.ids.len()).collect();
        let parts: Vec<Vec<u8>> = rows
            .par_chunks(FORMAT_ROWS)
            .map(|rows| format_rows(s, reasons, rows))
            .collect();
        parts.iter().try_for_each(|b| w.write_all(b))
    }

    fn write_parquet(&mut self, s: &Scored, reasons: &Reasons) -> Result<()> {
        let texts = |v: &[Arc<str>]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let mut cols = vec![
            Column::new("id".into(), s.ids.clone()),
            Column::new("churn_probability".into(), s.probability.clone()),
            Column::new(
                "churn_flag".into(),
                s.flag.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            ),
            Column::new(
                "warning_level".into(),
                s.level.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            ),
            Column::new("value_tier".into(), texts(&s.tier)),
            Column::new(
                "clv".into(),
                s.clv
                    .iter()
                    .map(|&c| (!c.is_nan()).then_some(c))
                    .collect::<Vec<_>>(),
            ),
        ];
        for k in 0..3 {
            let text = |(i, r): (usize, &[Option<Reason>; 3])| {
                let mut t = String::new();
                reasons.push(&mut t, i, r[k]);
                t
            };
            cols.push(Column::new(
                format!("reason_{}", k + 1).into(),
                s.reasons.iter().enumerate().map(text).collect::<Vec<_>>(),
            ));
        }
        cols.push(Column::new("action".into(), texts(&s.action)));
        cols.push(Column::new("owner".into(), texts(&s.owner)));
        cols.push(Column::new(
            "contact_within_days".into(),
            s.contact_days.clone(),
        ));
        for (name, v) in &s.extra {
            cols.push(Column::new(name.as_str().into(), v.clone()));
        }
        if let Some(l) = &s.label {
            cols.push(Column::new(
                "label".into(),
                l.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            ));
            cols.push(Column::new(
                "correct".into(),
                l.iter()
                    .zip(&s.flag)
                    .map(|(a, b)| (a == b) as u32)
                    .collect::<Vec<_>>(),
            ));
        }
        let target = self.target.clone().unwrap_or_else(|| "<stdout>".into());
        let df = DataFrame::new_infer_height(cols).map_err(|e| Error::format(&target, e))?;
        if let Sink::Pending = self.sink {
            let tmp = self
                .tmp
                .clone()
                .ok_or_else(|| Error::Config("parquet output needs a file".into()))?;
            let file = crate::io::private_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
            let w = ParquetWriter::new(file)
                .batched(df.schema())
                .map_err(|e| Error::format(&target, e))?;
            self.sink = Sink::Parquet(w);
        }
        if let Sink::Parquet(w) = &mut self.sink {
            w.write_batch(&df).map_err(|e| Error::format(&target, e))?;
        }
        Ok(())
    }

    /// Flush and move the file into place.
    pub fn finish(self) -> Result<()> {
        let target = self.target.clone().unwrap_or_else(|| "<stdout>".into());
        let tmp = self.tmp.clone();
        let flushed = match self.sink {
            Sink::Csv(mut w) => w.flush().map_err(|e| Error::io(&target, e)),
            Sink::Parquet(w) => w
                .finish()
                .map(|_| ())
                .map_err(|e| Error::format(&target, e)),
            Sink::Pending => Ok(()),
        };
        let moved = flushed.and_then(|()| match (&tmp, &self.target) {
            (Some(tmp), Some(path)) if tmp.exists() => {
                std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))
            }
            _ => Ok(()),
        });
        // A failed flush (a full disk) leaves no partial file behind.
        if moved.is_err() {
            if let Some(tmp) = &tmp {
                let _ = std::fs::remove_file(tmp);
            }
        }
        moved
    }

    /// Remove the temporary file after a failure.
    pub fn abandon(self) {
        if let Some(tmp) = &self.tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
