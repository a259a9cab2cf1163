//! The texts of the forms: dates as a person writes them (`5月7日`, `5月12日至16日`), sentences,
//! and the 300-character blocks of 附件4 cut at a sentence boundary. Pure functions on text.

use chrono::{Datelike, NaiveDate};

/// 附件4's limit for each of its two text blocks, in characters.
pub const TEXT_LIMIT: usize = 300;

/// `5月7日`.
pub fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

/// `5月7日`, `5月12日至16日`, `5月28日至6月3日`, `2025年12月30日至2026年1月2日`.
pub fn span(start: NaiveDate, end: NaiveDate) -> String {
    if start == end {
        month_day(start)
    } else if start.year() != end.year() {
        format!(
            "{}年{}至{}年{}",
            start.year(),
            month_day(start),
            end.year(),
            month_day(end)
        )
    } else if start.month() == end.month() {
        format!("{}至{}日", month_day(start), end.day())
    } else {
        format!("{}至{}", month_day(start), month_day(end))
    }
}

/// `周一` … `周日`.
pub fn weekday(d: NaiveDate) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [d.weekday().num_days_from_monday() as usize]
}

fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '；' | ';')
}

/// The sentences of `text`: each ends with its 。！？； (kept), or at a line break; blank ones and
/// surrounding spaces dropped.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut flush = |cur: &mut String| {
        let s = cur.trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
        cur.clear();
    };
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            flush(&mut cur);
            continue;
        }
        cur.push(c);
        if ends_sentence(c) {
            flush(&mut cur);
        }
    }
    flush(&mut cur);
    out
}

/// The sentences of a document's body: [`sentences`] without the lines at its start that
/// end no sentence (its title `启动仪式总结`, a date, a department).
pub fn body_sentences(text: &str) -> Vec<String> {
    let mut v = sentences(text);
    let lead = v
        .iter()
        .take_while(|s| !s.chars().last().is_some_and(ends_sentence))
        .count();
    v.drain(..lead);
    v
}

/// A sentence as it may end a block: a clause that ends in `；` or nothing ends in `。`.
fn closed(s: &str) -> String {
    let t = s.trim_end_matches(['；', ';', '，', ',', '、']);
    match t.chars().last() {
        Some(c) if ends_sentence(c) => t.to_string(),
        Some(_) => format!("{t}。"),
        None => String::new(),
    }
}

/// The leading sentences of `parts` whose total stays within `limit` characters. A first
/// sentence longer than the limit is cut at its last comma within the limit (else hard), and
/// closed with `。`, so the result never exceeds `limit`.
pub fn fit(parts: &[String], limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for p in parts {
        let s = closed(p);
        let n = s.chars().count();
        if n == 0 {
            continue;
        }
        if used + n > limit {
            if used == 0 {
                return cut(&s, limit);
            }
            break;
        }
        out.push_str(&s);
        used += n;
    }
    out
}

/// `s` cut to at most `limit` characters at its last comma, ending in `。`.
fn cut(s: &str, limit: usize) -> String {
    if limit == 0 {
        return String::new();
    }
    let chars: Vec<char> = s.chars().take(limit - 1).collect();
    let at = chars
        .iter()
        .rposition(|c| matches!(c, '，' | ',' | '、' | '：'))
        .filter(|i| *i > 0)
        .unwrap_or(chars.len());
    let mut t: String = chars[..at].iter().collect();
    t.push('。');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    #[test]
    fn dates_as_written() {
        assert_eq!(span(d(5, 7), d(5, 7)), "5月7日");
        assert_eq!(span(d(5, 12), d(5, 16)), "5月12日至16日");
        assert_eq!(span(d(5, 28), d(6, 3)), "5月28日至6月3日");
        assert_eq!(weekday(d(5, 11)), "周日");
        assert_eq!(weekday(d(5, 12)), "周一");
    }

    #[test]
    fn blocks_are_cut_at_a_sentence_within_the_limit() {
        let s = sentences("第一句。第二句很长很长！\n第三句没有句号\n\n第四句；");
        assert_eq!(
            s,
            ["第一句。", "第二句很长很长！", "第三句没有句号", "第四句；"]
        );
        assert_eq!(
            fit(&s, 100),
            "第一句。第二句很长很长！第三句没有句号。第四句。"
        );
        assert_eq!(fit(&s, 12), "第一句。第二句很长很长！");
        assert_eq!(fit(&s, 11), "第一句。");
        let long = vec![format!("{}，{}。", "甲".repeat(8), "乙".repeat(8))];
        assert_eq!(fit(&long, 12), format!("{}。", "甲".repeat(8)));
        assert!(fit(&["丙".repeat(400)], 300).chars().count() <= 300);
        assert_eq!(fit(&[], 300), "");
        assert_eq!(
            body_sentences("启动仪式总结\n2025年5月8日\n上午举行。下午参观\n"),
            ["上午举行。", "下午参观"]
        );
    }
}
