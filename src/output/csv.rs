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
    let mut out = Vec::new();
    // Writing to a Vec cannot fail: the result is still handled rather than unwrapped.
    let ok = write_csv(&mut out, header, rows, enc).is_ok();
    debug_assert!(ok);
    out
}

/// [`csv_bytes`] written to `out` as the rows come, never held whole (a big index's rows are
/// made as they are written).
pub fn write_csv<R: AsRef<[Cell]>>(
    out: impl std::io::Write,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
    enc: CsvEncoding,
) -> std::io::Result<()> {
    let mut out = Encoded {
        out,
        enc,
        pending: Vec::new(),
    };
    if enc == CsvEncoding::Utf8Bom {
        out.out.write_all(BOM)?;
    }
    // `flexible` accepts any row length.
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(&mut out);
    w.write_record(header.iter().map(|h| guard_formula(h)))?;
    for row in rows {
        w.write_record(row.as_ref().iter().map(Cell::csv_text))?;
    }
    w.flush()?;
    drop(w);
    out.finish()
}

/// UTF-8 passed on as it is, or encoded as GB18030 from whole characters (a character cut by
/// the CSV writer's buffer waits for its other bytes).
struct Encoded<W> {
    out: W,
    enc: CsvEncoding,
    pending: Vec<u8>,
}

impl<W: std::io::Write> Encoded<W> {
    fn finish(mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.put(&text)?;
        }
        self.out.flush()
    }

    fn put(&mut self, text: &str) -> std::io::Result<()> {
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        self.out.write_all(&bytes)
    }
}

impl<W: std::io::Write> std::io::Write for Encoded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.enc == CsvEncoding::Utf8Bom {
            return self.out.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // Only an incomplete character at the end waits; bytes that are not UTF-8 at all
            // (which the CSV writer never gives) are replaced, as `csv_bytes` always did.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..whole]).into_owned();
        self.pending.drain(..whole);
        self.put(&text)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
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

    /// Rows longer than the CSV writer's buffer: a character cut at its edge is encoded whole.
    #[test]
    fn gb18030_streamed_in_pieces_is_whole_characters() {
        let long = "职业教育活动周（月）".repeat(2000);
        let rows = vec![vec![Cell::text(long.clone()), Cell::Int(1)]; 3];
        let mut out = Vec::new();
        write_csv(
            &mut out,
            &["甲", "乙"],
            rows.iter().cloned(),
            CsvEncoding::Gb18030,
        )
        .unwrap();
        let expected = format!("甲,乙\r\n{}", format!("{long},1\r\n").repeat(3));
        assert_eq!(decode_csv(&out), expected);
        assert_eq!(out, encoding_rs::GB18030.encode(&expected).0.into_owned());
        assert_eq!(csv_bytes(&["甲", "乙"], &rows, CsvEncoding::Gb18030), out);
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
