//! The counting behind the provincial table (附件5 情况统计表) and its breakdowns, on plain facts
//! the catalog hands over (DESIGN.md, *Spreadsheets* and *The provincial table*).
//!
//! Every count of people is of distinct persons, never a sum of rows: the same facts shuffled,
//! split over more sheets or submitted twice give the same numbers. This module never reads a
//! file, never panics on odd input (it warns instead), and never lets a name, ID or phone
//! number out of it: the [`Tally`] holds counts and warnings that name sheets and rows only.
//!
//! Its memory is bounded by distinct persons, not rows: [`tally_streamed`] takes the sign-in
//! rows as a stream it reads in passes (`signin.rs`), and each row of the table keeps a person
//! as a number with role bits (`groups.rs`). Where to read a column: `columns.rs`, one function
//! per column of 附件5 and of the breakdowns.
//!
//! Decisions the design leaves open, made here:
//! - A media report without a date is counted (it was registered for the activity) and warned
//!   about. A report seen with several dates counts by its earliest; with several levels, by the
//!   highest (with a warning). A row without a link but with the title and outlet of a row that
//!   has one is the same report.
//! - A row whose role is unknown counts in 参与总人数 only, and not at all when the same ID (or
//!   name and unit) also appears with a known role.
//! - A declared-counts row (申报) counts only for an activity that has no sign-in rows at all.
//!   Identical declared rows count once; differing rows for the same activity and department
//!   count by the larger number of each column, with a warning. A declared row without 参与人数
//!   counts 教师数 + 学生数 as its participants.
//! - A breakdown row counts distinct persons and reports within that row; a person or report
//!   in two rows is in both, so rows need not add up to the table.

mod columns;
mod declared;
mod groups;
pub mod media;
mod names;
pub mod people;
mod signin;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::model::{Kind, RowAt};
use crate::text::match_key;

use groups::Groups;
use names::Names;
use signin::SignIn;

pub use media::{
    MediaLevel, MediaReport, MediaReportKey, classify_level, normalize_url, report_keys,
};
pub use people::{Identity, Role, classify_role, is_own_unit, is_vocational_unit, normalize_id};
pub use signin::PeopleStream;

/// The name breakdowns give to files, people and reports without an activity.
pub const UNASSIGNED: &str = "未归类";
/// The department of a declared row that names none, for an activity without departments.
pub const NO_DEPARTMENT: &str = "未注明部门";

/// One activity of the year's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityInfo {
    pub name: String,
    pub departments: Vec<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// An 观摩体验 (observation/experience) project.
    pub experience: bool,
}

/// A current (not withdrawn) cataloged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    pub department: String,
    /// The activities it is evidence of; empty: 未归类.
    pub activities: Vec<String>,
    pub kind: Kind,
    pub date: Option<NaiveDate>,
}

/// One sign-in row of a current file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFact {
    /// The activities the row counts for (its 活动名称, else its file's); empty: 未归类.
    pub activities: Vec<String>,
    pub department: String,
    /// The role cell as written (身份/类别/角色).
    pub role: Option<String>,
    /// Sheet name and file name, searched for a role word when `role` is blank (one string
    /// shared by the rows of a sheet).
    pub role_hint: Option<std::sync::Arc<str>>,
    pub name: String,
    /// 学号/工号/编号/证件号/手机号 as written.
    pub id: Option<String>,
    /// 单位/学校/企业/班级/院系 as written.
    pub unit: Option<String>,
    /// Where the row is, for warnings.
    pub at: RowAt,
}

/// One row of a media register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFact {
    /// The activities the report is of; empty: 未归类.
    pub activities: Vec<String>,
    pub department: String,
    pub title: String,
    pub outlet: String,
    /// The 级别 cell as written.
    pub level: Option<String>,
    pub date: Option<NaiveDate>,
    pub url: Option<String>,
}

/// One row of a declared-counts sheet (申报统计).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredFact {
    pub activity: String,
    pub department: Option<String>,
    pub teachers: Option<u64>,
    pub students: Option<u64>,
    pub enterprises: Option<u64>,
    pub participants: Option<u64>,
}

/// Everything the counting needs, filled by the caller from the catalog and the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyInput {
    /// 机构名称: the row name of the table.
    pub institution: String,
    /// 在校生总数: the denominator of the coverage rate.
    pub enrolled_students: u64,
    /// The institution's departments (inbox folders, catalog departments) and short names.
    pub own_units: Vec<String>,
    /// (alias, department name): units written as an alias are that department, and own.
    pub unit_aliases: Vec<(String, String)>,
    pub activities: Vec<ActivityInfo>,
    pub files: Vec<FileFact>,
    pub people: Vec<PersonFact>,
    pub media: Vec<MediaFact>,
    pub declared: Vec<DeclaredFact>,
    /// Media reports dated in this window (both ends included) count.
    pub report_window: (NaiveDate, NaiveDate),
}

