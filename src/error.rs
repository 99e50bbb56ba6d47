//! One error type for the whole crate.
//!
//! Every failure a user can cause (a bad file, a missing column, a bad value in
//! row N, a bad option) carries enough context to be printed as a single line
//! that names the file, the column and the row, so the binaries only have to
//! print `error: {e}` and exit non-zero.

use std::path::{Path, PathBuf};

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, with the context a user needs to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input data is unusable: names the file and, where known, column and row.
    #[error("{file}{}{}: {message}", column.as_ref().map(|c| format!(", column '{c}'")).unwrap_or_default(), row.map(|r| format!(", row {r}")).unwrap_or_default())]
    Data {
        file: String,
        column: Option<String>,
        row: Option<usize>,
        message: String,
    },
    /// An option or configuration file is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A model could not be fitted or used.
    #[error("model: {0}")]
    Model(String),
    /// A saved model artifact cannot be used.
    #[error("model artifact {path}: {message}")]
    Artifact { path: PathBuf, message: String },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A data error in `file`, without column or row.
    pub fn data(file: impl ToString, message: impl ToString) -> Self {
        Error::Data { file: file.to_string(), column: None, row: None, message: message.to_string() }
    }

    /// A data error located at a column (and optionally a row) of `file`.
    pub fn at(file: impl ToString, column: impl ToString, row: Option<usize>, message: impl ToString) -> Self {
        Error::Data {
            file: file.to_string(),
            column: Some(column.to_string()),
            row,
            message: message.to_string(),
        }
    }

    /// A problem with a model artifact file.
    pub fn artifact(path: impl AsRef<Path>, message: impl ToString) -> Self {
        Error::Artifact { path: path.as_ref().to_path_buf(), message: message.to_string() }
    }
}

impl From<polars::error::PolarsError> for Error {
    fn from(e: polars::error::PolarsError) -> Self {
        // Polars messages can span lines; keep the one-line promise.
        Error::data("input", e.to_string().replace('\n', " "))
    }
}
