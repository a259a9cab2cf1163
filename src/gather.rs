//! Gathers what counts from the catalog for the tally: the current, not withdrawn version of
//! every path, with the rows of its sheets. Older versions and withdrawn files stay in the
//! catalog for the record but never count. Reads the catalog only.

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::catalog;
use crate::config::Config;
use crate::model::Kind;
use crate::tally::{ActivityInfo, DeclaredFact, FileFact, MediaFact, PersonFact, TallyInput};

fn day(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
}

const CURRENT: &str = "JOIN versions v ON v.id = p.version_id
     JOIN files f ON f.current_version = v.id AND f.withdrawn_run IS NULL";

pub fn tally_input(conn: &Connection, cfg: &Config) -> rusqlite::Result<TallyInput> {
    let versions = catalog::list_versions(conn, false)?;
    let files: Vec<FileFact> = versions
        .iter()
        .filter(|v| !v.withdrawn)
        .map(|v| FileFact {
            department: v.department.clone(),
            activity: v.activity.clone(),
            kind: Kind::parse(&v.kind).unwrap_or(Kind::Other),
            date: day(v.date.clone()),
        })
        .collect();
    let mut own_units = cfg.departments();
    own_units.extend(versions.iter().map(|v| v.department.clone()));
    own_units.sort();
    own_units.dedup();

    let mut stmt = conn.prepare(&format!(
        "SELECT COALESCE(p.activity, v.activity), f.department, p.role, p.sheet, f.path, p.name,
                p.person_id, p.unit, p.row,
                (SELECT s.title FROM sheets s WHERE s.version_id = p.version_id AND s.name = p.sheet)
         FROM people p {CURRENT} ORDER BY f.path, p.sheet, p.row"
    ))?;
    let people = stmt
        .query_map([], |r| {
            let sheet: String = r.get(3)?;
            let path: String = r.get(4)?;
            let row: i64 = r.get(8)?;
            let title: Option<String> = r.get(9)?;
            Ok(PersonFact {
                activity: r.get(0)?,
                department: r.get(1)?,
                role: r.get(2)?,
                role_hint: Some(format!("{} {sheet} {path}", title.unwrap_or_default())),
                name: r.get(5)?,
                id: r.get(6)?,
                unit: r.get(7)?,
                source: format!("{path} 表“{sheet}”第 {row} 行"),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let mut stmt = conn.prepare(&format!(
        "SELECT v.activity, f.department, p.title, p.outlet, p.level, p.date, p.url
         FROM media_reports p {CURRENT} ORDER BY f.path, p.sheet, p.row"
    ))?;
    let media = stmt
        .query_map([], |r| {
            Ok(MediaFact {
                activity: r.get(0)?,
                department: r.get(1)?,
                title: r.get(2)?,
                outlet: r.get(3)?,
                level: r.get(4)?,
                date: day(r.get(5)?),
                url: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let mut stmt = conn.prepare(&format!(
        "SELECT COALESCE(p.activity, p.activity_raw), COALESCE(p.department, f.department),
                p.teachers, p.students, p.enterprises, p.participants
         FROM declared p {CURRENT} ORDER BY f.path, p.sheet, p.row"
    ))?;
    let declared = stmt
        .query_map([], |r| {
            let n = |i: usize| -> rusqlite::Result<Option<u64>> {
                Ok(r.get::<_, Option<i64>>(i)?.map(|x| x.max(0) as u64))
            };
            Ok(DeclaredFact {
                activity: r.get(0)?,
                department: r.get(1)?,
                teachers: n(2)?,
                students: n(3)?,
                enterprises: n(4)?,
                participants: n(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(TallyInput {
        institution: cfg.institution.clone(),
        enrolled_students: cfg.enrolled_students,
        own_units,
        activities: cfg
            .activities
            .iter()
            .map(|a| {
                let r = a.range(cfg);
                ActivityInfo {
                    name: a.name.clone(),
                    departments: a.departments.clone(),
                    start: r.start,
                    end: r.end,
                    experience: a.experience,
                }
            })
            .collect(),
        files,
        people,
        media,
        declared,
        report_window: (cfg.report_window.start, cfg.report_window.end),
    })
}
