//! The office's corrections (DESIGN.md, *Corrections: 更正.xlsx*): reading the workbook a person
//! filled in (`更正.xlsx`, or a CSV) into plain [`CorrectionRow`]s, and writing
//! `统计/待归类.xlsx`, the workbook they fill in.
//!
//! Plain I/O of plain data: this module never opens the catalog, never checks a department or
//! activity against the configuration and never decides what a correction means — the caller
//! does all three. Reading never panics, never aborts and never stops the run: the file's size
//! is checked before anything is parsed, a zip's parts are checked before calamine sees them,
//! xlsx/xlsb are streamed cell by cell, and at most [`MAX_ROWS`] rows are read. Whatever could
//! not be used becomes a problem in Chinese that names the file and row.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use calamine::{Data, Ods, Range, Reader, SheetType, Xls, Xlsb, Xlsx, open_workbook};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    Color, DataValidation, DocProperties, ExcelDateTime, Format as CellFormat, FormatAlign,
    FormatBorder, Formula, Workbook,
};

use crate::model::Format;
use crate::sheet::value::{self, DateCell, Value};
use crate::sheet::{Limits, zipguard};
use crate::text::{fold_width, match_key};

/// The corrections file the office saves beside dangan.toml.
pub const CORRECTIONS_XLSX: &str = "更正.xlsx";
pub const CORRECTIONS_CSV: &str = "更正.csv";
/// Written by every run that writes 统计/.
pub const PENDING_XLSX: &str = "待归类.xlsx";
pub const PENDING_HEADERS: [&str; 10] = [
    "文件",
    "部门",
    "活动",
    "日期",
    "日期来源",
    "原因",
    "更正部门",
    "更正活动",
    "更正日期",
    "不计入",
];

/// The sheets of 待归类.xlsx: the rows, the instructions, the (hidden) drop-down lists.
pub const PENDING_SHEET: &str = "待归类";
pub const HELP_SHEET: &str = "说明";
pub const OPTIONS_SHEET: &str = "选项";
/// Empty rows below the data that still get the drop-down lists.
pub const EMPTY_ROWS_WITH_LISTS: u32 = 500;

/// A corrections file larger than this is refused unread.
pub const MAX_FILE_BYTES: u64 = 20 * MIB;
/// Rows read from one corrections file (all sheets together).
pub const MAX_ROWS: u64 = 100_000;
/// The header is looked for in rows 1–30 of each sheet.
pub const HEADER_SEARCH_ROWS: u32 = 30;

const MIB: u64 = 1024 * 1024;
const MAX_CELLS: u64 = 2_000_000;
const MAX_TEXT_BYTES: u64 = 64 * MIB;
/// Highest column of a real sheet (XFD); cells beyond are ignored.
const MAX_COLUMNS: u32 = 16_384;
/// What format detection reads of the file.
const HEAD_BYTES: u64 = 256 * 1024;
/// A cell quoted in a problem is cut to this many characters.
const SHOWN_CHARS: usize = 40;

/// Columns of [`PENDING_HEADERS`] a person fills in.
const COL_FIX_DEPARTMENT: u16 = 6;
const COL_FIX_ACTIVITY: u16 = 7;
const COL_FIX_DATE: u16 = 8;
const COL_EXCLUDE: u16 = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    /// The row number as Excel/WPS shows it (1-based).
    pub row: u32,
    /// 文件: the inbox path as written in the cell, trimmed, `\` turned into `/`, a leading
    /// `./` or `inbox/` removed.
    pub path: String,
    /// 更正部门, trimmed, None when blank.
    pub department: Option<String>,
    /// 更正活动, trimmed, None when blank.
    pub activity: Option<String>,
    /// 更正日期: an Excel date cell, a date serial number, or text 2025-05-07 / 2025/5/7 /
    /// 2025.5.7 / 2025年5月7日 (full-width digits folded).
    pub date: Option<NaiveDate>,
    /// 不计入: 是 / Y / yes / true / 1 / √ / ✓ → true; blank or 否 / N / no / 0 → false.
    pub exclude: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrectionsRead {
    pub rows: Vec<CorrectionRow>,
    /// Chinese, each naming the file and row: "更正.xlsx 第 7 行：更正日期“5月32日”不是日期，
    /// 已忽略"; and whole-file ones ("更正.xlsx 找不到表头（…）", "更正.xlsx 过大…").
    pub problems: Vec<String>,
}

/// Reads a corrections file: xlsx/xlsm/xlsb/xls/ods (by content, whatever the extension) or
/// CSV (UTF-8 with or without BOM, UTF-16 with a BOM, else GB18030; `,`, tab or `;`).
///
/// Every sheet is searched. Its header is the first of rows 1–30 holding a 文件 cell and at
/// least one of 更正部门 / 更正活动 / 更正日期 / 不计入 (words compared trimmed, without inner
/// spaces, full-width forms folded; a note in brackets after the word, `更正日期（YYYY-MM-DD）`,
/// is allowed). Columns may be in any order, other columns are ignored, rows are returned in
/// file order. Skipped silently: a row whose 文件 is blank, and a row whose four 更正 cells are
/// blank (an untouched row of 待归类.xlsx). A cell that cannot be read (a date that is not a
/// date, a 不计入 that is neither yes nor no) is ignored with a problem naming the row; a row
/// left with nothing to correct (only such cells, or only 不计入 = 否) is not returned.
///
/// A missing file gives an empty result: whether it must exist is the caller's to say.
pub fn read(path: &Path) -> CorrectionsRead {
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut reading = Reading::new(label);
    match fs::metadata(path) {
        Ok(meta) => read_file(path, &meta, &mut reading),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return CorrectionsRead::default(),
        Err(e) => reading.problem(format!("无法读取（{e}）")),
    }
    reading.finish()
}

fn read_file(path: &Path, meta: &fs::Metadata, reading: &mut Reading) {
    if !meta.is_file() {
        return reading.problem("不是文件，未读取".to_string());
    }
    if meta.len() == 0 {
        return reading.problem("是空文件（0 字节），未读取".to_string());
    }
    if meta.len() > MAX_FILE_BYTES {
        return reading.problem(format!(
            "过大（{} MiB，上限 {} MiB），未读取",
            meta.len().div_ceil(MIB),
            MAX_FILE_BYTES / MIB
        ));
    }
    let head = match head(path) {
        Ok(head) => head,
        Err(e) => return reading.problem(format!("无法读取（{e}）")),
    };
    // By content: WPS and "save as" sometimes leave an extension that does not fit.
    let detected = crate::detect::detect(&head, &reading.label, path);
    match detected.format {
        f @ (Format::Xlsx | Format::Xlsm | Format::Xlsb | Format::Xls | Format::Ods) => {
            read_calc(path, f, reading)
        }
        Format::Csv | Format::Txt => read_csv(path, reading),
        other => reading.problem(format!(
            "不是表格文件（{}），未读取；请保存为 xlsx 或 csv",
            detected
                .warning
                .unwrap_or_else(|| format!("内容是{}", crate::detect::describe(other)))
        )),
    }
}

