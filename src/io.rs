//! Atomic output: every file the product writes goes to a temporary sibling
//! first and is renamed into place, so a crash or a full disk never leaves a
//! half-written model, report or score file behind.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (temp file in the same directory + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    with_atomic_writer(path, |w| w.write_all(bytes))
}

/// Create `path` atomically, letting `fill` stream into a buffered writer.
pub fn with_atomic_writer<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let mut file = AtomicFile::create(path)?;
    file.write(fill)?;
    file.commit()
}

/// Bytes as lowercase hex (digests, signatures).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The permission bits private files and folders leave out (`--umask`;
/// 077 by default: owner only).
static PRIVATE_UMASK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0o077);

/// Set what private files and folders leave out (`--umask 027`: files
/// 0640, folders 0750, for a group that reads the scores). Set once, by the
/// binary, before any work.
pub fn set_private_umask(umask: u32) {
    PRIVATE_UMASK.store(umask & 0o777, std::sync::atomic::Ordering::Relaxed);
}

/// `--umask`: three or four octal digits.
pub fn parse_umask(s: &str) -> std::result::Result<u32, String> {
    u32::from_str_radix(s.trim(), 8)
        .ok()
        .filter(|&u| u <= 0o777 && (3..=4).contains(&s.trim().len()))
        .ok_or_else(|| format!("--umask '{s}': three octal digits, e.g. 077 or 027"))
}

fn private_mode(full: u32) -> u32 {
    full & !PRIVATE_UMASK.load(std::sync::atomic::Ordering::Relaxed)
}

/// Customer data stays private: files this process writes are created
/// readable by their owner only (0600) and the folders it creates for them
/// 0700, on Unix (`--umask` widens or narrows that; the process umask can
/// only narrow it). Model artifacts hold no customer rows and are made
/// readable to all ([`share`]) once saved.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, private_mode(0o666));
    o.open(path)
}

/// Create `dir` and its missing parents as private folders (0700 on Unix).
pub fn private_dirs(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, private_mode(0o777));
    b.create(dir)
}

