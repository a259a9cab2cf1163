//! The counted media reports one by one, for the 工作总结报告's 媒体宣传情况 table: the same
//! rows, the same de-duplication (same link, or same title and outlet without one; a row
//! without a link joins the linked row of the same title and outlet), the same highest level
//! and earliest date, and the same report window as the tally's counts. Pure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::tally::{MediaFact, MediaLevel, MediaReportKey, classify_level, report_keys};
use crate::text::clean_cell;

/// One distinct report counted in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedMediaReport {
    pub level: MediaLevel,
    pub outlet: String,
    pub title: String,
    /// None: registered without a usable date (counted, as the tally does).
    pub date: Option<NaiveDate>,
    pub activities: Vec<String>,
}

/// The distinct reports of `media` dated in `window` (or undated), highest level first, then by
/// date and title.
pub fn counted_reports(
    media: &[MediaFact],
    window: (NaiveDate, NaiveDate),
) -> Vec<CountedMediaReport> {
    struct Acc {
        level: MediaLevel,
        dates: BTreeSet<NaiveDate>,
        shown: BTreeSet<(String, String)>,
        activities: BTreeSet<String>,
    }
    let mut reports: BTreeMap<MediaReportKey, Acc> = BTreeMap::new();
    for (m, key) in media.iter().zip(report_keys(media)) {
        let Some(key) = key else { continue };
        let level = classify_level(m.level.as_deref());
        let r = reports.entry(key).or_insert_with(|| Acc {
            level,
            dates: BTreeSet::new(),
            shown: BTreeSet::new(),
            activities: BTreeSet::new(),
        });
        r.level = r.level.min(level);
        r.dates.extend(m.date);
        r.shown
            .insert((clean_cell(&m.title), clean_cell(&m.outlet)));
        r.activities.extend(m.activities.iter().cloned());
    }
    let mut out: Vec<CountedMediaReport> = reports
        .into_values()
        .filter_map(|r| {
            let date = r.dates.first().copied();
            if date.is_some_and(|d| d < window.0 || d > window.1) {
                return None;
            }
            let (title, outlet) = r.shown.first().cloned().unwrap_or_default();
            Some(CountedMediaReport {
                level: r.level,
                outlet,
                title,
                date,
                activities: r.activities.into_iter().collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.level, a.date.is_none(), a.date, &a.title, &a.outlet).cmp(&(
            b.level,
            b.date.is_none(),
            b.date,
            &b.title,
            &b.outlet,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(
        title: &str,
        outlet: &str,
        level: &str,
        date: Option<u32>,
        url: Option<&str>,
    ) -> MediaFact {
        MediaFact {
            activities: vec!["启动仪式".into()],
            department: "融媒体中心".into(),
            title: title.into(),
            outlet: outlet.into(),
            level: Some(level.into()),
            date: date.map(|d| NaiveDate::from_ymd_opt(2025, 5, d).unwrap()),
            url: url.map(str::to_string),
        }
    }

    /// The list agrees with the tally's counts on the same rows.
    #[test]
    fn the_list_counts_what_the_tally_counts() {
        let media = vec![
            fact("启动", "四川日报", "省级", Some(7), Some("https://a.cn/1")),
            fact("启动", "四川日报", "市级", Some(8), Some("http://A.cn/1/")),
            fact("启动", "四川日报", "省级", None, None),
            fact("班会", "自贡日报", "市级", Some(14), None),
            fact("班会", "自贡日报", "市级", Some(14), None),
            fact("旧闻", "自贡日报", "市级", Some(1), None),
            fact("公众号", "学院公众号", "校级", None, None),
        ];
        let window = (
            NaiveDate::from_ymd_opt(2025, 5, 2).unwrap(),
            NaiveDate::from_ymd_opt(2025, 5, 31).unwrap(),
        );
        let got = counted_reports(&media, window);
        let titles: Vec<&str> = got.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["启动", "班会", "公众号"]);
        assert_eq!(got[0].level, MediaLevel::Provincial);
        assert_eq!(got[0].date, NaiveDate::from_ymd_opt(2025, 5, 7));

        let tally = crate::tally::tally(&crate::tally::TallyInput {
            institution: "X".into(),
            enrolled_students: 100,
            own_units: vec![],
            unit_aliases: vec![],
            activities: vec![],
            files: vec![],
            people: vec![],
            media: media.clone(),
            declared: vec![],
            report_window: window,
        });
        let count = |l| got.iter().filter(|r| r.level == l).count() as u64;
        assert_eq!(count(MediaLevel::Provincial), tally.table.media_provincial);
        assert_eq!(count(MediaLevel::City), tally.table.media_city);
        assert_eq!(count(MediaLevel::County), tally.table.media_county);
    }
}
