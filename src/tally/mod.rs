//! The counting behind the provincial table (附件5 情况统计表) and its breakdowns, on plain facts
//! the catalog hands over (DESIGN.md, *Spreadsheets* and *The provincial table*).
//!
//! Every count of people is of distinct persons, never a sum of rows: the same facts shuffled,
//! split over more sheets or submitted twice give the same numbers. This module never reads a
//! file, never panics on odd input (it warns instead), and never lets a name, ID or phone
//! number out of it: the [`Tally`] holds counts and warnings that name sheets and rows only.
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

pub mod media;
pub mod people;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use crate::model::{Kind, RowAt};
use crate::text::{clean_cell, match_key};

pub use media::{MediaLevel, ReportKey, classify_level, normalize_url};
pub use people::{Identity, Role, classify_role, is_own_unit, is_vocational_unit, normalize_id};

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Declared {
    teachers: u64,
    students: u64,
    enterprises: u64,
    participants: u64,
}

impl Declared {
    fn add(&mut self, o: &Declared) {
        self.teachers = self.teachers.saturating_add(o.teachers);
        self.students = self.students.saturating_add(o.students);
        self.enterprises = self.enterprises.saturating_add(o.enterprises);
        self.participants = self.participants.saturating_add(o.participants);
    }
}

/// Everything counted for one row (or the whole table).
/// A distinct [`Identity`] of the tally, numbered in the order first seen.
type PersonKey = u32;

#[derive(Debug, Default)]
struct Group {
    files: FileCounts,
    // Hash sets: only sizes and membership are asked of them, for 100 000s of rows. Persons
    // are [`PersonKey`]s, each identity's text kept once for the whole tally.
    known: HashSet<(Role, PersonKey)>,
    unknown: HashSet<PersonKey>,
    own_students: HashSet<PersonKey>,
    enterprise_units: HashSet<String>,
    schools: HashSet<String>,
    reports: BTreeSet<ReportKey>,
    signin: bool,
    declared: Option<Declared>,
}

impl Group {
    fn is_empty(&self) -> bool {
        self.files == FileCounts::default()
            && self.known.is_empty()
            && self.unknown.is_empty()
            && self.reports.is_empty()
            && self.declared.is_none()
    }

    fn role_count(&self, role: Role) -> u64 {
        self.known.iter().filter(|(r, _)| *r == role).count() as u64
    }

    fn participants(&self) -> u64 {
        let known_ids: HashSet<&PersonKey> = self.known.iter().map(|(_, i)| i).collect();
        let unknown = self
            .unknown
            .iter()
            .filter(|i| !known_ids.contains(i))
            .count();
        self.known.len() as u64 + unknown as u64
    }

    fn add_declared(&mut self, d: &Declared) {
        self.declared.get_or_insert_with(Declared::default).add(d);
    }

    fn declared(&self) -> Declared {
        self.declared.unwrap_or_default()
    }

    fn media(&self, reports: &BTreeMap<ReportKey, Report>) -> MediaCounts {
        let mut m = MediaCounts::default();
        for key in &self.reports {
            let Some(r) = reports.get(key) else { continue };
            if !r.counted {
                continue;
            }
            match r.level {
                MediaLevel::Provincial => m.provincial += 1,
                MediaLevel::City => m.city += 1,
                MediaLevel::County => m.county += 1,
                MediaLevel::Other => m.other += 1,
            }
        }
        m
    }
}

/// One distinct media report, over all the rows that name it.
#[derive(Debug)]
struct Report {
    level: MediaLevel,
    levels: BTreeSet<MediaLevel>,
    dates: BTreeSet<NaiveDate>,
    shown: BTreeSet<(String, String)>,
    counted: bool,
}

/// An activity as rows are keyed: the catalog's, or a name found only in the facts.
#[derive(Debug)]
struct Act {
    name: String,
    departments: Vec<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    experience: bool,
}

/// Names the facts use, resolved to activity indices and department keys.
struct Names {
    acts: Vec<Act>,
    act_index: BTreeMap<String, usize>,
    /// Department key → display name, in report order.
    depts: Vec<(String, String)>,
}

