//! The submissions to the province (DESIGN.md, *Submissions: 附件4 and the 工作总结报告*):
//! `统计/信息采集表.xlsx` and `.txt` (附件4) and the draft `统计/工作总结报告.docx`, plus the days
//! of the activity week that the report and `dangan check` show.
//!
//! Pure: [`FormsInput::new`] takes the judged files, the tally, the materials check and the report's
//! summaries as plain values and returns a [`FormsInput`]; the texts, the workbook and the
//! document are functions of it (and of the epoch for their creation time), so the same
//! catalog and `SOURCE_DATE_EPOCH` give the same bytes. Never reads the catalog, the inbox or
//! the store; the caller hands over the photos (thumbnails, never the originals). Carries no
//! names of participants: only counts, the departments' own report titles and 总结 excerpts.

pub mod docx;
pub mod media;
pub mod text;
pub mod week;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::classify::ClassifiedFile;
use crate::config::{Config, Contact, DateRange, theme_day_index};
use crate::materials::{CheckResult, Status};
use crate::model::Kind;
use crate::report::{Excerpt, FileRow};
use crate::tally::{MediaFact, ProvincialRow, Tally};
pub use media::CountedMediaReport;
use text::{TEXT_LIMIT, body_sentences, fit, sentences, span};
pub use week::{WeekDay, week_days};

pub const INFO_XLSX: &str = "信息采集表.xlsx";
pub const INFO_TXT: &str = "信息采集表.txt";
pub const REPORT_DOCX: &str = "工作总结报告.docx";

/// At most this many photos per 典型案例.
pub const CASE_PHOTOS: usize = 3;
/// Activities featured when `[contact] featured` names none: the most participants.
pub const DEFAULT_FEATURED: usize = 3;

/// One activity of the catalog as the forms describe it.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub name: String,
    pub departments: Vec<String>,
    pub theme_day: Option<String>,
    /// 0 = 第一天 … 6 = 第七天 (附件3).
    pub theme_index: Option<usize>,
    pub experience: bool,
    /// The dates the catalog gives it.
    pub planned: Option<DateRange>,
    /// Its last day (its own, else the period's).
    pub range_end: NaiveDate,
    /// Counted evidence files, and of those photos and videos.
    pub evidence: u64,
    pub photos: u64,
    /// The first and last evidence dates within its range.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    /// Summed over its breakdown rows (as the report's cards do).
    pub participants: u64,
    pub teachers: u64,
    pub students: u64,
    pub enterprises: u64,
    pub summary: Option<Excerpt>,
}

impl ActivityFacts {
    /// Held: it has evidence.
    pub fn held(&self) -> bool {
        self.evidence > 0
    }
    /// The day it is sorted by: its own start, else its first evidence.
    pub fn start(&self) -> Option<NaiveDate> {
        self.planned.as_ref().map(|r| r.start).or(self.first)
    }
    /// `5月12日至16日`; from the evidence where the catalog gives no dates; `活动月期间`.
    pub fn dates_text(&self) -> String {
        match (&self.planned, self.first, self.last) {
            (Some(r), _, _) => span(r.start, r.end),
            (None, Some(a), Some(b)) => span(a, b),
            _ => "活动月期间".to_string(),
        }
    }
    /// `党政办公室` / `教务科研处、学生处`, or empty.
    pub fn departments_text(&self) -> String {
        self.departments.join("、")
    }
}

/// One material still owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    pub department: String,
    pub activity: String,
    pub materials: String,
}

/// Everything the forms show, gathered once.
#[derive(Debug, Clone)]
pub struct FormsInput {
    pub institution: String,
    pub year: i32,
    pub period: DateRange,
    pub week: DateRange,
    pub contact: Contact,
    pub table: ProvincialRow,
    /// In catalog order.
    pub activities: Vec<ActivityFacts>,
    pub reports: Vec<CountedMediaReport>,
    pub owed: Vec<Owed>,
    pub not_due: u64,
    pub unassigned: u64,
    pub days: Vec<WeekDay>,
    /// The day the forms are made (the epoch's, at the configured offset).
    pub today: NaiveDate,
}

