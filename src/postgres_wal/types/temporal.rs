//! Date, time, timestamp and interval texts, with the calendar arithmetic they need.

use crate::event::Interval;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
/// PostgreSQL accepts UTC offsets strictly below 16 hours.
const MAX_OFFSET_SECONDS: i32 = 16 * 3600 - 1;

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (astronomical years).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn is_leap_year(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// Exactly `n` ASCII digits.
fn fixed_digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// One to `max` ASCII digits.
fn some_digits(s: &str, max: usize) -> Option<u64> {
    if !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Removes the ` BC` era suffix PostgreSQL prints after dates before year 1.
fn split_era(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// `YYYY-MM-DD` (four or more year digits) in the given era, as days since 1970-01-01.
fn parse_ymd_days(text: &str, bc: bool) -> Result<i64, String> {
    let invalid = || "not a date of the form YYYY-MM-DD".to_owned();
    let (rest, day) = text.rsplit_once('-').ok_or_else(invalid)?;
    let (year, month) = rest.rsplit_once('-').ok_or_else(invalid)?;
    let (Some(year), Some(month), Some(day)) = (
        some_digits(year, 9).filter(|_| year.len() >= 4),
        fixed_digits(month, 2),
        fixed_digits(day, 2),
    ) else {
        return Err(invalid());
    };
    if year == 0 {
        return Err("year 0 does not exist (1 BC precedes 1 AD)".to_owned());
    }
    let year = i64::try_from(year).map_err(|_| invalid())?;
    let year = if bc { 1 - year } else { year };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("no such day in the calendar".to_owned());
    }
    Ok(days_from_civil(year, month, day))
}

/// A `date`: days since 1970-01-01, `infinity` as `i32::MAX` and `-infinity` as `i32::MIN`.
pub(super) fn parse_date(text: &str) -> Result<i32, String> {
    match text {
        "infinity" => return Ok(i32::MAX),
        "-infinity" => return Ok(i32::MIN),
        _ => {}
    }
    let (date, bc) = split_era(text);
    let days = parse_ymd_days(date, bc)?;
    i32::try_from(days)
        .ok()
        .filter(|d| *d != i32::MAX && *d != i32::MIN)
        .ok_or_else(|| "date out of range".to_owned())
}

/// Up to six fractional-second digits as microseconds.
fn fraction_micros(digits: &str) -> Option<i64> {
    let value = some_digits(digits, 6)?;
    let scale = 10i64.pow(6 - digits.len() as u32);
    i64::try_from(value).ok().map(|v| v * scale)
}

/// `H:MM:SS[.ffffff]` as whole hours and the microseconds below the hour; the hour field has
/// `min_hour_digits..=max_hour_digits` digits.
fn parse_hms(text: &str, min_hour_digits: usize, max_hour_digits: usize) -> Option<(u64, i64)> {
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, fraction)) => (hms, fraction_micros(fraction)?),
        None => (text, 0),
    };
    let mut fields = hms.split(':');
    let hours = fields.next()?;
    if hours.len() < min_hour_digits {
        return None;
    }
    let hours = some_digits(hours, max_hour_digits)?;
    let minutes = fixed_digits(fields.next()?, 2)?;
    let seconds = fixed_digits(fields.next()?, 2)?;
    if fields.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    let below_hour =
        i64::from(minutes) * MICROS_PER_MINUTE + i64::from(seconds) * MICROS_PER_SECOND + fraction;
    Some((hours, below_hour))
}

/// `HH:MM:SS[.ffffff]` as microseconds since midnight; `24:00:00` only when `allow_24`.
pub(super) fn parse_time_of_day(text: &str, allow_24: bool) -> Result<i64, String> {
    let invalid = || "not a time of day of the form HH:MM:SS[.ffffff]".to_owned();
    let (hours, below_hour) = parse_hms(text, 2, 2).ok_or_else(invalid)?;
    match hours {
        0..=23 => Ok(hours as i64 * MICROS_PER_HOUR + below_hour),
        24 if allow_24 && below_hour == 0 => Ok(MICROS_PER_DAY),
        _ => Err("time of day out of range".to_owned()),
    }
}

/// Splits `12:34:56+05:45` into the time and the offset in seconds east of UTC.
pub(super) fn split_offset(text: &str) -> Result<(&str, i32), String> {
    let at = text
        .find(['+', '-'])
        .ok_or_else(|| "missing UTC offset".to_owned())?;
    let (time, offset) = text.split_at(at);
    Ok((time, parse_offset(offset)?))
}

