//! The calamine formats. xlsx/xlsm/xlsb are streamed cell by cell (`worksheet_cells_reader`)
//! under the [`Limits`] caps; `worksheet_range` is called only for xls and ods, which have no
//! streaming reader and are meant to be read in the child process. A panic inside calamine is
//! caught and becomes the workbook's error.

use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use calamine::{Data, Ods, OdsError, Range, Reader, SheetType, Xls, XlsError, Xlsb, XlsbError};
use calamine::{Xlsx, XlsxError, open_workbook};

use super::build::{Cells, SheetBuilder};
use super::merge::{self, MergeFill, Region};
use super::value::{Value, from_data, from_data_ref};
use super::zipguard::{self, PASSWORD};
use super::{Limits, Workbook};
use crate::model::Format;

/// Highest column a real sheet has (XFD); cells beyond are ignored.
const MAX_COLUMNS: u32 = 16_384;

pub(crate) fn read_calc(path: &Path, format: Format, limits: &Limits) -> Workbook {
    if let Some(reason) = zipguard::refusal(path, format, limits) {
        return Workbook::failed(reason);
    }
    read_guarded(path, format, limits)
}

/// [`read_calc`] for a file that [`zipguard::refusal`] did not refuse under `limits`.
pub(crate) fn read_guarded(path: &Path, format: Format, limits: &Limits) -> Workbook {
    match catch_unwind(AssertUnwindSafe(|| read_checked(path, format, limits))) {
        Ok(wb) => wb,
        Err(_) => Workbook::failed("表格解析器内部出错（文件可能已损坏或是恶意构造的），无法读取"),
    }
}

fn read_checked(path: &Path, format: Format, limits: &Limits) -> Workbook {
    let mut out = Workbook::default();
    let mut budget = Budget::new(limits);
    match format {
        Format::Xlsx | Format::Xlsm => {
            let mut wb: Xlsx<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(XlsxError::Password) => return Workbook::failed(PASSWORD),
                Err(e) => return Workbook::failed(corrupt(&e)),
            };
            let date1904 = wb.has_1904_epoch();
            let mut regions = File::open(path)
                .ok()
                .and_then(|f| merge::xlsx_regions(BufReader::new(f)));
            for name in worksheet_names(&wb) {
                let mut b = SheetBuilder::new(&name, date1904);
                let found = match regions.as_mut() {
                    Some(r) => r.remove(&name).unwrap_or_default(),
                    None => wb
                        .merge_cells_by_sheet_name(&name)
                        .unwrap_or_default()
                        .iter()
                        .map(region)
                        .collect(),
                };
                let mut merges = MergeFill::new(found);
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => stream(&mut b, &mut budget, &mut merges, || {
                        cells
                            .next_cell()
                            .map(|c| {
                                c.map(|c| (c.get_position(), from_data_ref(c.get_value().clone())))
                            })
                            .map_err(|e| e.to_string())
                    }),
                    Err(XlsxError::NotAWorksheet(_)) => continue,
                    Err(e) => b.sheet_problem(format!("无法读取此工作表（{e}）")),
                }
                if b.is_media()
                    && let Ok(links) = wb.hyperlinks_by_sheet_name(&name)
                {
                    b.apply_links(links.iter().filter_map(|l| {
                        let t = l.target.as_deref()?;
                        Some((l.range.start, l.range.end, t))
                    }));
                }
                if !add(&mut out, b, &budget) {
                    break;
                }
            }
        }
        Format::Xlsb => {
            let mut wb: Xlsb<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(XlsbError::Password) => return Workbook::failed(PASSWORD),
                Err(e) => return Workbook::failed(corrupt(&e)),
            };
            let date1904 = wb.has_1904_epoch();
            for name in worksheet_names(&wb) {
                let mut b = SheetBuilder::new(&name, date1904);
                // calamine gives no merged regions for xlsb.
                let mut merges = MergeFill::default();
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut cells) => stream(&mut b, &mut budget, &mut merges, || {
                        cells
                            .next_cell()
                            .map(|c| {
                                c.map(|c| (c.get_position(), from_data_ref(c.get_value().clone())))
                            })
                            .map_err(|e| e.to_string())
                    }),
                    Err(e) => b.sheet_problem(format!("无法读取此工作表（{e}）")),
                }
                if !add(&mut out, b, &budget) {
                    break;
                }
            }
        }
        Format::Xls => {
            let mut wb: Xls<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(XlsError::Password) => return Workbook::failed(PASSWORD),
                Err(e) => return Workbook::failed(corrupt(&e)),
            };
            let date1904 = wb.has_1904_epoch();
            for name in worksheet_names(&wb) {
                let range = wb.worksheet_range(&name).map_err(|e| e.to_string());
                let merges = MergeFill::new(
                    wb.merge_cells_by_sheet_name(&name)
                        .unwrap_or_default()
                        .iter()
                        .map(region),
                );
                if !whole_sheet(&mut out, &mut budget, &name, date1904, range, merges) {
                    break;
                }
            }
        }
        Format::Ods => {
            let mut wb: Ods<BufReader<File>> = match open_workbook(path) {
                Ok(wb) => wb,
                Err(OdsError::Password) => return Workbook::failed(PASSWORD),
                Err(e) => return Workbook::failed(corrupt(&e)),
            };
            let mut regions = File::open(path)
                .map(|f| merge::ods_regions(BufReader::new(f)))
                .unwrap_or_default();
            for name in worksheet_names(&wb) {
                let range = wb.worksheet_range(&name).map_err(|e| e.to_string());
                let merges = MergeFill::new(regions.remove(&name).unwrap_or_default());
                if !whole_sheet(&mut out, &mut budget, &name, false, range, merges) {
                    break;
                }
            }
        }
        other => {
            return Workbook::failed(format!("{} 不是 calamine 能读的表格格式", other.as_str()));
        }
    }
    out.cut_short = budget.exhausted;
    out
}

