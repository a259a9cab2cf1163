//! Which activity a file belongs to: DESIGN.md's rules in order — a folder on its path, its
//! file name, its sheet's 活动名称 column, its date inside exactly one activity of its
//! department — else 未归类. Pure: names and dates in, a decision and its rule out.

use chrono::NaiveDate;

use crate::config::{Activity, Config};
use crate::model::ActivityRule;
use crate::text::match_key;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityChoice {
    pub activity: Option<String>,
    pub rule: ActivityRule,
}

/// The activity whose name or alias the text contains; where several match, the longest name
/// or alias wins (ties: the one listed first in the catalog).
pub fn match_text<'a>(cfg: &'a Config, text: &str) -> Option<&'a Activity> {
    let key = match_key(text);
    if key.is_empty() {
        return None;
    }
    let mut best: Option<(&Activity, usize)> = None;
    for a in &cfg.activities {
        for k in a.keys() {
            if !k.is_empty() && key.contains(&k) {
                let len = k.chars().count();
                if best.is_none_or(|(_, l)| len > l) {
                    best = Some((a, len));
                }
            }
        }
    }
    best.map(|(a, _)| a)
}

/// What the resolver knows of a file.
pub struct FileFacts<'a> {
    pub department: &'a str,
    /// Folders below the department folder, top first.
    pub folders: &'a [String],
    pub file_name: &'a str,
    /// The activities named by the rows of its sheets (already matched to catalog names),
    /// `None` where a row names none.
    pub sheet_activities: &'a [Option<String>],
    pub date: Option<NaiveDate>,
}

pub fn resolve(cfg: &Config, f: &FileFacts) -> ActivityChoice {
    // Rule 1: the deepest folder that names an activity decides before its parents.
    for folder in f.folders.iter().rev() {
        if let Some(a) = match_text(cfg, folder) {
            return chosen(a, ActivityRule::Folder);
        }
    }
    // Rule 2: the file name.
    if let Some(a) = match_text(cfg, f.file_name) {
        return chosen(a, ActivityRule::Filename);
    }
    // Rule 3: every row that names an activity names the same one.
    let mut named = f.sheet_activities.iter().flatten();
    if let Some(first) = named.next()
        && named.all(|n| n == first)
        && let Some(a) = cfg.activity(first)
    {
        return chosen(a, ActivityRule::Sheet);
    }
    // Rule 4: the date falls in the range of exactly one activity of the department. An
    // activity with its own dates is preferred to one that only spans the whole period (the
    // launch on 05-07 is not 活动表彰, which the plan does not date).
    if let Some(d) = f.date {
        let hosts = |a: &&Activity| a.departments.iter().any(|dep| dep == f.department);
        let dated: Vec<&Activity> = cfg
            .activities
            .iter()
            .filter(hosts)
            .filter(|a| a.dates.as_ref().is_some_and(|r| r.contains(d)))
            .collect();
        let undated: Vec<&Activity> = cfg
            .activities
            .iter()
            .filter(hosts)
            .filter(|a| a.dates.is_none() && cfg.period.contains(d))
            .collect();
        match (dated.as_slice(), undated.as_slice()) {
            ([a], _) | ([], [a]) => return chosen(a, ActivityRule::Date),
            _ => {}
        }
    }
    ActivityChoice {
        activity: None,
        rule: ActivityRule::None,
    }
}

fn chosen(a: &Activity, rule: ActivityRule) -> ActivityChoice {
    ActivityChoice {
        activity: Some(a.name.clone()),
        rule,
    }
}

/// A problem text when a date lies more than 30 days outside the activity's dates (or the
/// period, for 未归类 files).
pub fn date_flag(cfg: &Config, activity: Option<&str>, date: NaiveDate) -> Option<String> {
    let range = activity
        .and_then(|n| cfg.activity(n))
        .map(|a| a.range(cfg))
        .unwrap_or(&cfg.period);
    let slack = chrono::Duration::days(30);
    if date < range.start - slack || date > range.end + slack {
        Some(format!(
            "日期 {date} 距活动日期（{} 至 {}）超过 30 天，请核对",
            range.start, range.end
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(dep: &'a str, folders: &'a [String], name: &'a str) -> FileFacts<'a> {
        FileFacts {
            department: dep,
            folders,
            file_name: name,
            sheet_activities: &[],
            date: None,
        }
    }

    #[test]
    fn rules_in_order() {
        let cfg = Config::builtin();
        let folders = vec!["2025技能竞赛".to_string(), "演讲 比赛".to_string()];
        let r = resolve(&cfg, &facts("校团委", &folders, "IMG_1.jpg"));
        assert_eq!(r.activity.as_deref(), Some("“职教学生谈职教”演讲比赛"));
        assert_eq!(r.rule, ActivityRule::Folder);

        let r = resolve(&cfg, &facts("校团委", &[], "演讲比赛_微信图片_1.jpg"));
        assert_eq!(r.rule, ActivityRule::Filename);

        let acts = vec![
            Some("社团活动".to_string()),
            None,
            Some("社团活动".to_string()),
        ];
        let mut f = facts("校团委", &[], "签到.xlsx");
        f.sheet_activities = &acts;
        assert_eq!(resolve(&cfg, &f).rule, ActivityRule::Sheet);

        let mut f = facts("党政办公室", &[], "IMG_1.jpg");
        f.date = NaiveDate::from_ymd_opt(2025, 5, 13);
        let r = resolve(&cfg, &f);
        assert_eq!(r.activity.as_deref(), Some("党政领导讲职教"));
        assert_eq!(r.rule, ActivityRule::Date);

        // 教务科研处 hosts two activities on 05-28: not decided by date; on 05-07 only the launch.
        let mut f = facts("教务科研处", &[], "IMG_1.jpg");
        f.date = NaiveDate::from_ymd_opt(2025, 5, 28);
        assert_eq!(resolve(&cfg, &f).rule, ActivityRule::None);
        f.date = NaiveDate::from_ymd_opt(2025, 5, 7);
        assert_eq!(resolve(&cfg, &f).activity.as_deref(), Some("启动仪式"));
        // 马克思主义学院 hosts one undated activity: any day of the period is it.
        let mut f = facts("马克思主义学院", &[], "IMG_1.jpg");
        f.date = NaiveDate::from_ymd_opt(2025, 5, 4);
        assert_eq!(
            resolve(&cfg, &f).activity.as_deref(),
            Some("“五四”红色思政课")
        );
        f.date = NaiveDate::from_ymd_opt(2025, 6, 4);
        assert_eq!(resolve(&cfg, &f).rule, ActivityRule::None);
    }

    #[test]
    fn longest_alias_wins_and_width_folds() {
        let cfg = Config::builtin();
        assert_eq!(
            match_text(&cfg, "教学能力竞赛").unwrap().name,
            "教师教学能力竞赛"
        );
        assert_eq!(
            match_text(&cfg, "学生技能竞赛").unwrap().name,
            "学生技能竞赛"
        );
        assert_eq!(
            match_text(&cfg, "教师　职教大讨论").unwrap().name,
            "教师“职教大讨论”"
        );
        assert!(match_text(&cfg, "IMG_0001").is_none());
    }
}