fn head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    File::open(path)?.take(HEAD_BYTES).read_to_end(&mut head)?;
    Ok(head)
}

/// The columns of a corrections sheet (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    file: u32,
    department: Option<u32>,
    activity: Option<u32>,
    date: Option<u32>,
    exclude: Option<u32>,
}

/// A header cell as compared: [`match_key`], and a bracketed note after the word dropped.
fn header_key(s: &str) -> String {
    let key = match_key(s);
    match key.find(['(', '[', '【']) {
        Some(i) if i > 0 => key[..i].to_string(),
        _ => key,
    }
}

/// The header's columns when `cells` is a header row; the first of repeated words wins.
fn find_columns(cells: &[(u32, Value)]) -> Option<Columns> {
    let (mut file, mut department, mut activity, mut date, mut exclude) =
        (None, None, None, None, None);
    for (col, v) in cells {
        let Value::Text(s) = v else { continue };
        let slot = match header_key(s).as_str() {
            "文件" => &mut file,
            "更正部门" => &mut department,
            "更正活动" => &mut activity,
            "更正日期" => &mut date,
            "不计入" => &mut exclude,
            _ => continue,
        };
        slot.get_or_insert(*col);
    }
    let any_fix = department.is_some() || activity.is_some() || date.is_some() || exclude.is_some();
    Some(Columns {
        file: file?,
        department,
        activity,
        date,
        exclude,
    })
    .filter(|_| any_fix)
}

/// 文件 as the caller compares it with inbox paths: trimmed, `\` → `/`, leading `./` and
/// `inbox/` removed. Nothing else is changed (names are kept byte for byte).
fn normalize_path(s: &str) -> String {
    let s = trim(s).replace('\\', "/");
    let mut rest = s.as_str();
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("inbox/") {
        rest = r;
    }
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    rest.to_string()
}

fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}')
}

/// A text cell trimmed (not width-folded: names stay as written); a number without `.0`.
fn plain_text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(trim(s).to_string()).filter(|s| !s.is_empty()),
        other => value::text_of(other),
    }
}

