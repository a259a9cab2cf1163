//! What a file is, from its first bytes (magic numbers), with the extension only as a hint:
//! a file whose extension and content disagree is classified by content, with a warning in
//! Chinese. Zips are opened (central directory only) to tell xlsx/xlsm/xlsb/docx/ods/odt apart.
//!
//! Never decodes or inflates content beyond a few small parts ([Content_Types].xml, mimetype),
//! never trusts the extension over the bytes, never panics on any input.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use crate::model::Format;

/// The format of a file and, when the extension says something else, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub format: Format,
    /// Chinese, e.g. "扩展名为 .jpg，但内容是 PNG 图片；按内容归类".
    pub warning: Option<String>,
}

/// Detect the format of a file from `head` (its first bytes, up to 256 KiB), its name, and —
/// for zips only — the full content at `full`.
pub fn detect(head: &[u8], file_name: &str, full: &Path) -> Detected {
    let ext = extension(file_name);
    if head.is_empty() {
        return Detected {
            format: Format::Unknown,
            warning: Some("文件为空（0 字节）".to_string()),
        };
    }
    if let Some(archive) = unreadable_archive(head, ext.as_deref()) {
        return archive;
    }
    let expected = ext.as_deref().and_then(format_for_extension);
    if let Some(encrypted) = encrypted_office(head, expected) {
        return encrypted;
    }
    let by_content = if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(detect_zip(head, full, expected))
    } else {
        magic(head, ext.as_deref()).map(|format| Detected {
            format,
            warning: None,
        })
    };
    let Some(mut found) = by_content else {
        return detect_text_or_unknown(head, ext.as_deref(), expected);
    };
    if found.warning.is_none()
        && let (Some(ext), Some(expected)) = (ext.as_deref(), expected)
        && !compatible(expected, found.format)
    {
        found.warning = Some(if found.format == Format::Unknown {
            format!("扩展名为 .{ext}，但内容无法识别")
        } else {
            format!(
                "扩展名为 .{ext}，但内容是{}；按内容归类",
                spaced(describe(found.format))
            )
        });
    }
    found
}

/// The note on a rar: stored whole, its members are not read.
pub const RAR_NOTE: &str = "请解压后再放入（rar 无法读取）";

/// A 7z by content (its members are read like a zip's), or a rar (by content, or by its
/// extension when the content is no zip or 7z): kept as one file with the note that its
/// members cannot be read.
fn unreadable_archive(head: &[u8], ext: Option<&str>) -> Option<Detected> {
    let rar = head.starts_with(b"Rar!\x1a\x07");
    let seven = head.starts_with(&crate::import::sevenz::MAGIC);
    let zip = head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06");
    if seven {
        return Some(Detected {
            format: Format::SevenZ,
            warning: None,
        });
    }
    if !(rar || (!zip && ext == Some("rar"))) {
        return None;
    }
    Some(Detected {
        format: Format::Unknown,
        warning: Some(RAR_NOTE.to_string()),
    })
}

/// A person's word for a format, used in warnings.
pub fn describe(format: Format) -> &'static str {
    use Format::*;
    match format {
        Jpeg => "JPEG 图片",
        Png => "PNG 图片",
        Webp => "WebP 图片",
        Heic => "HEIC/HEIF 图片",
        Tiff => "TIFF 图片",
        Gif => "GIF 图片",
        Mp4 => "MP4 视频",
        Mov => "MOV 视频",
        Xlsx => "Excel 工作簿（xlsx）",
        Xlsm => "启用宏的 Excel 工作簿（xlsm）",
        Xlsb => "Excel 二进制工作簿（xlsb）",
        Xls => "Excel 97-2003 工作簿（xls）",
        Ods => "OpenDocument 表格（ods）",
        Csv => "CSV 表格",
        HtmlTable => "网页格式的表格（HTML）",
        XmlSpreadsheet => "Excel 2003 XML 表格",
        Docx => "Word 文档（docx）",
        Doc => "Word 97-2003 文档（doc）",
        Odt => "OpenDocument 文档（odt）",
        Pdf => "PDF 文档",
        Txt => "纯文本",
        Md => "Markdown 文本",
        Zip => "zip 压缩包",
        SevenZ => "7z 压缩包",
        Unknown => "无法识别的内容",
    }
}

