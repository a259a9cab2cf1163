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

/// Finds every activity a name names (DESIGN.md, *Activities*): of matches that overlap in the
/// name (one inside another), the longest wins; matches that do not overlap all count
/// (`5.28闭幕式暨教学成果展` names two). One automaton over every name and alias of the
/// catalog, built once per run: a year's 40 000 file names are searched in one pass each.
pub struct ActivityMatcher {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// The activity (index into `cfg.activities`) of each pattern.
    owners: Vec<usize>,
}

impl ActivityMatcher {
    pub fn new(cfg: &Config) -> ActivityMatcher {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, a) in cfg.activities.iter().enumerate() {
            for k in a.keys() {
                if !k.is_empty() {
                    patterns.push(k);
                    owners.push(i);
                }
            }
        }
        ActivityMatcher {
            automaton: aho_corasick::AhoCorasick::new(&patterns).ok(),
            owners,
        }
    }

    /// The activities `text` names, in the order they stand in it (indices into
    /// `cfg.activities`).
    pub fn find(&self, text: &str) -> Vec<usize> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let key = match_key(text);
        if key.is_empty() {
            return Vec::new();
        }
        // (start, end, chars, activity) of every occurrence of every name and alias.
        let mut hits: Vec<(usize, usize, usize, usize)> = automaton
            .find_overlapping_iter(&key)
            .map(|m| {
                let chars = key[m.start()..m.end()].chars().count();
                (
                    m.start(),
                    m.end(),
                    chars,
                    self.owners[m.pattern().as_usize()],
                )
            })
            .collect();
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)).then(x.3.cmp(&y.3)));
        let mut taken: Vec<(usize, usize, usize)> = Vec::new();
        for (start, end, _, a) in hits {
            if taken.iter().all(|(s, e, _)| end <= *s || start >= *e) {
                taken.push((start, end, a));
            }
        }
        taken.sort();
        let mut out: Vec<usize> = Vec::new();
        for (_, _, a) in taken {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// What the resolver knows of a file.
pub struct FileFacts<'a> {
    /// Its department, as judged (a configured name, or the folder as written).
    pub department: &'a str,
    /// Folders below the department folder, top first.
    pub folders: &'a [String],
    pub file_name: &'a str,
    /// The activities named by the rows of its sheets (indices, already matched), `None`
    /// where a row names none.
    pub sheet_activities: &'a [Vec<usize>],
    pub date: Option<NaiveDate>,
}

/// The activities a file is evidence of, the rule that decided, and whether its own name named
/// another activity than the folder that decided (名称与文件夹不一致).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub activities: Vec<usize>,
    pub rule: ActivityRule,
    pub name_conflict: bool,
}

/// Rules 1–5 of DESIGN.md in order, with `names` matching a text to activities
/// ([`ActivityMatcher::find`]).
pub fn resolve_with(
    cfg: &Config,
    f: &FileFacts,
    names: &mut impl FnMut(&str) -> Vec<usize>,
) -> Resolved {
    let decided = |activities, rule| Resolved {
        activities,
        rule,
        name_conflict: false,
    };
    // Rule 1: the deepest folder that names an activity decides before its parents.
    for folder in f.folders.iter().rev() {
        let found = names(folder);
        if !found.is_empty() {
            let own = names(f.file_name);
            let conflict = own.iter().any(|a| !found.contains(a));
            return Resolved {
                activities: found,
                rule: ActivityRule::Folder,
                name_conflict: conflict,
            };
        }
    }
    // Rule 2: the file name.
    let found = names(f.file_name);
    if !found.is_empty() {
        return decided(found, ActivityRule::Filename);
    }
    // Rule 3: every row that names an activity names the same one(s).
    let mut named = f.sheet_activities.iter().filter(|a| !a.is_empty());
    if let Some(first) = named.next()
        && named.all(|n| n == first)
    {
        return decided(first.clone(), ActivityRule::Sheet);
    }
    // Rule 4: the date falls in the range of exactly one activity of the department. An
    // activity with its own dates is preferred to one that only spans the whole period (the
    // launch on 05-07 is not 活动表彰, which the plan does not date).
    if let Some(d) = f.date {
        let hosts = |a: &(usize, &Activity)| a.1.departments.iter().any(|dep| dep == f.department);
        let dated: Vec<usize> = cfg
            .activities
            .iter()
            .enumerate()
            .filter(hosts)
            .filter(|(_, a)| a.dates.as_ref().is_some_and(|r| r.contains(d)))
            .map(|(i, _)| i)
            .collect();
        let undated: Vec<usize> = cfg
            .activities
            .iter()
            .enumerate()
            .filter(hosts)
            .filter(|(_, a)| a.dates.is_none() && cfg.period.contains(d))
            .map(|(i, _)| i)
            .collect();
        match (dated.as_slice(), undated.as_slice()) {
            ([a], _) | ([], [a]) => return decided(vec![*a], ActivityRule::Date),
            _ => {}
        }
    }
    decided(Vec::new(), ActivityRule::None)
}

/// [`resolve_with`] with a matcher of its own.
pub fn resolve(cfg: &Config, f: &FileFacts) -> ActivityChoice {
    let matcher = ActivityMatcher::new(cfg);
    let r = resolve_with(cfg, f, &mut |t: &str| matcher.find(t));
    ActivityChoice {
        activity: r
            .activities
            .first()
            .map(|i| cfg.activities[*i].name.clone()),
        rule: r.rule,
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

        let club = cfg
            .activities
            .iter()
            .position(|a| a.name == "社团活动")
            .unwrap();
        let acts = vec![vec![club], vec![], vec![club]];
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
    fn a_folder_naming_two_activities_is_evidence_of_both() {
        let cfg = Config::builtin();
        let matcher = ActivityMatcher::new(&cfg);
        let names = |t: &str| -> Vec<String> {
            matcher
                .find(t)
                .into_iter()
                .map(|i| cfg.activities[i].name.clone())
                .collect()
        };
        assert_eq!(
            names("5.28闭幕式暨教学成果展"),
            ["闭幕式", "教学成果展"].map(String::from)
        );
        // One inside another: the longest wins.
        assert_eq!(
            names("教学能力竞赛"),
            ["教师教学能力竞赛"].map(String::from)
        );
        assert!(names("IMG_0001").is_empty());
    }

    #[test]
    fn a_file_naming_another_activity_than_its_folder_is_flagged() {
        let cfg = Config::builtin();
        let matcher = ActivityMatcher::new(&cfg);
        let folders = vec!["启动仪式".to_string()];
        let f = FileFacts {
            department: "教务科研处",
            folders: &folders,
            file_name: "闭幕式合影.jpg",
            sheet_activities: &[],
            date: None,
        };
        let r = resolve_with(&cfg, &f, &mut |t: &str| matcher.find(t));
        assert_eq!(r.rule, ActivityRule::Folder);
        assert_eq!(cfg.activities[r.activities[0]].name, "启动仪式");
        assert!(r.name_conflict);
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
