//! The one way the core writes a time: RFC 3339 in UTC with milliseconds, for every value.
//!
//! Every formatting path of the crate (decoded IDs, a layout's epoch and end, error messages)
//! goes through [`format_unix_ms`], so "can every accepted value be written?" has one answer.
//! Dates come from chrono, which writes years past 9999 with an explicit sign (`+71700-…`,
//! ISO 8601's expanded form; RFC 3339 itself stops at 9999) and reaches the year 262142.
//! Layout validation keeps every layout's time within that range
//! ([`crate::Error::LayoutOutlastsCalendar`]); a caller that passes a larger value directly
//! still gets a string, never a panic.

use chrono::{DateTime, SecondsFormat, Utc};

/// The last Unix millisecond [`format_unix_ms`] writes as a date: the end of the year 262142.
pub const MAX_DATE_UNIX_MS: u64 = DateTime::<Utc>::MAX_UTC.timestamp_millis() as u64;

/// Writes Unix milliseconds as RFC 3339 in UTC, with milliseconds; total on every `u64`.
///
/// Years 0 to 9999 give plain RFC 3339 (`2021-01-01T00:00:00.000Z`); later years carry an
/// explicit sign and more digits (`+10889-08-02T05:31:50.655Z`), as ISO 8601 writes them.
/// Past [`MAX_DATE_UNIX_MS`], which no valid layout reaches, the value is written as a count
/// of milliseconds since the Unix epoch instead of a date.
///
/// ```
/// use snowdrift::format_unix_ms;
/// assert_eq!(format_unix_ms(1_609_459_200_000), "2021-01-01T00:00:00.000Z");
/// assert_eq!(format_unix_ms(281_474_976_710_655), "+10889-08-02T05:31:50.655Z");
/// assert_eq!(format_unix_ms(u64::MAX), "18446744073709551615 ms after 1970-01-01T00:00:00.000Z");
/// ```
pub fn format_unix_ms(unix_ms: u64) -> String {
    match i64::try_from(unix_ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
    {
        Some(time) => time.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => format!("{unix_ms} ms after 1970-01-01T00:00:00.000Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_date_and_the_first_value_past_it() {
        assert_eq!(
            format_unix_ms(MAX_DATE_UNIX_MS),
            "+262142-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_unix_ms(MAX_DATE_UNIX_MS + 1),
            format!("{} ms after 1970-01-01T00:00:00.000Z", MAX_DATE_UNIX_MS + 1)
        );
        assert_eq!(format_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_unix_ms(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_unix_ms(253_402_300_800_000),
            "+10000-01-01T00:00:00.000Z"
        );
    }
}
