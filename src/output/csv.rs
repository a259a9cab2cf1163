//! CSV bytes as Excel on a Chinese Windows and provincial portals expect them: RFC 4180 quoting,
//! CRLF line ends, UTF-8 with a BOM or GB18030 without one, and text cells that a spreadsheet
//! would run as a formula neutralised with a leading `'`. Never writes a file itself.

/// One cell. Counts are numbers and stay numbers; only text is guarded against formulas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(u64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as written to a CSV file: a text beginning with `=`, `+`, `-`, `@`, tab or CR
    /// gets a leading `'` so that no spreadsheet runs it.
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Text(s) => guard_formula(s),
            Cell::Int(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// `=HYPERLINK(…)` → `'=HYPERLINK(…)`; other text unchanged.
pub fn guard_formula(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The character encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark: what Excel needs to recognise UTF-8.
    #[default]
    Utf8Bom,
    /// GB18030 without a BOM, for portals that want it.
    Gb18030,
}

impl CsvEncoding {
    /// `utf8`/`utf-8`/`utf8-bom` or `gb18030`/`gbk` (case-insensitive).
    pub fn parse(s: &str) -> Option<CsvEncoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" | "utf8-bom" | "utf-8-bom" | "utf8bom" => Some(CsvEncoding::Utf8Bom),
            "gb18030" | "gbk" | "gb2312" => Some(CsvEncoding::Gb18030),
            _ => None,
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A whole CSV file: header, rows, in the chosen encoding.
pub fn csv_bytes(header: &[&str], rows: &[Vec<Cell>], enc: CsvEncoding) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail, and `flexible` accepts any row length: the results are
    // still handled rather than unwrapped.
    let mut ok = w
        .write_record(header.iter().map(|h| guard_formula(h)))
        .is_ok();
    for row in rows {
        ok &= w.write_record(row.iter().map(Cell::csv_text)).is_ok();
    }
    debug_assert!(ok);
    let utf8 = w.into_inner().unwrap_or_default();
    match enc {
        CsvEncoding::Utf8Bom => {
            let mut out = Vec::with_capacity(BOM.len() + utf8.len());
            out.extend_from_slice(BOM);
            out.extend_from_slice(&utf8);
            out
        }
        CsvEncoding::Gb18030 => {
            let text = String::from_utf8_lossy(&utf8);
            let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
            bytes.into_owned()
        }
    }
}

/// Text of a CSV file: UTF-8 (a BOM is dropped) when it is valid UTF-8, else GB18030.
pub fn decode_csv(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            text.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_guard_and_bom() {
        let rows = vec![vec![
            Cell::text("=HYPERLINK(\"http://x\")"),
            Cell::Int(7),
            Cell::text("a,b"),
            Cell::text("-3"),
            Cell::Empty,
        ]];
        let out = csv_bytes(&["甲", "乙", "丙", "丁", "戊"], &rows, CsvEncoding::Utf8Bom);
        assert!(out.starts_with(BOM));
        let text = std::str::from_utf8(&out[3..]).unwrap();
        assert_eq!(
            text,
            "甲,乙,丙,丁,戊\r\n\"'=HYPERLINK(\"\"http://x\"\")\",7,\"a,b\",'-3,\r\n"
        );
    }

    #[test]
    fn gb18030_round_trips() {
        let rows = vec![vec![Cell::text("市（州）级"), Cell::Int(3)]];
        let out = csv_bytes(&["级别", "数"], &rows, CsvEncoding::Gb18030);
        assert!(!out.starts_with(BOM));
        assert!(std::str::from_utf8(&out).is_err());
        assert_eq!(decode_csv(&out), "级别,数\r\n市（州）级,3\r\n");
    }
}