/// A description with a space before it when it starts with a Latin word (`内容是 PNG 图片`).
fn spaced(description: &str) -> String {
    if description.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        format!(" {description}")
    } else {
        description.to_string()
    }
}

fn extension(file_name: &str) -> Option<String> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
}

/// The format an extension promises, for the mismatch warning.
fn format_for_extension(ext: &str) -> Option<Format> {
    use Format::*;
    Some(match ext {
        "jpg" | "jpeg" | "jpe" | "jfif" => Jpeg,
        "png" => Png,
        "webp" => Webp,
        "heic" | "heif" | "hif" | "avif" => Heic,
        "tif" | "tiff" | "dng" | "arw" | "nef" | "cr2" => Tiff,
        "gif" => Gif,
        "mp4" | "m4v" | "3gp" => Mp4,
        "mov" | "qt" => Mov,
        "xlsx" => Xlsx,
        "xlsm" => Xlsm,
        "xlsb" => Xlsb,
        "xls" | "et" => Xls,
        "ods" => Ods,
        "csv" => Csv,
        "docx" => Docx,
        "doc" | "wps" => Doc,
        "odt" => Odt,
        "pdf" => Pdf,
        "txt" => Txt,
        "md" | "markdown" => Md,
        "zip" => Zip,
        "7z" => SevenZ,
        _ => return None,
    })
}

/// Whether content of `found` under an extension promising `expected` needs no warning.
fn compatible(expected: Format, found: Format) -> bool {
    use Format::*;
    expected == found || matches!((expected, found), (Mp4, Mov) | (Mov, Mp4))
}

/// Magic numbers of everything but zips and text.
fn magic(head: &[u8], ext: Option<&str>) -> Option<Format> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Format::Gif);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Some(Format::Tiff);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Format::Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(ftyp(head));
    }
    if head.len() >= 8 {
        let box_type = &head[4..8];
        let video_ext = matches!(ext, Some("mov" | "mp4" | "qt" | "m4v"));
        if matches!(box_type, b"moov" | b"mdat" | b"wide" | b"pnot")
            || (video_ext && matches!(box_type, b"free" | b"skip"))
        {
            return Some(Format::Mov);
        }
    }
    if head.starts_with(b"%PDF") || find(&head[..head.len().min(1024)], b"%PDF-").is_some() {
        return Some(Format::Pdf);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(ole(head, ext));
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

const IMAGE_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis",
];
const VIDEO_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
    b"M4VP", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"dash", b"mmp4", b"f4v ", b"XAVC",
];

/// An ISO base media file: its `ftyp` major brand decides, then its compatible brands.
fn ftyp(head: &[u8]) -> Format {
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.clamp(16, 4096).min(head.len());
    let major = &head[8..12];
    let compatible: Vec<&[u8]> = head[16.min(end)..end].chunks_exact(4).collect();
    let classify = |brand: &[u8]| {
        if brand == b"qt  " {
            Some(Format::Mov)
        } else if IMAGE_BRANDS.iter().any(|b| b.as_slice() == brand) {
            Some(Format::Heic)
        } else if VIDEO_BRANDS.iter().any(|b| b.as_slice() == brand) {
            Some(Format::Mp4)
        } else {
            None
        }
    };
    classify(major)
        .or_else(|| {
            // A HEIF image lists mif1/heic among its brands even under an unusual major brand.
            compatible
                .iter()
                .find(|b| IMAGE_BRANDS.iter().any(|i| i.as_slice() == **b))
                .map(|_| Format::Heic)
        })
        .or_else(|| compatible.iter().find_map(|b| classify(b)))
        .unwrap_or(Format::Unknown)
}

