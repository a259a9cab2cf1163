//! Media reports: the level a register's 级别 cell names, what makes two register rows one
//! report, and each report's level, date and whether it counts (DESIGN.md, *Media levels*).
//! Pure functions on values; the counting per row is the tally's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::MediaFact;
use crate::text::{clean_cell, match_key};

/// The level of a report, as the three media columns of 附件5 count it, plus 其他.
/// Ordered from the highest level down, so the highest of several is the minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaLevel {
    /// 省级及以上
    Provincial,
    /// 市（州）级
    City,
    /// 县（区）级
    County,
    /// 校级, 公众号, blank, anything else: shown in the breakdowns, in none of the table's columns.
    Other,
}

impl MediaLevel {
    /// The column name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            MediaLevel::Provincial => "省级及以上",
            MediaLevel::City => "市（州）级",
            MediaLevel::County => "县（区）级",
            MediaLevel::Other => "其他",
        }
    }
}

/// Level words after `match_key` (full-width parentheses folded), highest level first so that
/// a cell naming two levels takes the higher one.
const LEVEL_WORDS: &[(&str, MediaLevel)] = &[
    ("省级及以上", MediaLevel::Provincial),
    ("国家级", MediaLevel::Provincial),
    ("中央级", MediaLevel::Provincial),
    ("省级", MediaLevel::Provincial),
    ("市(州)级", MediaLevel::City),
    ("市州级", MediaLevel::City),
    ("市级", MediaLevel::City),
    ("州级", MediaLevel::City),
    ("县(区)级", MediaLevel::County),
    ("县级", MediaLevel::County),
    ("区级", MediaLevel::County),
];

/// The level a 级别 cell names: an exact level word, else the highest level word the cell
/// contains (省级媒体, 市级以上), else [`MediaLevel::Other`].
pub fn classify_level(cell: Option<&str>) -> MediaLevel {
    let Some(cell) = cell else {
        return MediaLevel::Other;
    };
    let key = match_key(cell);
    if key.is_empty() {
        return MediaLevel::Other;
    }
    if let Some(&(_, level)) = LEVEL_WORDS.iter().find(|(w, _)| *w == key) {
        return level;
    }
    LEVEL_WORDS
        .iter()
        .find(|(w, _)| key.contains(w))
        .map(|&(_, level)| level)
        .unwrap_or(MediaLevel::Other)
}

/// A link as compared: trimmed, without its scheme (`http://` and `https://` are the same
/// page), host lower-cased, trailing `/` dropped. `None` when nothing is left.
pub fn normalize_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else if lower.starts_with("//") {
        &url[2..]
    } else {
        url
    };
    let rest = rest.trim_end_matches('/');
    // `无`, `/`, `暂无`, a bare word: not a link.
    if !rest.contains('.') || !rest.chars().any(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    Some(format!("{}{}", host.to_ascii_lowercase(), path))
}

/// What makes two register rows one media report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaReportKey {
    Url(String),
    TitleOutlet(String, String),
}

/// The title-and-outlet key of a row, or `None` when both are blank.
pub fn title_outlet_key(title: &str, outlet: &str) -> Option<(String, String)> {
    let t = match_key(title);
    let o = match_key(outlet);
    if t.is_empty() && o.is_empty() {
        None
    } else {
        Some((t, o))
    }
}

/// One distinct media report, over all the rows that name it.
#[derive(Debug)]
pub struct MediaReport {
    /// The highest level a row gave it.
    pub level: MediaLevel,
    levels: BTreeSet<MediaLevel>,
    dates: BTreeSet<NaiveDate>,
    shown: BTreeSet<(String, String)>,
    /// Dated in the report window, or undated.
    pub counted: bool,
}

/// The report each media row belongs to (`None`: neither link nor title nor outlet). A row
/// without a link whose title and outlet match a row with a link joins that row's report.
pub fn report_keys(media: &[MediaFact]) -> Vec<Option<MediaReportKey>> {
    let mut linked: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let urls: Vec<Option<String>> = media
        .iter()
        .map(|m| m.url.as_deref().and_then(normalize_url))
        .collect();
    for (m, url) in media.iter().zip(&urls) {
        if let (Some(url), Some(to)) = (url, title_outlet_key(&m.title, &m.outlet)) {
            linked.entry(to).or_default().insert(url.clone());
        }
    }
    media
        .iter()
        .zip(urls)
        .map(|(m, url)| {
            if let Some(url) = url {
                return Some(MediaReportKey::Url(url));
            }
            let to = title_outlet_key(&m.title, &m.outlet)?;
            match linked.get(&to).and_then(|s| s.first()) {
                Some(url) => Some(MediaReportKey::Url(url.clone())),
                None => Some(MediaReportKey::TitleOutlet(to.0, to.1)),
            }
        })
        .collect()
}