impl FormsInput {
    /// The forms' input, from the night's results: the judged files, the tally, the materials
    /// check. `summaries`: activity → the start of its 总结 (the report's); `media`: the tally's
    /// media rows (judged activities).
    pub fn new(
        cfg: &Config,
        tally: &Tally,
        check: &CheckResult,
        files: &[ClassifiedFile],
        summaries: &BTreeMap<String, Excerpt>,
        media: &[MediaFact],
        today: NaiveDate,
    ) -> FormsInput {
        let mut evidence: BTreeMap<&str, (u64, u64, BTreeSet<NaiveDate>)> = BTreeMap::new();
        let counted: Vec<&ClassifiedFile> = files.iter().filter(|f| f.counts()).collect();
        for f in &counted {
            for a in &f.judged.activities {
                let e = evidence.entry(a.as_str()).or_default();
                e.0 += 1;
                if matches!(f.version.facts.kind, Kind::Photo | Kind::Video) {
                    e.1 += 1;
                }
                if let (Some(d), Some(act)) = (f.judged.day(), cfg.activity(a))
                    && act.range(cfg).contains(d)
                {
                    e.2.insert(d);
                }
            }
        }
        let activities = cfg
            .activities
            .iter()
            .map(|a| {
                let (n, photos, dates) = evidence.remove(a.name.as_str()).unwrap_or_default();
                let rows = tally.activities.iter().filter(|r| r.activity == a.name);
                let (mut participants, mut teachers, mut students, mut enterprises) = (0, 0, 0, 0);
                for r in rows {
                    participants += r.participants;
                    teachers += r.teachers;
                    students += r.students;
                    enterprises += r.enterprises;
                }
                ActivityFacts {
                    name: a.name.clone(),
                    departments: a.departments.clone(),
                    theme_day: a.theme_day.clone(),
                    theme_index: a.theme_day.as_deref().and_then(theme_day_index),
                    experience: a.experience,
                    planned: a.dates.clone(),
                    range_end: a.range(cfg).end,
                    evidence: n,
                    photos,
                    first: dates.first().copied(),
                    last: dates.last().copied(),
                    participants,
                    teachers,
                    students,
                    enterprises,
                    summary: summaries.get(&a.name).cloned(),
                }
            })
            .collect();
        let days = week_days(
            cfg,
            counted
                .iter()
                .filter_map(|f| Some((&f.judged.activities[..], f.judged.day()?))),
        );
        FormsInput {
            institution: cfg.institution.clone(),
            year: cfg.period.start.year(),
            period: cfg.period.clone(),
            week: cfg.week.clone(),
            contact: cfg.contact.clone(),
            table: tally.table.clone(),
            activities,
            reports: media::counted_reports(
                media,
                (cfg.report_window.start, cfg.report_window.end),
            ),
            owed: check
                .missing
                .iter()
                .filter(|m| m.status == Status::Owed)
                .map(|m| Owed {
                    department: m.department.clone(),
                    activity: m.activity.clone(),
                    materials: m.materials.join("、"),
                })
                .collect(),
            not_due: check.not_due(),
            unassigned: check.unassigned,
            days,
            today,
        }
    }

    /// The held activities in date order (undated last), then catalog order.
    pub fn held_in_date_order(&self) -> Vec<&ActivityFacts> {
        let mut v: Vec<(usize, &ActivityFacts)> = self
            .activities
            .iter()
            .enumerate()
            .filter(|(_, a)| a.held())
            .collect();
        v.sort_by_key(|(i, a)| (a.start().is_none(), a.start(), *i));
        v.into_iter().map(|(_, a)| a).collect()
    }

    /// The 特色活动: `[contact] featured` in its order, else the [`DEFAULT_FEATURED`] held
    /// activities with most participants (catalog order between equals).
    pub fn featured(&self) -> Vec<&ActivityFacts> {
        if !self.contact.featured.is_empty() {
            return self
                .contact
                .featured
                .iter()
                .filter_map(|n| self.activities.iter().find(|a| &a.name == n))
                .collect();
        }
        let mut v: Vec<(usize, &ActivityFacts)> = self
            .activities
            .iter()
            .enumerate()
            .filter(|(_, a)| a.held())
            .collect();
        v.sort_by_key(|(i, a)| (std::cmp::Reverse(a.participants), *i));
        v.into_iter()
            .take(DEFAULT_FEATURED)
            .map(|(_, a)| a)
            .collect()
    }

    /// The opening sentence: the period and the week.
    pub fn period_sentence(&self) -> String {
        format!(
            "{}{}年职业教育活动月为{}，活动周为{}。",
            self.institution,
            self.year,
            span(self.period.start, self.period.end),
            span(self.week.start, self.week.end)
        )
    }

