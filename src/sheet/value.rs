//! One cell's value, independent of the file format, and what a cell means as a name, an ID, a
//! date or a count. Pure functions: no I/O, no panics.

use calamine::{Data, DataRef, ExcelDateTime, ExcelDateTimeType};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::model::MonthDay;
use crate::text::{clean_cell, fold_width};

/// A cell as the readers hand it over. Serialised for the sheet child's cells
/// (`sheet/cells.rs`); a number there is always finite.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Value {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date (with or without a time of day).
    DateTime(#[serde(with = "serde_datetime")] NaiveDateTime),
    /// A time of day without a date (`8:30` typed into a 签到时间 column).
    Time(#[serde(with = "serde_time")] NaiveTime),
    /// `#N/A`, `#DIV/0!` and the like.
    Error,
}

impl Value {
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Value::Empty | Value::Error => true,
            Value::Text(s) => s
                .chars()
                .all(|c| c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}'),
            _ => false,
        }
    }

    /// Bytes of text this value holds (for the text cap).
    pub(crate) fn text_len(&self) -> usize {
        match self {
            Value::Text(s) => s.len(),
            _ => 0,
        }
    }
}

pub(crate) fn from_data(d: &Data) -> Value {
    match d {
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::String(s) => Value::Text(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => from_excel_datetime(dt),
        Data::DateTimeIso(s) => iso(s),
        Data::DurationIso(s) => duration_iso(s),
        Data::Error(_) => Value::Error,
        Data::Empty => Value::Empty,
    }
}

pub(crate) fn from_data_ref(d: DataRef<'_>) -> Value {
    match d {
        DataRef::Int(i) => Value::Number(i as f64),
        DataRef::Float(f) => Value::Number(f),
        DataRef::String(s) => Value::Text(s),
        DataRef::SharedString(s) => Value::Text(s.to_string()),
        DataRef::Bool(b) => Value::Bool(b),
        DataRef::DateTime(dt) => from_excel_datetime(&dt),
        DataRef::DateTimeIso(s) => iso(&s),
        DataRef::DurationIso(s) => duration_iso(&s),
        DataRef::Error(_) => Value::Error,
        DataRef::Empty => Value::Empty,
    }
}

fn iso(s: &str) -> Value {
    if let Some(dt) = parse_date_text(s) {
        return Value::DateTime(dt);
    }
    if let Some(t) = parse_time(s.trim()).map(|(t, _)| t) {
        return Value::Time(t);
    }
    Value::Text(s.to_string())
}

/// ODS writes a time of day as an ISO duration: `PT09H30M00S` → 09:30. Longer durations stay
/// text.
fn duration_iso(s: &str) -> Value {
    let parsed = (|| {
        let rest = s.trim().strip_prefix("PT")?;
        let (h, rest) = rest.split_once('H')?;
        let (m, rest) = rest.split_once('M')?;
        let sec = rest.strip_suffix('S').unwrap_or(rest);
        let sec: f64 = if sec.is_empty() {
            0.0
        } else {
            sec.parse().ok()?
        };
        NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, sec as u32)
    })();
    parsed.map_or_else(|| Value::Text(s.to_string()), Value::Time)
}

fn from_excel_datetime(dt: &ExcelDateTime) -> Value {
    let v = dt.as_f64();
    if dt.is_duration() || !v.is_finite() {
        return Value::Number(v);
    }
    if (0.0..1.0).contains(&v) {
        let secs = (v * 86_400.0).round() as u32;
        return NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0)
            .map_or(Value::Number(v), Value::Time);
    }
    excel_components(dt).map_or(Value::Number(v), Value::DateTime)
}

fn excel_components(dt: &ExcelDateTime) -> Option<NaiveDateTime> {
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))?.and_hms_milli_opt(
        u32::from(h),
        u32::from(mi),
        u32::from(s),
        u32::from(ms),
    )
}

/// An Excel serial number (days since 1899-12-30, or since 1904-01-01) typed into a date
/// column without a date format. Only serials from 1954 on are taken as dates: a small number
/// in a date column is more likely a mistake than a date in 1900.
fn serial_to_datetime(v: f64, date1904: bool) -> Option<NaiveDateTime> {
    if !(20_000.0..2_958_466.0).contains(&v) {
        return None;
    }
    excel_components(&ExcelDateTime::new(
        v,
        ExcelDateTimeType::DateTime,
        date1904,
    ))
}

