//! The date of a file: dates read from its name and folders (step 4 of DESIGN.md's chain),
//! dates found in free text, Unix stamps turned into local wall-clock time, and the choice
//! among all candidates (first valid step wins, unset clocks are skipped with a reason).
//!
//! Pure functions over strings and candidates: never reads files, never applies an EXIF offset
//! to a wall-clock time, never prints a Unix stamp as UTC.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

use crate::model::{DateCandidate, DateSource};
use crate::text::fold_width;

/// Dates before this day are a camera whose clock was never set (DESIGN.md).
pub const EARLIEST_PLAUSIBLE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 2) {
    Some(d) => d,
    None => panic!("2000-01-02 is a valid date"),
};

/// Years a date in a file name or text may have; anything else is a number, not a date.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2099;

/// Unix milliseconds as local wall-clock time at `offset` (WeChat `mmexport…` names).
pub fn from_unix_millis(ms: i64, offset: FixedOffset) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|utc| utc.with_timezone(&offset).naive_local())
}

/// Unix seconds as local wall-clock time at `offset` (video `mvhd`, 10-digit stamps).
pub fn from_unix_seconds(secs: i64, offset: FixedOffset) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, 0).map(|utc| utc.with_timezone(&offset).naive_local())
}

/// Date from the file name, then from its folders (deepest first). Patterns of DESIGN.md step 4:
/// IMG_/VID_/PXL_20250507_101500…, 20250507_101500, 微信图片_20250507101500,
/// 微信图片_2025-05-07_101500_123, mmexport1746585600000 / wx_camera_1746585600000 (13-digit
/// Unix ms → converted to `offset` local time), Screenshot_2025-05-07-10-15-00,
/// Screenshot_20250507_101500, 截图 2025-05-07, and a bare 2025-05-07 / 2025.05.07 / 2025年5月7日
/// anywhere in the name or its folders. Impossible dates (20251399) are no match.
/// Beyond DESIGN.md's list: a bare `20250507` (year 2000–2099) and 10-digit Unix seconds after
/// `mmexport`.
pub fn date_from_names(
    file_name: &str,
    folders_deepest_first: &[&str],
    offset: FixedOffset,
) -> Option<DateCandidate> {
    std::iter::once(file_name)
        .chain(folders_deepest_first.iter().copied())
        .find_map(|name| date_in_name(name, offset))
        .map(|when| DateCandidate {
            source: DateSource::Filename,
            when,
            offset: None,
        })
}

/// The first date written in free text (a document's first lines): `2025年5月12日`,
/// `2025 年 5 月 12 日`, `二〇二五年五月十二日`, `2025-05-12`, `2025.5.12`, `2025/5/12`.
/// Full-width digits are folded first.
pub fn find_date_in_text(text: &str) -> Option<NaiveDate> {
    let chars: Vec<char> = fold_width(text).chars().collect();
    for i in 0..chars.len() {
        if starts_number(&chars, i)
            && let Some((date, _)) = separated_date(&chars, i, &['年', '-', '.', '/'])
        {
            return Some(date);
        }
        if let Some(date) = chinese_numeral_date(&chars, i) {
            return Some(date);
        }
    }
    None
}

/// The candidates that were passed over, and the one chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DateChoice {
    pub chosen: Option<DateCandidate>,
    /// Each candidate skipped before the chosen one, with the reason in Chinese.
    pub ignored: Vec<(DateCandidate, String)>,
}

/// First valid candidate in chain order (the DateSource enum order: Exif, ExifDigitized,
/// ExifDatetime, Video, Filename, Sheet, Document, Mtime); within one step the earliest valid
/// date. A date before 2000-01-02 or after `import_day` is an unset clock: ignored, the chain
/// goes on.
pub fn choose(candidates: &[DateCandidate], import_day: NaiveDate) -> DateChoice {
    let mut ordered: Vec<&DateCandidate> = candidates.iter().collect();
    ordered.sort_by(|a, b| a.source.cmp(&b.source).then(a.when.cmp(&b.when)));
    let mut choice = DateChoice::default();
    for candidate in ordered {
        let day = candidate.date();
        if day < EARLIEST_PLAUSIBLE {
            choice.ignored.push((
                candidate.clone(),
                format!(
                    "{}的日期 {} 早于 2000-01-02，疑似相机时钟未设置，已忽略",
                    candidate.source.label(),
                    day
                ),
            ));
        } else if day > import_day {
            choice.ignored.push((
                candidate.clone(),
                format!(
                    "{}的日期 {} 晚于导入日 {}，疑似时钟设置错误，已忽略",
                    candidate.source.label(),
                    day,
                    import_day
                ),
            ));
        } else {
            choice.chosen = Some(candidate.clone());
            break;
        }
    }
    choice
}