    /// 附件4's 活动周工作计划 (≤ 300 characters, cut at a sentence): the period and the week,
    /// then the activities held, and those still to come as of `today`, in date order, each
    /// with its dates, 主题活动日 and form, and departments.
    pub fn plan_text(&self) -> String {
        let mut v: Vec<(usize, &ActivityFacts)> = self
            .activities
            .iter()
            .enumerate()
            .filter(|(_, a)| a.held() || a.range_end >= self.today)
            .collect();
        v.sort_by_key(|(i, a)| (a.start().is_none(), a.start(), *i));
        let mut parts = vec![self.period_sentence()];
        for (_, a) in v {
            let mut about: Vec<String> = Vec::new();
            if let Some(t) = &a.theme_day {
                about.push(t.clone());
            }
            if a.experience {
                about.push("观摩体验".into());
            }
            if !a.departments.is_empty() {
                about.push(format!("{}承办", a.departments_text()));
            }
            let about = if about.is_empty() {
                String::new()
            } else {
                format!("（{}）", about.join("，"))
            };
            parts.push(format!("{}，{}{about}。", a.dates_text(), a.name));
        }
        fit(&parts, TEXT_LIMIT)
    }

    /// 附件4's 特色活动简介 (≤ 300 characters, cut at a sentence): each featured activity's
    /// name, dates and departments, then the first sentences of its 总结, an equal share each.
    pub fn featured_text(&self) -> String {
        let featured = self.featured();
        if featured.is_empty() {
            return String::new();
        }
        let share = TEXT_LIMIT / featured.len();
        let mut parts = Vec::new();
        for a in featured {
            let who = if a.departments.is_empty() {
                String::new()
            } else {
                format!("，{}承办", a.departments_text())
            };
            let mut own = vec![format!("{}（{}{who}）。", a.name, a.dates_text())];
            if let Some(s) = &a.summary {
                own.extend(body_sentences(&s.text));
                if s.truncated && own.len() > 2 {
                    // The excerpt's last sentence may be cut off: not a sentence.
                    own.pop();
                }
            }
            let mine = fit(&own, share);
            parts.extend(sentences(&mine));
        }
        fit(&parts, TEXT_LIMIT)
    }
}