/// A cell quoted in a problem.
fn shown(v: &Value) -> String {
    let s = plain_text(v).unwrap_or_default();
    if s.chars().count() > SHOWN_CHARS {
        let cut: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// 更正日期: `Err(shown cell)` when it is not a date.
fn date_value(v: &Value, date1904: bool) -> Result<NaiveDate, String> {
    match (value::date_of(v, date1904), v) {
        (DateCell::Date(dt), _) => Ok(dt.date()),
        // `日期：2025年5月7日`, `二〇二五年五月七日`.
        (DateCell::NotADate(_), Value::Text(s)) => {
            crate::resolve::date::find_date_in_text(s).ok_or_else(|| shown(v))
        }
        _ => Err(shown(v)),
    }
}

/// 不计入: `Err(shown cell)` when it is neither yes nor no.
fn exclude_value(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(f) if *f == 1.0 => Ok(true),
        Value::Number(f) if *f == 0.0 => Ok(false),
        Value::Text(s) => match fold_width(trim(s)).to_lowercase().as_str() {
            "是" | "y" | "yes" | "true" | "1" | "√" | "✓" | "✔" => Ok(true),
            "否" | "n" | "no" | "false" | "0" => Ok(false),
            _ => Err(shown(v)),
        },
        _ => Err(shown(v)),
    }
}

/// One sheet being read, row by row in file order.
struct SheetScan {
    name: String,
    date1904: bool,
    /// The header's columns and its row (0-based).
    header: Option<(Columns, u32)>,
    rows: Vec<CorrectionRow>,
    /// (1-based row, reason).
    problems: Vec<(u32, String)>,
}

impl SheetScan {
    fn new(name: &str, date1904: bool) -> SheetScan {
        SheetScan {
            name: name.to_string(),
            date1904,
            header: None,
            rows: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// False once row `row0` and the rest of the sheet cannot matter (no header above it).
    fn wants(&self, row0: u32) -> bool {
        self.header.is_some() || row0 < HEADER_SEARCH_ROWS
    }

    /// Row `row0` (0-based) with its non-blank cells (0-based column, value).
    fn push_row(&mut self, row0: u32, cells: &[(u32, Value)]) {
        match self.header {
            None if row0 < HEADER_SEARCH_ROWS => {
                self.header = find_columns(cells).map(|c| (c, row0));
            }
            None => {}
            Some((columns, header_row0)) if row0 > header_row0 => {
                self.data_row(columns, row0.saturating_add(1), cells);
            }
            Some(_) => {}
        }
    }

    fn data_row(&mut self, columns: Columns, row: u32, cells: &[(u32, Value)]) {
        let cell = |col: Option<u32>| {
            let col = col?;
            cells
                .iter()
                .find(|(c, v)| *c == col && !v.is_blank())
                .map(|(_, v)| v)
        };
        let Some(path) = cell(Some(columns.file))
            .and_then(plain_text)
            .map(|s| normalize_path(&s))
            .filter(|p| !p.is_empty())
        else {
            return;
        };
        let department = cell(columns.department);
        let activity = cell(columns.activity);
        let date = cell(columns.date);
        let exclude = cell(columns.exclude);
        if department.is_none() && activity.is_none() && date.is_none() && exclude.is_none() {
            return;
        }
        let department = department.and_then(plain_text);
        let activity = activity.and_then(plain_text);
        let date = match date.map(|v| date_value(v, self.date1904)) {
            Some(Ok(d)) => Some(d),
            Some(Err(s)) => {
                self.problems
                    .push((row, format!("更正日期“{s}”不是日期，已忽略")));
                None
            }
            None => None,
        };
        let exclude = match exclude.map(exclude_value) {
            Some(Ok(b)) => b,
            Some(Err(s)) => {
                self.problems.push((
                    row,
                    format!("不计入“{s}”无法识别（填“是”表示不计入，否则留空），已忽略"),
                ));
                false
            }
            None => false,
        };
        if department.is_none() && activity.is_none() && date.is_none() && !exclude {
            return;
        }
        self.rows.push(CorrectionRow {
            row,
            path,
            department,
            activity,
            date,
            exclude,
        });
    }
}

/// What is left of the caps for this file.
#[derive(Default)]
struct Budget {
    rows: u64,
    cells: u64,
    text: u64,
    exhausted: bool,
}

impl Budget {
    fn row(&mut self) -> Result<(), String> {
        self.rows += 1;
        if self.rows > MAX_ROWS {
            self.exhausted = true;
            return Err(format!("超过 {MAX_ROWS} 行的上限，其余内容未读取"));
        }
        Ok(())
    }

    fn cell(&mut self, text_len: usize) -> Result<(), String> {
        self.cells += 1;
        self.text = self.text.saturating_add(text_len as u64);
        if self.cells > MAX_CELLS || self.text > MAX_TEXT_BYTES {
            self.exhausted = true;
            return Err(format!(
                "内容过多（超过 {MAX_CELLS} 个单元格或 {} MiB 文字的上限），其余内容未读取",
                MAX_TEXT_BYTES / MIB
            ));
        }
        Ok(())
    }
}

/// One file being read.
struct Reading {
    label: String,
    sheets: Vec<SheetScan>,
    /// Whole-file problems, complete sentences.
    problems: Vec<String>,
    budget: Budget,
}

impl Reading {
    fn new(label: String) -> Reading {
        Reading {
            label,
            sheets: Vec::new(),
            problems: Vec::new(),
            budget: Budget::default(),
        }
    }

    /// A whole-file problem phrased to follow the file's name.
    fn problem(&mut self, text: String) {
        self.problems.push(format!("{} {text}", self.label));
    }

    /// A whole-file problem that is a sentence of its own (from the sheet checks).
    fn problem_sentence(&mut self, text: &str) {
        self.problems.push(format!("{}：{text}", self.label));
    }

    fn finish(self) -> CorrectionsRead {
        let with_header: Vec<SheetScan> = self
            .sheets
            .into_iter()
            .filter(|s| s.header.is_some())
            .collect();
        let mut out = CorrectionsRead::default();
        if with_header.is_empty() && self.problems.is_empty() {
            out.problems.push(format!(
                "{} 找不到表头（需要“文件”列，以及“更正部门”“更正活动”“更正日期”“不计入”中的至少一列，在某个工作表的前 {HEADER_SEARCH_ROWS} 行内），未读取任何更正",
                self.label
            ));
        }
        let name_sheets = with_header.len() > 1;
        for sheet in with_header {
            for (row, reason) in sheet.problems {
                out.problems.push(if name_sheets {
                    format!(
                        "{} 工作表「{}」第 {row} 行：{reason}",
                        self.label, sheet.name
                    )
                } else {
                    format!("{} 第 {row} 行：{reason}", self.label)
                });
            }
            out.rows.extend(sheet.rows);
        }
        out.problems.extend(self.problems);
        out
    }
}

type Pos = (u32, u32);

/// Feeds a stream of cells (file order) to `scan` row by row under the budget. `Err` is a
/// whole-file problem: the sheet stopped early.
fn stream<F>(scan: &mut SheetScan, budget: &mut Budget, mut next: F) -> Result<(), String>
where
    F: FnMut() -> Result<Option<(Pos, Value)>, String>,
{
    let mut current: Option<u32> = None;
    let mut cells: Vec<(u32, Value)> = Vec::new();
    let result = loop {
        let ((r, c), v) = match next() {
            Ok(Some(cell)) => cell,
            Ok(None) => break Ok(()),
            Err(e) => {
                break Err(format!(
                    "工作表「{}」读到一半出错，其余内容未读取（{e}）",
                    scan.name
                ));
            }
        };
        if current != Some(r) {
            if let Some(prev) = current.take() {
                scan.push_row(prev, &cells);
                cells.clear();
            }
            if !scan.wants(r) {
                break Ok(());
            }
            if let Err(reason) = budget.row() {
                break Err(reason);
            }
            current = Some(r);
        }
        if let Err(reason) = budget.cell(v.text_len()) {
            break Err(reason);
        }
        if c < MAX_COLUMNS && !v.is_blank() {
            cells.push((c, v));
        }
    };
    if let Some(prev) = current {
        scan.push_row(prev, &cells);
    }
    result
}

/// A sheet calamine read whole (xls, ods).
fn whole_sheet(
    scan: &mut SheetScan,
    budget: &mut Budget,
    range: &Range<Data>,
) -> Result<(), String> {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    for (i, row) in range.rows().enumerate() {
        let r = r0.saturating_add(i as u32);
        if !scan.wants(r) {
            break;
        }
        let mut cells = Vec::new();
        for (j, d) in row.iter().enumerate() {
            if matches!(d, Data::Empty) {
                continue;
            }
            let v = value::from_data(d);
            budget.cell(v.text_len())?;
            let c = c0.saturating_add(j as u32);
            if c < MAX_COLUMNS && !v.is_blank() {
                cells.push((c, v));
            }
        }
        if !cells.is_empty() {
            budget.row()?;
            scan.push_row(r, &cells);
        }
    }
    Ok(())
}

/// The caps given to the shared zip checks.
fn zip_limits() -> Limits {
    Limits {
        max_part_bytes: 64 * MIB,
        max_total_bytes: 128 * MIB,
        max_ratio: 200,
        max_rows: MAX_ROWS,
        max_cells: MAX_CELLS,
        max_text_bytes: MAX_TEXT_BYTES,
        max_csv_bytes: MAX_FILE_BYTES,
        ..Limits::default()
    }
}

fn read_calc(path: &Path, format: Format, reading: &mut Reading) {
    if let Some(reason) = zipguard::refusal(path, format, &zip_limits()) {
        reading.problem_sentence(&reason);
        return;
    }
    if catch_unwind(AssertUnwindSafe(|| read_checked(path, format, reading))).is_err() {
        reading
            .problem("无法读取：表格解析器内部出错（文件可能已损坏），其余内容未读取".to_string());
    }
}

fn worksheet_names<RS, R>(wb: &R) -> Vec<String>
where
    RS: Read + io::Seek,
    R: Reader<RS>,
{
    wb.sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

fn corrupt(reading: &mut Reading, password: bool, e: &dyn std::fmt::Display) {
    if password {
        reading.problem_sentence(zipguard::PASSWORD);
    } else {
        reading.problem(format!("已损坏或不是表格，无法读取（{e}）"));
    }
}

fn read_checked(path: &Path, format: Format, reading: &mut Reading) {
    match format {
        Format::Xlsx | Format::Xlsm => {
            let mut wb: Xlsx<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(e) => {
                    let password = matches!(e, calamine::XlsxError::Password);
                    return corrupt(reading, password, &e);
                }
            };
            let date1904 = wb.has_1904_epoch();
            for name in worksheet_names(&wb) {
                if reading.budget.exhausted {
                    break;
                }
                let mut scan = SheetScan::new(&name, date1904);
                let result = match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => stream(&mut scan, &mut reading.budget, || {
                        cells
                            .next_cell()
                            .map(|c| {
                                c.map(|c| {
                                    (
                                        c.get_position(),
                                        value::from_data_ref(c.get_value().clone()),
                                    )
                                })
                            })
                            .map_err(|e| e.to_string())
                    }),
                    Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
                    Err(e) => Err(format!("工作表「{name}」无法读取（{e}）")),
                };
                reading.sheets.push(scan);
                if let Err(reason) = result {
                    reading.problem(reason);
                }
            }
        }
        Format::Xlsb => {
            let mut wb: Xlsb<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(e) => {
                    let password = matches!(e, calamine::XlsbError::Password);
                    return corrupt(reading, password, &e);
                }
            };
            let date1904 = wb.has_1904_epoch();
            for name in worksheet_names(&wb) {
                if reading.budget.exhausted {
                    break;
                }
                let mut scan = SheetScan::new(&name, date1904);
                let result = match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => stream(&mut scan, &mut reading.budget, || {
                        cells
                            .next_cell()
                            .map(|c| {
                                c.map(|c| {
                                    (
                                        c.get_position(),
                                        value::from_data_ref(c.get_value().clone()),
                                    )
                                })
                            })
                            .map_err(|e| e.to_string())
                    }),
                    Err(e) => Err(format!("工作表「{name}」无法读取（{e}）")),
                };
                reading.sheets.push(scan);
                if let Err(reason) = result {
                    reading.problem(reason);
                }
            }
        }
        Format::Xls => {
            let mut wb: Xls<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(e) => {
                    let password = matches!(e, calamine::XlsError::Password);
                    return corrupt(reading, password, &e);
                }
            };
            let date1904 = wb.has_1904_epoch();
            for name in worksheet_names(&wb) {
                if reading.budget.exhausted {
                    break;
                }
                let range = wb.worksheet_range(&name);
                whole(reading, &name, date1904, range.map_err(|e| e.to_string()));
            }
        }
        Format::Ods => {
            let mut wb: Ods<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(e) => {
                    let password = matches!(e, calamine::OdsError::Password);
                    return corrupt(reading, password, &e);
                }
            };
            for name in worksheet_names(&wb) {
                if reading.budget.exhausted {
                    break;
                }
                let range = wb.worksheet_range(&name);
                whole(reading, &name, false, range.map_err(|e| e.to_string()));
            }
        }
        other => reading.problem(format!("不是能读取的表格格式（{}）", other.as_str())),
    }
}

