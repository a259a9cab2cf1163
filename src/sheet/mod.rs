//! Reads every sheet of a spreadsheet (xlsx, xlsm, xlsb, xls, ods, csv) into typed rows: sign-in
//! rows, media reports and declared counts (DESIGN.md, *Spreadsheets*). Plain data out: who a
//! participant is (role, own or external) is decided later by the tally.
//!
//! Sheets come from departments and cannot be trusted. This module must never abort or panic
//! the process on a hostile file, never let a sheet grow memory without bound, and never stop
//! the run: a file it cannot read becomes a [`Workbook`] with an `error`, a row it cannot use a
//! [`RowProblem`], both in Chinese a person can act on.
//!
//! - xlsx/xlsm/xlsb are refused before parsing when a part of the zip claims (or inflates to)
//!   an absurd size ([`Limits`]), then streamed cell by cell under caps on rows, cells and
//!   string bytes. `worksheet_range` is never called for them (a cell at XFD1048576 makes it
//!   allocate 550 GB and abort).
//! - ods is refused before parsing when its repeated rows and cells span more than the cell
//!   cap (calamine expands them all); csv is read in-process under a size cap.
//! - xls and ods have no streaming reader in calamine: they are read whole, which is only safe
//!   in a child process. Production code therefore calls [`read_workbook_isolated`], which
//!   re-invokes the binary (`dangan __read-sheet PATH FORMAT`, see [`child_hook`]) under a
//!   memory limit and a time limit; [`read_workbook`] is what the child runs.
//!
//! - A table filled in a known layout can be read as cells by position instead
//!   (`read_cells`, `cells.rs`): the same readers, limits and child, no interpretation.
//!
//! Header rows: the matching rule is documented in `header.rs` (words of a cell after width
//! folding and space removal, parenthesised alternatives, two-line headers, side-by-side
//! sign-in blocks).

mod build;
mod calc;
mod cells;
mod csvfile;
mod header;
mod isolate;
mod markup;
mod merge;
pub(crate) mod value;
pub(crate) mod zipguard;

use std::fmt;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::model::{Format, MonthDay};

pub use build::{problem_range, problem_rows};
pub use markup::docx_may_hold_sheets;

pub use isolate::{
    CHILD_ARG, ChildLimits, Event, child_hook, read_isolated, read_workbook_isolated,
    read_workbook_isolated_with,
};
pub(crate) use isolate::{die_with_parent, limit_self};

pub(crate) use cells::{CellSheet, Window, read_cells};
pub(crate) use value::Value;

/// What a sheet holds, decided by its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetKind {
    /// 签到表: one row per participant.
    SignIn,
    /// 媒体报道登记: one row per media report.
    MediaRegister,
    /// 申报统计: declared counts per activity.
    Declared,
    /// Any other sheet: archived as it is, not an error.
    Unrecognised,
}

impl SheetKind {
    /// The word a person reads.
    pub fn label(self) -> &'static str {
        match self {
            SheetKind::SignIn => "签到表",
            SheetKind::MediaRegister => "媒体报道登记",
            SheetKind::Declared => "申报统计",
            SheetKind::Unrecognised => "未识别的表",
        }
    }
}

/// One participant's line of a sign-in sheet, cells cleaned (`clean_cell`) but not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRow {
    /// Row number as the spreadsheet program shows it (1-based).
    pub row: u32,
    pub name: String,
    /// 学号/工号/编号/证件号, else 手机号 (of this row) when the first is blank. A number typed
    /// into the cell is written without `.0`.
    pub id: Option<String>,
    /// The 身份/类别/角色 cell as written.
    pub role: Option<String>,
    /// 单位/学校/企业/班级/院系 as written.
    pub unit: Option<String>,
    #[serde(with = "value::serde_opt_datetime")]
    pub time: Option<NaiveDateTime>,
    /// A 签到时间 written without a year (`5月15日 14:00`), when `time` is `None`.
    #[serde(default)]
    pub time_no_year: Option<MonthDay>,
    pub activity: Option<String>,
}

/// One media report of a media register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRow {
    pub row: u32,
    pub title: String,
    /// The media outlet; empty when the cell was blank (reported as a problem).
    pub outlet: String,
    /// 级别 as written (国家级, 市级, 公众号…); the tally folds it.
    pub level: Option<String>,
    #[serde(with = "value::serde_opt_date")]
    pub date: Option<NaiveDate>,
    /// A date written without a year (`5月15日`), when `date` is `None`.
    #[serde(default)]
    pub date_no_year: Option<MonthDay>,
    pub url: Option<String>,
    /// The 活动名称 cell as written (a central register lists many activities' reports).
    #[serde(default)]
    pub activity: Option<String>,
}

