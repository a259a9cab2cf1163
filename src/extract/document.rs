//! Documents: the text of docx (word/document.xml), odt (content.xml), Word 97–2003 and WPS
//! (`.doc`/`.wps`, see [`super::doc`]), txt and md (UTF-8 with or without BOM, UTF-16 with BOM,
//! else GB18030), one paragraph per line, and the first date written in their first lines. PDF
//! text is read by the importer in a child process (`super::pdf`).
//!
//! Bounded: XML is streamed through a byte limit (a zip bomb stops at 64 MiB inflated), text is
//! capped at `MAX_TEXT_CHARS`, plain text files are read up to 1 MiB. Never panics on a broken
//! zip or malformed XML: what was read before the damage is kept, with a problem.

use std::io::{self, BufReader, Cursor, Read, Seek};

use quick_xml::events::Event;

use super::{Content, Extracted, MAX_TEXT_CHARS};
use crate::model::{DateCandidate, DateSource, Format};
use crate::resolve::date::find_date_in_text;

/// Largest inflated XML part read from a docx/odt.
pub const MAX_XML_BYTES: u64 = 64 << 20;

/// How much of a plain text file is read.
const MAX_PLAIN_BYTES: usize = 1 << 20;

/// Non-empty lines searched for the document's date.
const DATE_LINES: usize = 15;

const BOMB: &str = "文档解压后过大（疑似压缩炸弹），未提取文字";

pub(crate) fn extract_document(format: Format, content: &mut Content, out: &mut Extracted) {
    let text = match format {
        Format::Docx => office_text(content, out, Flavor::Word),
        Format::Odt => office_text(content, out, Flavor::Odf),
        Format::Txt | Format::Md => plain_text(content, out),
        Format::Doc => word97_text(content, out),
        // PDF: read in a child process by the importer.
        _ => None,
    };
    if let Some(text) = &text
        && let Some(day) = first_date(text)
    {
        out.dates.push(DateCandidate {
            source: DateSource::Document,
            when: day.and_time(chrono::NaiveTime::MIN),
            offset: None,
        });
    }
    out.text = text;
}

/// The first date in the first 15 non-empty lines.
pub fn first_date(text: &str) -> Option<chrono::NaiveDate> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(DATE_LINES)
        .find_map(find_date_in_text)
}

/// Text of a plain file: UTF-8 (BOM or not), UTF-16 LE/BE with BOM, else GB18030.
pub fn decode_text(bytes: &[u8]) -> String {
    let decoded = if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        encoding
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned()
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            // Valid but for a character cut off at the end (a capped read).
            Err(e) if e.error_len().is_none() => {
                String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
            }
            Err(_) => encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        }
    };
    decoded.replace("\r\n", "\n").replace('\r', "\n")
}

fn plain_text(content: &mut Content, out: &mut Extracted) -> Option<String> {
    let bytes = if content.head_is_whole() || content.head().len() >= MAX_PLAIN_BYTES {
        content.head()[..content.head().len().min(MAX_PLAIN_BYTES)].to_vec()
    } else {
        match content.read_at(0, MAX_PLAIN_BYTES) {
            Ok(b) => b,
            Err(e) => {
                out.problems
                    .push(format!("无法读取文档全文（{e}），只提取了开头部分"));
                content.head().to_vec()
            }
        }
    };
    Some(cap(decode_text(&bytes)))
}

fn word97_text(content: &mut Content, out: &mut Extracted) -> Option<String> {
    let result = if content.head_is_whole() {
        super::doc::doc_text(Cursor::new(content.head()))
    } else {
        match content.file() {
            Ok(file) => super::doc::doc_text(BufReader::new(file)),
            Err(e) => Err(format!("无法打开文档（{e}），未提取文字")),
        }
    };
    match result {
        Ok(text) => Some(cap(text)),
        Err(problem) => {
            out.problems.push(problem);
            None
        }
    }
}

fn cap(mut text: String) -> String {
    if let Some((at, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(at);
    }
    text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// word/document.xml: `w:p`, `w:t`, `w:tab`, `w:br`.
    Word,
    /// content.xml: `text:p`, `text:h`, `text:tab`, `text:line-break`, `text:s`.
    Odf,
}

impl Flavor {
    fn part(self) -> &'static str {
        match self {
            Flavor::Word => "word/document.xml",
            Flavor::Odf => "content.xml",
        }
    }
}