fn whole(reading: &mut Reading, name: &str, date1904: bool, range: Result<Range<Data>, String>) {
    let mut scan = SheetScan::new(name, date1904);
    let result = range
        .map_err(|e| format!("工作表「{name}」无法读取（{e}）"))
        .and_then(|range| whole_sheet(&mut scan, &mut reading.budget, &range));
    reading.sheets.push(scan);
    if let Err(reason) = result {
        reading.problem(reason);
    }
}

/// CSV text: a BOM decides (UTF-8, UTF-16), else UTF-8 when valid, else GB18030.
fn decode_csv(bytes: &[u8]) -> String {
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, _)) => encoding.decode_with_bom_removal(bytes).0.into_owned(),
        None => crate::output::csv::decode_csv(bytes),
    }
}

/// The most frequent of `,` tab `;` in the first lines (`,` on a tie).
fn sniff_delimiter(text: &str) -> u8 {
    let head: String = text.lines().take(HEADER_SEARCH_ROWS as usize).collect();
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (head.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

fn read_csv(path: &Path, reading: &mut Reading) {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => return reading.problem(format!("无法读取（{e}）")),
    };
    let text = decode_csv(&bytes);
    drop(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(&text))
        .from_reader(text.as_bytes());
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut scan = SheetScan::new(&name, false);
    let mut record = csv::StringRecord::new();
    // Rows as a spreadsheet program numbers them: a quoted cell spanning lines is one row, and
    // a blank line, which the csv reader skips (the next record's position is at its start),
    // is an empty row.
    let mut previous: Option<u32> = None;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                reading.problem(format!(
                    "第 {} 行之后无法解析，其余内容未读取（{e}）",
                    previous.map_or(0, |r| r.saturating_add(1))
                ));
                break;
            }
        }
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let bytes = text.as_bytes();
        // After a CRLF the reader stops between `\r` and `\n`.
        let start = if start > 0
            && bytes.get(start - 1) == Some(&b'\r')
            && bytes.get(start) == Some(&b'\n')
        {
            start + 1
        } else {
            start
        };
        let blank_lines = leading_line_ends(bytes.get(start..).unwrap_or_default());
        let row0 = previous
            .map_or(0, |r| r.saturating_add(1))
            .saturating_add(blank_lines);
        previous = Some(row0);
        if !scan.wants(row0) {
            break;
        }
        if let Err(reason) = reading.budget.row() {
            reading.problem(reason);
            break;
        }
        let mut cells = Vec::new();
        let mut stop = None;
        for (i, field) in record.iter().enumerate() {
            if trim(field).is_empty() {
                continue;
            }
            if let Err(reason) = reading.budget.cell(field.len()) {
                stop = Some(reason);
                break;
            }
            cells.push((i as u32, Value::Text(field.to_string())));
        }
        scan.push_row(row0, &cells);
        if let Some(reason) = stop {
            reading.problem(reason);
            break;
        }
    }
    reading.sheets.push(scan);
}

