//! Dates in a flat customer table (`last_txn_date`, `opened`): a column whose
//! cells read as dates becomes a number, "days before the reference date"
//! (`<col>_days`), never a category — a category of dates holds only dates
//! the model has seen, so a batch scored a month later would fall into
//! "(other)" and lose its strongest signal without a word.
//!
//! Formats are patterns of `%Y` (four digits), `%y` (two: 50–99 → 19xx),
//! `%m`, `%d` (one or two digits) and literal characters; a time of day
//! after the date (`T10:00:00Z`, ` 10:00`) is allowed and ignored. Day and
//! month order is decided over the whole column: `mm/dd/yyyy` only when some
//! cell cannot be `dd/mm/yyyy`.

/// The patterns tried, in order (`dd/mm` before `mm/dd`: when every cell
/// reads both ways, the European reading wins and the report says which).
pub const PATTERNS: [&str; 7] = [
    "%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d",
];

/// Share of a column's non-missing cells that must read as dates.
const SHARE: f64 = 0.95;

/// Day number (days since 1970-01-01) of a proleptic Gregorian date (H.
/// Hinnant's `days_from_civil`); the logs count days the same way.
pub fn from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number (inverse of [`from_civil`]).
pub fn to_civil(day: i32) -> (i32, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i32::from(m <= 2), m, d)
}

/// `YYYY-MM-DD`.
pub fn iso(day: i32) -> String {
    let (y, m, d) = to_civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parse `YYYY-MM-DD` (a real calendar date), `None` otherwise.
pub fn parse_iso(s: &str) -> Option<i32> {
    let s = s.trim();
    let mut it = s.splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let day = from_civil(y, m, d);
    (s.len() == 10 && to_civil(day) == (y, m, d)).then_some(day)
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `s` read by `pattern`: days since 1970-01-01, or `None`.
pub fn parse(pattern: &str, s: &str) -> Option<i32> {
    let s = s.trim();
    let b = s.as_bytes();
    let (mut i, mut y, mut m, mut d) = (0usize, None, None, None);
    let mut p = pattern.chars().peekable();
    let digits = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        (*i - start >= min)
            .then(|| s[start..*i].parse().ok())
            .flatten()
    };
    while let Some(c) = p.next() {
        if c == '%' {
            match p.next()? {
                'Y' => y = Some(digits(&mut i, 4, 4)? as i32),
                'y' => {
                    let v = digits(&mut i, 2, 2)? as i32;
                    y = Some(if v >= 50 { 1900 + v } else { 2000 + v });
                }
                'm' => m = Some(digits(&mut i, 1, 2)?),
                'd' => d = Some(digits(&mut i, 1, 2)?),
                _ => return None,
            }
        } else {
            let mut buf = [0u8; 4];
            let lit = c.encode_utf8(&mut buf).as_bytes();
            if !b[i..].starts_with(lit) {
                return None;
            }
            i += lit.len();
        }
    }
    let rest = &s[i..];
    let time_ok = rest.is_empty()
        || (rest.starts_with('T') || rest.starts_with(' '))
            && rest[1..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit());
    let (y, m, d) = (y?, m?, d?);
    (time_ok
        && (1..=12).contains(&m)
        && d >= 1
        && d <= days_in_month(y, m)
        && (1800..=2200).contains(&y))
    .then(|| from_civil(y, m, d))
}

/// The pattern that reads at least [`SHARE`] of `cells` (each distinct cell
/// with its count; missing cells left out): the first of `patterns` that
/// reads the most.
pub fn detect(cells: &[(&str, usize)], patterns: &[&str]) -> Option<String> {
    let present: usize = cells.iter().map(|c| c.1).sum();
    if present == 0 {
        return None;
    }
    let read = |p: &str| -> usize {
        cells
            .iter()
            .filter(|(s, _)| parse(p, s).is_some())
            .map(|c| c.1)
            .sum()
    };
    let (best, n) = patterns.iter().map(|p| (*p, read(p))).fold(
        None::<(&str, usize)>,
        |acc, (p, n)| match acc {
            Some((_, m)) if m >= n => acc,
            _ => Some((p, n)),
        },
    )?;
    (n as f64 >= SHARE * present as f64).then(|| best.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(from_civil(1970, 1, 1), 0);
        assert_eq!(from_civil(2000, 3, 1) - from_civil(2000, 2, 28), 2);
        for d in [-1000, 0, 11_016, 19_000, 20_454] {
            let t = iso(d);
            assert_eq!(parse("%Y-%m-%d", &t), Some(d), "{t}");
        }
    }

    #[test]
    fn formats_read() {
        let d = from_civil(2020, 12, 31);
        assert_eq!(parse("%Y-%m-%d", "2020-12-31"), Some(d));
        assert_eq!(parse("%Y-%m-%d", "2020-12-31T08:15:00Z"), Some(d));
        assert_eq!(parse("%Y-%m-%d", "2020-12-31 08:15"), Some(d));
        assert_eq!(parse("%d/%m/%Y", "31/12/2020"), Some(d));
        assert_eq!(parse("%m/%d/%Y", "12/31/2020"), Some(d));
        assert_eq!(parse("%d.%m.%Y", "31.12.2020"), Some(d));
        assert_eq!(parse("%Y%m%d", "20201231"), Some(d));
        assert_eq!(parse("%d/%m/%Y", "12/31/2020"), None);
        assert_eq!(parse("%Y-%m-%d", "2021-02-29"), None);
        assert_eq!(parse("%Y-%m-%d", "2020-12-31x"), None);
    }

    #[test]
    fn day_month_order_over_the_column() {
        let us = [("12/31/2020", 1), ("01/02/2021", 1)];
        assert_eq!(detect(&us, &PATTERNS).as_deref(), Some("%m/%d/%Y"));
        let both = [("01/02/2021", 1), ("03/04/2021", 1)];
        assert_eq!(detect(&both, &PATTERNS).as_deref(), Some("%d/%m/%Y"));
        assert_eq!(detect(&[("France", 3)], &PATTERNS), None);
    }
}
