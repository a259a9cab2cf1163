//! "xls" files that are not xls: what school systems (教务系统, 学工系统) export under an
//! `.xls`/`.xlsx`/`.et` name is often an HTML page with a `<table>`, or an Excel 2003 XML
//! Spreadsheet (`<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`). Both are
//! read here as sheets: each HTML table (or each `<Worksheet>`) is one sheet; `rowspan`/
//! `colspan` and `ss:MergeDown`/`ss:MergeAcross` are merged regions, filled like any other.
//!
//! Like xls and ods these are read whole (html5ever builds a DOM), so they are read in the
//! child process under the same memory and time limits; here a size cap refuses a file before
//! parsing, and the cell caps of [`Limits`] bound what is kept.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use scraper::{ElementRef, Html};

use super::build::{Cells, SheetBuilder};
use super::merge::{MergeFill, Region};
use super::value::Value;
use super::{Limits, Workbook};

/// Largest markup "xls" read (a 5 000-row export is a few MB).
const MAX_MARKUP_BYTES: u64 = 64 * 1024 * 1024;
/// Columns one row may span (a hostile `colspan="100000"`).
const MAX_SPAN: u32 = 1_000;

fn read_text(path: &Path, limits: &Limits) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("无法打开表格文件：{e}"))?
        .len();
    let cap = MAX_MARKUP_BYTES.min(limits.max_csv_bytes);
    if size > cap {
        return Err(format!(
            "网页/XML 表格文件过大（{} MiB，上限 {} MiB），拒绝读取",
            size / (1024 * 1024),
            cap / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("无法读取表格文件：{e}"))?;
    Ok(super::csvfile::decode(&bytes))
}

/// One sheet's rows as positioned cells, and its merged regions, fed to a builder.
struct Grid {
    name: String,
    rows: Vec<(u32, Cells)>,
    regions: Vec<Region>,
}

fn build(out: &mut Workbook, grid: Grid, limits: &Limits) {
    let mut b = SheetBuilder::new(&grid.name, false);
    let mut merges = MergeFill::new(grid.regions);
    let mut cells_seen: u64 = 0;
    for (row0, mut cells) in grid.rows {
        if !b.wants_more() {
            break;
        }
        merges.fill(row0, &mut cells, b.header_row0());
        cells_seen += cells.len() as u64;
        if cells_seen > limits.max_cells || u64::from(row0) >= limits.max_rows {
            b.sheet_problem("表格过大：超过单元格或行数上限，其余内容未读取".to_string());
            break;
        }
        b.push_row(row0, &cells);
    }
    let (sheet, problems) = b.finish();
    out.sheets.push(sheet);
    out.problems.extend(problems);
}

/// An HTML page's tables, one sheet each (`表1`, `表2`…, or the table's caption).
pub(crate) fn read_html(path: &Path, limits: &Limits) -> Workbook {
    let text = match read_text(path, limits) {
        Ok(t) => t,
        Err(e) => return Workbook::failed(e),
    };
    html_workbook(&text, limits)
}

pub(crate) fn html_workbook(text: &str, limits: &Limits) -> Workbook {
    let doc = Html::parse_document(text);
    let mut out = Workbook::default();
    let tables: Vec<ElementRef<'_>> = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "table")
        .collect();
    for (i, table) in tables.into_iter().enumerate() {
        let caption = children(table, &["caption"])
            .next()
            .map(|c| clean(&c.text().collect::<String>()))
            .filter(|c| !c.is_empty());
        let name = caption.unwrap_or_else(|| format!("表{}", i + 1));
        let mut grid = Grid {
            name,
            rows: Vec::new(),
            regions: Vec::new(),
        };
        // Columns still taken by a rowspan from above: column → last row it covers.
        let mut taken: Vec<(u32, u32)> = Vec::new();
        let rows = children(table, &["tr"]).chain(
            children(table, &["thead", "tbody", "tfoot"]).flat_map(|g| children(g, &["tr"])),
        );
        for (r, tr) in rows.enumerate() {
            let row0 = r as u32;
            taken.retain(|&(_, last)| last >= row0);
            let mut col: u32 = 0;
            let mut cells: Cells = Vec::new();
            for td in children(tr, &["td", "th"]) {
                while taken.iter().any(|&(c, _)| c == col) {
                    col += 1;
                }
                let span = |a: &str| {
                    td.attr(a)
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .unwrap_or(1)
                        .clamp(1, MAX_SPAN)
                };
                let (rs, cs) = (span("rowspan"), span("colspan"));
                let text = clean(&td.text().collect::<Vec<_>>().join(" "));
                if !text.is_empty() {
                    cells.push((col, Value::Text(text)));
                }
                if rs > 1 || cs > 1 {
                    grid.regions.push(Region {
                        top: row0,
                        left: col,
                        bottom: row0 + rs - 1,
                        right: col + cs - 1,
                    });
                }
                if rs > 1 {
                    for c in col..col + cs {
                        taken.push((c, row0 + rs - 1));
                    }
                }
                col = col.saturating_add(cs);
            }
            grid.rows.push((row0, cells));
        }
        build(&mut out, grid, limits);
    }
    if out.sheets.is_empty() {
        out.error = Some("网页格式的表格里没有表格（<table>），无法按表格读取".to_string());
    }
    out
}

fn children<'a>(e: ElementRef<'a>, names: &'a [&str]) -> impl Iterator<Item = ElementRef<'a>> {
    e.children()
        .filter_map(ElementRef::wrap)
        .filter(move |c| names.contains(&c.value().name()))
}

/// Cell text: whitespace (and `&nbsp;`) runs collapsed to one space, trimmed.
fn clean(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An Excel 2003 XML Spreadsheet: each `<Worksheet ss:Name>` is a sheet.
pub(crate) fn read_xml2003(path: &Path, limits: &Limits) -> Workbook {
    let text = match read_text(path, limits) {
        Ok(t) => t,
        Err(e) => return Workbook::failed(e),
    };
    match xml_workbook(&text, limits) {
        Ok(wb) => wb,
        Err(e) => Workbook::failed(format!("XML 表格文件已损坏，无法读取（{e}）")),
    }
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        let key = a.key.as_ref();
        let name = key.rsplit(':').next().unwrap_or(key);
        (name == local).then(|| {
            quick_xml::escape::unescape(&a.value)
                .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
        })
    })
}

