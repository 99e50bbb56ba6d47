//! Where scores go besides a file: a database table a CRM reads.
//!
//! `--out sqlite:PATH` writes into an SQLite file (embedded, no server);
//! `--out postgres://USER@HOST:PORT/DB` into PostgreSQL (binary COPY into
//! the table, through a staging table and an upsert only for a customer
//! who comes twice in a batch). Both write a run in **one
//! transaction**: rows become visible only when the whole job has
//! succeeded (its outputs and summary written), so a failed or killed job
//! leaves the previous state untouched, and re-running a run id replaces
//! its rows. Tables are created when absent and checked when present
//! (other columns: an error before anything is written). Credentials never
//! leave this module: targets are shown with the password masked.

mod copy;
mod pg_tls;
pub mod postgres;
mod pump;
mod seen;
pub mod sqlite;
pub mod table;

use crate::error::Result;
pub use table::{Column, Kind, Stamp, Value};

/// A database target of `--out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Target {
    /// `sqlite:PATH`, `postgres://…` or `postgresql://…`; `None` for a file.
    pub fn parse(out: &str) -> Option<Target> {
        if let Some(path) = out.strip_prefix("sqlite:") {
            return Some(Target::Sqlite(path.into()));
        }
        (out.starts_with("postgres://") || out.starts_with("postgresql://"))
            .then(|| Target::Postgres(out.to_string()))
    }

    /// The target as it may be shown: a URL's password masked.
    pub fn display(&self) -> String {
        match self {
            Target::Sqlite(p) => format!("sqlite:{}", p.display()),
            Target::Postgres(url) => mask_password(url),
        }
    }
}

/// `postgres://user:secret@host/db?password=x` →
/// `postgres://user:***@host/db?password=***`.
pub fn mask_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut shown = mask_userinfo(base);
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some(("password", _)) => "password=***".to_string(),
                _ => p.to_string(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&pairs.join("&"));
    }
    shown
}

fn mask_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// What `score_runs` records of a run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub model_checksum: String,
    pub rows_read: usize,
    pub rows_scored: usize,
    pub rows_rejected: usize,
    pub summary_json: String,
    pub started_at: std::time::SystemTime,
}

/// A scores table being written in one transaction.
pub trait TableSink: Send {
    /// Add a scored chunk: its columns (the same for every chunk of a run)
    /// and rows of values in that order; invisible to readers until
    /// [`TableSink::commit`].
    fn write(&mut self, cols: &[Column], rows: Vec<Vec<Value>>) -> Result<()>;
    /// Record the run in `score_runs` and commit. Dropping a sink without
    /// committing rolls everything back.
    fn commit(self: Box<Self>, run: &RunRecord) -> Result<()>;
}

/// Open `target` for a run stamped `stamp`, into table `table`.
pub fn open(target: &Target, table: &str, stamp: Stamp) -> Result<Box<dyn TableSink>> {
    Ok(match target {
        Target::Sqlite(path) => Box::new(sqlite::Sqlite::open(path, table, stamp)?),
        Target::Postgres(url) => Box::new(postgres::Postgres::open(url, table, stamp)?),
    })
}

/// ISO 8601 UTC text of a time.
pub fn iso(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::artifact::format_time(secs).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgres://ann:s3cr@t@db.bank:5432/crm"),
            "postgres://ann:***@db.bank:5432/crm"
        );
        assert_eq!(
            mask_password("postgres://ann@db:5432/crm"),
            "postgres://ann@db:5432/crm"
        );
        assert_eq!(
            mask_password(
                "postgres://ann:pw@db/crm?sslrootcert=/a@b.pem&password=s3cr&sslmode=require"
            ),
            "postgres://ann:***@db/crm?sslrootcert=/a@b.pem&password=***&sslmode=require"
        );
        assert_eq!(
            Target::parse("sqlite:/tmp/x.db"),
            Some(Target::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(Target::parse("scores.csv"), None);
    }
}
