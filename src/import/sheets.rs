//! From the sheet reader's rows to catalog records: cells as written (a row's 活动名称 is
//! matched to the activities at every run, not here), row problems kept with their sheet and
//! row, the earliest date for the date chain. Spreadsheets are read in a child process (the
//! same binary) under limits.

use std::path::Path;

use crate::catalog::{DeclaredRecord, MediaRecord, PersonRecord, SheetRecord};
use crate::model::{DateCandidate, DateSource, Format};
use crate::sheet::{self, SheetKind, Workbook};

/// The sheet name under which a whole unreadable workbook's reason is kept.
const WHOLE_FILE: &str = "（整个文件）";

#[derive(Default)]
pub struct SheetsRead {
    pub records: Vec<SheetRecord>,
    pub problems: Vec<String>,
    pub earliest: Option<DateCandidate>,
    /// The 活动名称 cells of sign-in and declared rows, distinct, as written (for rule 3).
    pub row_activities: Vec<String>,
    /// The earliest year-less date of the rows, when no row had a full date.
    pub earliest_no_year: Option<crate::model::MonthDay>,
}

/// Caps under which a small xlsx is read in this process: its cells are streamed, no part
/// that calamine holds whole may inflate past a few MB, and its rows, cells, text and time
/// are capped low, so several readers at once stay small. A file that reaches one of these
/// caps is read again in the limited child process, under the full caps.
fn in_process_limits() -> sheet::Limits {
    sheet::Limits {
        max_part_bytes: 16 << 20,
        max_total_bytes: 32 << 20,
        max_text_bytes: 8 << 20,
        max_rows: 50_000,
        max_cells: 500_000,
        max_seconds: 10,
        ..sheet::Limits::default()
    }
}

/// An xlsx up to this size that passes the tight caps is read here: a child process per sheet
/// would cost more than reading it.
const IN_PROCESS_BYTES: u64 = 2 << 20;

pub fn read(path: &Path, format: Format, exe: Option<&Path>) -> SheetsRead {
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= IN_PROCESS_BYTES);
    let here = small
        .then(|| sheet::read_in_process_if_fits(path, format, &in_process_limits()))
        .flatten();
    let workbook = match (here, exe) {
        (Some(wb), _) => wb,
        (None, Some(exe)) => sheet::read_workbook_isolated(path, format, exe),
        (None, None) => sheet::read_workbook(path, format),
    };
    to_records(&workbook)
}

fn kind_name(k: SheetKind) -> &'static str {
    match k {
        SheetKind::SignIn => "sign_in",
        SheetKind::MediaRegister => "media",
        SheetKind::Declared => "declared",
        SheetKind::Unrecognised => "unrecognised",
    }
}

pub fn to_records(wb: &Workbook) -> SheetsRead {
    let mut out = SheetsRead::default();
    let mut named: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    if let Some(e) = &wb.error {
        // Kept with the file's row problems too, so that `status` lists it and the run's exit
        // status says that rows were lost.
        out.problems.push(format!("表格无法读取：{e}"));
        out.records.push(SheetRecord {
            name: WHOLE_FILE.into(),
            kind: "unrecognised".into(),
            problems: vec![(0, format!("表格无法读取：{e}"))],
            ..Default::default()
        });
    }
    for s in &wb.sheets {
        let mut rec = SheetRecord {
            name: s.name.clone(),
            kind: kind_name(s.kind).into(),
            header_row: s.header_row,
            title: s.title.clone(),
            ..Default::default()
        };
        for r in &s.sign_in {
            if let Some(a) = r.activity.as_ref().filter(|a| !a.trim().is_empty()) {
                named.insert(a.clone());
            }
            rec.people.push(PersonRecord {
                row: r.row,
                name: r.name.clone(),
                person_id: r.id.clone(),
                role: r.role.clone(),
                unit: r.unit.clone(),
                time: r
                    .time
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                    .or_else(|| r.time_no_year.map(|md| md.stored())),
                activity_raw: r.activity.clone(),
            });
        }
        for r in &s.media {
            rec.media.push(MediaRecord {
                row: r.row,
                title: r.title.clone(),
                outlet: r.outlet.clone(),
                level: r.level.clone(),
                date: r
                    .date
                    .map(|d| d.to_string())
                    .or_else(|| r.date_no_year.map(|md| md.stored())),
                url: r.url.clone(),
                activity_raw: r.activity.clone(),
            });
        }
        for r in &s.declared {
            if !r.activity.trim().is_empty() {
                named.insert(r.activity.clone());
            }
            rec.declared.push(DeclaredRecord {
                row: r.row,
                activity_raw: r.activity.clone(),
                department: r.department.clone(),
                date: r.date.map(|d| d.to_string()),
                teachers: r.teachers,
                students: r.students,
                enterprises: r.enterprises,
                participants: r.participants,
            });
        }
        for p in wb.problems.iter().filter(|p| p.sheet == s.name) {
            rec.problems.push((p.row, p.reason.clone()));
        }
        out.records.push(rec);
    }
    // Problems of sheets that produced no sheet record (a whole workbook refused, say).
    let orphan: Vec<_> = wb
        .problems
        .iter()
        .filter(|p| !wb.sheets.iter().any(|s| s.name == p.sheet))
        .collect();
    if !orphan.is_empty() {
        let mut rec = SheetRecord {
            name: orphan[0].sheet.clone(),
            kind: "unrecognised".into(),
            ..Default::default()
        };
        for p in orphan {
            rec.problems.push((p.row, p.reason.clone()));
        }
        out.records.push(rec);
    }
    let skipped: u64 = out
        .records
        .iter()
        .filter(|r| r.name != WHOLE_FILE)
        .flat_map(|r| &r.problems)
        .map(|(_, reason)| sheet::problem_rows(reason))
        .sum();
    if skipped > 0 {
        out.problems.push(format!(
            "表格中有 {skipped} 处无法读取（行号与原因见 dangan status）"
        ));
    }
    out.row_activities = named.into_iter().collect();
    out.earliest_no_year = wb.earliest_no_year();
    out.earliest = wb.earliest_date().map(|when| DateCandidate {
        source: DateSource::Sheet,
        when,
        offset: None,
    });
    out
}
