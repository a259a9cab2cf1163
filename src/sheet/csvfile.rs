//! CSV files: one sheet named after the file stem. UTF-8 (a BOM is dropped), UTF-16 with a BOM
//! (Excel's "Unicode text"), else GB18030 (Excel on a Chinese Windows), decided from the first
//! 64 KiB. The delimiter is the most frequent of `,` `\t` `;` in the first lines. Rows may have
//! any number of fields. Streamed: the file is decoded and parsed through small buffers, never
//! held whole, so memory follows the rows kept, not the file.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::time::Instant;

use encoding_rs::{Decoder, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};

use super::build::{Cells, SheetBuilder};
use super::value::Value;
use super::{Limits, Workbook};

/// Bytes looked at to choose the encoding and the delimiter.
const HEAD: usize = 64 * 1024;

pub(crate) fn read_csv(path: &Path, limits: &Limits) -> Workbook {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Workbook::failed(format!("无法打开表格文件：{e}")),
    };
    let size = match file.metadata() {
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
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "CSV".to_string());
    read_csv_from(&name, BufReader::with_capacity(HEAD, file), limits)
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

/// The encoding of a file that starts with `head` (the first [`HEAD`] bytes, or all of a
/// shorter file): a BOM's, else UTF-8 when the head is valid UTF-8 (a character cut at its
/// end allowed), else GB18030.
fn sniff_encoding(head: &[u8], whole: bool) -> &'static Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return UTF_8;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return UTF_16LE;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return UTF_16BE;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        Err(e) if !whole && e.error_len().is_none() => UTF_8,
        Err(_) => GB18030,
    }
}

/// A reader of UTF-8 from a reader of bytes in another encoding (BOM removed).
struct Decoding<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_at: usize,
    in_len: usize,
    eof: bool,
    done: bool,
    pending: Vec<u8>,
    pending_at: usize,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Decoding {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 16 * 1024],
            in_at: 0,
            in_len: 0,
            eof: false,
            done: false,
            pending: Vec::new(),
            pending_at: 0,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // The decoder needs room for a whole character (and a replacement): a caller with
        // less room is served from a small decode kept over.
        if self.pending_at < self.pending.len() {
            let k = (self.pending.len() - self.pending_at).min(out.len());
            out[..k].copy_from_slice(&self.pending[self.pending_at..self.pending_at + k]);
            self.pending_at += k;
            return Ok(k);
        }
        if out.len() < 16 {
            let mut tmp = [0u8; 16];
            let n = self.read(&mut tmp)?;
            if n == 0 {
                return Ok(0);
            }
            self.pending = tmp[..n].to_vec();
            self.pending_at = 0;
            return self.read(out);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if self.in_at == self.in_len && !self.eof {
                self.in_len = self.inner.read(&mut self.input)?;
                self.in_at = 0;
                self.eof = self.in_len == 0;
            }
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[self.in_at..self.in_len], out, self.eof);
            self.in_at += read;
            if self.eof && self.in_at == self.in_len && written < out.len() {
                self.done = true;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

fn sniff_delimiter(text: &str) -> u8 {
    let head: String = text.lines().take(10).collect::<Vec<_>>().join("\n");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (head.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

#[cfg(test)]
pub(crate) fn read_csv_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Workbook {
    read_csv_from(name, bytes, limits)
}

fn read_csv_from<R: io::BufRead>(name: &str, mut input: R, limits: &Limits) -> Workbook {
    let head = match input.fill_buf() {
        Ok(h) => h.to_vec(),
        Err(e) => return Workbook::failed(format!("无法读取表格文件：{e}")),
    };
    let encoding = sniff_encoding(&head, head.len() < HEAD);
    let delimiter = sniff_delimiter(&encoding.decode_with_bom_removal(&head).0);
    drop(head);
    let text = Decoding::new(input, encoding);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text);
    let mut b = SheetBuilder::new(name, false);
    let mut record = csv::StringRecord::new();
    let mut row0: u32 = 0;
    let started = Instant::now();
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
        if row0.is_multiple_of(1024) && started.elapsed().as_secs() >= limits.max_seconds {
            b.sheet_problem(format!(
                "读取超过 {} 秒仍未读完，已停止，其余内容未读取",
                limits.max_seconds
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
        ..Workbook::default()
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
    fn streamed_encodings_read_the_same_rows() {
        let text = "姓名,学号\n张三,2023000001\n李四,2023000002\n";
        let (gb, _, _) = GB18030.encode(text);
        let mut utf16 = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        for bytes in [text.as_bytes(), &gb[..], &utf16[..], &bom[..]] {
            let wb = read_csv_bytes("签到", bytes, &Limits::default());
            let names: Vec<_> = wb.sheets[0]
                .sign_in
                .iter()
                .map(|r| r.name.as_str())
                .collect();
            assert_eq!(names, ["张三", "李四"]);
        }
        // Decoded through buffers far smaller than the file.
        let long: String = (0..5000).map(|i| format!("学生{i},2023{i:06}\n")).collect();
        let whole = format!("姓名,学号\n{long}");
        let (gb, _, _) = GB18030.encode(&whole);
        let mut out = String::new();
        Decoding::new(&gb[..], GB18030)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, format!("姓名,学号\n{long}"));
        // Even read a few bytes at a time.
        let mut d = Decoding::new(&gb[..], GB18030);
        let mut bytes = Vec::new();
        let mut small = [0u8; 3];
        loop {
            let n = d.read(&mut small).unwrap();
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&small[..n]);
        }
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!("姓名,学号\n{long}")
        );
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