impl Names {
    fn build(input: &TallyInput, warnings: &mut BTreeSet<String>) -> Names {
        let mut acts = Vec::new();
        let mut act_index = BTreeMap::new();
        for a in &input.activities {
            let key = match_key(&a.name);
            if key.is_empty() || act_index.contains_key(&key) {
                warnings.insert(format!(
                    "活动目录中活动“{}”名称为空或重复，已忽略",
                    clean_cell(&a.name)
                ));
                continue;
            }
            act_index.insert(key, acts.len());
            acts.push(Act {
                name: clean_cell(&a.name),
                departments: a.departments.iter().map(|d| clean_cell(d)).collect(),
                start: Some(a.start),
                end: Some(a.end),
                experience: a.experience,
            });
        }
        // Activities named by facts but missing from the catalog, in a fixed order.
        let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let named = input
            .files
            .iter()
            .flat_map(|f| f.activities.iter().map(String::as_str))
            .chain(
                input
                    .people
                    .iter()
                    .flat_map(|p| p.activities.iter().map(String::as_str)),
            )
            .chain(
                input
                    .media
                    .iter()
                    .flat_map(|m| m.activities.iter().map(String::as_str)),
            )
            .chain(input.declared.iter().map(|d| d.activity.as_str()));
        for name in named {
            let key = match_key(name);
            if !key.is_empty() && !act_index.contains_key(&key) {
                extra.entry(key).or_default().insert(clean_cell(name));
            }
        }
        for (key, shown) in extra {
            let name = shown.into_iter().next().unwrap_or_default();
            warnings.insert(format!("活动“{name}”不在活动目录中，单独列出"));
            act_index.insert(key, acts.len());
            acts.push(Act {
                name,
                departments: Vec::new(),
                start: None,
                end: None,
                experience: false,
            });
        }

        let mut depts: Vec<(String, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let listed = input
            .own_units
            .iter()
            .chain(input.activities.iter().flat_map(|a| a.departments.iter()));
        for d in listed {
            let key = match_key(d);
            if !key.is_empty() && seen.insert(key.clone()) {
                depts.push((key, clean_cell(d)));
            }
        }
        let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let named = input
            .files
            .iter()
            .map(|f| f.department.as_str())
            .chain(input.people.iter().map(|p| p.department.as_str()))
            .chain(input.media.iter().map(|m| m.department.as_str()))
            .chain(
                input
                    .declared
                    .iter()
                    .filter_map(|d| d.department.as_deref()),
            );
        for d in named {
            let key = match_key(d);
            if !seen.contains(&key) {
                extra.entry(key).or_default().insert(clean_cell(d));
            }
        }
        for (key, shown) in extra {
            let name = shown.into_iter().next().unwrap_or_default();
            let name = if name.is_empty() {
                NO_DEPARTMENT.to_string()
            } else {
                name
            };
            seen.insert(key.clone());
            depts.push((key, name));
        }
        Names {
            acts,
            act_index,
            depts,
        }
    }

    fn act(&self, name: Option<&str>) -> Option<usize> {
        let key = match_key(name?);
        self.act_index.get(&key).copied()
    }

    /// The breakdown rows a fact with these activities counts in: one per activity, or the
    /// 未归类 row.
    fn acts(&self, names: &[String]) -> Vec<Option<usize>> {
        let mut out: Vec<Option<usize>> = names.iter().map(|n| self.act(Some(n))).collect();
        out.dedup();
        if out.is_empty() {
            out.push(None);
        }
        out
    }
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

/// Runs `f` on every group a fact counts in: the table once, each of its activity rows, and its
/// department's row once (a fact of two activities is in both activity rows but counted once in
/// the table and the department).
fn each_group(
    table: &mut Group,
    rows: &mut BTreeMap<(Option<usize>, String), Group>,
    dept_rows: &mut BTreeMap<String, Group>,
    acts: &[Option<usize>],
    dept: &str,
    mut f: impl FnMut(&mut Group),
) {
    f(table);
    for a in acts {
        f(rows.entry((*a, dept.to_string())).or_default());
    }
    f(dept_rows.entry(dept.to_string()).or_default());
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| match_key(s).is_empty())
}

/// Counts the facts into the provincial table and its breakdowns. Never fails: what cannot be
/// counted is left out with a warning.
pub fn tally(input: &TallyInput) -> Tally {
    let mut warnings = BTreeSet::new();
    let names = Names::build(input, &mut warnings);

    let mut table = Group::default();
    let mut rows: BTreeMap<(Option<usize>, String), Group> = BTreeMap::new();
    let mut dept_rows: BTreeMap<String, Group> = BTreeMap::new();
    let mut with_files: BTreeSet<usize> = BTreeSet::new();
    let mut with_signin: BTreeSet<Option<usize>> = BTreeSet::new();

    // Files.
    for f in &input.files {
        let acts = names.acts(&f.activities);
        let dept = match_key(&f.department);
        with_files.extend(acts.iter().flatten());
        each_group(&mut table, &mut rows, &mut dept_rows, &acts, &dept, |g| {
            let c = &mut g.files;
            match f.kind {
                Kind::Photo => c.photo += 1,
                Kind::Video => c.video += 1,
                Kind::Sheet => c.sheet += 1,
                Kind::Document => c.document += 1,
                Kind::Other => c.other += 1,
            }
        });
    }

    // People: who each row is, first over all rows (an ID-less row may be the one person with
    // an ID of the same role, name and unit), then counted.
    let aliases = people::alias_keys(&input.unit_aliases);
    let mut unknown_sheets = BTreeSet::new();
    let mut nameless_enterprise = BTreeSet::new();
    let mut lost_ids: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut no_identity: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    // A sheet repeats the same few role words, hints and units on every row: each is
    // classified once.
    let mut roles: HashMap<(Option<&str>, Option<&str>), Role> = HashMap::new();
    let mut owns: HashMap<Option<&str>, bool> = HashMap::new();
    let mut units: HashMap<(Option<&str>, bool), String> = HashMap::new();
    let mut judged: Vec<Option<(Role, Identity, String, bool)>> =
        Vec::with_capacity(input.people.len());
    for p in &input.people {
        let role = *roles
            .entry((p.role.as_deref(), p.role_hint.as_deref()))
            .or_insert_with(|| classify_role(p.role.as_deref(), p.role_hint.as_deref()));
        let enterprise = role == Role::Enterprise;
        let unit_key = units
            .entry((p.unit.as_deref(), enterprise))
            .or_insert_with(|| {
                people::unit_key(p.unit.as_deref(), &aliases, enterprise).unwrap_or_default()
            })
            .clone();
        if p.id.as_deref().is_some_and(people::id_digits_lost) {
            lost_ids
                .entry(p.at.sheet_text())
                .or_default()
                .push(p.at.row);
        }
        let Some(ident) = people::identity(&p.name, p.id.as_deref(), &unit_key) else {
            no_identity
                .entry(p.at.sheet_text())
                .or_default()
                .push(p.at.row);
            judged.push(None);
            continue;
        };
        let own = *owns.entry(p.unit.as_deref()).or_insert_with(|| {
            is_own_unit(p.unit.as_deref(), &input.institution, &input.own_units)
                || people::is_alias(p.unit.as_deref(), &aliases)
        });
        judged.push(Some((role, ident, unit_key, own)));
    }
    // (role, name, unit) → the IDs seen with it; only for the (role, name, unit) of rows
    // without an ID, so that a sheet where every row has an ID keeps no second copy.
    let mut with_ids: HashMap<(Role, String, String), BTreeSet<String>> = HashMap::new();
    for j in judged.iter().flatten() {
        if let (role, Identity::NameUnit(name, unit), _, _) = j {
            with_ids.insert((*role, name.clone(), unit.clone()), BTreeSet::new());
        }
    }
    if !with_ids.is_empty() {
        for (p, j) in input.people.iter().zip(&judged) {
            if let Some((role, Identity::Id(id), unit, _)) = j
                && let Some(ids) = with_ids.get_mut(&(*role, match_key(&p.name), unit.clone()))
            {
                ids.insert(id.clone());
            }
        }
    }
    let mut keys: HashMap<Identity, PersonKey> = HashMap::new();
    for (sheet, rows) in lost_ids {
        warnings.insert(format!(
            "{sheet}：{}的编号是 Excel 的科学计数法（如 5.11502E+17），位数已丢失，按姓名和单位计（请把编号列设为文本后重新导出）",
            rows_text(&rows)
        ));
    }
    for (sheet, rows) in no_identity {
        warnings.insert(format!(
            "{sheet}：{}既无姓名也无编号，未计数",
            rows_text(&rows)
        ));
    }
    for (p, j) in input.people.iter().zip(judged) {
        let Some((role, mut ident, unit_key, own)) = j else {
            continue;
        };
        if let Identity::NameUnit(name, unit) = &ident
            && let Some(ids) = with_ids.get(&(role, name.clone(), unit.clone()))
            && ids.len() == 1
            && let Some(id) = ids.first()
        {
            ident = Identity::Id(id.clone());
        }
        if role == Role::Unknown {
            unknown_sheets.insert(p.at.sheet_text());
        }
        if role == Role::Enterprise && unit_key.is_empty() {
            nameless_enterprise.insert(p.at.sheet_text());
        }
        let school = role != Role::Enterprise
            && !own
            && !unit_key.is_empty()
            && is_vocational_unit(&unit_key);
        let acts = names.acts(&p.activities);
        with_signin.extend(acts.iter().copied());
        let dept = match_key(&p.department);
        let next = keys.len() as PersonKey;
        let person = *keys.entry(ident).or_insert(next);
        each_group(&mut table, &mut rows, &mut dept_rows, &acts, &dept, |g| {
            g.signin = true;
            if role == Role::Unknown {
                g.unknown.insert(person);
            } else {
                g.known.insert((role, person));
            }
            if role == Role::Student && own {
                g.own_students.insert(person);
            }
            if role == Role::Enterprise && !unit_key.is_empty() {
                g.enterprise_units.insert(unit_key.clone());
            }
            if school {
                g.schools.insert(unit_key.clone());
            }
        });
    }
    for sheet in unknown_sheets {
        warnings.insert(format!(
            "{sheet}：没有身份列，表名和文件名也看不出是学生、教师还是企业人员，这些人只计入参与总人数"
        ));
    }
    for sheet in nameless_enterprise {
        warnings.insert(format!("{sheet}：有企业人员未填单位，未计入企业数"));
    }

    // Media.
    let reports = resolve_reports(input, &mut warnings);
    for (m, key) in input.media.iter().zip(report_keys(&input.media)) {
        let Some(key) = key else { continue };
        let acts = names.acts(&m.activities);
        let dept = match_key(&m.department);
        each_group(&mut table, &mut rows, &mut dept_rows, &acts, &dept, |g| {
            g.reports.insert(key.clone());
        });
    }

    // Declared counts, for activities without sign-in rows.
    let mut declared: BTreeMap<(usize, String), BTreeSet<Declared>> = BTreeMap::new();
    for d in &input.declared {
        let Some(act) = names.act(Some(&d.activity)) else {
            warnings.insert("申报统计中有一行没有活动名称，未计数".to_string());
            continue;
        };
        let dept = match d.department.as_deref() {
            Some(dep) if !blank(Some(dep)) => match_key(dep),
            _ => names.acts[act]
                .departments
                .first()
                .map(|d| match_key(d))
                .unwrap_or_default(),
        };
        let teachers = d.teachers.unwrap_or(0);
        let students = d.students.unwrap_or(0);
        let numbers = Declared {
            teachers,
            students,
            enterprises: d.enterprises.unwrap_or(0),
            participants: d
                .participants
                .unwrap_or_else(|| teachers.saturating_add(students)),
        };
        declared.entry((act, dept)).or_default().insert(numbers);
    }
    let mut ignored: BTreeMap<usize, u64> = BTreeMap::new();
    for ((act, dept), set) in declared {
        let name = &names.acts[act].name;
        if set.len() > 1 {
            warnings.insert(format!("活动“{name}”有几行不同的申报数，各列取最大值"));
        }
        let numbers = set.iter().fold(Declared::default(), |a, b| Declared {
            teachers: a.teachers.max(b.teachers),
            students: a.students.max(b.students),
            enterprises: a.enterprises.max(b.enterprises),
            participants: a.participants.max(b.participants),
        });
        if with_signin.contains(&Some(act)) {
            let n = ignored.entry(act).or_default();
            *n = n.saturating_add(numbers.participants);
            continue;
        }
        for g in [
            &mut table,
            rows.entry((Some(act), dept.clone())).or_default(),
            dept_rows.entry(dept).or_default(),
        ] {
            g.add_declared(&numbers);
        }
    }
    for (act, declared_participants) in ignored {
        let signed = activity_participants(&rows, act);
        if signed != declared_participants {
            warnings.insert(format!(
                "活动“{}”申报参与人数 {declared_participants}，签到表为 {signed} 人：按签到表计",
                names.acts[act].name
            ));
        }
    }

    // The table.
    let d = table.declared();
    let students = (table.own_students.len() as u64).saturating_add(d.students);
    let participants = table.participants().saturating_add(d.participants);
    let media = table.media(&reports);
    let coverage = if input.enrolled_students > 0 {
        if students > input.enrolled_students {
            warnings.insert(format!(
                "参与活动的学生数 {students} 超过在校生总数 {}，请核对配置",
                input.enrolled_students
            ));
        }
        Coverage::Exact {
            students,
            enrolled: input.enrolled_students,
        }
    } else {
        warnings.insert("未配置在校生总数，覆盖率无法计算".to_string());
        Coverage::Unknown
    };
    let row = ProvincialRow {
        institution: clean_cell(&input.institution),
        schools: u64::from(participants > 0) + table.schools.len() as u64,
        teachers: table.role_count(Role::Teacher).saturating_add(d.teachers),
        students,
        coverage,
        enterprises: (table.enterprise_units.len() as u64).saturating_add(d.enterprises),
        participants,
        experience_projects: names
            .acts
            .iter()
            .enumerate()
            .filter(|(i, a)| a.experience && with_files.contains(i))
            .count() as u64,
        media_provincial: media.provincial,
        media_city: media.city,
        media_county: media.county,
    };

    // The breakdowns.
    let empty = Group::default();
    let dept_name = |key: &str| -> String {
        names
            .depts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| NO_DEPARTMENT.to_string())
    };
    let mut activities = Vec::new();
    let acts = names.acts.iter().enumerate().map(|(i, a)| (Some(i), a));
    for (act, info) in acts {
        let mut keys: Vec<String> = Vec::new();
        for d in &info.departments {
            let k = match_key(d);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for (k, _) in &names.depts {
            if rows.contains_key(&(act, k.clone())) && !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        if keys.is_empty() {
            // An activity without a department still gets its (empty) row.
            keys.push(String::new());
        }
        for k in keys {
            let g = rows.get(&(act, k.clone())).unwrap_or(&empty);
            let source = if with_signin.contains(&act) {
                CountSource::SignIn
            } else if g.declared.is_some() {
                CountSource::Declared
            } else {
                CountSource::None
            };
            activities.push(breakdown(
                g,
                &reports,
                info.name.clone(),
                dept_name(&k),
                (info.start, info.end),
                source,
            ));
        }
    }
    for (k, _) in &names.depts {
        if let Some(g) = rows.get(&(None, k.clone()))
            && !g.is_empty()
        {
            let source = if g.signin {
                CountSource::SignIn
            } else {
                CountSource::None
            };
            activities.push(breakdown(
                g,
                &reports,
                UNASSIGNED.to_string(),
                dept_name(k),
                (None, None),
                source,
            ));
        }
    }
    let mut departments = Vec::new();
    for (k, shown) in &names.depts {
        let g = dept_rows.get(k).unwrap_or(&empty);
        let source = match (g.signin, g.declared.is_some()) {
            (true, true) => CountSource::Mixed,
            (true, false) => CountSource::SignIn,
            (false, true) => CountSource::Declared,
            (false, false) => CountSource::None,
        };
        departments.push(breakdown(
            g,
            &reports,
            String::new(),
            shown.clone(),
            (None, None),
            source,
        ));
    }

    Tally {
        year: input.report_window.0.year(),
        table: row,
        activities,
        departments,
        warnings: warnings.into_iter().collect(),
    }
}

/// Distinct persons of one activity's sign-in rows, over all its departments.
fn activity_participants(rows: &BTreeMap<(Option<usize>, String), Group>, act: usize) -> u64 {
    let mut all = Group::default();
    for ((a, _), g) in rows {
        if *a == Some(act) {
            all.known.extend(g.known.iter().cloned());
            all.unknown.extend(g.unknown.iter().cloned());
        }
    }
    all.participants()
}

fn breakdown(
    g: &Group,
    reports: &BTreeMap<ReportKey, Report>,
    activity: String,
    department: String,
    (start, end): (Option<NaiveDate>, Option<NaiveDate>),
    source: CountSource,
) -> BreakdownRow {
    let d = g.declared();
    BreakdownRow {
        activity,
        department,
        start,
        end,
        files: g.files,
        teachers: g.role_count(Role::Teacher).saturating_add(d.teachers),
        students: (g.own_students.len() as u64).saturating_add(d.students),
        external_students: g
            .role_count(Role::Student)
            .saturating_sub(g.own_students.len() as u64),
        enterprises: (g.enterprise_units.len() as u64).saturating_add(d.enterprises),
        enterprise_people: g.role_count(Role::Enterprise),
        visitors: g.role_count(Role::Visitor),
        unknown: g.participants().saturating_sub(g.known.len() as u64),
        participants: g.participants().saturating_add(d.participants),
        media: g.media(reports),
        source,
    }
}

/// The report each media row belongs to (`None`: neither link nor title nor outlet). A row
/// without a link whose title and outlet match a row with a link joins that row's report.
fn report_keys(media: &[MediaFact]) -> Vec<Option<ReportKey>> {
    let mut linked: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let urls: Vec<Option<String>> = media
        .iter()
        .map(|m| m.url.as_deref().and_then(normalize_url))
        .collect();
    for (m, url) in media.iter().zip(&urls) {
        if let (Some(url), Some(to)) = (url, media::title_outlet_key(&m.title, &m.outlet)) {
            linked.entry(to).or_default().insert(url.clone());
        }
    }
    media
        .iter()
        .zip(urls)
        .map(|(m, url)| {
            if let Some(url) = url {
                return Some(ReportKey::Url(url));
            }
            let to = media::title_outlet_key(&m.title, &m.outlet)?;
            match linked.get(&to).and_then(|s| s.first()) {
                Some(url) => Some(ReportKey::Url(url.clone())),
                None => Some(ReportKey::TitleOutlet(to.0, to.1)),
            }
        })
        .collect()
}

fn resolve_reports(
    input: &TallyInput,
    warnings: &mut BTreeSet<String>,
) -> BTreeMap<ReportKey, Report> {
    let mut reports: BTreeMap<ReportKey, Report> = BTreeMap::new();
    for (m, key) in input.media.iter().zip(report_keys(&input.media)) {
        let Some(key) = key else {
            warnings.insert(format!(
                "{}：媒体报道登记中有一行没有标题、媒体和链接，未计数",
                clean_cell(&m.department)
            ));
            continue;
        };
        let level = classify_level(m.level.as_deref());
        let r = reports.entry(key).or_insert_with(|| Report {
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
    let (from, to) = input.report_window;
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