fn local_name(e: &BytesStart<'_>) -> String {
    let n = e.name();
    let n = n.as_ref();
    n.rsplit(':').next().unwrap_or(n).to_string()
}

pub(crate) fn xml_workbook(text: &str, limits: &Limits) -> quick_xml::Result<Workbook> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Workbook::default();
    let mut grid: Option<Grid> = None;
    let mut row0: u32 = 0;
    let mut col: u32 = 0;
    let mut cells: Cells = Vec::new();
    let mut in_row = false;
    // The cell being read: its column, type and text.
    let mut data: Option<(u32, String, String)> = None;
    loop {
        match reader.read_event()? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if local_name(&e) == "Worksheet" => {
                if let Some(g) = grid.take() {
                    build(&mut out, g, limits);
                }
                grid = Some(Grid {
                    name: attr(&e, "Name").unwrap_or_else(|| format!("表{}", out.sheets.len() + 1)),
                    rows: Vec::new(),
                    regions: Vec::new(),
                });
                row0 = 0;
            }
            Event::Start(e) if local_name(&e) == "Row" => {
                if let Some(i) = attr(&e, "Index").and_then(|i| i.parse::<u32>().ok()) {
                    row0 = i.saturating_sub(1);
                }
                col = 0;
                cells = Vec::new();
                in_row = true;
            }
            Event::Empty(e) if local_name(&e) == "Row" => {
                if let Some(i) = attr(&e, "Index").and_then(|i| i.parse::<u32>().ok()) {
                    row0 = i.saturating_sub(1);
                }
                row0 = row0.saturating_add(1);
            }
            Event::Start(e) | Event::Empty(e) if local_name(&e) == "Cell" && in_row => {
                if let Some(i) = attr(&e, "Index").and_then(|i| i.parse::<u32>().ok()) {
                    col = i.saturating_sub(1);
                }
                let across = attr(&e, "MergeAcross")
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
                    .min(MAX_SPAN);
                let down = attr(&e, "MergeDown")
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
                    .min(MAX_SPAN * 100);
                if (across > 0 || down > 0)
                    && let Some(g) = grid.as_mut()
                {
                    g.regions.push(Region {
                        top: row0,
                        left: col,
                        bottom: row0.saturating_add(down),
                        right: col.saturating_add(across),
                    });
                }
                data = Some((col, String::new(), String::new()));
                col = col.saturating_add(across + 1);
            }
            Event::Start(e) if local_name(&e) == "Data" => {
                if let Some(d) = data.as_mut() {
                    d.1 = attr(&e, "Type").unwrap_or_default();
                }
            }
            Event::Text(t) => {
                if let Some(d) = data.as_mut() {
                    d.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(d) = data.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        d.2.push(c);
                    } else {
                        let name: &str = r.as_ref();
                        if let Ok(c) = quick_xml::escape::unescape(&format!("&{name};")) {
                            d.2.push_str(&c);
                        }
                    }
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Cell" => {
                if let Some((c, typ, text)) = data.take() {
                    let v = match typ.as_str() {
                        "Number" => text
                            .trim()
                            .parse::<f64>()
                            .map_or(Value::Text(text.clone()), Value::Number),
                        _ => Value::Text(text),
                    };
                    if !v.is_blank() {
                        cells.push((c, v));
                    }
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Row" => {
                if let Some(g) = grid.as_mut() {
                    g.rows.push((row0, std::mem::take(&mut cells)));
                }
                row0 = row0.saturating_add(1);
                in_row = false;
            }
            _ => {}
        }
    }
    if let Some(g) = grid.take() {
        build(&mut out, g, limits);
    }
    if out.sheets.is_empty() {
        out.error = Some("XML 表格文件里没有工作表（Worksheet），无法按表格读取".to_string());
    }
    Ok(out)
}

