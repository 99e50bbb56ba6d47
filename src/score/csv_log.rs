//! Per-row side files of a scoring job (`rejects.csv`, `warning_rises.csv`),
//! written as their rows arrive: a bad extract can reject every row of a
//! large batch, a shock can raise thousands of warnings, and holding those
//! rows would make memory grow with the batch. A file appears (atomically)
//! only when the job succeeds.

use crate::error::Result;
use crate::io::AtomicFile;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct CsvLog {
    path: PathBuf,
    header: &'static str,
    /// Opened at the first row (with the run folder, when it is new).
    file: Option<AtomicFile>,
    pub rows: usize,
}

impl CsvLog {
    pub fn new(path: &Path, header: &'static str) -> CsvLog {
        CsvLog {
            path: path.to_path_buf(),
            header,
            file: None,
            rows: 0,
        }
    }

    /// Append `rows` rows that `fill` writes.
    pub fn write(
        &mut self,
        rows: usize,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(open(&self.path, self.header)?),
        };
        file.write(fill)?;
        self.rows += rows;
        Ok(())
    }

    /// Move the file into place (just the header when it has no rows); its rows.
    pub fn finish(self) -> Result<usize> {
        let file = match self.file {
            Some(f) => f,
            None => open(&self.path, self.header)?,
        };
        file.commit()?;
        Ok(self.rows)
    }
}

fn open(path: &Path, header: &str) -> Result<AtomicFile> {
    let mut file = AtomicFile::create(path)?;
    file.write(|w| writeln!(w, "{header}"))?;
    Ok(file)
}