/// Camera and phone prefixes after which a bare `YYYYMMDD` (no time) is still a date.
const COMPACT_PREFIXES: &[&str] = &[
    "img_",
    "img",
    "vid_",
    "vid",
    "pxl_",
    "mvimg_",
    "screenshot_",
    "screenshot",
    "微信图片_",
    "微信图片",
    "微信截图_",
    "截图",
    "录屏_",
    "wp_",
    "dsc_",
];

fn date_in_name(name: &str, offset: FixedOffset) -> Option<NaiveDateTime> {
    let folded = fold_width(name);
    let lower = folded.to_lowercase();
    if let Some(when) = unix_stamp_name(&lower, offset) {
        return Some(when);
    }
    let chars: Vec<char> = lower.chars().collect();
    for i in 0..chars.len() {
        if !starts_number(&chars, i) {
            continue;
        }
        if let Some(when) = compact_date(&chars, i) {
            return Some(when);
        }
        if let Some((date, end)) = separated_date(&chars, i, &['-', '.', '_', '年'])
            && !is_digit(&chars, end)
        {
            let time = time_after(&chars, end).unwrap_or(NaiveTime::MIN);
            return Some(date.and_time(time));
        }
    }
    None
}

/// `mmexport1746585600000`, `wx_camera_1746585600000`: Unix milliseconds (or a 10-digit
/// stamp in seconds) right after the prefix.
fn unix_stamp_name(lower: &str, offset: FixedOffset) -> Option<NaiveDateTime> {
    for prefix in ["mmexport", "wx_camera_"] {
        let Some(pos) = lower.find(prefix) else {
            continue;
        };
        let digits: String = lower[pos + prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let when = match digits.len() {
            13 => from_unix_millis(digits.parse().ok()?, offset),
            10 => from_unix_seconds(digits.parse().ok()?, offset),
            _ => None,
        };
        if when.is_some() {
            return when;
        }
    }
    None
}

fn is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i).is_some_and(char::is_ascii_digit)
}

/// A digit that does not continue a longer number.
fn starts_number(chars: &[char], i: usize) -> bool {
    is_digit(chars, i) && (i == 0 || !is_digit(chars, i - 1))
}

fn digit_run(chars: &[char], i: usize) -> usize {
    chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

fn number(chars: &[char], from: usize, len: usize) -> Option<u32> {
    let slice = chars.get(from..from + len)?;
    slice
        .iter()
        .try_fold(0u32, |acc, c| c.to_digit(10).map(|d| acc * 10 + d))
}

fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(year).ok()?;
    if !YEARS.contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `20250507_101500`, `20250507101500`, `PXL_20250507_101500123`, and `IMG_20250507`
/// (date only, after a camera prefix).
fn compact_date(chars: &[char], i: usize) -> Option<NaiveDateTime> {
    let run = digit_run(chars, i);
    if run < 8 {
        return None;
    }
    let date = ymd(
        number(chars, i, 4)?,
        number(chars, i + 4, 2)?,
        number(chars, i + 6, 2)?,
    )?;
    if run >= 14 {
        return hms(chars, i + 8).map(|t| date.and_time(t));
    }
    if run != 8 {
        return None;
    }
    let after = i + 8;
    if matches!(chars.get(after), Some('_' | '-' | ' ')) && digit_run(chars, after + 1) >= 6 {
        return hms(chars, after + 1).map(|t| date.and_time(t));
    }
    // A bare 8-digit date: after a camera prefix, or on its own in this century
    // (`20250507活动照片.jpg`); other 8-digit numbers are IDs more often than dates.
    let before: String = chars[..i].iter().collect();
    let after_prefix = COMPACT_PREFIXES.iter().any(|p| before.ends_with(p));
    (after_prefix || (2000..=2099).contains(&date.year())).then(|| date.and_time(NaiveTime::MIN))
}

/// Six digits `HHMMSS` at `i`.
fn hms(chars: &[char], i: usize) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(
        number(chars, i, 2)?,
        number(chars, i + 2, 2)?,
        number(chars, i + 4, 2)?,
    )
}

