//! Named calendar windows (`--calendar FILE`, CSV `start,end,name`):
//! holidays, promotions, salary days. With `--threshold-by calendar` each
//! training row's period date (and at scoring the as-of or season date)
//! falls into a window, whose name is its group, or into none
//! ([`NO_WINDOW`]); with `--calendar-features` every log snapshot gains
//! the days to the next window and since the last ([`distances`]). Windows may not overlap (a date would belong to two),
//! and each date must be a real `YYYY-MM-DD`: anything else is one line
//! naming the file, row, column and value.

use super::dates::parse_iso;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The group of a date outside every window.
pub const NO_WINDOW: &str = "(no window)";

/// One window, both ends included (ISO dates, as the file wrote them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: String,
    pub end: String,
    pub name: String,
}

impl Window {
    fn days(&self) -> (i32, i32) {
        let day = |s: &str| parse_iso(s).unwrap_or(i32::MIN);
        (day(&self.start), day(&self.end))
    }
}

/// The windows of a calendar file, checked.
pub fn read(path: &Path) -> Result<Vec<Window>> {
    let t = crate::ingest::read_table(path, None)?;
    let src = &t.source;
    let col = |n: &str| {
        t.column(n).ok_or_else(|| {
            Error::at(
                src,
                n,
                None,
                "column not found (a calendar is start,end,name)",
            )
        })
    };
    let (start, end, name) = (col("start")?, col("end")?, col("name")?);
    let mut windows: Vec<(i32, i32, usize, Window)> = Vec::new();
    for r in 0..start.len() {
        let cell = |c: &crate::ingest::RawColumn| c.text(r).unwrap_or_default().trim().to_string();
        let (s, e, n) = (cell(start), cell(end), cell(name));
        let day = |v: &str, c: &str| {
            parse_iso(v).ok_or_else(|| {
                Error::at(
                    src,
                    c,
                    Some(t.row(r)),
                    format!("{v:?} is not a date YYYY-MM-DD"),
                )
            })
        };
        let (a, b) = (day(&s, "start")?, day(&e, "end")?);
        if b < a {
            return Err(Error::at(
                src,
                "end",
                Some(t.row(r)),
                format!("{e} is before the start {s}"),
            ));
        }
        if n.is_empty() {
            return Err(Error::at(src, "name", Some(t.row(r)), "empty window name"));
        }
        windows.push((
            a,
            b,
            t.row(r),
            Window {
                start: s,
                end: e,
                name: n,
            },
        ));
    }
    windows.sort_by_key(|w| (w.0, w.1));
    for pair in windows.windows(2) {
        let (x, y) = (&pair[0], &pair[1]);
        if y.0 <= x.1 {
            return Err(Error::at(
                src,
                "start",
                Some(y.2),
                format!(
                    "window {:?} ({}..{}) overlaps {:?} ({}..{})",
                    y.3.name, y.3.start, y.3.end, x.3.name, x.3.start, x.3.end
                ),
            ));
        }
    }
    if windows.is_empty() {
        return Err(Error::data(src, "no calendar windows"));
    }
    Ok(windows.into_iter().map(|w| w.3).collect())
}

/// Days from `day` to the next window's start and since the last window's
/// end (both 0 inside a window; `None` when there is no such window).
pub fn distances(windows: &[Window], day: i32) -> (Option<f64>, Option<f64>) {
    let spans: Vec<(i32, i32)> = windows.iter().map(Window::days).collect();
    if spans.iter().any(|&(a, b)| a <= day && day <= b) {
        return (Some(0.0), Some(0.0));
    }
    let next = spans.iter().filter(|s| s.0 > day).map(|s| s.0 - day).min();
    let last = spans.iter().filter(|s| s.1 < day).map(|s| day - s.1).min();
    (next.map(f64::from), last.map(f64::from))
}

/// The name of the window holding `day`, else [`NO_WINDOW`].
pub fn name_of(windows: &[Window], day: i32) -> &str {
    windows
        .iter()
        .find(|w| {
            let (a, b) = w.days();
            a <= day && day <= b
        })
        .map_or(NO_WINDOW, |w| w.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (crate::io::TempDir, std::path::PathBuf) {
        let dir = crate::io::TempDir::new().unwrap();
        let path = dir.path().join("calendar.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn windows_are_read_checked_and_looked_up() {
        let (_d, p) = file(
            "start,end,name\n2024-12-01,2024-12-31,holidays\n2024-05-01,2024-05-31,promotion\n",
        );
        let w = read(&p).unwrap();
        assert_eq!(w[0].name, "promotion");
        let day = |s: &str| parse_iso(s).unwrap();
        assert_eq!(name_of(&w, day("2024-12-24")), "holidays");
        assert_eq!(name_of(&w, day("2024-05-31")), "promotion");
        assert_eq!(name_of(&w, day("2024-06-01")), NO_WINDOW);
        assert_eq!(distances(&w, day("2024-06-01")), (Some(183.0), Some(1.0)));
        assert_eq!(distances(&w, day("2024-12-02")), (Some(0.0), Some(0.0)));
        assert_eq!(distances(&w, day("2025-01-02")), (None, Some(2.0)));
        let (_d, p) =
            file("start,end,name\n2024-12-01,2024-12-31,holidays\n2024-12-20,2025-01-05,sale\n");
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("overlaps") && e.contains("sale") && e.contains("row 2"),
            "{e}"
        );
        let (_d, p) = file("start,end,name\n2024-13-01,2024-12-31,x\n");
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("start") && e.contains("2024-13-01"), "{e}");
    }
}
