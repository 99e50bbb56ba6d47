//! One error type for the whole crate.
//!
//! Every failure a user can cause (a bad file, a missing column, a bad value in
//! row N, a bad option) carries enough context to be printed as a single line
//! that names the file, the column and the row, so the binaries only have to
//! print `error: {e}` and exit non-zero. Every conversion from a library's
//! error lives here; those that cannot know the file (polars) have a
//! constructor that takes it instead of a `From` impl.

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
    /// A file could not be encoded or decoded (JSON, Parquet, CSV through polars).
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A model could not be fitted or used.
    #[error("model: {0}")]
    Model(String),
    /// A worker of a job stopped without saying why (a bug, not bad input).
    #[error("internal: {0}")]
    Internal(String),
    /// A saved model artifact cannot be used.
    #[error("model artifact {path}: {message}")]
    Artifact { path: PathBuf, message: String },
}

/// The tree engine's errors, as the application reports them.
impl From<churn_engine::Error> for Error {
    fn from(e: churn_engine::Error) -> Self {
        match e {
            churn_engine::Error::Config(m) => Error::Config(m),
            churn_engine::Error::Model(m) => Error::Model(m),
        }
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A data error in `file`, without column or row.
    pub fn data(file: impl ToString, message: impl ToString) -> Self {
        Error::Data {
            file: file.to_string(),
            column: None,
            row: None,
            message: message.to_string(),
        }
    }

    /// A data error located at a column (and optionally a row) of `file`.
    pub fn at(
        file: impl ToString,
        column: impl ToString,
        row: Option<usize>,
        message: impl ToString,
    ) -> Self {
        Error::Data {
            file: file.to_string(),
            column: Some(column.to_string()),
            row,
            message: message.to_string(),
        }
    }

    /// A problem with a model artifact file.
    pub fn artifact(path: impl AsRef<Path>, message: impl ToString) -> Self {
        Error::Artifact {
            path: path.as_ref().to_path_buf(),
            message: message.to_string(),
        }
    }

    /// A failure encoding or decoding `path` (JSON, Parquet …).
    pub fn format(path: impl AsRef<Path>, message: impl ToString) -> Self {
        // Library messages can span lines; keep the one-line promise.
        Error::Format {
            path: path.as_ref().to_path_buf(),
            message: message.to_string().replace('\n', " "),
        }
    }

    /// Polars failed on the data of `file` (a data error naming the file;
    /// the first line of polars' message, which can run to many).
    pub fn polars(file: impl ToString, e: polars::error::PolarsError) -> Self {
        Error::data(file, e.to_string().lines().next().unwrap_or("unreadable"))
    }

    /// Is this a write to a reader that has gone away (`| head`)? The
    /// binaries then exit 0 without a message, as ripgrep and coreutils do.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<linfa::Error> for Error {
    fn from(e: linfa::Error) -> Self {
        Error::Model(e.to_string())
    }
}

/// What is wrong with a row: the column at fault, when one is (the service
/// names it as the field), and the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub column: Option<String>,
    pub problem: String,
}

impl RowProblem {
    /// A problem with the whole record (no one column).
    pub fn record(problem: impl Into<String>) -> RowProblem {
        RowProblem {
            column: None,
            problem: problem.into(),
        }
    }

    /// A problem with the cell of `column`.
    pub fn at(column: &str, problem: impl Into<String>) -> RowProblem {
        RowProblem {
            column: Some(column.to_string()),
            problem: problem.into(),
        }
    }
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "column '{c}': {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}
