//! Numbers as bank extracts write them: a decimal comma (`83807,86`),
//! thousands separators (`1.234.567,89`, `1,234,567.89`, `1 234 567,89`
//! with a space or a no-break space, `1'234.50`) and a currency sign or ISO
//! code before or after (`€ 1.234,50`, `1234.50 EUR`).
//!
//! The format is decided once per column on the cells training reads
//! ([`detect`]), recorded in the data report and the artifact, and applied
//! to training and scoring alike ([`apply`]): every cell that reads under
//! the column's format is rewritten as the plain number polars and
//! [`super::schema::parse_cell`] read, so the rest of the product sees the
//! same numbers as from a plain file; a cell that does not read stays as
//! written, to be coerced at training or rejected with its reason at scoring.
//! A column that reads as plain numbers already is left alone (no format).

use super::{RawColumn, RawTable};
use serde::{Deserialize, Serialize};

/// How one column writes its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberFormat {
    /// The decimal mark: `.` or `,`.
    pub decimal: char,
    /// The thousands separator, if any (`.`, `,`, ` ` (any space), `'`).
    pub thousands: Option<char>,
    /// Cells may carry a currency sign or ISO code.
    pub currency: bool,
}

/// The formats tried, plain first.
const CANDIDATES: [(char, Option<char>); 8] = [
    ('.', None),
    ('.', Some(',')),
    ('.', Some(' ')),
    ('.', Some('\'')),
    (',', None),
    (',', Some('.')),
    (',', Some(' ')),
    (',', Some('\'')),
];

/// Share of a column's non-missing cells that must read under one format.
const SHARE: f64 = 0.95;

/// A currency sign or code at either end of `s`, stripped (with the space
/// beside it); the rest, or `s` itself.
fn strip_currency(s: &str) -> &str {
    const SIGNS: [&str; 12] = [
        "€", "$", "£", "¥", "₹", "₽", "₺", "₩", "Kč", "zł", "kr", "Fr.",
    ];
    let t = s.trim();
    for sign in SIGNS {
        if let Some(rest) = t.strip_prefix(sign) {
            return rest.trim_start();
        }
        if let Some(rest) = t.strip_suffix(sign) {
            return rest.trim_end();
        }
    }
    let code = |c: &str| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
    if let Some((head, rest)) = t.split_once(' ') {
        if code(head) {
            return rest.trim_start();
        }
    }
    if let Some((rest, tail)) = t.rsplit_once(' ') {
        if code(tail) {
            return rest.trim_end();
        }
    }
    t
}

/// A space of any kind a thousands separator may be written with.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// `s` read under `(decimal, thousands)`, currency allowed when `currency`;
/// `None` when it does not read so. Groups after the first must have three
/// digits; the plain format also takes what Rust's float parser takes.
pub fn parse(s: &str, decimal: char, thousands: Option<char>, currency: bool) -> Option<f64> {
    let s = if currency {
        strip_currency(s)
    } else {
        s.trim()
    };
    if decimal == '.' && thousands.is_none() {
        return s.parse::<f64>().ok().filter(|x| x.is_finite());
    }
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = match body.rfind(decimal) {
        Some(i) => (&body[..i], Some(&body[i + decimal.len_utf8()..])),
        None => (body, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let sep = |c: char| match thousands {
        Some(' ') => is_space(c),
        Some(t) => c == t,
        None => false,
    };
    let groups: Vec<&str> = int.split(sep).collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| digits(g))
        || groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    let mut plain = String::with_capacity(s.len());
    plain.push_str(sign);
    groups.iter().for_each(|g| plain.push_str(g));
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    plain.parse::<f64>().ok().filter(|x| x.is_finite())
}

impl NumberFormat {
    /// The format in words, for the console and reports.
    pub fn describe(&self) -> String {
        let mark = |c: char| match c {
            '.' => "point".to_string(),
            ',' => "comma".to_string(),
            ' ' => "space".to_string(),
            '\'' => "apostrophe".to_string(),
            c => format!("'{c}'"),
        };
        let mut s = format!("decimal {}", mark(self.decimal));
        if let Some(t) = self.thousands {
            s.push_str(&format!(", thousands {}", mark(t)));
        }
        if self.currency {
            s.push_str(", currency sign or code");
        }
        s
    }
}

/// `s` under `f` (see [`parse`]).
pub fn parse_with(s: &str, f: &NumberFormat) -> Option<f64> {
    parse(s, f.decimal, f.thousands, f.currency)
}

/// What one column's cells say about the formats: per candidate, how many
/// cells read under it, and whether currency was needed.
#[derive(Debug, Clone)]
pub struct Evidence {
    present: usize,
    /// Cells read per candidate, without and with currency stripping.
    read: [[usize; 2]; CANDIDATES.len()],
    /// Per candidate, whether some cell reads to another value than plain.
    differs: [bool; CANDIDATES.len()],
    /// The first present cell that no format reads.
    example: Option<String>,
}

/// Weigh the formats on `cells` (each distinct cell with its count).
pub fn evidence<'a>(cells: impl Iterator<Item = (&'a str, usize)>) -> Evidence {
    let mut e = Evidence {
        present: 0,
        read: [[0; 2]; CANDIDATES.len()],
        differs: [false; CANDIDATES.len()],
        example: None,
    };
    for (cell, n) in cells {
        if super::schema::parse_cell(Some(cell)) == super::schema::Cell::Missing {
            continue;
        }
        e.present += n;
        let plain = parse(cell, '.', None, false);
        let mut any = false;
        for (k, &(d, t)) in CANDIDATES.iter().enumerate() {
            if parse(cell, d, t, false).is_some() {
                e.read[k][0] += n;
            }
            if let Some(x) = parse(cell, d, t, true) {
                any = true;
                e.read[k][1] += n;
                if plain != Some(x) {
                    e.differs[k] = true;
                }
            }
        }
        if !any && e.example.is_none() {
            e.example = Some(cell.trim().to_string());
        }
    }
    e
}