/// The text of a cell for a free-text field (role, unit, title…): cleaned, numbers without
/// `.0`, blank as `None`.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::Empty | Value::Error => return None,
        Value::Text(s) => clean_cell(s),
        Value::Number(f) => number_text(*f),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Value::DateTime(dt) => {
            if dt.time() == NaiveTime::MIN {
                dt.format("%Y-%m-%d").to_string()
            } else {
                dt.format("%Y-%m-%d %H:%M").to_string()
            }
        }
        Value::Time(t) => t.format("%H:%M").to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// An ID cell: like [`text_of`], and an ID that reached a CSV as `2023000001.0` loses the
/// `.0` as a numeric cell does.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    // A number beyond Excel's 15 significant digits (an 18-digit 身份证号 typed as a number)
    // has lost digits: kept as Excel shows it, `5.11502199001011E17`, which is no ID.
    if let Value::Number(f) = v
        && f.is_finite()
        && f.abs() >= 1e15
    {
        return Some(format!("{f:E}"));
    }
    let s = text_of(v)?;
    match s.strip_suffix(".0") {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.to_string())
        }
        _ => Some(s),
    }
}

/// A number as a person typed it: `2023000001.0` → `2023000001`.
pub(crate) fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e17 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// What a date column holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DateCell {
    Blank,
    /// A date, possibly with a time.
    Date(NaiveDateTime),
    /// A time of day only: no date to use, but nothing wrong either.
    TimeOnly,
    /// A month and day without a year (`5月15日 14:00`): the year is judged later.
    NoYear(MonthDay),
    /// Not a date; the text shown to a person.
    NotADate(String),
}

pub(crate) fn date_of(v: &Value, date1904: bool) -> DateCell {
    match v {
        Value::Empty | Value::Error => DateCell::Blank,
        Value::DateTime(dt) => DateCell::Date(*dt),
        Value::Time(_) => DateCell::TimeOnly,
        Value::Number(f) => {
            if let Some(dt) = serial_to_datetime(*f, date1904) {
                return DateCell::Date(dt);
            }
            if let Some(d) = yyyymmdd(*f) {
                return DateCell::Date(d.and_time(NaiveTime::MIN));
            }
            DateCell::NotADate(number_text(*f))
        }
        Value::Bool(b) => DateCell::NotADate(b.to_string()),
        Value::Text(s) => {
            let s = clean_cell(s);
            if s.is_empty() {
                DateCell::Blank
            } else if let Some(dt) = parse_date_text(&s) {
                DateCell::Date(dt)
            } else if let Some(md) = parse_month_day(&s) {
                DateCell::NoYear(md)
            } else if parse_time(&s).is_some_and(|(_, rest)| rest.trim().is_empty()) {
                DateCell::TimeOnly
            } else {
                DateCell::NotADate(s)
            }
        }
    }
}

fn yyyymmdd(f: f64) -> Option<NaiveDate> {
    if f.fract() != 0.0 || !(19_000_101.0..=29_991_231.0).contains(&f) {
        return None;
    }
    let n = f as u32;
    NaiveDate::from_ymd_opt((n / 10_000) as i32, n / 100 % 100, n % 100)
}

/// A date typed as text: `2025-05-12`, `2025/5/12`, `2025.5.12`, `2025年5月12日`, `20250512`,
/// optionally followed by a time (`09:30`, `9:30:15`, `T09:30`, with 上午/下午/AM/PM). Text
/// after the date that is not a time is ignored (`2025-05-12（周一）`).
pub(crate) fn parse_date_text(s: &str) -> Option<NaiveDateTime> {
    let s = fold_width(s);
    let s = s.trim();
    let (date, rest) = parse_ymd(s)?;
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == 'T' || c == ',');
    let time = match parse_time(rest) {
        Some((t, _)) => t,
        None => NaiveTime::MIN,
    };
    Some(date.and_time(time))
}

/// A date without a year as people type it: `5月15日`, `5月15号`, `05-15`, `5/15`, optionally
/// followed by a time (`5月15日 14:00`, `5月15日下午2:30`) or a weekday in brackets.
pub(crate) fn parse_month_day(s: &str) -> Option<MonthDay> {
    let s = fold_width(s);
    let s = s.trim();
    let (m, rest) = take_digits(s, 2)?;
    let (rest, chinese) = if let Some(r) = rest.strip_prefix('月') {
        (r.trim_start(), true)
    } else if let Some(r) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('/')) {
        (r, false)
    } else {
        return None;
    };
    let (d, rest) = take_digits(rest, 2)?;
    let rest = match (
        chinese,
        rest.strip_prefix('日').or_else(|| rest.strip_prefix('号')),
    ) {
        (_, Some(r)) => r,
        (true, None) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
        (true, None) => return None,
        (false, None) => rest,
    };
    let rest = rest.trim_start();
    let ok = rest.is_empty()
        || rest.starts_with(['(', '（', '周', '星'])
        || parse_time(rest).is_some_and(|(_, tail)| tail.trim().is_empty());
    if !ok {
        return None;
    }
    MonthDay::new(m, d)
}