fn region(d: &calamine::Dimensions) -> Region {
    Region {
        top: d.start.0,
        left: d.start.1,
        bottom: d.end.0,
        right: d.end.1,
    }
}

fn corrupt(e: &dyn std::fmt::Display) -> String {
    format!("表格文件已损坏或格式不对，无法读取（{e}）")
}

fn worksheet_names<RS, R>(wb: &R) -> Vec<String>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    wb.sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

/// Moves a finished sheet into the workbook; false when the caps say stop reading.
fn add(out: &mut Workbook, b: SheetBuilder, budget: &Budget) -> bool {
    let (sheet, problems) = b.finish();
    out.sheets.push(sheet);
    out.problems.extend(problems);
    !budget.exhausted
}

fn whole_sheet(
    out: &mut Workbook,
    budget: &mut Budget,
    name: &str,
    date1904: bool,
    range: Result<Range<Data>, String>,
    mut merges: MergeFill,
) -> bool {
    let mut b = SheetBuilder::new(name, date1904);
    match range {
        Ok(range) => {
            let (r0, c0) = range.start().unwrap_or((0, 0));
            for (i, row) in range.rows().enumerate() {
                if !b.wants_more() {
                    break;
                }
                let mut cells: Cells = Vec::new();
                let mut stop = budget.row().err();
                for (j, d) in row.iter().enumerate() {
                    if matches!(d, Data::Empty) || stop.is_some() {
                        continue;
                    }
                    let v = from_data(d);
                    stop = budget.cell(v.text_len()).err();
                    cells.push((c0.saturating_add(j as u32), v));
                }
                let row0 = r0.saturating_add(i as u32);
                let added = merges.fill(row0, &mut cells, b.header_row0());
                if stop.is_none() {
                    stop = budget.cells(added).err();
                }
                b.push_row(row0, &cells);
                if let Some(reason) = stop {
                    b.sheet_problem(reason);
                    break;
                }
            }
        }
        Err(e) => b.sheet_problem(format!("无法读取此工作表（{e}）")),
    }
    add(out, b, budget)
}

