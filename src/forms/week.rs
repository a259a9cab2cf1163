//! The days of the activity week (DESIGN.md, *The seven theme days*): for each day of the
//! configured week, the activities that have evidence dated that day; a day with none is
//! flagged, since the notice asks that "活动周期间天天有活动". Pure: dated evidence in.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::text::{month_day, weekday};
use crate::config::Config;

/// One day of the week and what was held on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekDay {
    pub date: NaiveDate,
    /// (activity, evidence files dated that day), in catalog order.
    pub activities: Vec<(String, u64)>,
}

impl WeekDay {
    pub fn is_empty(&self) -> bool {
        self.activities.is_empty()
    }

    /// `5月11日（周日）`.
    pub fn label(&self) -> String {
        format!("{}（{}）", month_day(self.date), weekday(self.date))
    }

    /// `党政领导讲职教（3 个文件）、主题班会（1 个文件）`, or the flag for an empty day.
    pub fn text(&self) -> String {
        if self.activities.is_empty() {
            return EMPTY_DAY.to_string();
        }
        self.activities
            .iter()
            .map(|(a, n)| format!("{a}（{n} 个文件）"))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// What a day without evidence says.
pub const EMPTY_DAY: &str = "没有注明这一天的活动材料";

/// Every day of `cfg.week`, with the activities of `evidence` ((activities, date) of each
/// counted file) dated on it.
pub fn week_days<'a>(
    cfg: &Config,
    evidence: impl IntoIterator<Item = (&'a [String], NaiveDate)>,
) -> Vec<WeekDay> {
    let order = |name: &str| {
        cfg.activities
            .iter()
            .position(|a| a.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut by_day: BTreeMap<NaiveDate, BTreeMap<(usize, String), u64>> = BTreeMap::new();
    for (activities, date) in evidence {
        if !cfg.week.contains(date) {
            continue;
        }
        for a in activities {
            *by_day
                .entry(date)
                .or_default()
                .entry((order(a), a.clone()))
                .or_default() += 1;
        }
    }
    let mut out = Vec::new();
    let mut d = cfg.week.start;
    while d <= cfg.week.end {
        let activities = by_day
            .remove(&d)
            .unwrap_or_default()
            .into_iter()
            .map(|((_, a), n)| (a, n))
            .collect();
        out.push(WeekDay {
            date: d,
            activities,
        });
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    out
}

/// The days of `days` without evidence.
pub fn empty_days(days: &[WeekDay]) -> Vec<&WeekDay> {
    days.iter().filter(|d| d.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_of_the_week_with_what_was_held() {
        let cfg = Config::builtin();
        let d = |day| NaiveDate::from_ymd_opt(2025, 5, day).unwrap();
        let lead = ["党政领导讲职教".to_string()];
        let two = ["闭幕式".to_string(), "党政领导讲职教".to_string()];
        let days = week_days(
            &cfg,
            [
                (&lead[..], d(12)),
                (&lead[..], d(12)),
                (&two[..], d(13)),
                (&lead[..], d(20)),
            ],
        );
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].label(), "5月11日（周日）");
        assert!(days[0].is_empty());
        assert_eq!(days[0].text(), EMPTY_DAY);
        assert_eq!(days[1].text(), "党政领导讲职教（2 个文件）");
        assert_eq!(
            days[2].activities,
            [("党政领导讲职教".to_string(), 1), ("闭幕式".to_string(), 1)]
        );
        assert_eq!(empty_days(&days).len(), 5);
    }
}