/// `+HH`, `+HH:MM` or `+HH:MM:SS` (or with `-`) as seconds east of UTC.
fn parse_offset(text: &str) -> Result<i32, String> {
    let invalid = || format!("invalid UTC offset {text:?}");
    let (negative, body) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => return Err(invalid()),
    };
    let mut fields = body.split(':');
    let hours = fields.next().and_then(|h| fixed_digits(h, 2));
    let minutes = fields.next().map_or(Some(0), |m| fixed_digits(m, 2));
    let seconds = fields.next().map_or(Some(0), |s| fixed_digits(s, 2));
    let (Some(hours), Some(minutes), Some(seconds), None) =
        (hours, minutes, seconds, fields.next())
    else {
        return Err(invalid());
    };
    if minutes > 59 || seconds > 59 {
        return Err(invalid());
    }
    let total = (hours * 3600 + minutes * 60 + seconds) as i32;
    if total > MAX_OFFSET_SECONDS {
        return Err(format!("UTC offset {text:?} out of range"));
    }
    Ok(if negative { -total } else { total })
}

/// A `timestamp` (local) or `timestamptz` (with offset, converted to UTC) as microseconds since
/// 1970-01-01 00:00:00; `infinity` / `-infinity` as `i64::MAX` / `i64::MIN`.
pub(super) fn parse_timestamp(text: &str, with_offset: bool) -> Result<i64, String> {
    match text {
        "infinity" => return Ok(i64::MAX),
        "-infinity" => return Ok(i64::MIN),
        _ => {}
    }
    let (body, bc) = split_era(text);
    let (date, time) = body
        .split_once([' ', 'T'])
        .ok_or_else(|| "not a timestamp of the form YYYY-MM-DD HH:MM:SS[.ffffff]".to_owned())?;
    let days = parse_ymd_days(date, bc)?;
    let (time, offset_seconds) = if with_offset {
        split_offset(time)?
    } else {
        (time, 0)
    };
    let time_of_day = parse_time_of_day(time, false)?;
    let micros = i128::from(days) * i128::from(MICROS_PER_DAY) + i128::from(time_of_day)
        - i128::from(offset_seconds) * i128::from(MICROS_PER_SECOND);
    i64::try_from(micros)
        .ok()
        .filter(|m| *m != i64::MAX && *m != i64::MIN)
        .ok_or_else(|| "timestamp out of range of microseconds since 1970 in 64 bits".to_owned())
}

// ---------------------------------------------------------------------------------------------
// Intervals.

/// Sums of the three interval fields, wide enough to check for overflow once at the end.
#[derive(Default)]
struct IntervalSum {
    months: i128,
    days: i128,
    micros: i128,
}

impl IntervalSum {
    fn add(field: &mut i128, value: i128) -> Result<(), String> {
        *field = field
            .checked_add(value)
            .ok_or_else(|| "interval out of range".to_owned())?;
        Ok(())
    }

    fn finish(self, negate: bool) -> Result<Interval, String> {
        let sign = if negate { -1 } else { 1 };
        let out_of_range = || "interval out of range".to_owned();
        let field = |value: i128| value.checked_mul(sign).ok_or_else(out_of_range);
        Ok(Interval {
            months: i32::try_from(field(self.months)?).map_err(|_| out_of_range())?,
            days: i32::try_from(field(self.days)?).map_err(|_| out_of_range())?,
            micros: i64::try_from(field(self.micros)?).map_err(|_| out_of_range())?,
        })
    }
}

/// An `interval` in the `postgres` (default), `postgres_verbose` or `iso_8601` style.
pub(super) fn parse_interval(text: &str) -> Result<Interval, String> {
    match text.strip_prefix('P') {
        Some(iso) => parse_iso_interval(iso),
        None => parse_postgres_interval(text),
    }
}

/// A signed integer field of an interval (`-3`, `+2`, `14`).
fn signed_integer(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = i128::from(some_digits(digits, 19)?);
    Some(if negative { -value } else { value })
}

/// A signed number of seconds with up to six fractional digits, as microseconds.
fn signed_seconds(text: &str) -> Option<i128> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction_micros(fraction)?),
        None if matches!(text, "" | "-" | "+") => return None,
        None => (text, 0),
    };
    let negative = whole.starts_with('-');
    let whole = match whole {
        "-" | "+" | "" => 0,
        _ => signed_integer(whole)?,
    };
    let micros = whole.abs() * i128::from(MICROS_PER_SECOND) + i128::from(fraction);
    Some(if negative { -micros } else { micros })
}

