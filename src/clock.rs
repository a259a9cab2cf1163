//! Time as dangan tells it: "now" is `SOURCE_DATE_EPOCH` when set (reproducible runs), and
//! every local time — the import day, the materials check's today, the times `status` and the
//! lock print, the year-end bag's dates — is at the configured `utc_offset`, never the machine's
//! time zone (a server on UTC running the job at 01:30 Beijing time is on Beijing's day).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

/// "Now" for what dangan writes and judges: `SOURCE_DATE_EPOCH` when set, else the clock.
pub fn epoch() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(system_now)
}

/// The machine's clock (for run records and the lock: when something really happened).
pub fn system_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Unix seconds as wall-clock time at `offset`.
pub fn local(unix: i64, offset: FixedOffset) -> NaiveDateTime {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .with_timezone(&offset)
        .naive_local()
}

/// The day of `unix` at `offset`.
pub fn local_day(unix: i64, offset: FixedOffset) -> NaiveDate {
    local(unix, offset).date()
}

/// `2025-05-13 01:30:12`, at `offset`: how a person reads a time.
pub fn show(unix: i64, offset: FixedOffset) -> String {
    local(unix, offset).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// How the catalog stores a moment: RFC 3339 in UTC (`2025-05-12T17:30:12+00:00`).
pub fn stamp(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// A stored moment back as Unix seconds (any RFC 3339 offset: older catalogs wrote local time).
pub fn parse_stamp(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// `2025-05-12T09:30:00` (chrono's `%Y-%m-%dT%H:%M:%S`, written directly for the years of
/// four digits: formatting through strftime items was a tenth of the report's rows and of the
/// import's date rows).
pub fn iso_seconds(t: &chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    if !(0..=9999).contains(&t.year()) || t.nanosecond() >= 1_000_000_000 {
        return t.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// [`iso_seconds`] read back, `2025-05-01T08:00:00` as the catalog stores it, directly;
/// anything else (fractions of a second, a leap second) by chrono's parser, as before.
pub fn parse_iso_seconds(s: &str) -> Option<chrono::NaiveDateTime> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let fast = || {
        if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let date =
            chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
        let time =
            chrono::NaiveTime::from_hms_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?)?;
        Some(chrono::NaiveDateTime::new(date, time))
    };
    fast().or_else(|| s.parse::<chrono::NaiveDateTime>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

    #[test]
    fn local_time_is_the_configured_offset_not_the_machines() {
        let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
        // 2025-05-12T17:30:00Z is 01:30 on the 13th in Beijing.
        let t = parse_stamp("2025-05-12T17:30:00+00:00").unwrap();
        assert_eq!(show(t, beijing), "2025-05-13 01:30:00");
        assert_eq!(local_day(t, beijing).to_string(), "2025-05-13");
        assert_eq!(parse_stamp("2025-05-13T01:30:00+08:00"), Some(t));
        assert_eq!(parse_stamp(&stamp(t)), Some(t));
    }

    #[test]
    fn seconds_are_written_as_strftime_writes_them() {
        let at = |y, mo, d, h, mi, s, ns| {
            NaiveDateTime::new(
                NaiveDate::from_ymd_opt(y, mo, d).unwrap(),
                NaiveTime::from_hms_nano_opt(h, mi, s, ns).unwrap(),
            )
        };
        for t in [
            at(2025, 5, 12, 9, 3, 7, 0),
            at(2025, 12, 31, 23, 59, 59, 999_000_000),
            at(999, 1, 2, 0, 0, 0, 0),
            at(12345, 1, 1, 0, 0, 0, 0),
            at(-1, 1, 1, 0, 0, 0, 0),
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ] {
            assert_eq!(iso_seconds(&t), t.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
    }

    #[test]
    fn stored_dates_read_as_chrono_reads_them() {
        for s in [
            "2025-05-01T08:00:00",
            "1999-12-31T23:59:59",
            "2024-02-29T12:00:00",
            "2025-02-29T12:00:00",
            "2025-13-01T00:00:00",
            "2025-05-01T24:00:00",
            "2016-12-31T23:59:60",
            "2025-05-01T08:00:00.250",
            "2025-05-01 08:00:00",
            "+2025-05-01T08:00:00",
            "2025-5-01T08:00:000",
            "",
        ] {
            assert_eq!(
                parse_iso_seconds(s),
                s.parse::<chrono::NaiveDateTime>().ok(),
                "{s}"
            );
        }
        // What the catalog writes reads back as it was.
        let t = parse_iso_seconds("2025-05-01T08:00:00").unwrap();
        assert_eq!(parse_iso_seconds(&iso_seconds(&t)), Some(t));
    }
}