/// The first date written anywhere in a line of text (`日期：2025年5月12日`, `2025.5.12 启动仪式`).
pub(crate) fn find_date_in_text(s: &str) -> Option<NaiveDate> {
    let s = fold_width(s);
    let bytes = s.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .find_map(|i| parse_ymd(&s[i..]).map(|(d, _)| d))
}

fn take_digits(s: &str, max: usize) -> Option<(u32, &str)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn parse_ymd(s: &str) -> Option<(NaiveDate, &str)> {
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 8 {
        let n: u32 = s[..8].parse().ok()?;
        let d = NaiveDate::from_ymd_opt((n / 10_000) as i32, n / 100 % 100, n % 100)?;
        return Some((d, &s[8..]));
    }
    if digits != 4 {
        return None;
    }
    let (y, rest) = take_digits(s, 4)?;
    let rest = strip_one(rest, &["-", "/", ".", "年"])?;
    let (m, rest) = take_digits(rest.trim_start(), 2)?;
    let rest = strip_one(rest, &["-", "/", ".", "月"])?;
    let (d, rest) = take_digits(rest.trim_start(), 2)?;
    let rest = rest
        .strip_prefix('日')
        .or_else(|| rest.strip_prefix('号'))
        .unwrap_or(rest);
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((NaiveDate::from_ymd_opt(y as i32, m, d)?, rest))
}

fn strip_one<'a>(s: &'a str, seps: &[&str]) -> Option<&'a str> {
    let s = s.trim_start();
    seps.iter().find_map(|sep| s.strip_prefix(sep))
}

/// `9:30`, `09:30:15`, `上午9:30`, `9:30 PM`, `9时30分`; returns the time and what follows.
fn parse_time(s: &str) -> Option<(NaiveTime, &str)> {
    let s = s.trim_start();
    let (pm_prefix, s) = if let Some(r) = s.strip_prefix("下午").or(s.strip_prefix("晚上")) {
        (true, r.trim_start())
    } else if let Some(r) = s.strip_prefix("上午").or(s.strip_prefix("早上")) {
        (false, r.trim_start())
    } else {
        (false, s)
    };
    let (h, rest) = take_digits(s, 2)?;
    let rest = strip_one(rest, &[":", "时", "点"])?;
    let (mi, mut rest) = take_digits(rest, 2)?;
    rest = rest.strip_prefix('分').unwrap_or(rest);
    let mut sec = 0;
    if let Some(r) = rest.strip_prefix(':')
        && let Some((s2, r2)) = take_digits(r, 2)
    {
        sec = s2;
        rest = r2;
        // fractions of a second are dropped
        if let Some(r3) = rest.strip_prefix('.') {
            rest = r3.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    let tail = rest.trim_start();
    let upper = tail.get(..2).map(str::to_ascii_uppercase);
    let mut hour = h;
    if pm_prefix || upper.as_deref() == Some("PM") {
        if hour < 12 {
            hour += 12;
        }
    } else if upper.as_deref() == Some("AM") && hour == 12 {
        hour = 0;
    }
    let rest = if matches!(upper.as_deref(), Some("AM") | Some("PM")) {
        &tail[2..]
    } else {
        rest
    };
    Some((NaiveTime::from_hms_opt(hour, mi, sec)?, rest))
}

/// A count cell: a non-negative whole number, as a number or as text (`12`, `12人`, `12.0`).
/// `Ok(None)` for a blank cell, `Err(text shown)` for anything else.
pub(crate) fn count_of(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Empty | Value::Error => Ok(None),
        Value::Number(f) => whole(*f).map(Some).ok_or_else(|| number_text(*f)),
        Value::Text(s) => {
            let c = clean_cell(s);
            if c.is_empty() {
                return Ok(None);
            }
            let t = c
                .trim_end_matches(['人', '名', '家', '个', '位', '所', '次'])
                .trim();
            t.parse::<f64>()
                .ok()
                .filter(|_| !t.starts_with('+'))
                .and_then(whole)
                .map(Some)
                .ok_or(c)
        }
        other => Err(text_of(other).unwrap_or_default()),
    }
}

fn whole(f: f64) -> Option<u64> {
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e15).then_some(f as u64)
}

