//! The text of a Word 97–2003 document (`.doc`, and WPS Writer's `.wps`, which is the same
//! format): the OLE container opened with `cfb`, the File Information Block of the
//! `WordDocument` stream, the piece table (Clx) in the `0Table`/`1Table` stream, and the main
//! text's pieces, each either 8-bit (Windows-1252) or UTF-16LE. Paragraph marks become line
//! breaks, table cell marks tabs; field instructions (`HYPERLINK …`) are dropped and their
//! results kept.
//!
//! Bounded: streams are read up to [`MAX_STREAM_BYTES`], text to `MAX_TEXT_CHARS`. Never panics
//! on a damaged or hostile file: it gives a problem in Chinese instead.

use std::io::{Read, Seek};

use super::MAX_TEXT_CHARS;

/// The largest `WordDocument` or table stream read.
pub const MAX_STREAM_BYTES: u64 = 64 << 20;

/// The text of the Word 97–2003 document read from `reader`, or why there is none.
pub fn doc_text<R: Read + Seek>(reader: R) -> Result<String, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(reader)))
        .unwrap_or_else(|_| Err("文档结构异常，未提取文字".to_string()))
}

fn read<R: Read + Seek>(reader: R) -> Result<String, String> {
    let mut cfb = cfb::CompoundFile::open(reader)
        .map_err(|_| "文档无法打开（OLE 结构损坏或不完整），未提取文字".to_string())?;
    let word = stream(&mut cfb, "/WordDocument")?;
    let u16_at = |b: &[u8], at: usize| -> Option<u16> {
        Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let bad = || "文档的 Word 结构（FIB）无法识别，未提取文字".to_string();
    if u16_at(&word, 0) != Some(0xA5EC) {
        return Err(bad());
    }
    let flags = u16_at(&word, 0x0A).ok_or_else(bad)?;
    if flags & 0x0100 != 0 {
        return Err("文档设置了打开密码（已加密），未提取文字".to_string());
    }
    let table_name = if flags & 0x0200 != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    // FibBase (32 bytes), then csw + fibRgW, cslw + fibRgLw, cbRgFcLcb + fibRgFcLcb.
    let csw = usize::from(u16_at(&word, 0x20).ok_or_else(bad)?);
    let lw = 0x22 + csw * 2;
    let cslw = usize::from(u16_at(&word, lw).ok_or_else(bad)?);
    let rg_lw = lw + 2;
    let ccp_text = u32_at(&word, rg_lw + 12).ok_or_else(bad)? as u64;
    let fc = rg_lw + cslw * 4;
    let pairs = usize::from(u16_at(&word, fc).ok_or_else(bad)?);
    if pairs <= 33 {
        return Err(bad());
    }
    let clx_at = fc + 2 + 33 * 8;
    let fc_clx = u32_at(&word, clx_at).ok_or_else(bad)? as usize;
    let lcb_clx = u32_at(&word, clx_at + 4).ok_or_else(bad)? as usize;
    let table = stream(&mut cfb, table_name)?;
    let clx = table
        .get(fc_clx..fc_clx.saturating_add(lcb_clx))
        .ok_or_else(bad)?;
    // Skip the Prc entries (0x01), find the Pcdt (0x02).
    let mut at = 0usize;
    let plc = loop {
        match clx.get(at) {
            Some(1) => {
                let n = usize::from(u16_at(clx, at + 1).ok_or_else(bad)?);
                at += 3 + n;
            }
            Some(2) => {
                let n = u32_at(clx, at + 1).ok_or_else(bad)? as usize;
                break clx.get(at + 5..at + 5 + n).ok_or_else(bad)?;
            }
            _ => return Err(bad()),
        }
    };
    if plc.len() < 4 {
        return Err(bad());
    }
    let pieces = (plc.len() - 4) / 12;
    let mut raw = String::new();
    let mut chars = 0usize;
    let mut cp_left = ccp_text;
    for i in 0..pieces {
        let start = u64::from(u32_at(plc, i * 4).ok_or_else(bad)?);
        let end = u64::from(u32_at(plc, (i + 1) * 4).ok_or_else(bad)?);
        let pcd = (pieces + 1) * 4 + i * 8;
        let fc = u32_at(plc, pcd + 2).ok_or_else(bad)?;
        let count = end.saturating_sub(start).min(cp_left) as usize;
        cp_left -= count as u64;
        if fc & 0x4000_0000 != 0 {
            let from = ((fc & 0x3FFF_FFFF) / 2) as usize;
            let bytes = word.get(from..from.saturating_add(count)).ok_or_else(bad)?;
            raw.extend(bytes.iter().map(|&b| cp1252(b)));
        } else {
            let from = fc as usize;
            let bytes = word
                .get(from..from.saturating_add(count * 2))
                .ok_or_else(bad)?;
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            raw.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
        }
        chars += count;
        if cp_left == 0 || chars >= MAX_TEXT_CHARS {
            break;
        }
    }
    Ok(clean(&raw))
}

fn stream<R: Read + Seek>(cfb: &mut cfb::CompoundFile<R>, name: &str) -> Result<Vec<u8>, String> {
    let s = cfb
        .open_stream(name)
        .map_err(|_| format!("文档中缺少 {} 流，未提取文字", name.trim_start_matches('/')))?;
    let mut buf = Vec::new();
    s.take(MAX_STREAM_BYTES)
        .read_to_end(&mut buf)
        .map_err(|_| {
            format!(
                "文档中的 {} 流无法读取，未提取文字",
                name.trim_start_matches('/')
            )
        })?;
    Ok(buf)
}

/// Windows-1252, the 8-bit pieces' code page (0x80–0x9F are not Latin-1 there).
fn cp1252(b: u8) -> char {
    if (0x80..0xA0).contains(&b) {
        let bytes = [b];
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
        text.chars().next().unwrap_or('\u{FFFD}')
    } else {
        char::from(b)
    }
}

/// Word's marks as plain text: paragraphs and line breaks `\n`, cell marks `\t`, field
/// instructions dropped (their results kept), other control characters dropped.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    // One entry per open field: true while in its instruction part.
    let mut skipping: Vec<bool> = Vec::new();
    for c in raw.chars() {
        match c {
            '\u{13}' => skipping.push(true),
            '\u{14}' => {
                if let Some(s) = skipping.last_mut() {
                    *s = false;
                }
            }
            '\u{15}' => {
                skipping.pop();
            }
            _ if skipping.iter().any(|s| *s) => {}
            '\r' | '\u{0B}' | '\u{0C}' => out.push('\n'),
            '\u{07}' => out.push('\t'),
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_fields() {
        assert_eq!(
            clean("标题\r第一段\u{13} HYPERLINK \"x\" \u{14}链接\u{15}。\r格\u{07}子\u{07}\r\r"),
            "标题\n第一段链接。\n格\t子"
        );
    }

    #[test]
    fn not_a_doc_is_a_problem() {
        let r = doc_text(std::io::Cursor::new(
            b"\xD0\xCF\x11\xE0 not really".to_vec(),
        ));
        assert!(r.unwrap_err().contains("未提取文字"));
    }
}
