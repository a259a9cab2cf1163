//! The columns, one function each, to be held against DESIGN.md's table (*The provincial
//! table*): the columns of 附件5 in the seed's order, then the breakdowns' own columns and rows.
//! Each takes the finished [`Group`] of its row; declared numbers (申报) are added where the
//! design says so.

use std::collections::{BTreeMap, BTreeSet};

use super::groups::{Group, Groups};
use super::media::{MediaLevel, MediaReport, MediaReportKey};
use super::names::{Act, Names};
use super::{BreakdownRow, CountSource, Coverage, MediaCounts, ProvincialRow, Role, UNASSIGNED};
use crate::text::{clean_cell, match_key};

/// 参与活动的职业学校（含技工院校）数: 1 for the institution itself when anyone took part, plus
/// the distinct external vocational units of non-enterprise participants.
pub(super) fn schools(g: &Group) -> u64 {
    u64::from(participants(g) > 0) + g.schools.len() as u64
}

/// 参与活动的教师数: distinct teachers, own and external, plus declared 教师数.
pub(super) fn teachers(g: &Group) -> u64 {
    g.role_count(Role::Teacher)
        .saturating_add(g.declared().teachers)
}

/// 参与活动的学生数: distinct students of the own institution, plus declared 学生数.
pub(super) fn students(g: &Group) -> u64 {
    g.own_students().saturating_add(g.declared().students)
}

/// 参与活动的学生覆盖率: 学生数 over the configured enrolment, in integers.
pub(super) fn coverage(students: u64, enrolled: u64, warnings: &mut BTreeSet<String>) -> Coverage {
    if enrolled == 0 {
        warnings.insert("未配置在校生总数，覆盖率无法计算".to_string());
        return Coverage::Unknown;
    }
    if students > enrolled {
        warnings.insert(format!(
            "参与活动的学生数 {students} 超过在校生总数 {enrolled}，请核对配置"
        ));
    }
    Coverage::Exact { students, enrolled }
}

/// 参与活动的企业数: distinct enterprise units of enterprise participants, plus declared 企业数.
pub(super) fn enterprises(g: &Group) -> u64 {
    (g.enterprise_units.len() as u64).saturating_add(g.declared().enterprises)
}

/// 参与总人数: distinct persons of every role (external students, visitors and unknown roles
/// included), plus declared 参与人数.
pub(super) fn participants(g: &Group) -> u64 {
    g.signed_in().saturating_add(g.declared().participants)
}

/// 观摩体验活动项目数: activities marked `experience` with at least one counted file.
pub(super) fn experience_projects(acts: &[Act], with_files: &BTreeSet<usize>) -> u64 {
    acts.iter()
        .enumerate()
        .filter(|(i, a)| a.experience && with_files.contains(i))
        .count() as u64
}