/// True when a name cell holds only a number (`123`, `12.5`): a name it is not.
pub(crate) fn looks_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// Serde for a `NaiveDateTime` as `YYYY-MM-DDTHH:MM:SS(.fff)`, and for a `NaiveTime` as
/// `HH:MM:SS(.fff)` (chrono is built without its serde feature here).
mod serde_datetime {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) const FMT: &str = "%Y-%m-%dT%H:%M:%S%.f";

    pub fn serialize<S: Serializer>(v: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.format(FMT).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDateTime::parse_from_str(&s, FMT).map_err(serde::de::Error::custom)
    }
}

mod serde_time {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    const FMT: &str = "%H:%M:%S%.f";

    pub fn serialize<S: Serializer>(v: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.format(FMT).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, FMT).map_err(serde::de::Error::custom)
    }
}

/// Serde for `Option<NaiveDateTime>` as `YYYY-MM-DDTHH:MM:SS(.fff)`.
pub(crate) mod serde_opt_datetime {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::serde_datetime::FMT;

    pub fn serialize<S: Serializer>(v: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(dt) => s.serialize_some(&dt.format(FMT).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| NaiveDateTime::parse_from_str(&s, FMT).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Serde for `Option<NaiveDate>` as `YYYY-MM-DD`.
pub(crate) mod serde_opt_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    const FMT: &str = "%Y-%m-%d";

    pub fn serialize<S: Serializer>(v: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.format(FMT).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| NaiveDate::parse_from_str(&s, FMT).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|x| x.and_hms_opt(h, mi, 0))
            .unwrap_or_default()
    }

    #[test]
    fn dates_without_a_year() {
        let md = |m, d| MonthDay::new(m, d);
        assert_eq!(parse_month_day("5月15日 14:00"), md(5, 15));
        assert_eq!(parse_month_day("5月15日"), md(5, 15));
        assert_eq!(parse_month_day("５月１５号下午2:30"), md(5, 15));
        assert_eq!(parse_month_day("05-15 09:30"), md(5, 15));
        assert_eq!(parse_month_day("5/15"), md(5, 15));
        assert_eq!(parse_month_day("5月15日（周四）"), md(5, 15));
        assert_eq!(parse_month_day("13月1日"), None);
        assert_eq!(parse_month_day("5月15"), md(5, 15));
        assert_eq!(parse_month_day("5月15日上午场次二"), None);
        assert_eq!(parse_month_day("2025-05-15"), None);
        assert_eq!(parse_month_day("9:30"), None);
        assert_eq!(
            date_of(&Value::Text("5月15日 14:00".into()), false),
            DateCell::NoYear(MonthDay { month: 5, day: 15 })
        );
        assert_eq!(
            id_of(&Value::Number(511_502_199_001_011_234.0)).as_deref(),
            Some("5.1150219900101126E17")
        );
        assert_eq!(
            id_of(&Value::Number(2_023_000_001.0)).as_deref(),
            Some("2023000001")
        );
    }

    #[test]
    fn date_texts_as_people_type_them() {
        for s in [
            "2025-05-12",
            "2025/5/12",
            "2025年5月12日",
            "2025.5.12",
            "２０２５－０５－１２",
            "20250512",
            "2025-05-12（周一）",
            "2025 年 5 月 12 日",
        ] {
            assert_eq!(parse_date_text(s), Some(dt(2025, 5, 12, 0, 0)), "{s}");
        }
        assert_eq!(
            parse_date_text("2025-05-12 09:30"),
            Some(dt(2025, 5, 12, 9, 30))
        );
        assert_eq!(
            parse_date_text("2025/5/12 下午2:05"),
            Some(dt(2025, 5, 12, 14, 5))
        );
        assert_eq!(
            parse_date_text("2025-05-12T09:30:15.250"),
            NaiveDate::from_ymd_opt(2025, 5, 12).and_then(|d| d.and_hms_opt(9, 30, 15))
        );
        assert_eq!(
            parse_date_text("2025/5/12 2:05 PM"),
            Some(dt(2025, 5, 12, 14, 5))
        );
        for bad in [
            "5月12日",
            "2025-13-01",
            "2025-02-30",
            "明天",
            "12345",
            "2025",
        ] {
            assert_eq!(parse_date_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_inside_title_lines() {
        assert_eq!(
            find_date_in_text("活动周签到表 日期：2025年5月12日（周一）"),
            NaiveDate::from_ymd_opt(2025, 5, 12)
        );
        assert_eq!(
            find_date_in_text("第12期 2025.5.7 启动仪式"),
            NaiveDate::from_ymd_opt(2025, 5, 7)
        );
        assert_eq!(find_date_in_text("2025年职业教育活动周"), None);
        assert_eq!(find_date_in_text("共35人"), None);
    }

    #[test]
    fn ods_times_of_day() {
        assert_eq!(
            duration_iso("PT09H30M00S"),
            Value::Time(NaiveTime::from_hms_opt(9, 30, 0).unwrap_or_default())
        );
        assert_eq!(
            duration_iso("PT36H00M00S"),
            Value::Text("PT36H00M00S".into())
        );
        assert_eq!(duration_iso("P1D"), Value::Text("P1D".into()));
    }

    #[test]
    fn serial_numbers_in_date_columns() {
        assert_eq!(
            date_of(&Value::Number(45789.0), false),
            DateCell::Date(dt(2025, 5, 12, 0, 0))
        );
        assert_eq!(
            date_of(&Value::Number(45789.0 - 1462.0), true),
            DateCell::Date(dt(2025, 5, 12, 0, 0))
        );
        assert_eq!(
            date_of(&Value::Number(20250512.0), false),
            DateCell::Date(dt(2025, 5, 12, 0, 0))
        );
        assert_eq!(
            date_of(&Value::Number(7.0), false),
            DateCell::NotADate("7".into())
        );
        assert_eq!(
            date_of(&Value::Text("8:30".into()), false),
            DateCell::TimeOnly
        );
        assert_eq!(
            date_of(&Value::Text("待定".into()), false),
            DateCell::NotADate("待定".into())
        );
    }

    #[test]
    fn ids_typed_as_numbers_lose_the_point_zero() {
        assert_eq!(
            text_of(&Value::Number(2023000001.0)).as_deref(),
            Some("2023000001")
        );
        assert_eq!(text_of(&Value::Number(1.5)).as_deref(), Some("1.5"));
        assert_eq!(
            text_of(&Value::Text(" Ａ01 ".into())).as_deref(),
            Some("A01")
        );
        assert_eq!(text_of(&Value::Text("  ".into())), None);
        assert_eq!(
            id_of(&Value::Text("2023000001.0".into())).as_deref(),
            Some("2023000001")
        );
        assert_eq!(id_of(&Value::Text("A1.0".into())).as_deref(), Some("A1.0"));
    }

    #[test]
    fn counts_are_non_negative_integers() {
        assert_eq!(count_of(&Value::Number(12.0)), Ok(Some(12)));
        assert_eq!(count_of(&Value::Text("35人".into())), Ok(Some(35)));
        assert_eq!(count_of(&Value::Text("".into())), Ok(None));
        assert_eq!(count_of(&Value::Number(-1.0)), Err("-1".into()));
        assert_eq!(count_of(&Value::Number(2.5)), Err("2.5".into()));
        assert_eq!(count_of(&Value::Text("十二".into())), Err("十二".into()));
    }

    #[test]
    fn numeric_names_are_spotted() {
        assert!(looks_numeric("123"));
        assert!(looks_numeric("12.5"));
        assert!(!looks_numeric("张三"));
        assert!(!looks_numeric("张三2"));
        assert!(!looks_numeric("-"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_is_read_without_panic(s in "\\PC{0,40}") {
            let _ = parse_date_text(&s);
            let _ = date_of(&Value::Text(s.clone()), false);
            let _ = count_of(&Value::Text(s.clone()));
            let _ = duration_iso(&s);
            let _ = find_date_in_text(&s);
            let _ = crate::sheet::header::header_words(&s);
        }

        #[test]
        fn date_like_text_is_read_without_panic(
            s in "[0-9]{1,8}[-/.年]?[0-9]{0,3}[-/.月]?[0-9]{0,3}[日号]? ?(上午|下午)?[0-9]{0,3}[:时点]?[0-9]{0,3}(:[0-9]{0,3})? ?(AM|PM)?"
        ) {
            let _ = parse_date_text(&s);
        }

        #[test]
        fn any_number_is_read_without_panic(f in proptest::num::f64::ANY) {
            let _ = date_of(&Value::Number(f), false);
            let _ = date_of(&Value::Number(f), true);
            let _ = count_of(&Value::Number(f));
            let _ = text_of(&Value::Number(f));
        }
    }
}
