//! HTTP dates: the `Date` header value, formatted once per second, and the
//! dates clients send (`If-Modified-Since`), parsed.
//!
//! Every response carries `Date` (RFC 9110 §6.6.1) in IMF-fixdate form
//! (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7). Its resolution is one
//! second, so formatting it per request is waste: [`DateCache`] keeps the
//! formatted bytes and redoes them only when the clock has moved to another
//! second. (may_minihttp refreshes its copy twice a second from a timer;
//! checking on use needs no timer and is never stale.)
//!
//! A recipient must accept all three forms RFC 9110 §5.6.7 lists — the
//! IMF-fixdate, the obsolete RFC 850 form and C's asctime — so
//! [`parse_http_date`] does, and eddy only ever sends the first.
//!
//! The calendar arithmetic is done here, without a date crate: it is twenty
//! lines, see [`format_http_date`] and [`parse_http_date`].

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const HTTP_DATE_LEN: usize = 29;

/// 9999-12-31 23:59:59, the last second IMF-fixdate can express: its year
/// has exactly four digits.
const MAX_SECS: u64 = 253_402_300_799;

/// The formatted date for the current second.
#[derive(Debug, Clone)]
pub(crate) struct DateCache {
    /// The Unix second `formatted` describes; compared on every `get`.
    secs: u64,
    /// The IMF-fixdate for `secs`, ready to copy into a response.
    formatted: [u8; HTTP_DATE_LEN],
}

impl DateCache {
    /// A cache holding the current second, already formatted.
    pub(crate) fn new() -> Self {
        let secs = now_secs();
        let mut formatted = [0u8; HTTP_DATE_LEN];
        format_http_date(secs, &mut formatted);
        DateCache { secs, formatted }
    }

    /// The IMF-fixdate for now, reformatted only if the second has changed.
    pub(crate) fn get(&mut self) -> &[u8] {
        let secs = now_secs();
        if secs != self.secs {
            self.secs = secs;
            format_http_date(secs, &mut self.formatted);
        }
        &self.formatted
    }
}

impl Default for DateCache {
    fn default() -> Self {
        DateCache::new()
    }
}

/// Seconds since the Unix epoch; a clock set before 1970 reads as 1970
/// rather than failing: a wrong `Date` is better than no response.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes `unix_secs` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
/// Times after 9999-12-31 23:59:59 are written as that moment.
pub(crate) fn format_http_date(unix_secs: u64, out: &mut [u8; HTTP_DATE_LEN]) {
    const WEEKDAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let secs = unix_secs.min(MAX_SECS);
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday, index 4 when Sunday is 0.
    let weekday = ((days + 4) % 7) as usize;

    out[0..3].copy_from_slice(WEEKDAYS[weekday]);
    out[3..5].copy_from_slice(b", ");
    two_digits(&mut out[5..7], day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    two_digits(&mut out[12..14], year / 100);
    two_digits(&mut out[14..16], year % 100);
    out[16] = b' ';
    two_digits(&mut out[17..19], in_day / 3600);
    out[19] = b':';
    two_digits(&mut out[20..22], in_day / 60 % 60);
    out[22] = b':';
    two_digits(&mut out[23..25], in_day % 60);
    out[25..29].copy_from_slice(b" GMT");
}

/// A moment as a UTC calendar date and time of day, for the access log's
/// timestamps (`[02/Dec/2026:03:23:39 +0000]`, `2026-12-02T03:23:39Z`). The
/// same arithmetic as `Date`, so the two can never disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    /// The year (1970 on).
    pub(crate) year: u64,
    /// 1..=12.
    pub(crate) month: u64,
    /// 1..=31.
    pub(crate) day: u64,
    /// 0..=23.
    pub(crate) hour: u64,
    /// 0..=59.
    pub(crate) minute: u64,
    /// 0..=59.
    pub(crate) second: u64,
}

impl UtcTime {
    /// `time` in UTC (a clock before 1970 reads as 1970, as for `Date`).
    pub(crate) fn of(time: SystemTime) -> UtcTime {
        let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let secs = secs.min(MAX_SECS);
        let (year, month, day) = civil_from_days(secs / 86_400);
        let in_day = secs % 86_400;
        UtcTime {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day / 60 % 60,
            second: in_day % 60,
        }
    }

    /// `Dec`: the month's English abbreviation, as HTTP dates and common
    /// log timestamps write it.
    pub(crate) fn month_name(&self) -> &'static str {
        const NAMES: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        NAMES[(self.month - 1) as usize]
    }
}

