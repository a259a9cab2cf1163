//! Merged cells (DESIGN.md, *Spreadsheets*): a value merged down over several rows (a 身份 or
//! 单位 block) or across several columns belongs to every cell it covers. The formats keep the
//! value only in the region's top-left cell; [`MergeFill`] copies it into the covered cells as
//! the rows stream past, so the sheet builder sees every row complete.
//!
//! Only regions that start below the header are filled: a merged title or a header merged over
//! two lines (活动名称 beside 参与人数 over 教师数/学生数) is read by the header search as it is.
//! Where the regions come from: xlsx/xlsb and xls through calamine; ods from `content.xml`'s
//! `table:number-rows-spanned`/`number-columns-spanned` attributes (calamine does not expose
//! them), read here. Never fills more than [`MAX_ACROSS`] columns of a region or keeps more
//! than [`MAX_REGIONS`] regions, so a hostile `A1:XFD1048576` merge costs nothing.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};

use quick_xml::events::{BytesStart, Event};

use super::build::Cells;
use super::value::Value;

/// Columns of one region that are filled (a sign-in sheet has a dozen columns).
pub(crate) const MAX_ACROSS: u32 = 64;
/// Regions kept per sheet.
pub(crate) const MAX_REGIONS: usize = 200_000;

/// A merged region, 0-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub top: u32,
    pub left: u32,
    pub bottom: u32,
    pub right: u32,
}

/// Fills covered cells while rows are fed in increasing order.
#[derive(Debug, Default)]
pub(crate) struct MergeFill {
    /// By top row.
    regions: Vec<Region>,
    next: usize,
    /// Regions whose top row was seen, with the value to copy.
    active: Vec<(Region, Value)>,
}

impl MergeFill {
    pub(crate) fn new(regions: impl IntoIterator<Item = Region>) -> MergeFill {
        let mut regions: Vec<Region> = regions
            .into_iter()
            .filter(|r| r.bottom >= r.top && r.right >= r.left)
            .filter(|r| r.bottom > r.top || r.right > r.left)
            .map(|r| Region {
                right: r.right.min(r.left.saturating_add(MAX_ACROSS - 1)),
                ..r
            })
            .take(MAX_REGIONS)
            .collect();
        regions.sort_by_key(|r| (r.top, r.left));
        MergeFill {
            regions,
            next: 0,
            active: Vec::new(),
        }
    }

    /// Fills the blank cells of row `row0` that a region covers. `header0` is the 0-based
    /// header row as known before this row (`None`: no header yet); a region is filled only
    /// when its top row is below it. Returns how many cells were added.
    pub(crate) fn fill(&mut self, row0: u32, cells: &mut Cells, header0: Option<u32>) -> usize {
        if self.regions.is_empty() {
            return 0;
        }
        self.active.retain(|(r, _)| r.bottom >= row0);
        while let Some(r) = self.regions.get(self.next).copied() {
            if r.top > row0 {
                break;
            }
            self.next += 1;
            if r.top < row0 || header0.is_none_or(|h| r.top <= h) {
                continue;
            }
            let value = cells
                .iter()
                .find(|(c, _)| *c == r.left)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_blank());
            if let Some(v) = value {
                self.active.push((r, v));
            }
        }
        let mut added = 0;
        for (r, v) in &self.active {
            for col in r.left..=r.right {
                match cells.iter_mut().find(|(c, _)| *c == col) {
                    Some((_, existing)) if existing.is_blank() => *existing = v.clone(),
                    Some(_) => {}
                    None => {
                        cells.push((col, v.clone()));
                        added += 1;
                    }
                }
            }
        }
        if added > 0 {
            cells.sort_by_key(|(c, _)| *c);
        }
        added
    }
}

/// The merged regions of every sheet of an ods, by sheet name, from its `content.xml`. An
/// unreadable part gives no regions (the cells are still read by calamine).
pub(crate) fn ods_regions<R: Read + Seek>(file: R) -> HashMap<String, Vec<Region>> {
    let mut out = HashMap::new();
    let Ok(mut zip) = zip::ZipArchive::new(file) else {
        return out;
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return out;
    };
    let _ = read_ods_content(BufReader::new(content), &mut out);
    out
}

/// The merged regions of every sheet of an xlsx/xlsm, by sheet name, found without parsing the
/// sheets' XML a second time: each sheet part is inflated and searched for `</sheetData>`, and
/// only what follows (where `<mergeCells>` lives) is parsed. `None` when the parts cannot be
/// located (the caller then asks calamine, which parses the whole sheet again).
pub(crate) fn xlsx_regions<R: Read + Seek>(file: R) -> Option<HashMap<String, Vec<Region>>> {
    let mut zip = zip::ZipArchive::new(file).ok()?;
    let workbook = read_part(&mut zip, "xl/workbook.xml", 16 << 20)?;
    let rels = read_part(&mut zip, "xl/_rels/workbook.xml.rels", 16 << 20)?;
    let targets = relationship_targets(&rels);
    let mut out = HashMap::new();
    for (name, rid) in workbook_sheets(&workbook) {
        let Some(target) = targets.iter().find(|(id, _)| *id == rid).map(|(_, t)| t) else {
            continue;
        };
        let part = match target.strip_prefix('/') {
            Some(abs) => abs.to_string(),
            None => format!("xl/{target}"),
        };
        let tail = sheet_tail(&mut zip, &part)?;
        out.insert(name, merge_refs(&tail));
    }
    Some(out)
}