/// `1 year 2 mons -3 days +04:05:06.789` (postgres) or `@ 1 year 2 mons 3 days 4 hours 5 mins
/// 6.789 secs ago` (postgres_verbose).
fn parse_postgres_interval(text: &str) -> Result<Interval, String> {
    let invalid = |what: &str| format!("not an interval: {what}");
    let mut tokens = text.split_ascii_whitespace().peekable();
    let verbose = tokens.next_if_eq(&"@").is_some();
    let mut sum = IntervalSum::default();
    let mut ago = false;
    let mut any = false;
    while let Some(token) = tokens.next() {
        any = true;
        if verbose && token == "ago" {
            if tokens.peek().is_some() {
                return Err(invalid("\"ago\" must come last"));
            }
            ago = true;
            continue;
        }
        if token.contains(':') {
            let (negative, body) = match token.as_bytes().first() {
                Some(b'-') => (true, &token[1..]),
                Some(b'+') => (false, &token[1..]),
                _ => (false, token),
            };
            let (hours, below_hour) =
                parse_hms(body, 1, 12).ok_or_else(|| invalid("bad time field"))?;
            let micros = i128::from(hours) * i128::from(MICROS_PER_HOUR) + i128::from(below_hour);
            IntervalSum::add(&mut sum.micros, if negative { -micros } else { micros })?;
            continue;
        }
        let Some(unit) = tokens.next() else {
            if verbose && token == "0" {
                continue;
            }
            return Err(invalid("number without a unit"));
        };
        let integer = || signed_integer(token).ok_or_else(|| invalid("bad number"));
        match unit {
            "year" | "years" => IntervalSum::add(&mut sum.months, integer()? * 12)?,
            "mon" | "mons" => IntervalSum::add(&mut sum.months, integer()?)?,
            "day" | "days" => IntervalSum::add(&mut sum.days, integer()?)?,
            "hour" | "hours" => {
                IntervalSum::add(&mut sum.micros, integer()? * i128::from(MICROS_PER_HOUR))?
            }
            "min" | "mins" => {
                IntervalSum::add(&mut sum.micros, integer()? * i128::from(MICROS_PER_MINUTE))?
            }
            "sec" | "secs" => IntervalSum::add(
                &mut sum.micros,
                signed_seconds(token).ok_or_else(|| invalid("bad seconds"))?,
            )?,
            _ => return Err(invalid("unknown unit")),
        }
    }
    if !any {
        return Err(invalid("empty"));
    }
    sum.finish(ago)
}

/// The ISO 8601 "format with designators" after its `P`: `1Y2M3DT4H5M6.789S`.
fn parse_iso_interval(text: &str) -> Result<Interval, String> {
    let invalid = || "not an ISO 8601 interval".to_owned();
    let (date_part, time_part) = match text.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return Err(invalid()),
        None => (text, None),
    };
    if date_part.is_empty() && time_part.is_none() {
        return Err(invalid());
    }
    let mut sum = IntervalSum::default();
    for (part, in_time) in [(date_part, false), (time_part.unwrap_or(""), true)] {
        let mut rest = part;
        while !rest.is_empty() {
            let at = rest
                .find(|c: char| c.is_ascii_alphabetic())
                .ok_or_else(invalid)?;
            let (number, tail) = rest.split_at(at);
            let designator = tail.as_bytes()[0];
            rest = &tail[1..];
            let integer = || signed_integer(number).ok_or_else(invalid);
            match (in_time, designator) {
                (false, b'Y') => IntervalSum::add(&mut sum.months, integer()? * 12)?,
                (false, b'M') => IntervalSum::add(&mut sum.months, integer()?)?,
                (false, b'W') => IntervalSum::add(&mut sum.days, integer()? * 7)?,
                (false, b'D') => IntervalSum::add(&mut sum.days, integer()?)?,
                (true, b'H') => {
                    IntervalSum::add(&mut sum.micros, integer()? * i128::from(MICROS_PER_HOUR))?
                }
                (true, b'M') => {
                    IntervalSum::add(&mut sum.micros, integer()? * i128::from(MICROS_PER_MINUTE))?
                }
                (true, b'S') => {
                    IntervalSum::add(&mut sum.micros, signed_seconds(number).ok_or_else(invalid)?)?
                }
                _ => return Err(invalid()),
            }
        }
    }
    sum.finish(false)
}