/// Make a saved file readable to all (0644 on Unix): model artifacts.
pub fn share(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Is this a Parquet file (by extension)?
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// Write a polars frame as CSV or, for a `.parquet` path, Parquet — atomically.
pub fn write_frame(path: &Path, frame: &mut polars::prelude::DataFrame) -> Result<()> {
    use polars::prelude::{CsvWriter, ParquetWriter, SerWriter};
    let parquet = is_parquet(path);
    with_atomic_writer(path, |w| {
        let done = if parquet {
            ParquetWriter::new(w).finish(frame).map(|_| ())
        } else {
            CsvWriter::new(w).finish(frame)
        };
        done.map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// A table written part by part (CSV with one header, or Parquet with a
/// row group or more per part) to a file that appears under its name only
/// when committed: a table too large to hold whole is written as it is
/// built.
pub struct FrameSink {
    file: AtomicFile,
    parquet: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>,
    rows: usize,
    columns: usize,
    parts: usize,
}

impl FrameSink {
    pub fn create(path: &Path) -> Result<FrameSink> {
        Ok(FrameSink {
            file: AtomicFile::create(path)?,
            parquet: None,
            rows: 0,
            columns: 0,
            parts: 0,
        })
    }

    /// Append the rows of `frame` (the same columns as every part).
    pub fn push(&mut self, frame: &mut polars::prelude::DataFrame) -> Result<()> {
        use polars::prelude::{CsvWriter, ParquetWriter, SerWriter};
        let path = self.file.path.clone();
        let err = |e: polars::prelude::PolarsError| {
            Error::io(&path, std::io::Error::other(e.to_string()))
        };
        if is_parquet(&path) {
            // Parquet row groups are cut from aligned chunks (polars panics
            // on a frame whose columns are chunked differently).
            frame.align_chunks_par();
            if self.parquet.is_none() {
                let handle = self.file.file_handle()?;
                self.parquet = Some(
                    ParquetWriter::new(handle)
                        .batched(frame.schema())
                        .map_err(err)?,
                );
            }
            if let Some(w) = &mut self.parquet {
                w.write_batch(frame).map_err(err)?;
            }
        } else {
            let header = self.parts == 0;
            self.file.write(|w| {
                CsvWriter::new(w)
                    .include_header(header)
                    .finish(frame)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })?;
        }
        self.rows += frame.height();
        self.columns = frame.width();
        self.parts += 1;
        Ok(())
    }

    /// Finish and move the file into place: (rows, columns).
    pub fn commit(mut self) -> Result<(usize, usize)> {
        if let Some(w) = self.parquet.take() {
            w.finish()
                .map_err(|e| Error::io(&self.file.path, std::io::Error::other(e.to_string())))?;
        }
        let (rows, columns) = (self.rows, self.columns);
        self.file.commit()?;
        Ok((rows, columns))
    }
}

/// A file written bit by bit to a temporary sibling, renamed into place by
/// [`AtomicFile::commit`]; dropped uncommitted, it leaves nothing behind —
/// not even the directories it had to create.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once committed (`commit` takes it).
    out: Option<std::io::BufWriter<std::fs::File>>,
    /// Directories this file created, outermost first.
    made: Vec<PathBuf>,
    committed: bool,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let mut made = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let missing: Vec<&Path> = dir
                .ancestors()
                .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
                .collect();
            private_dirs(dir).map_err(|e| Error::io(dir, e))?;
            made = missing.into_iter().rev().map(Path::to_path_buf).collect();
        }
        let tmp = temp_sibling(path);
        let mut file = AtomicFile {
            path: path.to_path_buf(),
            tmp,
            out: None,
            made,
            committed: false,
        };
        let created = private_file(&file.tmp).map_err(|e| Error::io(&file.tmp, e))?;
        file.out = Some(std::io::BufWriter::new(created));
        Ok(file)
    }

    /// Append; errors name the final path.
    pub fn write(
        &mut self,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let out = self
            .out
            .as_mut()
            .expect("an AtomicFile writes until committed");
        fill(out).map_err(|e| Error::io(&self.path, e))
    }

    /// A second handle on the temporary file (for a writer that must own
    /// one); what it writes lands after what was written before.
    pub fn file_handle(&mut self) -> Result<std::fs::File> {
        let out = self
            .out
            .as_mut()
            .expect("an AtomicFile writes until committed");
        out.flush().map_err(|e| Error::io(&self.path, e))?;
        out.get_ref()
            .try_clone()
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Flush, sync and move the file into place.
    pub fn commit(mut self) -> Result<()> {
        let out = self.out.take().expect("committed once");
        let result = (|| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        result.map_err(|e| Error::io(&self.path, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            drop(self.out.take());
            let _ = std::fs::remove_file(&self.tmp);
            for dir in self.made.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// Serialise `value` as pretty JSON and write it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::format(path, e))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Point the symlink `link` at `target` (a file name in the same directory), atomically.
pub fn replace_symlink(link: &Path, target: &str) -> Result<()> {
    let tmp = temp_sibling(link);
    let _ = std::fs::remove_file(&tmp);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| Error::io(&tmp, e))?;
    #[cfg(not(unix))]
    std::fs::write(&tmp, target).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, link).map_err(|e| Error::io(link, e))
}

/// Write `text` to standard output. A reader that has gone away (`| head`)
/// is an error naming `<stdout>` that [`Error::is_broken_pipe`] recognises,
/// never a panic as with `print!`.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

/// Quote a CSV field when it needs it.
/// `x` appended as `{}` writes it — the shortest text that reads back as
/// `x`, no exponent — by ryu: a million scores are written several times
/// faster than through the formatter. ryu's text is the formatter's but for
/// a trailing `.0` (cut), exponents (left to the formatter) and a value
/// exactly between two shortest texts, where ryu takes the even last digit
/// and the formatter the upper one: either reads back as `x`.
pub fn push_float(out: &mut Vec<u8>, x: f64) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format(x);
    if x.is_finite() && !s.contains('e') {
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    } else {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{x}");
    }
}

pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    // A byte scan (these four are ASCII): the char-set search it replaces
    // was ~1.4% of an offers scoring job, run on every written field.
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// `stamp`, or `stamp-2`, `stamp-3` …: the first name that is not `taken`
/// (run folders and model files are never overwritten).
pub fn unique_name(stamp: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = stamp.to_string();
    let mut k = 2;
    while taken(&name) {
        name = format!("{stamp}-{k}");
        k += 1;
    }
    name
}

/// Write a run folder `dir` whole or not at all: `write` fills a private
/// staging folder beside it (`.NAME.partial`), which is renamed into place
/// when it succeeded and removed when it failed, so a folder lister never
/// sees half a run.
pub fn publish_dir(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = dir.with_file_name(format!(".{name}.partial"));
    let written = private_dirs(&staging)
        .map_err(|e| Error::io(&staging, e))
        .and_then(|()| write(&staging))
        .and_then(|()| std::fs::rename(&staging, dir).map_err(|e| Error::io(dir, e)));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// Where `path` is written before it is renamed into place.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// A fresh folder under the system's temporary directory, removed with
/// everything in it when dropped: scratch space for tests and benchmarks.
/// (Ours, not the tempfile crate's: as a dev-dependency that crate changed
/// the features of shared dependencies, so `cargo test` after `cargo run`
/// rebuilt polars.)
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir())
    }

    /// A new folder under `parent` (created when missing).
    pub fn new_in(parent: &Path) -> Result<TempDir> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "churn-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(TempDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_float_reads_back_as_the_formatter_writes_but_for_ties() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            1e-5,
            1e-6,
            1e-7,
            1e15,
            1e16,
            1e17,
            123456789.0,
            6632827120354249.0 / 4.0,
            987654312098761.0 / 8.0,
            9999999999.999998,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for _ in 0..200_000 {
            let bits = next();
            cases.push(f64::from_bits(bits));
            cases.push((bits >> 11) as f64 / (1u64 << 53) as f64);
            cases.push(f64::from_bits(bits) % 1e11);
        }
        let mut ties = 0;
        for x in cases {
            let mut out = Vec::new();
            push_float(&mut out, x);
            let (ours, theirs) = (String::from_utf8(out).unwrap(), format!("{x}"));
            if ours != theirs {
                // Only a tie: as short, and the same value read back.
                assert_eq!(ours.len(), theirs.len(), "{x:e}: {ours} vs {theirs}");
                assert_eq!(ours.parse::<f64>().unwrap(), x, "{x:e}: {ours}");
                ties += 1;
            }
        }
        // Ties are rare: ryu and the formatter agree on all but a few.
        assert!(ties < 500, "{ties} texts differ");
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_not_even_its_folders() {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path();
        let path = root.join("runs/score-1/rejects.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write(|w| writeln!(w, "source,row,reason")).unwrap();
        drop(f);
        assert!(!root.join("runs").exists(), "the folders it made are gone");
        assert!(root.exists(), "the folder that was there stays");

        let mut f = AtomicFile::create(&path).unwrap();
        f.write(|w| write!(w, "a")).unwrap();
        f.write(|w| write!(w, "b")).unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ab");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file beside it: {left:?}");
    }
}