fn read_part<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str, cap: u64) -> Option<String> {
    let part = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    part.take(cap).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn attr_text(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let a = e.try_get_attribute(name).ok().flatten()?;
    Some(
        quick_xml::escape::unescape(&a.value)
            .map_or_else(|_| a.value.to_string(), |v| v.into_owned()),
    )
}

/// (sheet name, relationship id) of `xl/workbook.xml`.
fn workbook_sheets(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    while let Ok(ev) = reader.read_event() {
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sheet" => {
                if let (Some(name), Some(rid)) = (attr_text(&e, "name"), attr_text(&e, "r:id")) {
                    out.push((name, rid));
                }
            }
            _ => {}
        }
    }
    out
}

/// (id, target) of a `.rels` part.
fn relationship_targets(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    while let Ok(ev) = reader.read_event() {
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                if let (Some(id), Some(target)) = (attr_text(&e, "Id"), attr_text(&e, "Target")) {
                    out.push((id, target));
                }
            }
            _ => {}
        }
    }
    out
}

/// What follows `</sheetData>` in a sheet part (at most 16 MiB of it).
fn sheet_tail<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Option<String> {
    const END: &[u8] = b"</sheetData>";
    const CAP: usize = 16 << 20;
    let mut part = zip.by_name(name).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    // The last bytes of the previous chunk, so that a marker split over two chunks is found.
    let mut carry: Vec<u8> = Vec::new();
    let mut tail: Option<Vec<u8>> = None;
    loop {
        let n = part.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        match tail.as_mut() {
            Some(t) => {
                if t.len() < CAP {
                    t.extend_from_slice(&chunk[..chunk.len().min(CAP - t.len())]);
                }
            }
            None => {
                carry.extend_from_slice(chunk);
                if let Some(at) = memchr::memmem::find(&carry, END) {
                    tail = Some(carry[at..].to_vec());
                } else {
                    let keep = carry.len().saturating_sub(END.len());
                    carry.drain(..keep);
                }
            }
        }
    }
    Some(String::from_utf8_lossy(&tail.unwrap_or_default()).into_owned())
}

/// The `<mergeCell ref="B3:B12"/>` regions of a sheet part's tail.
fn merge_refs(xml: &str) -> Vec<Region> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    // The tail closes elements it never opened (`</sheetData>`, `</worksheet>`): those errors
    // are skipped, a few of them.
    let mut errors = 0;
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(_) if errors < 16 => {
                errors += 1;
                continue;
            }
            Err(_) => break,
        };
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "mergeCell" => {
                if let Some(r) = attr_text(&e, "ref").as_deref().and_then(parse_range)
                    && out.len() < MAX_REGIONS
                {
                    out.push(r);
                }
            }
            _ => {}
        }
    }
    out
}

/// `B3:C12` → 0-based region; `B3` alone is one cell.
fn parse_range(s: &str) -> Option<Region> {
    let cell = |c: &str| -> Option<(u32, u32)> {
        let c = c.trim().trim_start_matches('$');
        let letters = c.bytes().take_while(u8::is_ascii_alphabetic).count();
        if letters == 0 || letters > 3 {
            return None;
        }
        let mut col: u32 = 0;
        for b in c[..letters].bytes() {
            col = col * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
        }
        let row: u32 = c[letters..].trim_start_matches('$').parse().ok()?;
        Some((row.checked_sub(1)?, col - 1))
    };
    let (a, b) = s.split_once(':').unwrap_or((s, s));
    let (r0, c0) = cell(a)?;
    let (r1, c1) = cell(b)?;
    Some(Region {
        top: r0.min(r1),
        left: c0.min(c1),
        bottom: r0.max(r1),
        right: c0.max(c1),
    })
}

fn attr_u32(e: &BytesStart<'_>, name: &str) -> u32 {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(1)
}

