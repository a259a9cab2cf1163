//! From the sheet reader's rows to catalog records: cells as written (a row's 活动名称 is
//! matched to the activities at every run, not here), row problems kept with their sheet and
//! row, the earliest date for the date chain. Spreadsheets are read in a child process (the
//! same binary) under limits.

use std::path::Path;

use crate::catalog::{DeclaredRecord, MediaRecord, PersonRecord, SheetRecord};
use crate::model::{DateCandidate, DateSource, Format};
use crate::sheet::{self, SheetKind};

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
    let mut out = Records::default();
    match (here, exe) {
        (Some(wb), _) => sheet::Event::of(wb).for_each(|e| out.add(e)),
        (None, Some(exe)) => sheet::read_isolated(
            path,
            format,
            exe,
            &sheet::ChildLimits::default(),
            &mut |e| out.add(e),
        ),
        (None, None) => {
            sheet::Event::of(sheet::read_workbook(path, format)).for_each(|e| out.add(e))
        }
    }
    out.finish()
}

fn kind_name(k: SheetKind) -> &'static str {
    match k {
        SheetKind::SignIn => "sign_in",
        SheetKind::MediaRegister => "media",
        SheetKind::Declared => "declared",
        SheetKind::Unrecognised => "unrecognised",
    }
}

/// The records of a workbook built from its events as they come: each row becomes a record at
/// once (sign-in rows packed), so a workbook is never held twice.
#[derive(Default)]
struct Records {
    records: Vec<SheetRecord>,
    /// Per record: a recognised sheet's title date, and whether its rows had a date.
    title_dates: Vec<(Option<chrono::NaiveDate>, bool, bool)>,
    /// Problems of sheets that produced no sheet record (a whole workbook refused, say).
    orphans: Vec<(String, u32, String)>,
    error: Option<String>,
    named: std::collections::BTreeSet<String>,
    earliest: Option<chrono::NaiveDateTime>,
    earliest_no_year: Option<crate::model::MonthDay>,
}

impl Records {
    fn dated(&mut self, when: chrono::NaiveDateTime) {
        self.earliest = Some(self.earliest.map_or(when, |e| e.min(when)));
        if let Some(t) = self.title_dates.last_mut() {
            t.1 = true;
        }
    }

    fn no_year(&mut self, md: crate::model::MonthDay) {
        self.earliest_no_year = Some(self.earliest_no_year.map_or(md, |e| e.min(md)));
    }

    fn add(&mut self, event: sheet::Event) {
        use sheet::Event;
        match event {
            Event::Sheet(s) => {
                self.title_dates
                    .push((s.title_date, false, s.kind != SheetKind::Unrecognised));
                self.records.push(SheetRecord {
                    name: s.name,
                    kind: kind_name(s.kind).into(),
                    header_row: s.header_row,
                    title: s.title,
                    ..Default::default()
                });
            }
            Event::SignIn(r) => {
                if let Some(a) = r.activity.as_ref().filter(|a| !a.trim().is_empty()) {
                    self.named.insert(a.clone());
                }
                if let Some(t) = r.time {
                    self.dated(t);
                }
                if let Some(md) = r.time_no_year {
                    self.no_year(md);
                }
                let record = PersonRecord {
                    row: r.row,
                    name: r.name,
                    person_id: r.id,
                    role: r.role,
                    unit: r.unit,
                    time: r
                        .time
                        .map(|t| crate::clock::iso_seconds(&t))
                        .or_else(|| r.time_no_year.map(|md| md.stored())),
                    activity_raw: r.activity,
                };
                if let Some(rec) = self.records.last_mut() {
                    rec.people.push(&record);
                }
            }
            Event::Media(r) => {
                if let Some(d) = r.date {
                    self.dated(d.and_time(chrono::NaiveTime::MIN));
                }
                if let Some(md) = r.date_no_year {
                    self.no_year(md);
                }
                if let Some(rec) = self.records.last_mut() {
                    rec.media.push(MediaRecord {
                        row: r.row,
                        title: r.title,
                        outlet: r.outlet,
                        level: r.level,
                        date: r
                            .date
                            .map(|d| d.to_string())
                            .or_else(|| r.date_no_year.map(|md| md.stored())),
                        url: r.url,
                        activity_raw: r.activity,
                    });
                }
            }
            Event::Declared(r) => {
                if !r.activity.trim().is_empty() {
                    self.named.insert(r.activity.clone());
                }
                if let Some(d) = r.date {
                    self.dated(d.and_time(chrono::NaiveTime::MIN));
                }
                if let Some(rec) = self.records.last_mut() {
                    rec.declared.push(DeclaredRecord {
                        row: r.row,
                        activity_raw: r.activity,
                        department: r.department,
                        date: r.date.map(|d| d.to_string()),
                        teachers: r.teachers,
                        students: r.students,
                        enterprises: r.enterprises,
                        participants: r.participants,
                    });
                }
            }
            Event::Problem(p) => match self.records.iter_mut().rev().find(|r| r.name == p.sheet) {
                Some(rec) => rec.problems.push((p.row, p.reason)),
                None => self.orphans.push((p.sheet, p.row, p.reason)),
            },
            Event::Error(e) => self.error = Some(e),
        }
    }

    fn finish(self) -> SheetsRead {
        let mut out = SheetsRead::default();
        let mut earliest = self.earliest;
        // A recognised sheet whose rows have no date gives its title's date.
        for (title_date, had_date, recognised) in &self.title_dates {
            if let (Some(d), false, true) = (title_date, had_date, recognised) {
                let when = d.and_time(chrono::NaiveTime::MIN);
                earliest = Some(earliest.map_or(when, |e| e.min(when)));
            }
        }
        if let Some(e) = &self.error {
            // Kept with the file's row problems too, so that `status` lists it and the run's
            // exit status says that rows were lost.
            out.problems.push(format!("表格无法读取：{e}"));
            out.records.push(SheetRecord {
                name: WHOLE_FILE.into(),
                kind: "unrecognised".into(),
                problems: vec![(0, format!("表格无法读取：{e}"))],
                ..Default::default()
            });
        }
        out.records.extend(self.records);
        if let Some((first, _, _)) = self.orphans.first() {
            let mut rec = SheetRecord {
                name: first.clone(),
                kind: "unrecognised".into(),
                ..Default::default()
            };
            for (_, row, reason) in self.orphans {
                rec.problems.push((row, reason));
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
        out.row_activities = self.named.into_iter().collect();
        out.earliest_no_year = if earliest.is_some() {
            None
        } else {
            self.earliest_no_year
        };
        out.earliest = earliest.map(|when| DateCandidate {
            source: DateSource::Sheet,
            when,
            offset: None,
        });
        out
    }
}