/// An OLE compound file: its stream names (UTF-16 in the directory) tell Word from Excel from
/// PowerPoint; the extension decides when the directory lies beyond the head.
fn ole(head: &[u8], ext: Option<&str>) -> Format {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    if find(head, &utf16("WordDocument")).is_some() {
        return Format::Doc;
    }
    if find(head, &utf16("Workbook")).is_some() || find(head, &utf16("Book\0")).is_some() {
        return Format::Xls;
    }
    if find(head, &utf16("PowerPoint Document")).is_some() {
        return Format::Unknown;
    }
    match ext {
        Some("doc" | "wps" | "dot") => Format::Doc,
        // Other OLE files dangan has no reader for: presentations, Outlook mail, Visio.
        Some("ppt" | "pps" | "pot" | "dps" | "msg" | "vsd" | "pub") => Format::Unknown,
        _ => Format::Xls,
    }
}

/// A password-protected xlsx/xlsm/xlsb/docx: an OLE file holding an `EncryptedPackage`.
/// Classified by its extension (its content cannot be read without the password).
fn encrypted_office(head: &[u8], expected: Option<Format>) -> Option<Detected> {
    if !head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return None;
    }
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    find(head, &name)?;
    let format = match expected {
        Some(f @ (Format::Xlsx | Format::Xlsm | Format::Xlsb | Format::Docx)) => f,
        _ => Format::Unknown,
    };
    Some(Detected {
        format,
        warning: Some(
            "文件设置了打开密码（已加密），无法读取内容；请部门提供未加密的文件".to_string(),
        ),
    })
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Opens `full`, or the head itself when `full` cannot be opened (the head then being all
/// there is to read).
fn open_full<'a>(head: &'a [u8], full: &Path) -> Box<dyn ReadSeek + 'a> {
    match File::open(full) {
        Ok(f) => Box::new(std::io::BufReader::new(f)),
        Err(_) => Box::new(Cursor::new(head)),
    }
}

/// A zip: Office Open XML, OpenDocument, or a plain archive.
fn detect_zip(head: &[u8], full: &Path, expected: Option<Format>) -> Detected {
    let reader = open_full(head, full);
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(_) => {
            // A broken Office file is still an Office file: let its reader report the damage.
            let format = match expected {
                Some(
                    f @ (Format::Xlsx
                    | Format::Xlsm
                    | Format::Xlsb
                    | Format::Docx
                    | Format::Ods
                    | Format::Odt),
                ) => f,
                _ => Format::Zip,
            };
            return Detected {
                format,
                warning: Some("zip 结构无法读取（文件可能不完整或已损坏）".to_string()),
            };
        }
    };
    let format = if let Some((format, _)) = ooxml_main(&mut archive) {
        format
    } else if let Some(name) = entry_name(&archive, "mimetype") {
        let mime = read_part(&mut archive, &name, 256).unwrap_or_default();
        match String::from_utf8_lossy(&mime).trim() {
            "application/vnd.oasis.opendocument.spreadsheet"
            | "application/vnd.oasis.opendocument.spreadsheet-template" => Format::Ods,
            "application/vnd.oasis.opendocument.text"
            | "application/vnd.oasis.opendocument.text-template" => Format::Odt,
            _ => Format::Zip,
        }
    } else {
        Format::Zip
    };
    Detected {
        format,
        warning: None,
    }
}

/// The actual entry name of `wanted` in a zip, compared with `\` as `/` and ignoring case
/// (some tools write `xl\workbook.xml`).
pub(crate) fn entry_name<R: Read + Seek>(
    archive: &zip::ZipArchive<R>,
    wanted: &str,
) -> Option<String> {
    if archive.index_for_name(wanted).is_some() {
        return Some(wanted.to_string());
    }
    let norm = |n: &str| n.replace('\\', "/").trim_start_matches('/').to_lowercase();
    let wanted = norm(wanted);
    archive
        .file_names()
        .flatten()
        .find(|n| norm(n) == wanted)
        .map(|n| n.into_owned())
}

/// Content types of the main part of an Office Open XML package, lower-cased.
const OOXML_MAIN_TYPES: &[(&str, Format)] = &[
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        Format::Xlsx,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        Format::Xlsx,
    ),
    (
        "application/vnd.ms-excel.sheet.macroenabled.main+xml",
        Format::Xlsm,
    ),
    (
        "application/vnd.ms-excel.template.macroenabled.main+xml",
        Format::Xlsm,
    ),
    (
        "application/vnd.ms-excel.sheet.binary.macroenabled.main",
        Format::Xlsb,
    ),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        Format::Docx,
    ),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        Format::Docx,
    ),
    (
        "application/vnd.ms-word.document.macroenabled.main+xml",
        Format::Docx,
    ),
    (
        "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
        Format::Docx,
    ),
];