/// Whether a docx's tables are worth reading as sheets: a 签到表 or 媒体报道登记 made in Word
/// says so in its name. Other documents (a 方案 listing its 工作小组 with 姓名 and 职务) are
/// not sign-in sheets, and their people must not be counted.
pub fn docx_may_hold_sheets(file_name: &str) -> bool {
    let key = crate::text::match_key(file_name);
    ["签到", "报道", "登记", "名单", "名册"]
        .iter()
        .any(|w| key.contains(w))
}

/// The tables of a docx (`word/document.xml`), one sheet each (`表1`, `表2`…); only the tables
/// recognised as 签到表, 媒体报道登记 or 申报统计 are kept (a form's layout table is not an
/// unrecognised sheet). `w:gridSpan` and `w:vMerge` are merged regions.
pub(crate) fn read_docx(path: &Path, limits: &Limits) -> Workbook {
    use std::io::Read;
    let xml = (|| {
        let file = std::fs::File::open(path).map_err(|e| format!("无法打开文档：{e}"))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| format!("文档已损坏，无法读取其中的表格（{e}）"))?;
        let part = zip
            .by_name("word/document.xml")
            .map_err(|e| format!("文档缺少正文，无法读取其中的表格（{e}）"))?;
        let mut bytes = Vec::new();
        part.take(MAX_MARKUP_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("文档已损坏，无法读取其中的表格（{e}）"))?;
        if bytes.len() as u64 > MAX_MARKUP_BYTES {
            return Err("文档正文过大，未读取其中的表格".to_string());
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    })();
    let xml = match xml {
        Ok(x) => x,
        Err(e) => return Workbook::failed(e),
    };
    let mut wb = match docx_workbook(&xml, limits) {
        Ok(wb) => wb,
        Err(e) => return Workbook::failed(format!("文档已损坏，无法读取其中的表格（{e}）")),
    };
    let kept: Vec<String> = wb
        .sheets
        .iter()
        .filter(|s| s.kind != super::SheetKind::Unrecognised)
        .map(|s| s.name.clone())
        .collect();
    wb.sheets.retain(|s| kept.contains(&s.name));
    wb.problems.retain(|p| kept.contains(&p.sheet));
    wb
}