/// One activity's declared counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRow {
    pub row: u32,
    pub activity: String,
    pub department: Option<String>,
    #[serde(with = "value::serde_opt_date")]
    pub date: Option<NaiveDate>,
    pub teachers: Option<u64>,
    pub students: Option<u64>,
    pub enterprises: Option<u64>,
    pub participants: Option<u64>,
}

/// One sheet of a workbook (a CSV file is one sheet named after its file stem). Only the vector
/// of its kind is filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    pub kind: SheetKind,
    /// 1-based row of the header, when one was found.
    pub header_row: Option<u32>,
    /// The text above the header (merged title rows: "2025年活动周 技能竞赛 学生签到表"),
    /// cells joined by spaces, at most 200 characters: where a role word or an activity
    /// name may be written when no column says it.
    #[serde(default)]
    pub title: Option<String>,
    /// The first date written in [`Sheet::title`] (`日期：2025年5月12日`), for sheets whose rows
    /// carry no date of their own.
    #[serde(default, with = "value::serde_opt_date")]
    pub title_date: Option<NaiveDate>,
    pub sign_in: Vec<SignInRow>,
    pub media: Vec<MediaRow>,
    pub declared: Vec<DeclaredRow>,
}

impl Sheet {
    fn new(name: &str) -> Sheet {
        Sheet {
            name: name.to_string(),
            kind: SheetKind::Unrecognised,
            header_row: None,
            title: None,
            title_date: None,
            sign_in: Vec::new(),
            media: Vec::new(),
            declared: Vec::new(),
        }
    }
}

/// A row (or, with `row == 0`, a whole sheet) that could not be fully used. `reason` is
/// Chinese and complete on its own ("缺少姓名，已跳过"); `Display` adds sheet and row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    pub sheet: String,
    /// 1-based row; 0 when the problem is about the sheet as a whole.
    pub row: u32,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.row == 0 {
            write!(f, "工作表「{}」：{}", self.sheet, self.reason)
        } else {
            write!(
                f,
                "工作表「{}」第 {} 行：{}",
                self.sheet, self.row, self.reason
            )
        }
    }
}

/// Everything read from one spreadsheet file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
    pub problems: Vec<RowProblem>,
    /// Set when the file as a whole could not be read (password, corrupt, bomb, not a
    /// spreadsheet, a crashed reader); Chinese. Sheets read before the failure are kept.
    pub error: Option<String>,
    /// A cap of the [`Limits`] stopped the reading (rows, cells, text or time): the rows are
    /// those read up to it. Not sent between processes.
    #[serde(skip)]
    pub cut_short: bool,
}

impl Workbook {
    fn failed(reason: impl Into<String>) -> Workbook {
        Workbook {
            error: Some(reason.into()),
            ..Workbook::default()
        }
    }

    /// The earliest date in the rows (sign-in times, report dates, declared dates), for step 5 of
    /// the date chain; a recognised sheet whose rows have no date gives its `title_date`.
    /// Dates without a time count as midnight. Plausibility (before 2000, after today) is the
    /// caller's to judge.
    pub fn earliest_date(&self) -> Option<NaiveDateTime> {
        let mut all = Vec::new();
        for sheet in &self.sheets {
            let before = all.len();
            all.extend(sheet.sign_in.iter().filter_map(|r| r.time));
            all.extend(sheet.media.iter().filter_map(|r| r.date).map(midnight));
            all.extend(sheet.declared.iter().filter_map(|r| r.date).map(midnight));
            if all.len() == before && sheet.kind != SheetKind::Unrecognised {
                all.extend(sheet.title_date.map(midnight));
            }
        }
        all.into_iter().min()
    }

    /// The earliest date the rows wrote without a year, when [`Workbook::earliest_date`] has
    /// none.
    pub fn earliest_no_year(&self) -> Option<MonthDay> {
        if self.earliest_date().is_some() {
            return None;
        }
        self.sheets
            .iter()
            .flat_map(|s| {
                s.sign_in
                    .iter()
                    .filter_map(|r| r.time_no_year)
                    .chain(s.media.iter().filter_map(|r| r.date_no_year))
            })
            .min()
    }

    /// Sheets of one kind.
    pub fn sheets_of(&self, kind: SheetKind) -> impl Iterator<Item = &Sheet> {
        self.sheets.iter().filter(move |s| s.kind == kind)
    }
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_time(chrono::NaiveTime::MIN)
}

/// Text as the sheet readers decode it: UTF-8 (BOM dropped), UTF-16 with a BOM, else GB18030.
pub fn decode_text(bytes: &[u8]) -> String {
    csvfile::decode(bytes)
}

