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