/// 参与活动的学生覆盖率: how it was obtained decides how it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Students over a known enrolment: `13.13%`.
    Exact { students: u64, enrolled: u64 },
    /// Over an enrolment estimated from rounded rates: `13.13%（估算）`.
    Estimated { students: u64, enrolled: u64 },
    /// As read from a table, normalised (`13.13%`), not recomputable.
    Given(String),
    /// No enrolment known: `—`.
    Unknown,
}

impl Coverage {
    /// `students / enrolled` as a percentage with two decimals, rounded half up, computed in
    /// integers (525/4000 → `13.13%`). `None` when `enrolled` is 0.
    pub fn percent(students: u64, enrolled: u64) -> Option<String> {
        if enrolled == 0 {
            return None;
        }
        let hundredths =
            (u128::from(students) * 20_000 + u128::from(enrolled)) / (2 * u128::from(enrolled));
        Some(format!("{}.{:02}%", hundredths / 100, hundredths % 100))
    }

    /// The cell text: `13.13%`, `13.13%（估算）`, or `—`.
    pub fn text(&self) -> String {
        match self {
            Coverage::Exact { students, enrolled } => {
                Coverage::percent(*students, *enrolled).unwrap_or_else(|| "—".into())
            }
            Coverage::Estimated { students, enrolled } => {
                match Coverage::percent(*students, *enrolled) {
                    Some(p) => format!("{p}（估算）"),
                    None => "—".into(),
                }
            }
            Coverage::Given(s) if !s.is_empty() => s.clone(),
            Coverage::Given(_) | Coverage::Unknown => "—".into(),
        }
    }

    /// The text for machine-readable output: `None` when unknown.
    pub fn json_text(&self) -> Option<String> {
        let t = self.text();
        (t != "—").then_some(t)
    }
}

/// One row of 附件5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvincialRow {
    /// 市（州）/职业学校（含技工院校）
    pub institution: String,
    /// 参与活动的职业学校（含技工院校）数
    pub schools: u64,
    /// 参与活动的教师数
    pub teachers: u64,
    /// 参与活动的学生数
    pub students: u64,
    /// 参与活动的学生覆盖率
    pub coverage: Coverage,
    /// 参与活动的企业数
    pub enterprises: u64,
    /// 参与总人数
    pub participants: u64,
    /// 观摩体验活动项目数
    pub experience_projects: u64,
    /// 省级及以上媒体报道数
    pub media_provincial: u64,
    /// 市（州）级媒体报道数
    pub media_city: u64,
    /// 县（区）级媒体报道数
    pub media_county: u64,
}

/// Files of a breakdown row by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    pub photo: u64,
    pub video: u64,
    pub sheet: u64,
    pub document: u64,
    pub other: u64,
}

/// Distinct reports of a breakdown row by level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaCounts {
    pub provincial: u64,
    pub city: u64,
    pub county: u64,
    pub other: u64,
}

/// Where a row's counts of people come from (计数来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountSource {
    /// 签到表: distinct persons of sign-in sheets.
    SignIn,
    /// 申报: numbers of a declared-counts sheet, for an activity without sign-in sheets.
    Declared,
    /// 签到表+申报 (a department row over activities of both kinds).
    Mixed,
    /// 无: neither.
    None,
}

impl CountSource {
    pub fn label(self) -> &'static str {
        match self {
            CountSource::SignIn => "签到表",
            CountSource::Declared => "申报",
            CountSource::Mixed => "签到表+申报",
            CountSource::None => "无",
        }
    }
}

/// One row of 活动明细 (activity and department) or 部门明细 (department; `activity` empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    /// The activity's name, [`UNASSIGNED`], or empty in a department row.
    pub activity: String,
    pub department: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub files: FileCounts,
    pub teachers: u64,
    /// Students of the own institution.
    pub students: u64,
    /// Students of other schools (counted in `participants`, not in the table's 学生数).
    pub external_students: u64,
    /// Distinct enterprise units (企业数（家）).
    pub enterprises: u64,
    /// Enterprise staff, as persons.
    pub enterprise_people: u64,
    pub visitors: u64,
    /// Persons whose role nothing tells (no role column, no role word in the sheet's names).
    pub unknown: u64,
    /// Distinct persons of every role (external students and unknown roles included).
    pub participants: u64,
    /// Distinct reports in the report window.
    pub media: MediaCounts,
    pub source: CountSource,
}