/// The moment an HTTP date names, in Unix seconds; `None` if `text` is none
/// of the three forms (RFC 9110 §5.6.7), names a day that does not exist,
/// or falls before 1970. A date that is not valid is to be ignored by
/// whoever asked (RFC 9110 §13.1.3), so `None` is not an error to answer.
///
/// ```text
/// Sun, 06 Nov 1994 08:49:37 GMT     IMF-fixdate
/// Sunday, 06-Nov-94 08:49:37 GMT    RFC 850 (two-digit year)
/// Sun Nov  6 08:49:37 1994          asctime
/// ```
pub(crate) fn parse_http_date(text: &str) -> Option<u64> {
    let (weekday, rest) = text.split_once([',', ' '])?;
    let day_names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let long_names = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let fields: Vec<&str> = rest.split(' ').filter(|f| !f.is_empty()).collect();
    let (year, month, day, time) = match fields.as_slice() {
        // `, 06 Nov 1994 08:49:37 GMT`
        [day, month, year, time, "GMT"]
            if day_names.contains(&weekday) && text.get(3..5) == Some(", ") && year.len() == 4 =>
        {
            (number(year)?, month_number(month)?, two(day)?, *time)
        }
        // `, 06-Nov-94 08:49:37 GMT`
        [date, time, "GMT"] if long_names.contains(&weekday) && text.contains(',') => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            (
                rfc850_year(two(year)?),
                month_number(month)?,
                two(day)?,
                *time,
            )
        }
        // ` Nov  6 08:49:37 1994` (the day padded with a space)
        [month, day, time, year]
            if day_names.contains(&weekday) && text.as_bytes()[3] == b' ' && year.len() == 4 =>
        {
            if day.is_empty() || day.len() > 2 {
                return None;
            }
            (number(year)?, month_number(month)?, number(day)?, *time)
        }
        _ => return None,
    };
    let mut clock = time.split(':');
    let (h, m, sec) = (clock.next()?, clock.next()?, clock.next()?);
    let (h, m, sec) = (two(h)?, two(m)?, two(sec)?);
    // 60: a leap second, which Unix time folds into the next.
    if clock.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Digits only (no sign, no space), as a number.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Exactly two digits.
fn two(text: &str) -> Option<u64> {
    if text.len() != 2 {
        return None;
    }
    number(text)
}

/// `Jan` → 1 … `Dec` → 12 (case-sensitive, as the grammar says).
fn month_number(name: &str) -> Option<u64> {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES.iter().position(|n| *n == name).map(|i| i as u64 + 1)
}

/// An RFC 850 two-digit year: RFC 9110 §5.6.7 reads one that would be more
/// than 50 years in the future as the most recent past year ending so.
fn rfc850_year(yy: u64) -> u64 {
    let this_year = UtcTime::of(SystemTime::now()).year;
    let year = this_year / 100 * 100 + yy;
    if year > this_year + 50 {
        year - 100
    } else {
        year
    }
}

fn days_in_month(year: u64, month: u64) -> u64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` (from 1970 on): the inverse of
/// [`civil_from_days`], Hinnant's `days_from_civil` in the same eras.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400; // 0..=399
    let mp = if month > 2 { month - 3 } else { month + 9 }; // month from March
    let doy = (153 * mp + 2) / 5 + day - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// Year, month (1..=12) and day (1..=31) of the day `days` after 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>),
/// restricted to dates from 1970 on so everything stays unsigned. It counts
/// in 400-year eras of 146097 days, with years starting on 1 March so the
/// leap day falls at the end of the year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year (from 1 March), 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Writes `n` (0..=99) as two ASCII digits.
fn two_digits(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_agrees_with_the_http_date() {
        let time = UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        let utc = UtcTime::of(time);
        assert_eq!(format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            (
                utc.year,
                utc.month_name(),
                utc.day,
                utc.hour,
                utc.minute,
                utc.second
            ),
            (1994, "Nov", 6, 8, 49, 37)
        );
    }

    fn format(secs: u64) -> String {
        let mut out = [0u8; HTTP_DATE_LEN];
        format_http_date(secs, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT"); // RFC 9110's example
        assert_eq!(format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT"); // leap day
        assert_eq!(format(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
        assert_eq!(format(1_709_251_200), "Fri, 01 Mar 2024 00:00:00 GMT");
        assert_eq!(format(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT"); // 400-year leap
        assert_eq!(format(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT"); // 2100: no 29 Feb
        assert_eq!(format(1_735_689_599), "Tue, 31 Dec 2024 23:59:59 GMT");
    }

    #[test]
    fn all_three_forms_parse_to_the_same_moment() {
        // RFC 9110 §5.6.7's own example, in its three forms.
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(784_111_777), "{text}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Thursday, 29-Feb-24 23:59:59 GMT"),
            Some(1_709_251_199)
        );
    }

    #[test]
    fn what_parses_formats_back_the_same() {
        let mut secs = 0;
        while secs < 8_000_000_000 {
            assert_eq!(parse_http_date(&format(secs)), Some(secs), "{secs}");
            secs += 7_777_777; // about three months, never on a boundary twice
        }
    }

    #[test]
    fn what_is_not_a_date_is_none() {
        for text in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 2100 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 006 08:49:37 1994",
            "Sun,06 Nov 1994 08:49:37 GMT",
            "Sun,Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
    }

    #[test]
    fn clamps_to_year_9999() {
        assert_eq!(format(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn cache_gives_current_second() {
        let mut cache = DateCache::new();
        let before = now_secs();
        let got = cache.get().to_vec();
        let after = now_secs();
        assert!((before..=after).any(|s| format(s).as_bytes() == got));
    }
}
