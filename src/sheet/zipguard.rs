//! The guard on a spreadsheet's bytes before any parser sees them (a refusal says why): zip
//! bombs inside xlsx/xlsm/xlsb/ods (declared and real inflated sizes), password protection,
//! files that are not what their format says. Reads the zip's central directory and inflates
//! only the parts a parser would load whole, into a sink, never more than the cap.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::model::Format;

use super::Limits;

const MIB: u64 = 1024 * 1024;
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
pub(crate) const PASSWORD: &str = "表格设有打开密码，无法读取；请去掉密码后重新提交";

/// `Some(reason)` when the file must not be handed to a parser.
pub(crate) fn refusal(path: &Path, format: Format, limits: &Limits) -> Option<String> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Some(format!("无法打开表格文件：{e}")),
    };
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic).unwrap_or(0);
    if n == 0 {
        return Some("表格文件是空的（0 字节）".to_string());
    }
    let is_ole = n == 8 && magic == OLE_MAGIC;
    let is_zip = magic.starts_with(b"PK");
    if is_ole && ole_is_encrypted(&mut file) {
        // An encrypted xlsx/xlsb is an OLE file holding an `EncryptedPackage` stream.
        return Some(PASSWORD.to_string());
    }
    match format {
        Format::Xlsx | Format::Xlsm | Format::Xlsb | Format::Ods => {
            if !is_zip {
                return Some(format!(
                    "文件内容不是 {} 表格（不是 zip 结构），可能已损坏或扩展名不对",
                    format.as_str()
                ));
            }
            check_zip(file, format, limits).err()
        }
        Format::Xls if !is_ole => {
            Some("文件内容不是 xls 表格（缺少 OLE 文件头），可能已损坏或扩展名不对".to_string())
        }
        _ => None,
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// True when the OLE directory names an `EncryptedPackage` stream (UTF-16LE). Looks at the
/// first and last 8 MiB, where writers put the directory.
fn ole_is_encrypted(file: &mut File) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let len = file.seek(SeekFrom::End(0)).unwrap_or(0);
    let window = 8 * MIB;
    let mut starts = vec![0];
    if len > window {
        starts.push(len - window);
    }
    starts.into_iter().any(|start| {
        let mut buf = Vec::new();
        file.seek(SeekFrom::Start(start)).is_ok()
            && file.by_ref().take(window).read_to_end(&mut buf).is_ok()
            && buf.windows(needle.len()).any(|w| w == needle.as_slice())
    })
}

/// Parts that a parser reads: XML, relationships and BIFF12 records, except pictures, embedded
/// objects, printer settings and macros, which calamine does not read here.
fn is_parsed_part(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parsed_ext = [".xml", ".rels", ".bin"].iter().any(|e| lower.ends_with(e));
    let skipped = [
        "media/",
        "embeddings/",
        "printersettings/",
        "pictures/",
        "thumbnails/",
    ]
    .iter()
    .any(|d| lower.contains(d))
        || lower.ends_with("vbaproject.bin");
    parsed_ext && !skipped
}

/// Parts streamed under the cell caps; everything else parsed is loaded whole and so is
/// inflated once here to check its real size.
fn is_streamed_part(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("xl/worksheets/")
}

fn check_zip(file: File, format: Format, limits: &Limits) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("表格文件已损坏（zip 目录无法读取：{e}），无法读取"))?;
    let bomb = |name: &str, size: u64| {
        format!(
            "表格解压后过大（疑似压缩炸弹），拒绝读取：其中 {name} 解压后约 {} MiB",
            size.div_ceil(MIB)
        )
    };
    let mut total: u64 = 0;
    let mut to_inflate = Vec::new();
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| format!("表格文件已损坏（zip 条目 {i} 无法读取：{e}），无法读取"))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if !is_parsed_part(&name) {
            continue;
        }
        if entry.encrypted() {
            return Err(PASSWORD.to_string());
        }
        let size = entry.size();
        let packed = entry.compressed_size().max(1);
        if size > limits.max_part_bytes {
            return Err(bomb(&name, size));
        }
        if size > 16 * MIB && size / packed > limits.max_ratio {
            return Err(bomb(&name, size));
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(bomb("各部分合计", total));
        }
        if !is_streamed_part(&name) {
            to_inflate.push((i, name));
        }
    }
    // The sizes above are what the zip claims; the parts loaded whole are inflated to see
    // what they really are.
    for (i, name) in to_inflate {
        let entry = zip.by_index(i).map_err(|e| inflate_error(&name, &e))?;
        let real = io::copy(&mut entry.take(limits.max_part_bytes + 1), &mut io::sink())
            .map_err(|e| inflate_error(&name, &e))?;
        if real > limits.max_part_bytes {
            return Err(bomb(&name, real));
        }
    }
    if format == Format::Ods {
        check_ods_area(&mut zip, limits)?;
    }
    Ok(())
}