/// The result of [`tally`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The year of the report window's start: the title's `2025 年`.
    pub year: i32,
    pub table: ProvincialRow,
    pub activities: Vec<BreakdownRow>,
    pub departments: Vec<BreakdownRow>,
    /// Sorted, each once; they name sheets, rows and reports, never persons.
    pub warnings: Vec<String>,
}

/// Counts the facts into the provincial table and its breakdowns. Never fails: what cannot be
/// counted is left out with a warning.
pub fn tally(input: &TallyInput) -> Tally {
    let none = &mut |_: &mut dyn FnMut(&PersonFact)| Ok(());
    match tally_streamed::<std::convert::Infallible>(input, none) {
        Ok(t) => t,
        Err(never) => match never {},
    }
}

/// [`tally`] of `input` with more sign-in rows, streamed: `input.people` and then the rows
/// `people` hands over, which it is asked for once per pass (two or three passes; see
/// `signin.rs`) and never held. Fails only when `people` does.
pub fn tally_streamed<E>(input: &TallyInput, people: &mut PeopleStream<'_, E>) -> Result<Tally, E> {
    let mut people = |f: &mut dyn FnMut(&PersonFact)| -> Result<(), E> {
        input.people.iter().for_each(&mut *f);
        people(f)
    };
    let mut warnings = BTreeSet::new();
    let mut signin = SignIn::new(input);
    let survey = signin.survey(&mut people, &mut warnings)?;
    let names = Names::build(input, &survey.names, &mut warnings);
    let ids = signin.ids_of_nameless(survey, &mut people)?;

    let mut groups = Groups::default();
    let mut with_files: BTreeSet<usize> = BTreeSet::new();
    for f in &input.files {
        let acts = names.acts(&f.activities);
        with_files.extend(acts.iter().flatten());
        groups.each(&acts, &match_key(&f.department), |g| g.add_file(f.kind));
    }
    let with_signin = signin.count(&names, &ids, &mut groups, &mut people)?;
    drop(ids);
    let reports = media::media_reports(&input.media, input.report_window, &mut warnings);
    for (m, key) in input.media.iter().zip(media::report_keys(&input.media)) {
        let Some(key) = key else { continue };
        groups.each(&names.acts(&m.activities), &match_key(&m.department), |g| {
            g.reports.insert(key.clone());
        });
    }
    declared::count_declared(
        &input.declared,
        &names,
        &with_signin,
        &mut groups,
        &mut warnings,
    );

    let table = columns::provincial_row(
        &input.institution,
        input.enrolled_students,
        &names,
        &groups.table,
        &with_files,
        &reports,
        &mut warnings,
    );
    Ok(Tally {
        year: input.report_window.0.year(),
        table,
        activities: columns::activity_rows(&names, &groups, &with_signin, &reports),
        departments: columns::department_rows(&names, &groups, &reports),
        warnings: warnings.into_iter().collect(),
    })
}

/// `19 行`, `（第 3、4、5 行…）`: how a grouped warning names its rows (the first five).
pub fn rows_text(rows: &[u32]) -> String {
    rows_text_more(rows, 0)
}

/// [`rows_text`] of `rows` and `more` rows after them.
fn rows_text_more(rows: &[u32], more: u64) -> String {
    let mut rows = rows.to_vec();
    rows.sort_unstable();
    rows.dedup();
    let shown: Vec<String> = rows.iter().take(5).map(u32::to_string).collect();
    let ellipsis = if rows.len() > 5 || more > 0 {
        "…"
    } else {
        ""
    };
    format!(
        "{} 行（第 {} 行{ellipsis}）",
        rows.len() as u64 + more,
        shown.join("、")
    )
}