fn office_text(content: &mut Content, out: &mut Extracted, flavor: Flavor) -> Option<String> {
    let result = if content.head_is_whole() {
        zip_text(Cursor::new(content.head()), flavor, MAX_XML_BYTES)
    } else {
        match content.file() {
            Ok(file) => zip_text(BufReader::new(file), flavor, MAX_XML_BYTES),
            Err(e) => Err(format!("无法打开文档（{e}），未提取文字")),
        }
    };
    match result {
        Ok(Parsed { text, problem }) => {
            if let Some(p) = problem {
                out.problems.push(p);
            }
            Some(text)
        }
        Err(problem) => {
            out.problems.push(problem);
            None
        }
    }
}

struct Parsed {
    text: String,
    /// Set when the XML broke off: the text is what came before.
    problem: Option<String>,
}

/// Opens the zip, checks the part's declared size, and streams the part through `limit`.
fn zip_text<R: Read + Seek>(reader: R, flavor: Flavor, limit: u64) -> Result<Parsed, String> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|_| "文档无法打开（zip 结构损坏或不完整），未提取文字".to_string())?;
    let part_name = match flavor {
        Flavor::Word => crate::detect::ooxml_main(&mut archive)
            .filter(|(format, _)| *format == Format::Docx)
            .map(|(_, name)| name),
        Flavor::Odf => crate::detect::entry_name(&archive, "content.xml"),
    }
    .ok_or_else(|| format!("文档中缺少 {}，未提取文字", flavor.part()))?;
    let part = archive.by_name(&part_name).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.to_lowercase().contains("password") => {
            "文档已加密，未提取文字".to_string()
        }
        _ => format!("文档中的 {} 无法读取，未提取文字", flavor.part()),
    })?;
    if part.size() > limit {
        return Err(BOMB.to_string());
    }
    let mut limited = Limited::new(part, limit);
    let parsed = parse_xml(&mut limited, flavor);
    if limited.exceeded {
        return Err(BOMB.to_string());
    }
    Ok(parsed)
}

/// A reader that fails once more than `left` bytes come out of it, and remembers that: a
/// size declared by a zip (docx part, zip member) is never trusted. Shared with the zip import.
pub(crate) struct Limited<R> {
    inner: R,
    left: u64,
    /// More than the limit was there.
    pub(crate) exceeded: bool,
    /// Bytes that came out.
    pub(crate) count: u64,
}