/// Caps that bound the memory and time one file may take in-process. The defaults are far above
/// any real sign-in sheet and far below what would hurt the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest uncompressed size of one XML/binary part of an xlsx/xlsm/xlsb/ods zip.
    pub max_part_bytes: u64,
    /// Largest sum of those parts.
    pub max_total_bytes: u64,
    /// Largest compression ratio of a part bigger than 16 MiB (real sheets: 5–30).
    pub max_ratio: u64,
    /// Rows (including empty ones that the file lists) read from the whole workbook.
    pub max_rows: u64,
    /// Cells read from the whole workbook.
    pub max_cells: u64,
    /// Bytes of cell text read from the whole workbook.
    pub max_text_bytes: u64,
    /// Largest CSV file.
    pub max_csv_bytes: u64,
    /// Seconds one workbook may take (checked every 1024 cells).
    pub max_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Limits {
            max_part_bytes: 200 * MIB,
            max_total_bytes: 400 * MIB,
            max_ratio: 200,
            max_rows: 1_000_000,
            max_cells: 5_000_000,
            max_text_bytes: 128 * MIB,
            max_csv_bytes: 100 * MIB,
            max_seconds: 60,
        }
    }
}

/// Reads `path` in this process with the default [`Limits`]. Safe against zip bombs and huge
/// dimensions for xlsx/xlsm/xlsb and csv; xls and ods are read whole by calamine, so call
/// [`read_workbook_isolated`] for anything that came from outside.
pub fn read_workbook(path: &Path, format: Format) -> Workbook {
    read_workbook_with(path, format, &Limits::default())
}

/// Reads an xlsx/xlsm in this process when its zip declares (and, for the parts calamine
/// loads whole, really inflates to) sizes within `limits`, and its rows, cells, text and time
/// stay within them too; `None` for anything else or larger, which belongs in
/// [`read_workbook_isolated`]. The size check is made once.
pub fn read_in_process_if_fits(path: &Path, format: Format, limits: &Limits) -> Option<Workbook> {
    if !matches!(format, Format::Xlsx | Format::Xlsm)
        || zipguard::refusal(path, format, limits).is_some()
    {
        return None;
    }
    let wb = calc::read_guarded(path, format, limits);
    (!wb.cut_short).then_some(wb)
}

/// [`read_workbook`] with explicit caps.
pub fn read_workbook_with(path: &Path, format: Format, limits: &Limits) -> Workbook {
    match format {
        Format::Csv => csvfile::read_csv(path, limits),
        Format::HtmlTable => markup::read_html(path, limits),
        Format::XmlSpreadsheet => markup::read_xml2003(path, limits),
        Format::Docx => markup::read_docx(path, limits),
        Format::Xlsx | Format::Xlsm | Format::Xlsb | Format::Xls | Format::Ods => {
            calc::read_calc(path, format, limits)
        }
        other => Workbook::failed(format!(
            "不是表格文件（识别为 {}），无法按表格读取",
            other.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_display_names_sheet_and_row() {
        let p = RowProblem {
            sheet: "签到".into(),
            row: 7,
            reason: "缺少姓名，已跳过".into(),
        };
        assert_eq!(p.to_string(), "工作表「签到」第 7 行：缺少姓名，已跳过");
        let whole = RowProblem { row: 0, ..p };
        assert_eq!(whole.to_string(), "工作表「签到」：缺少姓名，已跳过");
    }

    #[test]
    fn a_title_date_counts_only_when_the_rows_have_none() {
        let mut s = Sheet::new("a");
        s.kind = SheetKind::SignIn;
        s.title_date = NaiveDate::from_ymd_opt(2025, 5, 12);
        let mut wb = Workbook {
            sheets: vec![s],
            ..Workbook::default()
        };
        assert_eq!(
            wb.earliest_date(),
            NaiveDate::from_ymd_opt(2025, 5, 12).map(midnight)
        );
        wb.sheets[0].sign_in.push(SignInRow {
            row: 3,
            name: "张三".into(),
            id: None,
            role: None,
            unit: None,
            time: NaiveDate::from_ymd_opt(2025, 5, 13).map(midnight),
            time_no_year: None,
            activity: None,
        });
        assert_eq!(
            wb.earliest_date(),
            NaiveDate::from_ymd_opt(2025, 5, 13).map(midnight)
        );
    }

    #[test]
    fn earliest_date_spans_kinds() {
        let mut s = Sheet::new("a");
        s.media.push(MediaRow {
            row: 2,
            title: "t".into(),
            outlet: "o".into(),
            level: None,
            date: NaiveDate::from_ymd_opt(2025, 5, 3),
            date_no_year: None,
            url: None,
            activity: None,
        });
        s.sign_in.push(SignInRow {
            row: 2,
            name: "张三".into(),
            id: None,
            role: None,
            unit: None,
            time: NaiveDate::from_ymd_opt(2025, 5, 7).and_then(|d| d.and_hms_opt(9, 0, 0)),
            time_no_year: None,
            activity: None,
        });
        let wb = Workbook {
            sheets: vec![s],
            ..Workbook::default()
        };
        assert_eq!(
            wb.earliest_date(),
            NaiveDate::from_ymd_opt(2025, 5, 3).and_then(|d| d.and_hms_opt(0, 0, 0))
        );
    }
}