/// The sheet rows that could not be fully used, one line per sheet and reason: the count and
/// the first rows (`签到.xlsx 表“上午”：19 行签到时间不是日期…（第 3、4、5、6、7 行…；如「上午」）`).
/// Reasons that differ only in the cell they quote (`「上午」`, `「待定」`) are one reason. A
/// reason of one row, or of a whole sheet, is shown as it is.
pub fn group_row_problems(problems: &[(RowAt, String)]) -> Vec<String> {
    // (sheet text, reason without its quoted cells) → (rows, rows beyond those listed, first
    // quoted cell, first reason). A stored problem of consecutive rows (`（第 2–20 行，共 19
    // 行）`) stands for each of its rows.
    type Rows<'a> = (Vec<u32>, u64, Option<String>, &'a RowAt, &'a str);
    let mut groups: BTreeMap<(String, String), Rows<'_>> = BTreeMap::new();
    let mut whole = Vec::new();
    for (at, reason) in problems {
        if at.row == 0 {
            whole.push(format!("{at}：{reason}"));
            continue;
        }
        let (one, first, last) =
            crate::sheet::problem_range(reason).unwrap_or((reason.as_str(), at.row, at.row));
        let (generic, quoted) = unquote(one);
        let g = groups
            .entry((at.sheet_text(), generic))
            .or_insert_with(|| (Vec::new(), 0, quoted, at, one));
        // Only the first rows are shown: the rest of a long run is counted.
        let listed = last.min(first.saturating_add(9));
        g.0.extend(first..=listed);
        g.1 += u64::from(last - listed);
    }
    let mut out = whole;
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| (&a.0.0, a.1.3.row).cmp(&(&b.0.0, b.1.3.row)));
    for ((sheet, generic), (rows, more, quoted, first, reason)) in groups {
        if rows.len() == 1 && more == 0 {
            out.push(format!("{first}：{reason}"));
            continue;
        }
        let example = quoted.map(|q| format!("；如「{q}」")).unwrap_or_default();
        let text = rows_text_more(&rows, more);
        let (count, list) = text.split_once('（').unwrap_or((&text, ""));
        let list = list.trim_end_matches('）');
        out.push(format!(
            "{sheet}：{count}{}（{list}{example}）",
            generic.replace("本行", "这些行")
        ));
    }
    out
}

/// A reason without the cells it quotes in 「」, and the first quoted cell.
fn unquote(reason: &str) -> (String, Option<String>) {
    let mut generic = String::new();
    let mut first = None;
    let mut rest = reason;
    while let Some((before, after)) = rest.split_once('「') {
        generic.push_str(before);
        match after.split_once('」') {
            Some((quoted, tail)) => {
                first.get_or_insert_with(|| quoted.to_string());
                rest = tail;
            }
            None => {
                generic.push('「');
                rest = after;
            }
        }
    }
    generic.push_str(rest);
    (generic, first)
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| match_key(s).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_rounds_half_up_in_integers() {
        assert_eq!(Coverage::percent(525, 4000).as_deref(), Some("13.13%"));
        assert_eq!(Coverage::percent(1, 3).as_deref(), Some("33.33%"));
        assert_eq!(Coverage::percent(2, 3).as_deref(), Some("66.67%"));
        assert_eq!(Coverage::percent(1, 8).as_deref(), Some("12.50%"));
        assert_eq!(Coverage::percent(1, 200_000).as_deref(), Some("0.00%"));
        assert_eq!(Coverage::percent(5, 100_000).as_deref(), Some("0.01%"));
        assert_eq!(Coverage::percent(4000, 4000).as_deref(), Some("100.00%"));
        assert_eq!(
            Coverage::percent(u64::MAX, 1).as_deref(),
            Some("1844674407370955161500.00%")
        );
        assert_eq!(Coverage::percent(3, 0), None);
        assert_eq!(Coverage::Unknown.text(), "—");
        assert_eq!(
            Coverage::Estimated {
                students: 1,
                enrolled: 8
            }
            .text(),
            "12.50%（估算）"
        );
    }

    #[test]
    fn row_problems_are_grouped_per_sheet_and_reason() {
        let at = |row| RowAt {
            path: "教务科研处/签到表.xlsx".into(),
            sheet: "上午".into(),
            row,
        };
        let mut problems: Vec<(RowAt, String)> = (3..22)
            .map(|r| {
                (
                    at(r),
                    format!("签到时间「待定{r}」不是日期，已忽略该日期（本行仍计入）"),
                )
            })
            .collect();
        problems.push((at(30), "缺少姓名，已跳过".into()));
        problems.push((at(0), "表格过大".into()));
        assert_eq!(
            group_row_problems(&problems),
            [
                "教务科研处/签到表.xlsx 表“上午”：表格过大",
                "教务科研处/签到表.xlsx 表“上午”：19 行签到时间不是日期，已忽略该日期（这些行仍计入）（第 3、4、5、6、7 行…；如「待定3」）",
                "教务科研处/签到表.xlsx 表“上午”第 30 行：缺少姓名，已跳过",
            ]
        );
    }

    #[test]
    fn a_row_location_names_its_sheet() {
        let at = RowAt {
            path: "教务科研处/签到.xlsx".into(),
            sheet: "Sheet1".into(),
            row: 7,
        };
        assert_eq!(at.to_string(), "教务科研处/签到.xlsx 表“Sheet1”第 7 行");
        assert_eq!(at.sheet_text(), "教务科研处/签到.xlsx 表“Sheet1”");
    }
}