impl<R> Limited<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Limited<R> {
        Limited {
            inner,
            left: limit,
            exceeded: false,
            count: 0,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded = true;
            return Err(io::Error::other("inflated size limit exceeded"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        self.count += n as u64;
        Ok(n)
    }
}

/// Paragraphs in document order, one per line, until the end, an error, or the text cap.
fn parse_xml<R: Read>(reader: R, flavor: Flavor) -> Parsed {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    let mut buf = Vec::new();
    let mut text = String::new();
    let mut chars = 0usize;
    // Word: inside a run (`w:r`) and inside `w:t`. ODF: inside a paragraph or heading.
    let mut run_depth = 0usize;
    let mut in_t = false;
    let mut para_depth = 0usize;
    let mut problem = None;
    let mut push = |text: &mut String, s: &str| {
        text.push_str(s);
        chars += s.chars().count();
        chars >= MAX_TEXT_CHARS
    };
    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(_) => {
                problem = Some("文档内容（XML）已损坏，只提取了损坏处之前的文字".to_string());
                break;
            }
        };
        let full = match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.local_name();
                match (flavor, name.as_ref()) {
                    (Flavor::Word, "r") => run_depth += 1,
                    (Flavor::Word, "t") => in_t = true,
                    (Flavor::Odf, "p" | "h") => para_depth += 1,
                    _ => {}
                }
                false
            }
            Event::End(e) => {
                let name = e.local_name();
                match (flavor, name.as_ref()) {
                    (Flavor::Word, "r") => {
                        run_depth = run_depth.saturating_sub(1);
                        false
                    }
                    (Flavor::Word, "t") => {
                        in_t = false;
                        false
                    }
                    (Flavor::Word, "p") => push(&mut text, "\n"),
                    (Flavor::Odf, "p" | "h") => {
                        para_depth = para_depth.saturating_sub(1);
                        push(&mut text, "\n")
                    }
                    _ => false,
                }
            }
            Event::Empty(e) => {
                let name = e.local_name();
                match (flavor, name.as_ref()) {
                    (Flavor::Word, "tab") if run_depth > 0 => push(&mut text, "\t"),
                    (Flavor::Word, "br" | "cr") if run_depth > 0 => push(&mut text, "\n"),
                    (Flavor::Word, "p") => push(&mut text, "\n"),
                    (Flavor::Odf, "tab") if para_depth > 0 => push(&mut text, "\t"),
                    (Flavor::Odf, "line-break") if para_depth > 0 => push(&mut text, "\n"),
                    (Flavor::Odf, "s") if para_depth > 0 => {
                        let count = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "c")
                            .and_then(|a| a.value.trim().parse().ok())
                            .unwrap_or(1usize)
                            .min(100);
                        push(&mut text, &" ".repeat(count))
                    }
                    (Flavor::Odf, "p" | "h") => push(&mut text, "\n"),
                    _ => false,
                }
            }
            Event::Text(t) if wanted(flavor, in_t, para_depth) => {
                push(&mut text, &t.xml10_content())
            }
            Event::CData(t) if wanted(flavor, in_t, para_depth) => {
                push(&mut text, &t.xml10_content())
            }
            Event::GeneralRef(r) if wanted(flavor, in_t, para_depth) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => match r.xml10_content().as_ref() {
                        "amp" => Some("&".to_string()),
                        "lt" => Some("<".to_string()),
                        "gt" => Some(">".to_string()),
                        "quot" => Some("\"".to_string()),
                        "apos" => Some("'".to_string()),
                        _ => None,
                    },
                };
                resolved.is_some_and(|s| push(&mut text, &s))
            }
            _ => false,
        };
        if full {
            break;
        }
        buf.clear();
    }
    let text = cap(text.trim_end_matches('\n').to_string());
    Parsed { text, problem }
}

