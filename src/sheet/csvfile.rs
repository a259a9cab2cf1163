//! CSV files: one sheet named after the file stem. UTF-8 (a BOM is dropped), UTF-16 with a BOM
//! (Excel's "Unicode text"), else GB18030 (Excel on a Chinese Windows). The delimiter is the
//! most frequent of `,` `\t` `;` in the first lines. Rows may have any number of fields.

use std::fs;
use std::path::Path;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

use super::build::{Cells, SheetBuilder};
use super::value::Value;
use super::{Limits, Workbook};

pub(crate) fn read_csv(path: &Path, limits: &Limits) -> Workbook {
    let size = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return Workbook::failed(format!("无法打开表格文件：{e}")),
    };
    if size > limits.max_csv_bytes {
        return Workbook::failed(format!(
            "CSV 文件过大（{} MiB，上限 {} MiB），拒绝读取",
            size / (1024 * 1024),
            limits.max_csv_bytes / (1024 * 1024)
        ));
    }
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => return Workbook::failed(format!("无法读取表格文件：{e}")),
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "CSV".to_string());
    read_csv_bytes(&name, &bytes, limits)
}

/// Decodes the bytes of a CSV file to text (see the module doc).
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return UTF_16LE.decode_with_bom_removal(bytes).0.into_owned();
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return UTF_16BE.decode_with_bom_removal(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn sniff_delimiter(text: &str) -> u8 {
    let head: String = text.lines().take(10).collect::<Vec<_>>().join("\n");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (head.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

pub(crate) fn read_csv_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Workbook {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(&text))
        .from_reader(text.as_bytes());
    let mut b = SheetBuilder::new(name, false);
    let mut record = csv::StringRecord::new();
    let mut row0: u32 = 0;
    loop {
        if !b.wants_more() {
            break;
        }
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                b.sheet_problem(format!(
                    "CSV 第 {} 行之后无法解析，其余内容未读取（{e}）",
                    row0
                ));
                break;
            }
        }
        if u64::from(row0) >= limits.max_rows {
            b.sheet_problem(format!(
                "表格过大：超过 {} 行的上限，其余内容未读取",
                limits.max_rows
            ));
            break;
        }
        let cells: Cells = record
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.trim().is_empty())
            .map(|(i, f)| (i as u32, Value::Text(f.to_string())))
            .collect();
        b.push_row(row0, &cells);
        row0 += 1;
    }
    let (sheet, problems) = b.finish();
    Workbook {
        sheets: vec![sheet],
        problems,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode("\u{FEFF}姓名,学号".as_bytes()), "姓名,学号");
        let (gb, _, _) = GB18030.encode("姓名,学号");
        assert_eq!(decode(&gb), "姓名,学号");
        assert_eq!(decode(b"\xFF\xFEa\x00"), "a");
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("姓名\t学号\n张三\t1"), b'\t');
        assert_eq!(sniff_delimiter("姓名,学号"), b',');
        assert_eq!(sniff_delimiter("姓名"), b',');
    }

    #[test]
    fn a_csv_is_one_sheet_named_after_the_file() {
        let wb = read_csv_bytes(
            "签到",
            "姓名,学号,签到时间\n张三,2023000001,2025-05-12 09:30\n,2023000002,\n".as_bytes(),
            &Limits::default(),
        );
        assert_eq!(wb.sheets[0].name, "签到");
        assert_eq!(wb.sheets[0].sign_in.len(), 1);
        assert_eq!(wb.problems[0].row, 3);
    }
}