/// The distinct reports of the rows, each with its level and whether it counts in `window`
/// (both ends included), with the warnings about them.
pub fn media_reports(
    media: &[MediaFact],
    window: (NaiveDate, NaiveDate),
    warnings: &mut BTreeSet<String>,
) -> BTreeMap<MediaReportKey, MediaReport> {
    let mut reports: BTreeMap<MediaReportKey, MediaReport> = BTreeMap::new();
    for (m, key) in media.iter().zip(report_keys(media)) {
        let Some(key) = key else {
            warnings.insert(format!(
                "{}：媒体报道登记中有一行没有标题、媒体和链接，未计数",
                clean_cell(&m.department)
            ));
            continue;
        };
        let level = classify_level(m.level.as_deref());
        let r = reports.entry(key).or_insert_with(|| MediaReport {
            level,
            levels: BTreeSet::new(),
            dates: BTreeSet::new(),
            shown: BTreeSet::new(),
            counted: false,
        });
        r.levels.insert(level);
        r.level = r.level.min(level);
        r.dates.extend(m.date);
        r.shown
            .insert((clean_cell(&m.title), clean_cell(&m.outlet)));
    }
    let (from, to) = window;
    for r in reports.values_mut() {
        let (title, outlet) = r.shown.first().cloned().unwrap_or_default();
        let what = format!("媒体报道《{title}》（{outlet}）");
        if r.levels.len() > 1 {
            let levels: Vec<&str> = r.levels.iter().map(|l| l.label()).collect();
            warnings.insert(format!(
                "{what}登记了不同级别（{}），按最高的“{}”计",
                levels.join("、"),
                r.level.label()
            ));
        }
        if r.dates.len() > 1 {
            let dates: Vec<String> = r.dates.iter().map(|d| d.to_string()).collect();
            warnings.insert(format!(
                "{what}登记了不同日期（{}），按最早的计",
                dates.join("、")
            ));
        }
        r.counted = match r.dates.first().copied() {
            Some(d) => {
                if d < from || d > to {
                    warnings.insert(format!(
                        "{what}日期 {d} 不在统计期间 {from} 至 {to} 内，未计数"
                    ));
                    false
                } else {
                    true
                }
            }
            None => {
                warnings.insert(format!("{what}没有日期，已计入，请核对"));
                true
            }
        };
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(classify_level(Some("国家级")), MediaLevel::Provincial);
        assert_eq!(classify_level(Some("中央级")), MediaLevel::Provincial);
        assert_eq!(classify_level(Some("省级及以上")), MediaLevel::Provincial);
        assert_eq!(classify_level(Some("省级媒体")), MediaLevel::Provincial);
        assert_eq!(classify_level(Some("市（州）级")), MediaLevel::City);
        assert_eq!(classify_level(Some("市(州)级")), MediaLevel::City);
        assert_eq!(classify_level(Some("州级")), MediaLevel::City);
        assert_eq!(classify_level(Some("县（区）级")), MediaLevel::County);
        assert_eq!(classify_level(Some("区级")), MediaLevel::County);
        assert_eq!(classify_level(Some("校级")), MediaLevel::Other);
        assert_eq!(classify_level(Some("公众号")), MediaLevel::Other);
        assert_eq!(classify_level(Some("")), MediaLevel::Other);
        assert_eq!(classify_level(None), MediaLevel::Other);
    }

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url(" HTTPS://Example.com/a/b/ "),
            Some("example.com/a/b".into())
        );
        assert_eq!(
            normalize_url("http://example.com/a/b"),
            normalize_url("https://EXAMPLE.com/a/b/")
        );
        assert_ne!(
            normalize_url("http://example.com/A"),
            normalize_url("http://example.com/a")
        );
        assert_eq!(normalize_url("  "), None);
        assert_eq!(normalize_url("https://"), None);
        assert_eq!(normalize_url("无"), None);
        assert_eq!(normalize_url("/"), None);
        assert_eq!(
            normalize_url("mp.weixin.qq.com/s/AbC"),
            Some("mp.weixin.qq.com/s/AbC".into())
        );
    }
}