fn wanted(flavor: Flavor, in_t: bool, para_depth: usize) -> bool {
    match flavor {
        Flavor::Word => in_t,
        Flavor::Odf => para_depth > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ExtractOptions, extract};
    use chrono::NaiveDate;
    use std::io::Write;
    use std::path::Path;

    fn zip_bytes(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in parts {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const DOCX: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr><w:r><w:t>关于举办“启动仪式”的通知</w:t></w:r></w:p>
<w:p/>
<w:p><w:r><w:t xml:space="preserve">时间：</w:t></w:r><w:r><w:t>2025年5月7日</w:t></w:r><w:r><w:tab/><w:t>地点：礼堂</w:t></w:r></w:p>
<w:p><w:r><w:t>A &amp; B &#x4E2D;</w:t><w:br/><w:t>第二行</w:t></w:r><w:r><w:delText>删掉的</w:delText></w:r></w:p>
<w:p><w:r><w:t>落款：2025年5月20日</w:t></w:r></w:p>
</w:body></w:document>"#;

    fn run(format: Format, bytes: &[u8]) -> Extracted {
        extract(
            format,
            bytes,
            Path::new("/nonexistent/dangan-doc-test"),
            &ExtractOptions::default(),
        )
    }

    #[test]
    fn docx_paragraphs_in_order_with_tabs_breaks_and_date() {
        let docx = zip_bytes(&[("word/document.xml", DOCX.as_bytes())]);
        let out = run(Format::Docx, &docx);
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(
            out.text.as_deref(),
            Some(
                "关于举办“启动仪式”的通知\n\n时间：2025年5月7日\t地点：礼堂\nA & B 中\n第二行\n落款：2025年5月20日"
            )
        );
        assert_eq!(out.dates.len(), 1);
        assert_eq!(out.dates[0].source, DateSource::Document);
        assert_eq!(out.dates[0].when.to_string(), "2025-05-07 00:00:00");
    }

    #[test]
    fn docx_read_from_the_full_file_beyond_the_head() {
        let docx = zip_bytes(&[("word/document.xml", DOCX.as_bytes())]);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&docx).unwrap();
        let out = extract(
            Format::Docx,
            &docx[..10],
            file.path(),
            &ExtractOptions::default(),
        );
        assert!(out.text.unwrap().starts_with("关于举办"));
    }

    #[test]
    fn odt_paragraphs_headings_and_spaces() {
        let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:text>
<text:h text:outline-level="1">活动总结</text:h>
<text:p>日期<text:s text:c="2"/>2025.5.12<text:tab/>地点<text:line-break/>礼堂</text:p>
</office:text></office:body></office:document-content>"#;
        let odt = zip_bytes(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", content.as_bytes()),
        ]);
        let out = run(Format::Odt, &odt);
        assert_eq!(
            out.text.as_deref(),
            Some("活动总结\n日期  2025.5.12\t地点\n礼堂")
        );
        assert_eq!(
            out.dates[0].date(),
            NaiveDate::from_ymd_opt(2025, 5, 12).unwrap()
        );
    }

    #[test]
    fn docx_zip_bomb_is_refused() {
        let big = format!(
            "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:body></w:document>",
            "啊".repeat(2000)
        );
        let docx = zip_bytes(&[("word/document.xml", big.as_bytes())]);
        // The same path as a 64 MiB bomb, with a 1 KiB limit: the declared size is refused…
        let err = zip_text(Cursor::new(&docx), Flavor::Word, 1024).err();
        assert_eq!(err.as_deref(), Some(BOMB));
        // …and a part that inflates past the limit is refused while reading.
        let mut limited = Limited::new(Cursor::new(big.as_bytes()), 1024);
        let _ = parse_xml(&mut limited, Flavor::Word);
        assert!(limited.exceeded);
        // Under the real limit it reads.
        let out = run(Format::Docx, &docx);
        assert_eq!(out.text.map(|t| t.chars().count()), Some(2000));
    }

    #[test]
    fn broken_docx_is_a_problem_not_a_panic() {
        let out = run(Format::Docx, b"PK\x03\x04broken");
        assert_eq!(out.text, None);
        assert!(out.problems[0].contains("zip 结构损坏"));
        let no_part = zip_bytes(&[("word/other.xml", b"<x/>")]);
        let out = run(Format::Docx, &no_part);
        assert!(out.problems[0].contains("word/document.xml"));
        let cut = zip_bytes(&[(
            "word/document.xml",
            b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>\xE5\x89\x8D\xE6\x96\x87</w:t></w:r></w:p><w:p><w:r></w:x>",
        )]);
        let out = run(Format::Docx, &cut);
        assert_eq!(out.text.as_deref(), Some("前文"));
        assert!(out.problems[0].contains("XML"));
    }

    #[test]
    fn txt_in_every_encoding() {
        let text = "活动方案\r\n时间：2025年5月12日\r\n";
        let want = Some("活动方案\n时间：2025年5月12日\n");
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend_from_slice(text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let gb = encoding_rs::GB18030.encode(text).0.into_owned();
        for (label, bytes) in [
            ("utf-8", text.as_bytes().to_vec()),
            ("utf-8 bom", utf8_bom),
            ("utf-16le", le),
            ("utf-16be", be),
            ("gb18030", gb),
        ] {
            let out = run(Format::Txt, &bytes);
            assert_eq!(out.text.as_deref(), want, "{label}");
            assert_eq!(
                out.dates[0].when.to_string(),
                "2025-05-12 00:00:00",
                "{label}"
            );
        }
    }

    #[test]
    fn date_only_in_first_fifteen_lines_and_pdf_has_no_text() {
        let mut text = "第一行\n\n".repeat(15);
        text.push_str("2025-05-12\n");
        let out = run(Format::Md, text.as_bytes());
        assert_eq!(out.dates, vec![]);
        let out = run(Format::Pdf, b"%PDF-1.7\n");
        assert_eq!(out, Extracted::default());
    }
}
