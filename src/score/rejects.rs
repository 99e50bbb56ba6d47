//! `rejects.csv`, written as the rejects arrive: a bad extract can reject
//! every row of a large batch, and holding them would make memory grow with
//! it. The file appears (atomically) only when the job succeeds.

use super::validate::Reject;
use crate::error::Result;
use crate::io::AtomicFile;
use crate::report::csv_field;
use std::path::{Path, PathBuf};

pub struct RejectLog {
    path: PathBuf,
    /// Opened at the first reject (with the run folder, when it is new).
    file: Option<AtomicFile>,
    pub count: usize,
}

impl RejectLog {
    pub fn new(path: &Path) -> RejectLog {
        RejectLog { path: path.to_path_buf(), file: None, count: 0 }
    }

    pub fn add(&mut self, rejects: &[Reject]) -> Result<()> {
        if rejects.is_empty() {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(open(&self.path)?),
        };
        file.write(|w| {
            for r in rejects {
                writeln!(w, "{},{},{}", csv_field(&r.source), r.row, csv_field(&r.reason))?;
            }
            Ok(())
        })?;
        self.count += rejects.len();
        Ok(())
    }

    /// Move the file into place (just the header when nothing was rejected);
    /// the number of rejects.
    pub fn finish(self) -> Result<usize> {
        let file = match self.file {
            Some(f) => f,
            None => open(&self.path)?,
        };
        file.commit()?;
        Ok(self.count)
    }
}

fn open(path: &Path) -> Result<AtomicFile> {
    let mut file = AtomicFile::create(path)?;
    file.write(|w| writeln!(w, "source,row,reason"))?;
    Ok(file)
}