/// The format of an Office Open XML package and the zip entry of its main part: from
/// `[Content_Types].xml`, else from the usual part names.
pub(crate) fn ooxml_main<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
) -> Option<(Format, String)> {
    if let Some(ct_name) = entry_name(archive, "[Content_Types].xml") {
        let types = read_part(archive, &ct_name, 1 << 20).unwrap_or_default();
        for (part, content_type) in content_type_overrides(&types) {
            let content_type = content_type.to_lowercase();
            if let Some((_, format)) = OOXML_MAIN_TYPES.iter().find(|(t, _)| *t == content_type)
                && let Some(name) = entry_name(archive, &part)
            {
                return Some((*format, name));
            }
        }
    }
    [
        ("xl/workbook.xml", Format::Xlsx),
        ("xl/workbook.bin", Format::Xlsb),
        ("word/document.xml", Format::Docx),
    ]
    .into_iter()
    .find_map(|(part, format)| entry_name(archive, part).map(|name| (format, name)))
}

/// `(PartName, ContentType)` of every `<Override>` in `[Content_Types].xml`.
fn content_type_overrides(xml: &[u8]) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut found = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Empty(e) | quick_xml::events::Event::Start(e))
                if e.local_name().as_ref() == "Override" =>
            {
                let mut part = None;
                let mut content_type = None;
                for attr in e.attributes().flatten() {
                    match attr.key.local_name().as_ref() {
                        "PartName" => part = Some(attr.value.to_string()),
                        "ContentType" => content_type = Some(attr.value.to_string()),
                        _ => {}
                    }
                }
                if let (Some(p), Some(c)) = (part, content_type) {
                    found.push((p, c));
                }
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        buf.clear();
    }
    found
}