/// 省级及以上 / 市（州）级 / 县（区）级媒体报道数 (and the breakdowns' 其他): distinct reports
/// dated in the report window, undated ones included.
pub(super) fn media(g: &Group, reports: &BTreeMap<MediaReportKey, MediaReport>) -> MediaCounts {
    let mut m = MediaCounts::default();
    for r in g.reports.iter().filter_map(|key| reports.get(key)) {
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

/// The row of 附件5.
pub(super) fn provincial_row(
    institution: &str,
    enrolled: u64,
    names: &Names,
    table: &Group,
    with_files: &BTreeSet<usize>,
    reports: &BTreeMap<MediaReportKey, MediaReport>,
    warnings: &mut BTreeSet<String>,
) -> ProvincialRow {
    let students = students(table);
    let media = media(table, reports);
    ProvincialRow {
        institution: clean_cell(institution),
        schools: schools(table),
        teachers: teachers(table),
        students,
        coverage: coverage(students, enrolled, warnings),
        enterprises: enterprises(table),
        participants: participants(table),
        experience_projects: experience_projects(&names.acts, with_files),
        media_provincial: media.provincial,
        media_city: media.city,
        media_county: media.county,
    }
}

/// 校外学生: distinct students of other schools (in 参与总人数, not in the table's 学生数).
pub(super) fn external_students(g: &Group) -> u64 {
    g.role_count(Role::Student).saturating_sub(g.own_students())
}

/// 企业人员: enterprise staff, as persons.
pub(super) fn enterprise_people(g: &Group) -> u64 {
    g.role_count(Role::Enterprise)
}

/// 访客.
pub(super) fn visitors(g: &Group) -> u64 {
    g.role_count(Role::Visitor)
}

/// 身份不明: persons whose role nothing tells, and who are not also seen with a known role.
pub(super) fn unknown(g: &Group) -> u64 {
    g.signed_in().saturating_sub(g.known())
}

/// One breakdown row.
fn breakdown(
    g: &Group,
    reports: &BTreeMap<MediaReportKey, MediaReport>,
    activity: String,
    department: String,
    act: Option<&Act>,
    source: CountSource,
) -> BreakdownRow {
    BreakdownRow {
        activity,
        department,
        start: act.and_then(|a| a.start),
        end: act.and_then(|a| a.end),
        files: g.files,
        teachers: teachers(g),
        students: students(g),
        external_students: external_students(g),
        enterprises: enterprises(g),
        enterprise_people: enterprise_people(g),
        visitors: visitors(g),
        unknown: unknown(g),
        participants: participants(g),
        media: media(g, reports),
        source,
    }
}

/// 活动明细: per activity (the catalog's, then those only facts name), a row for each of its
/// departments and each other department with facts of it (an activity without either gets one
/// empty row); then the 未归类 rows of departments with facts of no activity.
pub(super) fn activity_rows(
    names: &Names,
    groups: &Groups,
    with_signin: &BTreeSet<Option<usize>>,
    reports: &BTreeMap<MediaReportKey, MediaReport>,
) -> Vec<BreakdownRow> {
    let empty = Group::default();
    let mut out = Vec::new();
    for (i, info) in names.acts.iter().enumerate() {
        let act = Some(i);
        let mut keys: Vec<String> = Vec::new();
        for d in &info.departments {
            let k = match_key(d);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for (k, _) in &names.depts {
            if groups.rows.contains_key(&(act, k.clone())) && !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        if keys.is_empty() {
            keys.push(String::new());
        }
        for k in keys {
            let g = groups.rows.get(&(act, k.clone())).unwrap_or(&empty);
            let source = if with_signin.contains(&act) {
                CountSource::SignIn
            } else if g.declared.is_some() {
                CountSource::Declared
            } else {
                CountSource::None
            };
            let dept = names.department(&k);
            out.push(breakdown(
                g,
                reports,
                info.name.clone(),
                dept,
                Some(info),
                source,
            ));
        }
    }
    for (k, _) in &names.depts {
        if let Some(g) = groups.rows.get(&(None, k.clone()))
            && !g.is_empty()
        {
            let source = if g.signin {
                CountSource::SignIn
            } else {
                CountSource::None
            };
            let dept = names.department(k);
            out.push(breakdown(
                g,
                reports,
                UNASSIGNED.to_string(),
                dept,
                None,
                source,
            ));
        }
    }
    out
}

/// 部门明细: one row per department, in report order.
pub(super) fn department_rows(
    names: &Names,
    groups: &Groups,
    reports: &BTreeMap<MediaReportKey, MediaReport>,
) -> Vec<BreakdownRow> {
    let empty = Group::default();
    names
        .depts
        .iter()
        .map(|(k, shown)| {
            let g = groups.depts.get(k).unwrap_or(&empty);
            let source = match (g.signin, g.declared.is_some()) {
                (true, true) => CountSource::Mixed,
                (true, false) => CountSource::SignIn,
                (false, true) => CountSource::Declared,
                (false, false) => CountSource::None,
            };
            breakdown(g, reports, String::new(), shown.clone(), None, source)
        })
        .collect()
}