/// The photos of an activity in the order they are tried for its 典型案例: the first, the
/// middle and the last by date (a spread over the activity), then the rest in date order.
pub fn photo_candidates<'a>(files: &'a [FileRow], activity: &str) -> Vec<&'a FileRow> {
    let mut photos: Vec<&FileRow> = files
        .iter()
        .filter(|f| f.kind == "photo" && f.activities.iter().any(|a| a == activity))
        .collect();
    photos.sort_by(|a, b| {
        (a.date.is_none(), &a.datetime, &a.date, &a.path).cmp(&(
            b.date.is_none(),
            &b.datetime,
            &b.date,
            &b.path,
        ))
    });
    let n = photos.len();
    if n <= CASE_PHOTOS {
        return photos;
    }
    let spread = [0, n / 2, n - 1];
    let mut out: Vec<&FileRow> = spread.iter().map(|&i| photos[i]).collect();
    out.extend(
        photos
            .iter()
            .enumerate()
            .filter(|(i, _)| !spread.contains(i))
            .map(|(_, f)| *f),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        name: &str,
        start: Option<(u32, u32)>,
        evidence: u64,
        participants: u64,
    ) -> ActivityFacts {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        ActivityFacts {
            name: name.into(),
            departments: vec!["教务科研处".into()],
            theme_day: None,
            theme_index: None,
            experience: false,
            planned: start.map(|(a, b)| DateRange {
                start: d(5, a),
                end: d(5, b),
            }),
            range_end: start.map(|(_, b)| d(5, b)).unwrap_or(d(5, 31)),
            evidence,
            photos: 0,
            first: None,
            last: None,
            participants,
            teachers: 0,
            students: 0,
            enterprises: 0,
            summary: None,
        }
    }

    fn input(activities: Vec<ActivityFacts>, today: (u32, u32)) -> FormsInput {
        let cfg = Config::builtin();
        FormsInput {
            institution: cfg.institution.clone(),
            year: 2025,
            period: cfg.period.clone(),
            week: cfg.week.clone(),
            contact: Contact::default(),
            table: crate::tally::tally(&crate::tally::TallyInput {
                institution: cfg.institution.clone(),
                enrolled_students: 1,
                own_units: vec![],
                unit_aliases: vec![],
                activities: vec![],
                files: vec![],
                people: vec![],
                media: vec![],
                declared: vec![],
                report_window: (cfg.period.start, cfg.period.end),
            })
            .table,
            activities,
            reports: vec![],
            owed: vec![],
            not_due: 0,
            unassigned: 0,
            days: vec![],
            today: NaiveDate::from_ymd_opt(2025, today.0, today.1).unwrap(),
        }
    }

    #[test]
    fn the_plan_lists_what_was_held_and_what_is_to_come_in_date_order() {
        let i = input(
            vec![
                facts("闭幕式", Some((28, 28)), 0, 0),
                facts("启动仪式", Some((7, 7)), 2, 0),
                facts("早已结束的活动", Some((2, 3)), 0, 0),
                facts("主题班会", None, 1, 0),
            ],
            (5, 10),
        );
        let plan = i.plan_text();
        assert!(
            plan.starts_with(
                "自贡职业技术学院2025年职业教育活动月为5月1日至31日，活动周为5月11日至17日。"
            ),
            "{plan}"
        );
        let launch = plan.find("5月7日，启动仪式（教务科研处承办）。").unwrap();
        let close = plan.find("5月28日，闭幕式").unwrap();
        assert!(launch < close, "{plan}");
        assert!(
            plan.ends_with("活动月期间，主题班会（教务科研处承办）。"),
            "{plan}"
        );
        assert!(!plan.contains("早已结束"));

        // Many activities: cut at a sentence within 300 characters, still in date order.
        let many: Vec<ActivityFacts> = (1..=28)
            .rev()
            .map(|d| {
                facts(
                    &format!("第{d}项活动名称较长的一项活动"),
                    Some((d, d)),
                    1,
                    0,
                )
            })
            .collect();
        let plan = input(many, (6, 1)).plan_text();
        assert!(
            plan.chars().count() <= TEXT_LIMIT,
            "{}",
            plan.chars().count()
        );
        assert!(plan.chars().count() > TEXT_LIMIT - 40);
        assert!(plan.ends_with('。'));
        let first = plan.find("5月1日，第1项").unwrap();
        let second = plan.find("5月2日，第2项").unwrap();
        assert!(first < second);
    }

    #[test]
    fn case_photos_are_tried_first_middle_last_then_in_date_order() {
        let row = |name: &str, date: &str, kind: &str| FileRow {
            path: format!("教务科研处/启动仪式/{name}"),
            file_name: name.into(),
            department: "教务科研处".into(),
            activities: vec!["启动仪式".into()],
            kind: kind.into(),
            format: "jpeg".into(),
            date: Some(date.into()),
            datetime: Some(format!("{date}T10:00:00")),
            sha256: name.into(),
            size: 1,
            orientation: None,
            has_thumbnail: false,
            width: None,
            height: None,
            problems: vec![],
            scan: false,
        };
        let files = vec![
            row("e.jpg", "2025-05-09", "photo"),
            row("a.jpg", "2025-05-05", "photo"),
            row("v.mp4", "2025-05-06", "video"),
            row("c.jpg", "2025-05-07", "photo"),
            row("b.jpg", "2025-05-06", "photo"),
            row("d.jpg", "2025-05-08", "photo"),
        ];
        let names: Vec<&str> = photo_candidates(&files, "启动仪式")
            .iter()
            .map(|f| f.file_name.as_str())
            .collect();
        assert_eq!(names, ["a.jpg", "c.jpg", "e.jpg", "b.jpg", "d.jpg"]);
        assert_eq!(photo_candidates(&files[..2], "启动仪式").len(), 2);
        assert!(photo_candidates(&files, "闭幕式").is_empty());
    }

    #[test]
    fn featured_are_configured_else_the_most_participants() {
        let mut i = input(
            vec![
                facts("甲", None, 1, 5),
                facts("乙", None, 1, 50),
                facts("丙", None, 0, 0),
                facts("丁", None, 1, 5),
                facts("戊", None, 1, 9),
            ],
            (6, 1),
        );
        let names = |i: &FormsInput| {
            i.featured()
                .iter()
                .map(|a| a.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&i), ["乙", "戊", "甲"]);
        i.contact.featured = vec!["丙".into(), "甲".into()];
        assert_eq!(names(&i), ["丙", "甲"]);
        i.activities[0].summary = Some(Excerpt {
            file_name: "总结.docx".into(),
            text: format!("第一句总结。{}。最后半句", "很长的第二句".repeat(40)),
            truncated: true,
            note: None,
        });
        let t = i.featured_text();
        assert!(t.chars().count() <= TEXT_LIMIT);
        assert_eq!(
            t,
            "丙（活动月期间，教务科研处承办）。甲（活动月期间，教务科研处承办）。第一句总结。"
        );
    }
}