pub(crate) fn docx_workbook(xml: &str, limits: &Limits) -> quick_xml::Result<Workbook> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Workbook::default();
    let mut depth = 0u32;
    let mut grid: Option<Grid> = None;
    let mut row0: u32 = 0;
    let mut col: u32 = 0;
    let mut cells: Cells = Vec::new();
    // The cell being read: its text, its column span, its vertical merge (None, restart, continue).
    let mut cell: Option<(String, u32, Option<bool>)> = None;
    // Column → index of the region a vertical merge started there.
    let mut open: Vec<(u32, usize)> = Vec::new();
    let mut tables = 0usize;
    loop {
        let ev = reader.read_event()?;
        let (e, start) = match &ev {
            Event::Eof => break,
            Event::Start(e) => (Some(e), true),
            Event::Empty(e) => (Some(e), false),
            _ => (None, false),
        };
        if let Some(e) = e {
            match local_name(e).as_str() {
                "tbl" if start => {
                    depth += 1;
                    if depth == 1 {
                        tables += 1;
                        grid = Some(Grid {
                            name: format!("表{tables}"),
                            rows: Vec::new(),
                            regions: Vec::new(),
                        });
                        row0 = 0;
                        open.clear();
                    }
                }
                "tr" if start && depth == 1 => {
                    col = 0;
                    cells = Vec::new();
                }
                "tc" if start && depth == 1 => cell = Some((String::new(), 1, None)),
                "gridSpan" if depth == 1 => {
                    if let Some(c) = cell.as_mut() {
                        c.1 = attr(e, "val")
                            .and_then(|v| v.parse::<u32>().ok())
                            .unwrap_or(1)
                            .clamp(1, MAX_SPAN);
                    }
                }
                "vMerge" if depth == 1 => {
                    if let Some(c) = cell.as_mut() {
                        c.2 = Some(attr(e, "val").as_deref() == Some("restart"));
                    }
                }
                "tab" | "br" => {
                    if let Some(c) = cell.as_mut() {
                        c.0.push(' ');
                    }
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Text(t) => {
                if let Some(c) = cell.as_mut() {
                    c.0.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = cell.as_mut() {
                    if let Ok(Some(ch)) = r.resolve_char_ref() {
                        c.0.push(ch);
                    } else if let Ok(t) = quick_xml::escape::unescape(&format!("&{};", &*r)) {
                        c.0.push_str(&t);
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "p" => {
                    if let Some(c) = cell.as_mut() {
                        c.0.push(' ');
                    }
                }
                "tc" if depth == 1 => {
                    if let Some((text, span, vmerge)) = cell.take() {
                        let g = grid.as_mut();
                        match (vmerge, g) {
                            (Some(true), Some(g)) => {
                                open.retain(|(c, _)| *c != col);
                                open.push((col, g.regions.len()));
                                g.regions.push(Region {
                                    top: row0,
                                    left: col,
                                    bottom: row0,
                                    right: col + span - 1,
                                });
                            }
                            (Some(false), Some(g)) => {
                                if let Some(&(_, i)) = open.iter().find(|(c, _)| *c == col)
                                    && let Some(r) = g.regions.get_mut(i)
                                {
                                    r.bottom = row0;
                                }
                            }
                            _ => {
                                if span > 1
                                    && let Some(g) = grid.as_mut()
                                {
                                    g.regions.push(Region {
                                        top: row0,
                                        left: col,
                                        bottom: row0,
                                        right: col + span - 1,
                                    });
                                }
                            }
                        }
                        let text = clean(&text);
                        if vmerge != Some(false) && !text.is_empty() {
                            cells.push((col, Value::Text(text)));
                        }
                        col = col.saturating_add(span);
                    }
                }
                "tr" if depth == 1 => {
                    if let Some(g) = grid.as_mut() {
                        g.rows.push((row0, std::mem::take(&mut cells)));
                    }
                    row0 += 1;
                }
                "tbl" => {
                    if depth == 1
                        && let Some(g) = grid.take()
                    {
                        build(&mut out, g, limits);
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_table_with_spans_is_a_sheet() {
        let html = r#"<html><head><meta charset="utf-8"></head><body>
            <table border="1">
              <tr><td colspan="4">2025年活动周 教师签到表</td></tr>
              <tr><th>姓名</th><th>工号</th><th>身份</th><th>单位</th></tr>
              <tr><td>张老师</td><td>T01</td><td rowspan="2">教师</td><td>机电工程学院</td></tr>
              <tr><td>李老师</td><td>T02</td><td>机电&nbsp;工程学院</td></tr>
            </table></body></html>"#;
        let wb = html_workbook(html, &Limits::default());
        assert_eq!(wb.error, None);
        let s = &wb.sheets[0];
        assert_eq!(s.name, "表1");
        assert_eq!(s.header_row, Some(2));
        assert_eq!(s.title.as_deref(), Some("2025年活动周 教师签到表"));
        let rows: Vec<_> = s
            .sign_in
            .iter()
            .map(|r| (r.name.as_str(), r.role.as_deref(), r.unit.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("张老师", Some("教师"), Some("机电工程学院")),
                ("李老师", Some("教师"), Some("机电 工程学院"))
            ]
        );
    }

    #[test]
    fn the_tables_of_a_docx_are_sheets_with_vertical_merges() {
        let cell = |t: &str, extra: &str| {
            format!("<w:tc><w:tcPr>{extra}</w:tcPr><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:tc>")
        };
        let row = |cells: Vec<String>| format!("<w:tr>{}</w:tr>", cells.concat());
        let xml = format!(
            "<w:document><w:body><w:p><w:r><w:t>启动仪式签到表</w:t></w:r></w:p><w:tbl>{}{}{}{}</w:tbl>             <w:tbl>{}</w:tbl></w:body></w:document>",
            row(vec![cell("姓名", ""), cell("身份", ""), cell("单位", "")]),
            row(vec![
                cell("张三", ""),
                cell("学生", "<w:vMerge w:val=\"restart\"/>"),
                cell("机电2301班", "")
            ]),
            row(vec![
                cell("李四", ""),
                cell("", "<w:vMerge/>"),
                cell("机电2302班", "")
            ]),
            row(vec![
                cell("王五", ""),
                cell("教师", ""),
                cell("教务科研处", "")
            ]),
            row(vec![cell("职务", ""), cell("负责人", "")]),
        );
        let wb = docx_workbook(&xml, &Limits::default()).unwrap();
        assert_eq!(wb.sheets.len(), 2);
        let roles: Vec<_> = wb.sheets[0]
            .sign_in
            .iter()
            .map(|r| (r.name.as_str(), r.role.as_deref()))
            .collect();
        assert_eq!(
            roles,
            [
                ("张三", Some("学生")),
                ("李四", Some("学生")),
                ("王五", Some("教师"))
            ]
        );
        assert!(docx_may_hold_sheets("启动仪式签到表.docx"));
        assert!(!docx_may_hold_sheets("启动仪式方案.docx"));
    }

    #[test]
    fn an_xml_spreadsheet_2003_is_a_workbook() {
        let xml = r#"<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="签到">
  <Table>
   <Row><Cell ss:MergeAcross="2"><Data ss:Type="String">学生签到表</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">姓名</Data></Cell><Cell><Data ss:Type="String">学号</Data></Cell><Cell><Data ss:Type="String">班级</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">张三</Data></Cell><Cell><Data ss:Type="Number">2023000001</Data></Cell><Cell ss:MergeDown="1"><Data ss:Type="String">机电2301班</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">李&amp;四</Data></Cell><Cell><Data ss:Type="Number">2023000002</Data></Cell></Row>
   <Row ss:Index="7"><Cell ss:Index="1"><Data ss:Type="String">王五</Data></Cell></Row>
  </Table>
 </Worksheet>
</Workbook>"#;
        let wb = xml_workbook(xml, &Limits::default()).unwrap();
        let s = &wb.sheets[0];
        assert_eq!(s.name, "签到");
        let rows: Vec<_> = s
            .sign_in
            .iter()
            .map(|r| (r.row, r.name.as_str(), r.id.as_deref(), r.unit.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                (3, "张三", Some("2023000001"), Some("机电2301班")),
                (4, "李&四", Some("2023000002"), Some("机电2301班")),
                (7, "王五", None, None)
            ]
        );
    }
}