/// A time right after a separated date: `_101500`, `-10-15-00`, ` 10.15.00`, `T10:15:00`.
fn time_after(chars: &[char], end: usize) -> Option<NaiveTime> {
    if !matches!(chars.get(end), Some('_' | '-' | ' ' | 't')) {
        return None;
    }
    let i = end + 1;
    match digit_run(chars, i) {
        r if r >= 6 => hms(chars, i),
        2 => {
            let sep_ok = |j: usize| matches!(chars.get(j), Some('-' | ':' | '.' | '_'));
            if sep_ok(i + 2) && digit_run(chars, i + 3) == 2 && sep_ok(i + 5) {
                NaiveTime::from_hms_opt(
                    number(chars, i, 2)?,
                    number(chars, i + 3, 2)?,
                    number(chars, i + 6, 2)?,
                )
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `2025-05-07`, `2025.5.7`, `2025_05_07`, `2025/5/7`, `2025年5月7日`, `2025 年 5 月 7 日`
/// starting at `i`; returns the date and the index after it.
fn separated_date(chars: &[char], i: usize, seps: &[char]) -> Option<(NaiveDate, usize)> {
    if digit_run(chars, i) != 4 {
        return None;
    }
    let year = number(chars, i, 4)?;
    let skip_spaces = |mut j: usize| {
        while chars.get(j) == Some(&' ') {
            j += 1;
        }
        j
    };
    let mut j = i + 4;
    let chinese = seps.contains(&'年') && chars.get(skip_spaces(j)) == Some(&'年');
    let sep = if chinese {
        j = skip_spaces(skip_spaces(j) + 1);
        '年'
    } else {
        let sep = *chars.get(j)?;
        if !seps.contains(&sep) || sep == '年' {
            return None;
        }
        j += 1;
        sep
    };
    let month_len = digit_run(chars, j);
    if !(1..=2).contains(&month_len) {
        return None;
    }
    let month = number(chars, j, month_len)?;
    j += month_len;
    if chinese {
        j = skip_spaces(j);
        if chars.get(j) != Some(&'月') {
            return None;
        }
        j = skip_spaces(j + 1);
    } else {
        if chars.get(j) != Some(&sep) {
            return None;
        }
        j += 1;
    }
    let day_len = digit_run(chars, j);
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day = number(chars, j, day_len)?;
    j += day_len;
    if chinese {
        let k = skip_spaces(j);
        if matches!(chars.get(k), Some('日' | '号')) {
            j = k + 1;
        }
    }
    Some((ymd(year, month, day)?, j))
}

/// `二〇二五年五月十二日` (the way official documents date themselves).
fn chinese_numeral_date(chars: &[char], i: usize) -> Option<NaiveDate> {
    fn digit(c: char) -> Option<u32> {
        Some(match c {
            '〇' | '零' | 'O' | 'o' | '0' => 0,
            '一' => 1,
            '二' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    }
    // `十二`, `二十`, `二十一`, `十`, `三十一`, `五`: at most three characters.
    fn small(chars: &[char], j: usize) -> Option<(u32, usize)> {
        let mut k = j;
        let mut value = 0;
        let mut tens_seen = false;
        while let Some(&c) = chars.get(k) {
            if c == '十' {
                if tens_seen {
                    return None;
                }
                tens_seen = true;
                value = if k == j { 10 } else { value * 10 };
            } else if let Some(d) = digit(c).filter(|d| *d > 0) {
                value += d;
            } else {
                break;
            }
            k += 1;
            if k - j > 3 {
                return None;
            }
        }
        (k > j).then_some((value, k))
    }
    if i > 0 && digit(chars[i - 1]).is_some() {
        return None;
    }
    let year_digits: Option<Vec<u32>> = chars.get(i..i + 4)?.iter().map(|c| digit(*c)).collect();
    let year = year_digits?.iter().fold(0, |acc, d| acc * 10 + d);
    if chars.get(i + 4) != Some(&'年') {
        return None;
    }
    let (month, j) = small(chars, i + 5)?;
    if chars.get(j) != Some(&'月') {
        return None;
    }
    let (day, k) = small(chars, j + 1)?;
    if !matches!(chars.get(k), Some('日' | '号')) {
        return None;
    }
    ymd(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn name(n: &str) -> Option<NaiveDateTime> {
        date_from_names(n, &[], cst()).map(|c| {
            assert_eq!(c.source, DateSource::Filename);
            c.when
        })
    }

    #[test]
    fn camera_and_phone_names() {
        assert_eq!(
            name("IMG_20250507_101500.jpg"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(
            name("VID_20250507_101500.mp4"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(
            name("PXL_20250507_101500123.jpg"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(name("20250507_101500.jpg"), Some(dt("2025-05-07 10:15:00")));
        assert_eq!(name("IMG_20250507.jpg"), Some(dt("2025-05-07 00:00:00")));
        assert_eq!(
            name("20250507活动照片.jpg"),
            Some(dt("2025-05-07 00:00:00"))
        );
        assert_eq!(name("合影-20250507-1.jpg"), Some(dt("2025-05-07 00:00:00")));
        assert_eq!(name("编号19991231.jpg"), None);
    }

    #[test]
    fn wechat_names() {
        assert_eq!(
            name("微信图片_20250507101500.jpg"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(
            name("微信图片_2025-05-07_101500_123.jpg"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(
            name("演讲比赛_微信图片_20250512093000.jpg"),
            Some(dt("2025-05-12 09:30:00"))
        );
    }

    #[test]
    fn mmexport_stamp_is_read_in_local_time() {
        // 1746561600000 ms = 2025-05-06T20:00:00Z, which is 2025-05-07 04:00 at +08:00.
        assert_eq!(
            name("mmexport1746561600000.jpg"),
            Some(dt("2025-05-07 04:00:00"))
        );
        assert_eq!(
            name("wx_camera_1746561600000.jpg"),
            Some(dt("2025-05-07 04:00:00"))
        );
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            date_from_names("mmexport1746561600000.jpg", &[], utc).map(|c| c.when),
            Some(dt("2025-05-06 20:00:00"))
        );
        assert_eq!(
            from_unix_millis(1_746_585_600_000, cst()),
            Some(dt("2025-05-07 10:40:00"))
        );
    }

    #[test]
    fn screenshot_names() {
        assert_eq!(
            name("Screenshot_2025-05-07-10-15-00.png"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(
            name("Screenshot_20250507_101500.png"),
            Some(dt("2025-05-07 10:15:00"))
        );
        assert_eq!(name("截图 2025-05-07.png"), Some(dt("2025-05-07 00:00:00")));
    }

    #[test]
    fn bare_dates_in_name_and_folders() {
        assert_eq!(
            name("启动仪式2025-05-07.jpg"),
            Some(dt("2025-05-07 00:00:00"))
        );
        assert_eq!(name("合影 2025.05.07.jpg"), Some(dt("2025-05-07 00:00:00")));
        assert_eq!(
            name("2025年5月7日合影.jpg"),
            Some(dt("2025-05-07 00:00:00"))
        );
        assert_eq!(
            name("２０２５年５月７日.jpg"),
            Some(dt("2025-05-07 00:00:00"))
        );
        let from_folder = date_from_names("合影.jpg", &["2025.05.09", "2025-05-01"], cst());
        assert_eq!(from_folder.map(|c| c.when), Some(dt("2025-05-09 00:00:00")));
        assert_eq!(
            date_from_names("合影.jpg", &["照片", "教务科研处"], cst()),
            None
        );
    }

    #[test]
    fn impossible_dates_and_plain_numbers_are_no_match() {
        assert_eq!(name("IMG_20251399_101500.jpg"), None);
        assert_eq!(name("20250507_256000.jpg"), None);
        assert_eq!(name("2025-13-01.jpg"), None);
        assert_eq!(name("学号2023000001.jpg"), None);
        assert_eq!(name("12025-05-07.jpg"), None);
        assert_eq!(name("合影 1.jpg"), None);
        assert_eq!(name("2025-02-30.jpg"), None);
    }

    #[test]
    fn dates_in_text() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            find_date_in_text("二、时间：2025年5月12日上午"),
            d(2025, 5, 12)
        );
        assert_eq!(find_date_in_text("2025 年 5 月 12 日"), d(2025, 5, 12));
        assert_eq!(find_date_in_text("于2025-05-12举行"), d(2025, 5, 12));
        assert_eq!(find_date_in_text("2025.5.12"), d(2025, 5, 12));
        assert_eq!(find_date_in_text("2025/5/12"), d(2025, 5, 12));
        assert_eq!(find_date_in_text("二〇二五年五月十二日"), d(2025, 5, 12));
        assert_eq!(find_date_in_text("二〇二五年十月三十一日"), d(2025, 10, 31));
        assert_eq!(find_date_in_text("第2025号文件，共12页"), None);
    }

    fn cand(source: DateSource, s: &str) -> DateCandidate {
        DateCandidate {
            source,
            when: dt(s),
            offset: None,
        }
    }

    #[test]
    fn choose_takes_chain_order_and_skips_unset_clocks() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let cands = [
            cand(DateSource::Filename, "2025-05-07 10:15:00"),
            cand(DateSource::Exif, "1970-01-01 00:00:00"),
            cand(DateSource::ExifDatetime, "2030-01-01 00:00:00"),
            cand(DateSource::Mtime, "2025-05-20 00:00:00"),
        ];
        let choice = choose(&cands, today);
        assert_eq!(choice.chosen, Some(cands[0].clone()));
        assert_eq!(choice.ignored.len(), 2);
        assert_eq!(choice.ignored[0].0.source, DateSource::Exif);
        assert!(choice.ignored[0].1.contains("相机时钟未设置"));
        assert!(choice.ignored[1].1.contains("晚于导入日"));
        // 2000-01-02 itself is valid; 2000-01-01 is not.
        let edge = [cand(DateSource::Exif, "2000-01-01 23:59:59")];
        assert_eq!(choose(&edge, today).chosen, None);
        let edge = [cand(DateSource::Exif, "2000-01-02 00:00:00")];
        assert!(choose(&edge, today).chosen.is_some());
        assert_eq!(choose(&[], today), DateChoice::default());
    }
}