type Pos = (u32, u32);

/// Feeds a stream of cells (in file order) to the builder, row by row, under the caps.
fn stream<F>(b: &mut SheetBuilder, budget: &mut Budget, merges: &mut MergeFill, mut next: F)
where
    F: FnMut() -> Result<Option<(Pos, Value)>, String>,
{
    let mut current: Option<u32> = None;
    let mut cells: Cells = Vec::new();
    let stop = loop {
        if !b.wants_more() {
            break None;
        }
        let ((r, c), v) = match next() {
            Ok(Some(cell)) => cell,
            Ok(None) => break None,
            Err(e)
                if e.to_string()
                    .contains("larger than its declared uncompressed size") =>
            {
                break Some(
                    "工作表解压后比文件声明的大小更大（疑似压缩炸弹），已停止读取，其余内容未读取"
                        .to_string(),
                );
            }
            Err(e) => break Some(format!("工作表读到一半出错，其余内容未读取（{e}）")),
        };
        if let Err(reason) = budget.cell(v.text_len()) {
            break Some(reason);
        }
        if current != Some(r) {
            if let Some(prev) = current {
                let added = merges.fill(prev, &mut cells, b.header_row0());
                b.push_row(prev, &cells);
                cells.clear();
                if let Err(reason) = budget.cells(added) {
                    break Some(reason);
                }
            }
            current = Some(r);
            if let Err(reason) = budget.row() {
                break Some(reason);
            }
        }
        if c < MAX_COLUMNS && !v.is_blank() {
            cells.push((c, v));
        }
    };
    if let Some(prev) = current {
        merges.fill(prev, &mut cells, b.header_row0());
        b.push_row(prev, &cells);
    }
    if let Some(reason) = stop {
        b.sheet_problem(reason);
    }
}

/// What is left of the [`Limits`] for this workbook.
struct Budget {
    rows: u64,
    cells: u64,
    text: u64,
    limits: Limits,
    exhausted: bool,
    started: std::time::Instant,
}

impl Budget {
    fn new(limits: &Limits) -> Budget {
        Budget {
            rows: 0,
            cells: 0,
            text: 0,
            limits: *limits,
            exhausted: false,
            started: std::time::Instant::now(),
        }
    }

    fn row(&mut self) -> Result<(), String> {
        self.rows += 1;
        if self.rows > self.limits.max_rows {
            self.exhausted = true;
            return Err(format!(
                "表格过大：超过 {} 行的上限，其余内容未读取",
                self.limits.max_rows
            ));
        }
        Ok(())
    }

    /// Cells added by filling merged regions: counted like read ones.
    fn cells(&mut self, n: usize) -> Result<(), String> {
        for _ in 0..n {
            self.cell(0)?;
        }
        Ok(())
    }

    fn cell(&mut self, text_len: usize) -> Result<(), String> {
        self.cells += 1;
        self.text = self.text.saturating_add(text_len as u64);
        if self.cells > self.limits.max_cells {
            self.exhausted = true;
            return Err(format!(
                "表格过大：超过 {} 个单元格的上限，其余内容未读取",
                self.limits.max_cells
            ));
        }
        if self.cells.is_multiple_of(1024)
            && self.started.elapsed().as_secs() >= self.limits.max_seconds
        {
            self.exhausted = true;
            return Err(format!(
                "读取超过 {} 秒仍未读完，已停止，其余内容未读取",
                self.limits.max_seconds
            ));
        }
        if self.text > self.limits.max_text_bytes {
            self.exhausted = true;
            return Err(format!(
                "表格过大：文字超过 {} MiB 的上限，其余内容未读取",
                self.limits.max_text_bytes / (1024 * 1024)
            ));
        }
        Ok(())
    }
}
