//! Calendar days as day numbers (days since 1970-01-01, which is also the
//! physical value of a polars `Date`), as-of dates, horizons and snapshot
//! ranges. Logs are aggregated at day resolution: a timestamp's time of day
//! (and time zone) never moves a row across a window edge by hours.

use crate::error::{Error, Result};

/// Days since 1970-01-01.
pub type Day = i32;

pub use crate::ingest::dates::{from_civil, iso, parse_iso, to_civil};

/// An as-of date given on the command line or in `[logs]`.
pub fn parse_as_of(s: &str) -> Result<Day> {
    parse_iso(s).ok_or_else(|| {
        Error::Config(format!(
            "as-of date '{s}' is not a calendar date in YYYY-MM-DD form"
        ))
    })
}

/// A window length: `90d`, `12w` or a plain number of days.
pub fn parse_days(s: &str) -> Result<i32> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'd')) => (&t[..i], 1),
        Some((i, 'w')) => (&t[..i], 7),
        _ => (t, 1),
    };
    match num.parse::<i32>() {
        Ok(n) if n > 0 && n <= 3660 / mult => Ok(n * mult),
        _ => Err(Error::Config(format!(
            "horizon '{s}' is not a number of days such as 90d or 12w (1 day to 10 years)"
        ))),
    }
}

/// The month after `day`, on the same day of the month (clamped to its end).
fn add_months(day: Day, months: u32) -> Day {
    let (y, m, d) = to_civil(day);
    let total = (m - 1) + months;
    let (y, m) = (y + (total / 12) as i32, total % 12 + 1);
    let mut dd = d;
    while to_civil(from_civil(y, m, dd)) != (y, m, dd) {
        dd -= 1;
    }
    from_civil(y, m, dd)
}

/// `START..END:monthly|weekly|Nd`: every date from START stepping by the
/// period while it is not after END.
pub fn snapshots(spec: &str) -> Result<Vec<Day>> {
    let bad = |why: &str| {
        Error::Config(format!(
            "snapshots '{spec}': {why} (expected START..END:monthly, e.g. 2024-01-01..2024-06-01:monthly)"
        ))
    };
    let (range, step) = spec.split_once(':').ok_or_else(|| bad("no period"))?;
    let (start, end) = range.split_once("..").ok_or_else(|| bad("no '..'"))?;
    let (start, end) = (parse_as_of(start)?, parse_as_of(end)?);
    if end < start {
        return Err(bad("END is before START"));
    }
    let next: Box<dyn Fn(Day, u32) -> Day> = match step.trim() {
        "monthly" => Box::new(add_months),
        "weekly" => Box::new(|s, k| s + 7 * k as i32),
        other => {
            let n = parse_days(other).map_err(|_| bad("unknown period"))?;
            Box::new(move |s, k| s + n * k as i32)
        }
    };
    let days: Vec<Day> = (0..)
        .map(|k| next(start, k))
        .take_while(|&d| d <= end)
        .take(1000)
        .collect();
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_parsing() {
        assert_eq!(from_civil(1970, 1, 1), 0);
        assert_eq!(iso(from_civil(2000, 2, 29)), "2000-02-29");
        for day in -800_000..800_000 {
            let (y, m, d) = to_civil(day);
            assert_eq!(from_civil(y, m, d), day);
        }
        assert_eq!(parse_iso("2023-02-29"), None);
        assert_eq!(parse_iso("2024-1-05"), None);
        assert_eq!(parse_days("90d").unwrap(), 90);
        assert_eq!(parse_days("2w").unwrap(), 14);
        assert!(parse_days("0d").is_err() && parse_days("x").is_err());
    }

    #[test]
    fn monthly_snapshots_clamp_to_month_end() {
        let s = snapshots("2024-01-31..2024-04-30:monthly").unwrap();
        let s: Vec<String> = s.into_iter().map(iso).collect();
        assert_eq!(s, ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]);
        assert!(snapshots("2024-02-01..2024-01-01:monthly").is_err());
        assert_eq!(snapshots("2024-01-01..2024-01-20:weekly").unwrap().len(), 3);
    }
}