/// At most `limit` bytes of one small part of a zip.
fn read_part<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
) -> Option<Vec<u8>> {
    let part = archive.by_name(name).ok()?;
    let mut buf = Vec::new();
    part.take(limit).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Neither magic nor zip: text by extension after a text check, else unknown.
fn detect_text_or_unknown(head: &[u8], ext: Option<&str>, expected: Option<Format>) -> Detected {
    let text = looks_like_text(head);
    // What school systems export as "xls": an HTML table or an Excel 2003 XML Spreadsheet.
    if text
        && matches!(expected, Some(Format::Xls | Format::Xlsx | Format::Xlsm))
        && let Some(format) = markup_sheet(head)
    {
        return Detected {
            format,
            warning: None,
        };
    }
    let text_format = match ext {
        Some("csv") => Some(Format::Csv),
        Some("txt" | "text" | "log") => Some(Format::Txt),
        Some("md" | "markdown") => Some(Format::Md),
        _ => None,
    };
    match (text, text_format, expected) {
        (true, Some(format), _) => Detected {
            format,
            warning: None,
        },
        (true, None, Some(expected)) => Detected {
            format: Format::Unknown,
            warning: Some(format!(
                "扩展名为 .{}，但内容是纯文本，不是{}；无法按扩展名读取",
                ext.unwrap_or_default(),
                spaced(describe(expected))
            )),
        },
        (false, Some(_), _) => Detected {
            format: Format::Unknown,
            warning: Some(format!(
                "扩展名为 .{}，但内容不是可读的文本（含二进制数据）",
                ext.unwrap_or_default()
            )),
        },
        (false, None, Some(_)) => Detected {
            format: Format::Unknown,
            warning: Some(format!(
                "扩展名为 .{}，但内容无法识别",
                ext.unwrap_or_default()
            )),
        },
        _ => Detected {
            format: Format::Unknown,
            warning: None,
        },
    }
}

/// An HTML table or an XML Spreadsheet 2003, from the first bytes of a text file.
fn markup_sheet(head: &[u8]) -> Option<Format> {
    let start: String =
        crate::sheet::decode_text(&head[..head.len().min(64 * 1024)]).to_ascii_lowercase();
    if start.contains("urn:schemas-microsoft-com:office:spreadsheet") && start.contains("<workbook")
    {
        return Some(Format::XmlSpreadsheet);
    }
    let trimmed = start.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.starts_with('<') && start.contains("<table") {
        return Some(Format::HtmlTable);
    }
    None
}

/// Valid UTF-8, UTF-16 with a BOM, or GB18030 without errors, and no NUL bytes (outside
/// UTF-16). The head may end in the middle of a character.
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
        .count();
    if control * 100 > head.len() {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return true,
        // Only a character cut off at the end of the head.
        Err(e) if e.error_len().is_none() => return true,
        Err(_) => {}
    }
    (0..=3).any(|cut| {
        head.len() > cut
            && !encoding_rs::GB18030
                .decode_without_bom_handling(&head[..head.len() - cut])
                .1
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn nowhere() -> &'static Path {
        Path::new("/nonexistent/dangan-detect-test")
    }

    fn det(head: &[u8], name: &str) -> Detected {
        detect(head, name, nowhere())
    }

    fn ole_with(stream: &str) -> Vec<u8> {
        let mut v = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        v.extend(std::iter::repeat_n(0u8, 504));
        v.extend(stream.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn ftyp_box(major: &[u8; 4], compat: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compat.len();
        let mut v = (size as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 0, 0]);
        for c in compat {
            v.extend_from_slice(*c);
        }
        v
    }

    #[test]
    fn magic_numbers() {
        let cases: Vec<(Vec<u8>, &str, Format)> = vec![
            (vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 0], "a.jpg", Format::Jpeg),
            (
                b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(),
                "a.png",
                Format::Png,
            ),
            (b"GIF89a\x01\0\x01\0".to_vec(), "a.gif", Format::Gif),
            (b"II*\0\x08\0\0\0".to_vec(), "a.tif", Format::Tiff),
            (b"MM\0*\0\0\0\x08".to_vec(), "a.tiff", Format::Tiff),
            (b"RIFF\x10\0\0\0WEBPVP8 ".to_vec(), "a.webp", Format::Webp),
            (
                ftyp_box(b"heic", &[b"mif1", b"heic"]),
                "a.heic",
                Format::Heic,
            ),
            (ftyp_box(b"mif1", &[b"heic"]), "a.heif", Format::Heic),
            (ftyp_box(b"isom", &[b"isom", b"mp41"]), "a.mp4", Format::Mp4),
            (ftyp_box(b"mp42", &[b"mp42"]), "a.mp4", Format::Mp4),
            (ftyp_box(b"qt  ", &[b"qt  "]), "a.mov", Format::Mov),
            (
                b"\0\0\0\x08wide\0\0\0\x10mdat".to_vec(),
                "a.mov",
                Format::Mov,
            ),
            (b"%PDF-1.7\n".to_vec(), "a.pdf", Format::Pdf),
            (ole_with("WordDocument"), "a.wps", Format::Doc),
            (ole_with("Workbook"), "a.xls", Format::Xls),
            (ole_with("PowerPoint Document"), "a.ppt", Format::Unknown),
            (
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
                "a.doc",
                Format::Doc,
            ),
            (
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
                "a.xls",
                Format::Xls,
            ),
            (b"name,id\n".to_vec(), "a.csv", Format::Csv),
            (b"hello\n".to_vec(), "a.txt", Format::Txt),
            (b"# title\n".to_vec(), "a.md", Format::Md),
        ];
        for (head, name, format) in cases {
            let d = det(&head, name);
            assert_eq!(d.format, format, "{name}");
            assert_eq!(d.warning, None, "{name}");
        }
    }

    #[test]
    fn ole_content_beats_the_extension() {
        let d = det(&ole_with("WordDocument"), "名单.xls");
        assert_eq!(d.format, Format::Doc);
        assert!(d.warning.unwrap().contains("Word 97-2003"));
    }

    #[test]
    fn empty_head_is_unknown() {
        assert_eq!(det(b"", "a.jpg").format, Format::Unknown);
    }

    #[test]
    fn jpg_that_is_png_is_png_with_warning() {
        let d = det(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", "照片.JPG");
        assert_eq!(d.format, Format::Png);
        assert_eq!(
            d.warning.as_deref(),
            Some("扩展名为 .jpg，但内容是 PNG 图片；按内容归类")
        );
    }

    #[test]
    fn xlsx_that_is_text_is_unknown_with_warning() {
        let d = det("姓名,学号\n张三,1\n".as_bytes(), "签到表.xlsx");
        assert_eq!(d.format, Format::Unknown);
        let w = d.warning.unwrap();
        assert!(w.contains(".xlsx") && w.contains("纯文本"), "{w}");
    }

    #[test]
    fn text_checks() {
        let gb = encoding_rs::GB18030.encode("姓名,学号\n张三,2023001\n").0;
        assert_eq!(det(&gb, "名单.csv").format, Format::Csv);
        assert_eq!(det(b"\xFF\xFEa\0b\0", "a.txt").format, Format::Txt);
        // Binary junk with a text extension.
        let d = det(b"\x00\x01\x02\x03binary", "a.txt");
        assert_eq!(d.format, Format::Unknown);
        assert!(d.warning.is_some());
        // A text file with an extension we know nothing about: no complaint.
        assert_eq!(det(b"plain words", "README.rst").warning, None);
    }

    fn zip_with(parts: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, body) in parts {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        file
    }

    fn det_zip(parts: &[(&str, &str)], name: &str) -> Detected {
        let file = zip_with(parts);
        let bytes = std::fs::read(file.path()).unwrap();
        detect(&bytes, name, file.path())
    }

    #[test]
    fn zips_by_their_parts() {
        let xlsx = [
            (
                "[Content_Types].xml",
                r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
            ),
            ("xl/workbook.xml", "<workbook/>"),
        ];
        assert_eq!(det_zip(&xlsx, "a.xlsx").format, Format::Xlsx);
        let xlsm = [
            (
                "[Content_Types].xml",
                r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>"#,
            ),
            ("xl/workbook.xml", "<workbook/>"),
        ];
        let d = det_zip(&xlsm, "a.xlsx");
        assert_eq!(d.format, Format::Xlsm);
        assert!(d.warning.is_some());
        assert_eq!(det_zip(&xlsm, "a.xlsm").warning, None);
        assert_eq!(
            det_zip(&[("xl/workbook.bin", "x")], "a.xlsb").format,
            Format::Xlsb
        );
        assert_eq!(
            det_zip(&[("word/document.xml", "<w:document/>")], "a.docx").format,
            Format::Docx
        );
        let ods = [("mimetype", "application/vnd.oasis.opendocument.spreadsheet")];
        assert_eq!(det_zip(&ods, "a.ods").format, Format::Ods);
        let odt = [("mimetype", "application/vnd.oasis.opendocument.text")];
        assert_eq!(det_zip(&odt, "a.odt").format, Format::Odt);
        let plain = det_zip(&[("照片/1.jpg", "x")], "照片.zip");
        assert_eq!(
            plain,
            Detected {
                format: Format::Zip,
                warning: None
            }
        );
        // The main part where [Content_Types].xml says, and names written with backslashes.
        let minimal = [
            (
                "[Content_Types].xml",
                r#"<Types><Override PartName="/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
            ),
            ("workbook.xml", "<workbook/>"),
        ];
        assert_eq!(
            det_zip(&minimal, "a.xlsx"),
            Detected {
                format: Format::Xlsx,
                warning: None
            }
        );
        assert_eq!(
            det_zip(&[("xl\\workbook.xml", "x")], "a.xlsx").format,
            Format::Xlsx
        );
        let d = det_zip(&[("word/document.xml", "x")], "签到表.xlsx");
        assert_eq!(d.format, Format::Docx);
        assert!(d.warning.unwrap().contains("Word 文档"));
    }

    #[test]
    fn broken_zip_keeps_office_extension() {
        let d = det(b"PK\x03\x04garbage", "a.xlsx");
        assert_eq!(d.format, Format::Xlsx);
        assert!(d.warning.is_some());
    }
}