/// Empty lines at the start of `bytes` (`\n`, `\r\n` or `\r` each end one).
fn leading_line_ends(bytes: &[u8]) -> u32 {
    let mut n: u32 = 0;
    let mut i = 0;
    loop {
        match bytes.get(i) {
            Some(b'\n') => i += 1,
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            Some(b'\r') => i += 1,
            _ => return n,
        }
        n = n.saturating_add(1);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    pub path: String,
    pub department: String,
    pub activity: String,
    pub date: String,
    pub date_source: String,
    pub reason: String,
    /// Filled from the current corrections so that saving the workbook as 更正.xlsx loses
    /// nothing.
    pub fix_department: String,
    pub fix_activity: String,
    pub fix_date: String,
    pub exclude: bool,
}

impl PendingRow {
    /// The text columns of [`PENDING_HEADERS`], 文件 to 更正活动.
    fn texts(&self) -> [&str; 8] {
        [
            &self.path,
            &self.department,
            &self.activity,
            &self.date,
            &self.date_source,
            &self.reason,
            &self.fix_department,
            &self.fix_activity,
        ]
    }
}

/// Most characters Excel keeps in a cell (rust_xlsxwriter refuses more).
const MAX_CELL_CHARS: usize = 32_767;

/// `s`, cut to what a cell holds, so that one absurd text cannot fail the whole workbook.
fn cell_text(s: &str) -> String {
    if s.chars().count() <= MAX_CELL_CHARS {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Widest a column grows, in characters, one per column of [`PENDING_HEADERS`].
const MAX_WIDTHS: [usize; 10] = [70, 20, 28, 12, 14, 48, 20, 28, 12, 8];

/// Display width in Excel's character units: a CJK character is about two.
fn text_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Names for a drop-down list: trimmed, blank ones dropped, each once, in the given order.
fn list_names(names: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for name in names {
        let name = trim(name);
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The instructions on the 说明 sheet, one line a row.
const HELP_LINES: [&str; 11] = [
    "待归类：请人工确认的文件",
    "",
    "“待归类”表列出本次运行中未归类、或被标记需要核对的文件（原因见“原因”列），以及目前已有的全部更正。",
    "在需要更正的行填写右侧四列，不需要更正的行留空：",
    "    更正部门：从下拉列表选择正确的部门；",
    "    更正活动：从下拉列表选择正确的活动；",
    "    更正日期：填写正确的日期，格式 YYYY-MM-DD，例如 2025-05-07；",
    "    不计入：选“是”，该文件不计入统计和材料检查（文件仍保留在档案中）。",
    "填好后把本工作簿“另存为”更正.xlsx，放在 dangan.toml 所在的文件夹（使用内置配置时，放在运行 dangan 的文件夹），覆盖原来的更正.xlsx 即可：本表已包含原有的更正，不会丢失。下次运行时自动生效。",
    "请不要修改“文件”列和第一行的表头；行的顺序可以调整，也可以另加备注列。",
    "要撤销一条更正：清空该行的四个更正列（或删除该行），再保存为更正.xlsx。",
];

/// 待归类.xlsx: sheet 待归类 (the rows under a bold, frozen [`PENDING_HEADERS`] row, drop-down
/// lists on 更正部门 / 更正活动 / 不计入), sheet 说明 (what to do, in Chinese) and the hidden sheet
/// 选项 holding the lists. `epoch` (Unix seconds) is the document's creation time: the same
/// inputs and epoch give the same bytes. An epoch outside 1900–9999 is clamped to 1980-01-01.
pub fn pending_xlsx(
    rows: &[PendingRow],
    activities: &[String],
    departments: &[String],
    epoch: i64,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let created = ExcelDateTime::from_timestamp(epoch)
        .or_else(|_| ExcelDateTime::from_timestamp(315_532_800))?;
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(PENDING_SHEET)
            .set_creation_datetime(&created),
    );
    let activities = list_names(activities);
    let departments = list_names(departments);

    let header = CellFormat::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xD9D9D9))
        .set_border(FormatBorder::Thin);
    let fix_header = header.clone().set_background_color(Color::RGB(0xFFF2CC));
    let date = CellFormat::new().set_num_format("yyyy-mm-dd");

    let sheet = workbook.add_worksheet();
    sheet.set_name(PENDING_SHEET)?;
    let mut widths: Vec<usize> = PENDING_HEADERS.iter().map(|h| text_width(h)).collect();
    let mut grow = |col: usize, s: &str| widths[col] = widths[col].max(text_width(s));
    for r in rows {
        for (col, s) in r.texts().into_iter().enumerate() {
            grow(col, s);
        }
    }
    for name in &departments {
        grow(usize::from(COL_FIX_DEPARTMENT), name);
    }
    for name in &activities {
        grow(usize::from(COL_FIX_ACTIVITY), name);
    }
    grow(usize::from(COL_FIX_DATE), "2025-05-07");
    for (col, (width, max)) in widths.iter().zip(MAX_WIDTHS).enumerate() {
        // Whole characters: the bytes must not depend on float formatting subtleties.
        let width = (*width + 2).min(max.max(text_width(PENDING_HEADERS[col]) + 2));
        sheet.set_column_width(col as u16, width as u32)?;
    }
    sheet.set_column_format(COL_FIX_DATE, &date)?;
    for (col, name) in PENDING_HEADERS.iter().enumerate() {
        let format = if col >= usize::from(COL_FIX_DEPARTMENT) {
            &fix_header
        } else {
            &header
        };
        sheet.write_string_with_format(0, col as u16, *name, format)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    for (i, r) in rows.iter().enumerate() {
        let row =
            u32::try_from(i + 1).map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
        for (col, s) in r.texts().into_iter().enumerate() {
            if !s.is_empty() {
                sheet.write_string(row, col as u16, cell_text(s))?;
            }
        }
        let fix_date = trim(&r.fix_date);
        match NaiveDate::parse_from_str(fix_date, "%Y-%m-%d") {
            Ok(d) if (1900..=9999).contains(&d.year()) => {
                // A date cell, as Excel makes of a date a person types.
                let when =
                    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                sheet.write_datetime_with_format(row, COL_FIX_DATE, &when, &date)?;
            }
            _ if !fix_date.is_empty() => {
                sheet.write_string(row, COL_FIX_DATE, cell_text(fix_date))?;
            }
            _ => {}
        }
        if r.exclude {
            sheet.write_string(row, COL_EXCLUDE, "是")?;
        }
    }
    let data_rows = rows.len() as u32;
    sheet.autofilter(0, 0, data_rows, (PENDING_HEADERS.len() - 1) as u16)?;

    let last_row = data_rows
        .saturating_add(EMPTY_ROWS_WITH_LISTS)
        .min(1_048_575);
    let list = |column: &str,
                len: usize,
                what: &str|
     -> Result<DataValidation, rust_xlsxwriter::XlsxError> {
        DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "='{OPTIONS_SHEET}'!${column}$2:${column}${}",
                len + 1
            )))
            .set_error_title("不在列表中")?
            .set_error_message(format!(
                "请从下拉列表中选择已配置的{what}；列表以外的名称请先加入 dangan.toml。"
            ))
    };
    if !departments.is_empty() {
        let dv = list("B", departments.len(), "部门")?;
        sheet.add_data_validation(1, COL_FIX_DEPARTMENT, last_row, COL_FIX_DEPARTMENT, &dv)?;
    }
    if !activities.is_empty() {
        let dv = list("A", activities.len(), "活动")?;
        sheet.add_data_validation(1, COL_FIX_ACTIVITY, last_row, COL_FIX_ACTIVITY, &dv)?;
    }
    let exclude = DataValidation::new()
        .allow_list_strings(&["是"])?
        .set_error_title("只能填“是”")?
        .set_error_message("填“是”表示该文件不计入统计和材料检查；计入则留空。")?;
    sheet.add_data_validation(1, COL_EXCLUDE, last_row, COL_EXCLUDE, &exclude)?;

    let help = workbook.add_worksheet();
    help.set_name(HELP_SHEET)?;
    help.set_column_width(0, 100)?;
    let title = CellFormat::new().set_bold().set_font_size(14);
    let wrap = CellFormat::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    for (i, line) in HELP_LINES.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let format = if i == 0 { &title } else { &wrap };
        help.write_string_with_format(i as u32, 0, *line, format)?;
    }

    let options = workbook.add_worksheet();
    options.set_name(OPTIONS_SHEET)?;
    options.write_string_with_format(0, 0, "活动", &header)?;
    options.write_string_with_format(0, 1, "部门", &header)?;
    for (i, name) in activities.iter().enumerate() {
        options.write_string(i as u32 + 1, 0, *name)?;
    }
    for (i, name) in departments.iter().enumerate() {
        options.write_string(i as u32 + 1, 1, *name)?;
    }
    options.set_hidden(true);

    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::PathBuf;

    use rust_xlsxwriter::Worksheet;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn correction(row: u32, path: &str) -> CorrectionRow {
        CorrectionRow {
            row,
            path: path.to_string(),
            department: None,
            activity: None,
            date: None,
            exclude: false,
        }
    }

    /// A workbook whose first sheet `fill` writes, saved as `name` in a fresh directory.
    fn workbook_file(
        name: &str,
        fill: impl FnOnce(&mut Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = Workbook::new();
        fill(wb.add_worksheet()).unwrap();
        let path = dir.path().join(name);
        fs::write(&path, wb.save_to_buffer().unwrap()).unwrap();
        (dir, path)
    }

    fn file_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn pending(path: &str) -> PendingRow {
        PendingRow {
            path: path.to_string(),
            department: "教务处".to_string(),
            activity: "未归类".to_string(),
            date: "2025-05-07".to_string(),
            date_source: "文件名".to_string(),
            reason: "未归类".to_string(),
            fix_department: String::new(),
            fix_activity: String::new(),
            fix_date: String::new(),
            exclude: false,
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn a_workbook_filled_in_by_hand_reads_back_in_any_column_order() {
        let (_dir, path) = workbook_file(CORRECTIONS_XLSX, |s| {
            let date = CellFormat::new().set_num_format("yyyy/m/d");
            s.set_name("我的更正")?;
            // A title above the header, columns in another order, an extra column.
            s.write_string(0, 0, "2025 年活动周 更正")?;
            for (col, h) in [
                "备注",
                " 更正日期 ",
                "文件",
                "不计入",
                "更正活动",
                "更正部门",
            ]
            .iter()
            .enumerate()
            {
                s.write_string(2, col as u16, *h)?;
            }
            s.write_string(3, 0, "张老师说的")?;
            s.write_datetime_with_format(3, 1, &ExcelDateTime::from_ymd(2025, 5, 7)?, &date)?;
            s.write_string(3, 2, "inbox\\教务处\\启动仪式\\a.jpg")?;
            s.write_string(3, 4, "启动仪式")?;
            // Row 5 is blank.
            s.write_string(5, 1, "２０２５年５月７日")?;
            s.write_string(5, 2, " ./学生处/b.jpg ")?;
            s.write_string(5, 5, "学生处 ")?;
            s.write_string(6, 2, "团委/c.mp4")?;
            s.write_string(6, 3, " 是")?;
            // Untouched row of 待归类.xlsx, and a correction without a 文件.
            s.write_string(7, 2, "团委/d.mp4")?;
            s.write_string(8, 4, "启动仪式")?;
            // A date serial typed as a number, 否 and a blank activity.
            s.write_number(9, 1, 45784)?;
            s.write_string(9, 2, "团委/e.jpg")?;
            s.write_string(9, 3, "否")?;
            s.write_string(9, 4, "  ")?;
            Ok(())
        });
        let read = read(&path);
        assert_eq!(read.problems, Vec::<String>::new());
        assert_eq!(
            read.rows,
            vec![
                CorrectionRow {
                    activity: Some("启动仪式".into()),
                    date: day(2025, 5, 7),
                    ..correction(4, "教务处/启动仪式/a.jpg")
                },
                CorrectionRow {
                    department: Some("学生处".into()),
                    date: day(2025, 5, 7),
                    ..correction(6, "学生处/b.jpg")
                },
                CorrectionRow {
                    exclude: true,
                    ..correction(7, "团委/c.mp4")
                },
                CorrectionRow {
                    date: day(2025, 5, 7),
                    ..correction(10, "团委/e.jpg")
                },
            ]
        );
    }

    #[test]
    fn a_gb18030_csv_reads_back_with_the_rows_excel_shows() {
        let text = "文件,更正活动,更正日期,不计入\r\n\
                    教务处/x.jpg,技能竞赛,2025/5/7,\r\n\
                    \r\n\
                    \"教务处/多行\r\n说明.docx\",,2025.5.8,Y\r\n\
                    教务处/z.jpg,,,√\r\n";
        let (gb, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gb).is_err());
        let (_dir, path) = file_with(CORRECTIONS_CSV, &gb);
        let read = read(&path);
        assert_eq!(read.problems, Vec::<String>::new());
        assert_eq!(
            read.rows,
            vec![
                CorrectionRow {
                    activity: Some("技能竞赛".into()),
                    date: day(2025, 5, 7),
                    ..correction(2, "教务处/x.jpg")
                },
                CorrectionRow {
                    date: day(2025, 5, 8),
                    exclude: true,
                    ..correction(4, "教务处/多行\r\n说明.docx")
                },
                CorrectionRow {
                    exclude: true,
                    ..correction(5, "教务处/z.jpg")
                },
            ]
        );
    }

    #[test]
    fn csv_rows_count_blank_lines_with_either_line_end() {
        for end in ["\n", "\r\n", "\r"] {
            let text = [
                "文件,不计入",
                "",
                "",
                "a/1.jpg,是",
                "\"a/2\n.jpg\",是",
                "",
                "a/3.jpg,是",
                "",
            ]
            .join(end);
            let (_dir, path) = file_with(CORRECTIONS_CSV, text.as_bytes());
            let rows: Vec<u32> = read(&path).rows.iter().map(|r| r.row).collect();
            assert_eq!(rows, [4, 5, 7], "{end:?}");
        }
    }

    #[test]
    fn a_utf8_csv_with_bom_and_tabs_reads() {
        let text = "\u{FEFF}文件\t更正部门\n./inbox/教务处/a.jpg\t学生处\n";
        let (_dir, path) = file_with(CORRECTIONS_CSV, text.as_bytes());
        let read = read(&path);
        assert_eq!(read.problems, Vec::<String>::new());
        assert_eq!(
            read.rows,
            vec![CorrectionRow {
                department: Some("学生处".into()),
                ..correction(2, "教务处/a.jpg")
            }]
        );
    }

    #[test]
    fn a_bad_date_and_a_bad_exclude_each_name_their_row() {
        let (_dir, path) = workbook_file(CORRECTIONS_XLSX, |s| {
            for (col, h) in ["文件", "更正活动", "更正日期", "不计入"]
                .iter()
                .enumerate()
            {
                s.write_string(0, col as u16, *h)?;
            }
            s.write_string(1, 0, "教务处/a.jpg")?;
            s.write_string(1, 2, "5月32日")?;
            s.write_string(2, 0, "教务处/b.jpg")?;
            s.write_string(2, 1, "启动仪式")?;
            s.write_string(2, 3, "可能")?;
            s.write_string(3, 0, "教务处/c.jpg")?;
            s.write_string(3, 2, "2025-05-32")?;
            s.write_string(3, 3, "是")?;
            Ok(())
        });
        let read = read(&path);
        assert_eq!(
            read.problems,
            vec![
                "更正.xlsx 第 2 行：更正日期“5月32日”不是日期，已忽略",
                "更正.xlsx 第 3 行：不计入“可能”无法识别（填“是”表示不计入，否则留空），已忽略",
                "更正.xlsx 第 4 行：更正日期“2025-05-32”不是日期，已忽略",
            ]
        );
        // Row 2 had nothing else to correct; rows 3 and 4 keep what could be read.
        assert_eq!(
            read.rows,
            vec![
                CorrectionRow {
                    activity: Some("启动仪式".into()),
                    ..correction(3, "教务处/b.jpg")
                },
                CorrectionRow {
                    exclude: true,
                    ..correction(4, "教务处/c.jpg")
                },
            ]
        );
    }

    #[test]
    fn the_pending_workbook_round_trips_as_corrections() {
        let mut rows = vec![pending("教务处/a.jpg"), pending("教务处/b.jpg")];
        rows.push(PendingRow {
            fix_activity: "启动仪式".into(),
            fix_date: "2025-05-12".into(),
            ..pending("教务处/c.jpg")
        });
        rows.push(PendingRow {
            fix_department: "学生处".into(),
            exclude: true,
            ..pending("教务处/d.jpg")
        });
        let bytes = pending_xlsx(
            &rows,
            &names(&["启动仪式", "技能竞赛"]),
            &names(&["教务处", "学生处"]),
            1_746_585_600,
        )
        .unwrap();
        let (_dir, path) = file_with(CORRECTIONS_XLSX, &bytes);
        let read = read(&path);
        assert_eq!(read.problems, Vec::<String>::new());
        assert_eq!(
            read.rows,
            vec![
                CorrectionRow {
                    activity: Some("启动仪式".into()),
                    date: day(2025, 5, 12),
                    ..correction(4, "教务处/c.jpg")
                },
                CorrectionRow {
                    department: Some("学生处".into()),
                    exclude: true,
                    ..correction(5, "教务处/d.jpg")
                },
            ]
        );
    }

    #[test]
    fn an_untouched_pending_workbook_has_no_corrections_and_no_problems() {
        let bytes = pending_xlsx(&[pending("教务处/a.jpg")], &[], &[], 0).unwrap();
        let (_dir, path) = file_with(CORRECTIONS_XLSX, &bytes);
        assert_eq!(read(&path), CorrectionsRead::default());
        let empty = pending_xlsx(&[], &[], &[], 0).unwrap();
        let (_dir, path) = file_with(CORRECTIONS_XLSX, &empty);
        assert_eq!(read(&path), CorrectionsRead::default());
    }

    #[test]
    fn the_same_inputs_and_epoch_give_the_same_bytes() {
        let rows = vec![PendingRow {
            fix_date: "2025-05-12".into(),
            ..pending("教务处/a.jpg")
        }];
        let activities = names(&["启动仪式"]);
        let departments = names(&["教务处"]);
        let a = pending_xlsx(&rows, &activities, &departments, 1_746_585_600).unwrap();
        let b = pending_xlsx(&rows, &activities, &departments, 1_746_585_600).unwrap();
        assert_eq!(a, b);
        let later = pending_xlsx(&rows, &activities, &departments, 1_746_672_000).unwrap();
        assert_ne!(a, later);
        // An epoch Excel cannot hold is clamped, not an error.
        assert!(pending_xlsx(&rows, &activities, &departments, i64::MAX).is_ok());
    }

    #[test]
    fn the_drop_down_lists_reference_the_hidden_options_sheet() {
        // Long enough that an inline list (255 characters) could not hold it.
        let activities: Vec<String> = (1..=40).map(|i| format!("第{i}项职业教育活动")).collect();
        let departments = names(&["教务处", "学生处", "团委"]);
        let rows = vec![pending("教务处/a.jpg"), pending("教务处/b.jpg")];
        let bytes = pending_xlsx(&rows, &activities, &departments, 0).unwrap();

        let sheet1 = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(sheet1.contains("<dataValidation "), "{sheet1}");
        assert!(sheet1.contains("<dataValidations count=\"3\">"), "{sheet1}");
        // 2 data rows + 500 below: rows 2–503.
        assert!(
            sheet1.contains("sqref=\"H2:H503\"><formula1>'选项'!$A$2:$A$41</formula1>"),
            "{sheet1}"
        );
        assert!(
            sheet1.contains("sqref=\"G2:G503\"><formula1>'选项'!$B$2:$B$4</formula1>"),
            "{sheet1}"
        );
        assert!(
            sheet1.contains("sqref=\"J2:J503\"><formula1>\"是\"</formula1>"),
            "{sheet1}"
        );
        // Header frozen.
        assert!(sheet1.contains("<pane ySplit=\"1\""), "{sheet1}");

        let workbook = part(&bytes, "xl/workbook.xml");
        let order: Vec<usize> = [PENDING_SHEET, HELP_SHEET, OPTIONS_SHEET]
            .iter()
            .map(|n| workbook.find(&format!("<sheet name=\"{n}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{workbook}");
        assert!(
            workbook.contains("<sheet name=\"选项\" sheetId=\"3\" state=\"hidden\""),
            "{workbook}"
        );
        let strings = part(&bytes, "xl/sharedStrings.xml");
        assert!(strings.contains("第40项职业教育活动"));
        assert!(strings.contains("另存为"));
    }

    #[test]
    fn a_text_too_long_for_a_cell_is_cut_not_an_error() {
        let row = PendingRow {
            reason: "很长".repeat(20_000),
            ..pending("a/b.jpg")
        };
        assert!(pending_xlsx(&[row], &[], &[], 0).is_ok());
        assert_eq!(
            cell_text(&"x".repeat(40_000)).chars().count(),
            MAX_CELL_CHARS
        );
    }

    #[test]
    fn no_lists_when_nothing_is_configured() {
        let bytes = pending_xlsx(&[pending("a/b.jpg")], &[], &[], 0).unwrap();
        let sheet1 = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(sheet1.contains("<dataValidations count=\"1\">"), "{sheet1}");
    }

    #[test]
    fn a_missing_file_is_an_empty_result() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read(&dir.path().join(CORRECTIONS_XLSX)),
            CorrectionsRead::default()
        );
    }

    #[test]
    fn a_workbook_without_the_header_is_one_problem() {
        let (_dir, path) = workbook_file(CORRECTIONS_XLSX, |s| {
            // 文件 without any 更正 column is not the header.
            s.write_string(0, 0, "文件")?;
            s.write_string(0, 1, "活动")?;
            s.write_string(1, 0, "教务处/a.jpg")?;
            s.write_string(1, 1, "启动仪式")?;
            Ok(())
        });
        let read = read(&path);
        assert!(read.rows.is_empty());
        assert_eq!(read.problems.len(), 1, "{:?}", read.problems);
        assert!(read.problems[0].starts_with("更正.xlsx 找不到表头（需要“文件”列"));
    }

    #[test]
    fn the_header_must_be_in_the_first_30_rows() {
        let header_at = |row: u32| {
            workbook_file(CORRECTIONS_XLSX, move |s| {
                s.write_string(row, 0, "文件")?;
                s.write_string(row, 1, "不计入")?;
                s.write_string(row + 1, 0, "教务处/a.jpg")?;
                s.write_string(row + 1, 1, "是")?;
                Ok(())
            })
        };
        let (_dir, path) = header_at(29);
        assert_eq!(read(&path).rows.len(), 1);
        let (_dir, path) = header_at(30);
        let late = read(&path);
        assert!(late.rows.is_empty());
        assert!(late.problems[0].contains("找不到表头"));
    }

    #[test]
    fn problems_name_the_sheet_when_several_sheets_have_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = Workbook::new();
        for name in ["一", "二"] {
            let s = wb.add_worksheet();
            s.set_name(name).unwrap();
            s.write_string(0, 0, "文件").unwrap();
            s.write_string(0, 1, "更正日期").unwrap();
            s.write_string(1, 0, format!("{name}/a.jpg")).unwrap();
            s.write_string(1, 1, "不知道").unwrap();
            s.write_string(2, 0, format!("{name}/b.jpg")).unwrap();
            s.write_string(2, 1, "2025-05-09").unwrap();
        }
        let path = dir.path().join(CORRECTIONS_XLSX);
        fs::write(&path, wb.save_to_buffer().unwrap()).unwrap();
        let read = read(&path);
        assert_eq!(
            read.problems,
            vec![
                "更正.xlsx 工作表「一」第 2 行：更正日期“不知道”不是日期，已忽略",
                "更正.xlsx 工作表「二」第 2 行：更正日期“不知道”不是日期，已忽略",
            ]
        );
        let paths: Vec<&str> = read.rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["一/b.jpg", "二/b.jpg"]);
    }

    #[test]
    fn files_that_are_not_corrections_are_refused_with_a_problem() {
        let (_dir, path) = file_with(CORRECTIONS_XLSX, b"PK\x03\x04 not really a zip");
        let read1 = read(&path);
        assert!(read1.rows.is_empty());
        assert_eq!(read1.problems.len(), 1, "{:?}", read1.problems);
        assert!(read1.problems[0].starts_with("更正.xlsx"));

        let (_dir, path) = file_with(CORRECTIONS_XLSX, "文件,不计入\na.jpg,是\n".as_bytes());
        let text = read(&path);
        assert!(text.rows.is_empty());
        assert_eq!(text.problems.len(), 1, "{:?}", text.problems);
        assert!(
            text.problems[0].starts_with("更正.xlsx 不是表格文件（扩展名为 .xlsx"),
            "{:?}",
            text.problems
        );

        let (_dir, path) = file_with(CORRECTIONS_XLSX, b"");
        assert_eq!(
            read(&path).problems,
            vec!["更正.xlsx 是空文件（0 字节），未读取"]
        );

        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join(CORRECTIONS_XLSX);
        File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        assert_eq!(
            read(&big).problems,
            vec!["更正.xlsx 过大（21 MiB，上限 20 MiB），未读取"]
        );
    }

    #[test]
    fn a_cell_at_the_last_row_and_column_costs_nothing() {
        // `worksheet_range` would allocate 1048576 × 16384 cells here; streaming does not.
        let (_dir, path) = workbook_file(CORRECTIONS_XLSX, |s| {
            s.write_string(0, 0, "文件")?;
            s.write_string(0, 1, "不计入")?;
            s.write_string(1, 0, "a.jpg")?;
            s.write_string(1, 1, "是")?;
            s.write_string(1_048_575, 16_383, "x")?;
            Ok(())
        });
        let read = read(&path);
        assert_eq!(read.problems, Vec::<String>::new());
        assert_eq!(
            read.rows,
            vec![CorrectionRow {
                exclude: true,
                ..correction(2, "a.jpg")
            }]
        );
    }

    #[test]
    fn more_than_the_row_cap_stops_with_a_problem() {
        let mut text = String::from("文件,不计入\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("a/{i}.jpg,是\n"));
        }
        let (_dir, path) = file_with(CORRECTIONS_CSV, text.as_bytes());
        let read = read(&path);
        assert_eq!(read.rows.len() as u64, MAX_ROWS - 1);
        assert_eq!(
            read.problems,
            vec!["更正.csv 超过 100000 行的上限，其余内容未读取"]
        );
    }

    #[test]
    fn cells_mean_what_a_person_typed() {
        assert_eq!(normalize_path(" .\\inbox\\教务处\\a.jpg "), "教务处/a.jpg");
        assert_eq!(normalize_path("./././教务处/a.jpg"), "教务处/a.jpg");
        assert_eq!(normalize_path("inbox/./教务处/a.jpg"), "教务处/a.jpg");
        assert_eq!(normalize_path("教务处/inbox/a.jpg"), "教务处/inbox/a.jpg");
        assert_eq!(header_key(" 更正日期（YYYY-MM-DD）"), "更正日期");
        assert_eq!(header_key("更 正 部 门"), "更正部门");
        assert_eq!(header_key("（文件）"), "(文件)");
        for yes in ["是", " Y ", "yes", "TRUE", "1", "√", "✓", "１"] {
            assert_eq!(exclude_value(&Value::Text(yes.into())), Ok(true), "{yes}");
        }
        for no in ["否", "n", "No", "false", "0"] {
            assert_eq!(exclude_value(&Value::Text(no.into())), Ok(false), "{no}");
        }
        assert_eq!(exclude_value(&Value::Number(1.0)), Ok(true));
        assert_eq!(exclude_value(&Value::Bool(false)), Ok(false));
        assert_eq!(exclude_value(&Value::Text("x".into())), Err("x".into()));
        for (text, want) in [
            ("2025-05-07", day(2025, 5, 7)),
            ("2025/5/7", day(2025, 5, 7)),
            ("2025.5.7", day(2025, 5, 7)),
            ("2025年5月7日", day(2025, 5, 7)),
            ("２０２５－０５－０７", day(2025, 5, 7)),
            ("二〇二五年五月七日", day(2025, 5, 7)),
            ("2025-05-07 09:30", day(2025, 5, 7)),
        ] {
            assert_eq!(
                date_value(&Value::Text(text.into()), false).ok(),
                want,
                "{text}"
            );
        }
        assert_eq!(
            date_value(&Value::Number(45784.0), false).ok(),
            day(2025, 5, 7)
        );
        assert!(date_value(&Value::Number(12.0), false).is_err());
        assert!(date_value(&Value::Text("9:30".into()), false).is_err());
        let long = "很".repeat(100);
        let shown = date_value(&Value::Text(long), false).unwrap_err();
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
    }

    /// The calamine bombs of the shared corpus: a problem, never an abort.
    #[test]
    fn corpus_bombs_are_problems() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/spreadsheets");
        if !dir.is_dir() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        for (name, saved_as) in [
            ("issue_594_dos.ods", "更正.ods"),
            ("OOM_alloc3.xls", "更正.xls"),
            ("OOM_alloc3.xls", CORRECTIONS_XLSX),
        ] {
            let bytes = fs::read(dir.join(name)).unwrap();
            let (_tmp, path) = file_with(saved_as, &bytes);
            let read = read(&path);
            assert!(read.rows.is_empty(), "{name}");
            assert!(!read.problems.is_empty(), "{name}");
            assert!(
                read.problems[0].starts_with(saved_as),
                "{:?}",
                read.problems
            );
        }
    }
}