impl Evidence {
    /// The share of the present cells the best format reads, when the
    /// column is neither numbers (under [`SHARE`]) nor text (under half).
    pub fn partly_numbers(&self) -> Option<f64> {
        let best = self.read.iter().map(|r| r[1]).max().unwrap_or(0);
        let share = best as f64 / self.present.max(1) as f64;
        (self.present > 0 && (0.5..SHARE).contains(&share)).then_some(share)
    }

    /// A cell no format reads (for the warning about a column that is
    /// partly numbers).
    pub fn example(&self) -> Option<&str> {
        self.example.as_deref()
    }

    /// Does the column read as numbers only under a decimal `mark`? `None`
    /// when it reads as well either way (or not at all).
    pub fn decimal_vote(&self) -> Option<char> {
        let best = |mark: char| {
            CANDIDATES
                .iter()
                .zip(&self.read)
                .filter(|(c, _)| c.0 == mark)
                .map(|(_, r)| r[1])
                .max()
                .unwrap_or(0)
        };
        let (dot, comma) = (best('.'), best(','));
        let enough = |n: usize| self.present > 0 && n as f64 >= SHARE * self.present as f64;
        match (enough(dot), enough(comma)) {
            (true, false) if self.format('.').is_some() => Some('.'),
            (false, true) => Some(','),
            _ => None,
        }
    }

    /// The column's format under the file's decimal `convention`: the
    /// candidate reading the most cells (at least [`SHARE`] of them), ties
    /// to the convention, then to the simplest; `None` when the column is
    /// not numbers or reads as plain numbers already.
    pub fn format(&self, convention: char) -> Option<NumberFormat> {
        if self.present == 0 {
            return None;
        }
        let score = |k: usize| {
            let (d, t) = CANDIDATES[k];
            (
                self.read[k][1],
                d == convention,
                std::cmp::Reverse(t.is_some() as u8),
                std::cmp::Reverse(k),
            )
        };
        let best = (0..CANDIDATES.len()).max_by_key(|&k| score(k))?;
        let n = self.read[best][1];
        if (n as f64) < SHARE * self.present as f64 || !self.differs[best] {
            return None;
        }
        let (decimal, thousands) = CANDIDATES[best];
        Some(NumberFormat {
            decimal,
            thousands,
            currency: self.read[best][1] > self.read[best][0],
        })
    }
}

/// Rewrite the cells of column `name` of `table` that read under `f` as
/// plain numbers; the rest stay as written.
pub fn apply(table: &mut RawTable, name: &str, f: &NumberFormat) {
    let Some(i) = table.index_of(name) else {
        return;
    };
    let RawColumn::Text(cells) = &table.columns[i] else {
        return;
    };
    let rewritten: polars::prelude::StringChunked = cells
        .iter()
        .map(|c| {
            c.map(|s| match parse_with(s, f) {
                Some(x) => std::borrow::Cow::Owned(x.to_string()),
                None => std::borrow::Cow::Borrowed(s),
            })
        })
        .collect();
    table.columns[i] = RawColumn::Text(rewritten);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read() {
        assert_eq!(parse("83807,86", ',', None, false), Some(83807.86));
        assert_eq!(
            parse("1.234.567,89", ',', Some('.'), false),
            Some(1234567.89)
        );
        assert_eq!(
            parse("1,234,567.89", '.', Some(','), false),
            Some(1234567.89)
        );
        assert_eq!(
            parse("1 234 567,89", ',', Some(' '), false),
            Some(1234567.89)
        );
        assert_eq!(parse("1\u{a0}234,5", ',', Some(' '), false), Some(1234.5));
        assert_eq!(parse("€ 1.234,50", ',', Some('.'), true), Some(1234.5));
        assert_eq!(parse("1234.50 EUR", '.', None, true), Some(1234.5));
        assert_eq!(parse("-1.234,5", ',', Some('.'), false), Some(-1234.5));
        assert_eq!(parse("$1,234", '.', Some(','), true), Some(1234.0));
        // Groups of three only; no stray marks.
        assert_eq!(parse("1.23.456,7", ',', Some('.'), false), None);
        assert_eq!(parse("12,5A", ',', None, true), None);
        assert_eq!(parse("1234.50 EUR", '.', None, false), None);
    }

    fn fmt(cells: &[&str], convention: char) -> Option<NumberFormat> {
        evidence(cells.iter().map(|c| (*c, 1))).format(convention)
    }

    #[test]
    fn columns_pick_one_format() {
        let comma = fmt(&["83807,86", "0", "125,5", "7"], '.').unwrap();
        assert_eq!((comma.decimal, comma.thousands), (',', None));
        let de = fmt(&["1.234,5", "12,25", "7.000.000,00"], '.').unwrap();
        assert_eq!((de.decimal, de.thousands), (',', Some('.')));
        // Plain numbers need no format; codes are not numbers.
        assert_eq!(fmt(&["1.5", "2", "-3e2"], ','), None);
        assert_eq!(fmt(&["12,5A", "13,1B", "9,9C"], ','), None);
        // Ambiguous "1,234" follows the file's convention.
        let us = fmt(&["1,234", "5,678"], '.').unwrap();
        assert_eq!(us.thousands, Some(','));
        let eu = fmt(&["1,234", "5,678"], ',').unwrap();
        assert_eq!((eu.decimal, eu.thousands), (',', None));
        let cur = fmt(&["€ 10", "€ 1.234,50", "€ 0,99"], ',').unwrap();
        assert!(cur.currency);
    }
}