fn read_ods_content<R: std::io::BufRead>(
    input: R,
    out: &mut HashMap<String, Vec<Region>>,
) -> quick_xml::Result<()> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut sheet: Option<String> = None;
    let mut row: u32 = 0;
    let mut row_repeat: u32 = 1;
    let mut col: u32 = 0;
    let mut kept = 0usize;
    loop {
        buf.clear();
        let (e, empty) = match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.name().as_ref() {
                    "table:table-row" => row = row.saturating_add(row_repeat),
                    "table:table" => sheet = None,
                    _ => {}
                }
                continue;
            }
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" => {
                let name = e
                    .try_get_attribute("table:name")
                    .ok()
                    .flatten()
                    .map(|a| {
                        quick_xml::escape::unescape(&a.value)
                            .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
                    })
                    .unwrap_or_default();
                sheet = Some(name);
                row = 0;
            }
            "table:table-row" => {
                col = 0;
                row_repeat = attr_u32(&e, "table:number-rows-repeated").max(1);
                if empty {
                    row = row.saturating_add(row_repeat);
                }
            }
            name @ ("table:table-cell" | "table:covered-table-cell") => {
                let rows = attr_u32(&e, "table:number-rows-spanned");
                let cols = attr_u32(&e, "table:number-columns-spanned");
                if name == "table:table-cell"
                    && (rows > 1 || cols > 1)
                    && kept < MAX_REGIONS
                    && let Some(s) = &sheet
                {
                    kept += 1;
                    out.entry(s.clone()).or_default().push(Region {
                        top: row,
                        left: col,
                        bottom: row.saturating_add(rows - 1),
                        right: col.saturating_add(cols - 1),
                    });
                }
                col = col.saturating_add(attr_u32(&e, "table:number-columns-repeated").max(1));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    #[test]
    fn fills_down_and_across_below_the_header_only() {
        let mut m = MergeFill::new([
            // A title over the header: never filled.
            Region {
                top: 0,
                left: 0,
                bottom: 0,
                right: 3,
            },
            // 身份 merged down over rows 2..=4.
            Region {
                top: 2,
                left: 1,
                bottom: 4,
                right: 1,
            },
            // A 单位 merged across two columns on row 3.
            Region {
                top: 3,
                left: 2,
                bottom: 3,
                right: 3,
            },
        ]);
        let mut title = vec![(0, t("签到表"))];
        assert_eq!(m.fill(0, &mut title, None), 0);
        let mut header = vec![(0, t("姓名")), (1, t("身份"))];
        assert_eq!(m.fill(1, &mut header, None), 0);
        let mut r2 = vec![(0, t("张三")), (1, t("学生"))];
        m.fill(2, &mut r2, Some(1));
        assert_eq!(r2, [(0, t("张三")), (1, t("学生"))]);
        let mut r3 = vec![(0, t("李四")), (2, t("机电学院"))];
        m.fill(3, &mut r3, Some(1));
        assert_eq!(
            r3,
            [
                (0, t("李四")),
                (1, t("学生")),
                (2, t("机电学院")),
                (3, t("机电学院"))
            ]
        );
        let mut r4 = vec![(0, t("王五")), (1, Value::Empty)];
        m.fill(4, &mut r4, Some(1));
        assert_eq!(r4, [(0, t("王五")), (1, t("学生"))]);
        let mut r5 = vec![(0, t("赵六"))];
        assert_eq!(m.fill(5, &mut r5, Some(1)), 0);
    }

    #[test]
    fn a_huge_region_fills_a_bounded_width() {
        let mut m = MergeFill::new([Region {
            top: 1,
            left: 0,
            bottom: 1_048_575,
            right: 16_383,
        }]);
        let mut r = vec![(0, t("x"))];
        m.fill(1, &mut r, Some(0));
        assert_eq!(r.len(), MAX_ACROSS as usize);
    }

    #[test]
    fn excel_ranges() {
        assert_eq!(
            parse_range("B3:$C$12"),
            Some(Region {
                top: 2,
                left: 1,
                bottom: 11,
                right: 2
            })
        );
        assert_eq!(
            parse_range("AA1"),
            Some(Region {
                top: 0,
                left: 26,
                bottom: 0,
                right: 26
            })
        );
        assert_eq!(parse_range("A0"), None);
        assert_eq!(
            merge_refs(
                r#"</sheetData><mergeCells count="1"><mergeCell ref="A1:E1"/></mergeCells>"#
            ),
            [Region {
                top: 0,
                left: 0,
                bottom: 0,
                right: 4
            }]
        );
    }

    #[test]
    fn ods_spans_are_read_with_repeats() {
        let xml = r#"<office:document-content><office:body><office:spreadsheet>
            <table:table table:name="签到">
              <table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>
              <table:table-row>
                <table:table-cell table:number-columns-repeated="2"/>
                <table:table-cell table:number-rows-spanned="3" office:value-type="string"><text:p>学生</text:p></table:table-cell>
              </table:table-row>
              <table:table-row><table:covered-table-cell table:number-columns-spanned="2" table:number-columns-repeated="1"/><table:table-cell table:number-columns-spanned="2"/></table:table-row>
            </table:table>
            <table:table table:name="B"><table:table-row/></table:table>
        </office:spreadsheet></office:body></office:document-content>"#;
        let mut out = HashMap::new();
        read_ods_content(xml.as_bytes(), &mut out).unwrap();
        assert_eq!(
            out["签到"],
            [
                Region {
                    top: 2,
                    left: 2,
                    bottom: 4,
                    right: 2
                },
                Region {
                    top: 3,
                    left: 1,
                    bottom: 3,
                    right: 2
                }
            ]
        );
        assert!(!out.contains_key("B"));
    }
}