/// Why a part could not be inflated, in Chinese: a part that inflates past its declared size
/// is named as a likely zip bomb (the zip crate says so in English), anything else keeps the
/// zip crate's detail.
fn inflate_error(name: &str, e: &dyn std::fmt::Display) -> String {
    let detail = e.to_string();
    if detail.contains("larger than its declared uncompressed size") {
        format!("表格文件中的 {name} 解压后比声明的大小更大（疑似压缩炸弹），无法读取")
    } else {
        format!("表格文件已损坏（{name} 无法解压：{detail}），无法读取")
    }
}

/// Rows, and cells within a row, may be repeated in ODS (`number-rows-repeated`), and calamine
/// expands every repetition between the first and last non-empty cell into memory. This scan
/// of `content.xml` computes that area per table, without expanding anything, and refuses a
/// file whose area passes the cell cap.
fn check_ods_area<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    limits: &Limits,
) -> Result<(), String> {
    use quick_xml::events::{BytesStart, Event};

    let Some(i) = zip.index_for_name("content.xml") else {
        return Ok(());
    };
    let entry = zip
        .by_index(i)
        .map_err(|e| inflate_error("content.xml", &e))?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(entry.take(limits.max_part_bytes)));
    let repeats = |e: &BytesStart<'_>, attr: &str| -> u64 {
        e.try_get_attribute(attr)
            .ok()
            .flatten()
            .and_then(|a| a.value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let mut area = OdsArea::default();
    let mut row_repeats = 1;
    let mut col: u64 = 0;
    let mut width: u64 = 0;
    let mut buf = Vec::new();
    loop {
        // Not XML (an encrypted content.xml, say): calamine gives the precise reason.
        let Ok(event) = xml.read_event_into(&mut buf) else {
            return area.check(limits);
        };
        match event {
            Event::Start(e) if is_cell(&e) => {
                // Children (text, annotations): content.
                col = col.saturating_add(repeats(&e, "table:number-columns-repeated"));
                width = col;
            }
            Event::Empty(e) if is_cell(&e) => {
                col = col.saturating_add(repeats(&e, "table:number-columns-repeated"));
                if e.try_get_attribute("office:value-type")
                    .ok()
                    .flatten()
                    .is_some()
                {
                    width = col;
                }
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                row_repeats = repeats(&e, "table:number-rows-repeated");
                col = 0;
                width = 0;
            }
            Event::Empty(e) if e.name().as_ref() == "table:table-row" => {
                area.row(repeats(&e, "table:number-rows-repeated"), 0);
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                area.row(row_repeats, width);
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                area.check(limits)?;
                area = OdsArea::default();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    area.check(limits)
}

fn is_cell(e: &quick_xml::events::BytesStart<'_>) -> bool {
    matches!(
        e.name().as_ref(),
        "table:table-cell" | "table:covered-table-cell"
    )
}

/// The used area of one ODS table, as calamine would expand it.
#[derive(Default)]
struct OdsArea {
    row: u64,
    first: Option<u64>,
    end: u64,
    width: u64,
}

impl OdsArea {
    fn row(&mut self, repeats: u64, width: u64) {
        if width > 0 {
            self.first.get_or_insert(self.row);
            self.end = self.row.saturating_add(repeats);
            self.width = self.width.max(width);
        }
        self.row = self.row.saturating_add(repeats);
    }

    fn check(&self, limits: &Limits) -> Result<(), String> {
        let rows = self
            .end
            .saturating_sub(self.first.unwrap_or(self.end))
            .min(1 << 20);
        let cells = rows.saturating_mul(self.width.min(1 << 14));
        if cells > limits.max_cells {
            return Err(format!(
                "表格声明的单元格范围过大（{rows} 行 × {} 列，疑似恶意构造），拒绝读取",
                self.width
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_that_count() {
        assert!(is_parsed_part("xl/sharedStrings.xml"));
        assert!(is_parsed_part("xl/worksheets/sheet1.bin"));
        assert!(is_parsed_part("content.xml"));
        assert!(!is_parsed_part("xl/media/image1.png"));
        assert!(!is_parsed_part("xl/vbaProject.bin"));
        assert!(!is_parsed_part("xl/embeddings/oleObject1.bin"));
        assert!(is_streamed_part("xl/worksheets/sheet1.xml"));
        assert!(!is_streamed_part("xl/sharedStrings.xml"));
    }
}
