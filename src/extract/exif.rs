//! Photos: EXIF dates (with their `OffsetTime*` kept as written), orientation, the IFD1
//! thumbnail, the pixel size from the image header, and whether the image is whole (a JPEG
//! ends with its EOI marker, a PNG with IEND, a WebP is as long as its RIFF header says).
//!
//! Reads EXIF from the head first and opens the full content only when it lies beyond (a HEIC
//! item, a WebP EXIF chunk after the bitstream). Never decodes pixels, never applies an EXIF
//! offset, never turns a blank or zero EXIF date into a candidate.

use std::io::{BufReader, Cursor, Seek, SeekFrom};

use chrono::{NaiveDateTime, Timelike};
use exif::{Exif, In, Tag, Value};

use super::{Content, Extracted};
use crate::model::{DateCandidate, DateSource, Format};

/// Images larger than this are refused for thumbnails and previews (a pixel bomb).
pub const MAX_PIXELS: u64 = 200_000_000;

/// A TIFF is parsed from at most this much of its start.
const MAX_TIFF_READ: usize = 64 << 20;

/// A HEIF `meta` box larger than this is not read (its EXIF would be read into memory whole).
const MAX_HEIF_META: u64 = 16 << 20;

/// How much of a JPEG's end is searched for its EOI marker when it is not in the last 4 KiB
/// (some phones append trailers).
const JPEG_TAIL: usize = 64 << 10;

pub(crate) fn extract_image(format: Format, content: &mut Content, out: &mut Extracted) {
    if let Some(exif) = read_exif(format, content) {
        apply_exif(&exif, out);
    }
    match format {
        Format::Jpeg => check_jpeg(content, out),
        Format::Png => check_png(content, out),
        Format::Webp => check_webp(content, out),
        Format::Gif => {
            let h = content.head();
            if h.len() >= 10 {
                out.width = Some(u16::from_le_bytes([h[6], h[7]]).into());
                out.height = Some(u16::from_le_bytes([h[8], h[9]]).into());
                // A GIF ends with its trailer byte 0x3B (some writers pad with zeros).
                let tail = content.tail(64).unwrap_or_default();
                if tail.iter().rev().find(|&&b| b != 0) != Some(&0x3B) {
                    damaged(out, "GIF 文件末尾没有结束标记（可能传输或拷贝中断）");
                }
            } else {
                damaged(out, "GIF 文件头不完整");
            }
        }
        Format::Heic => {
            if let Some((w, h)) = heif_meta(content).as_deref().and_then(heif_size) {
                out.width = Some(w);
                out.height = Some(h);
            }
            if let Some(problem) = super::video::cut_short(content, "图片") {
                out.problems.push(problem);
            }
        }
        _ => {}
    }
    if let (Some(w), Some(h)) = (out.width, out.height)
        && u64::from(w) * u64::from(h) > MAX_PIXELS
    {
        out.problems.push(format!(
            "图片尺寸 {w}×{h} 超过上限（{} 万像素），疑似恶意文件，不生成缩略图",
            MAX_PIXELS / 10_000
        ));
    }
}

/// The EXIF block of an image, partial results kept; `None` when there is none or it cannot
/// be read at all.
fn read_exif(format: Format, content: &mut Content) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let keep_partial = |r: Result<Exif, exif::Error>| match r {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => Some(partial.into_inner().0),
        Err(_) => None,
    };
    let head = content.head();
    match format {
        Format::Tiff => {
            // A TIFF is its own EXIF. The head usually holds IFD0 and the Exif IFD; only when
            // it does not parse cleanly is more read (IFDs may sit after the pixel data).
            let from_head = reader.read_raw(head.to_vec());
            if from_head.is_ok() || content.head_is_whole() {
                return keep_partial(from_head);
            }
            let data = content.read_at(0, MAX_TIFF_READ).ok()?;
            keep_partial(reader.read_raw(data)).or_else(|| keep_partial(from_head))
        }
        Format::Webp => {
            let raw = webp_exif_chunk(content)?;
            keep_partial(reader.read_raw(raw))
        }
        Format::Jpeg | Format::Png | Format::Heic => {
            let from_head = reader.read_from_container(&mut Cursor::new(head));
            // Only an EXIF block cut off by the end of the head is worth a second look.
            let cut_off = match &from_head {
                Err(exif::Error::Io(_)) => true,
                // kamadak-exif's word for an unexpected end of data ("Broken JPEG file").
                Err(exif::Error::InvalidFormat(m)) => m.starts_with("Broken"),
                // A HEIF whose meta box comes after an mdat that runs past the head.
                Err(exif::Error::NotFound(_)) => format == Format::Heic,
                _ => false,
            };
            if let Some(exif) = keep_partial(from_head) {
                return Some(exif);
            }
            let worth_reading_on = cut_off
                && !content.head_is_whole()
                && match format {
                    // A PNG's eXIf chunk comes before IDAT; no need to read on past that.
                    Format::Png => !contains(head, b"IDAT"),
                    Format::Heic => heif_meta_fits(content),
                    _ => true,
                };
            if !worth_reading_on {
                return None;
            }
            let file = content.file().ok()?;
            // Earlier reads through `content` may have moved the position.
            file.seek(SeekFrom::Start(0)).ok()?;
            let mut buffered = BufReader::new(file);
            keep_partial(reader.read_from_container(&mut buffered))
        }
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The top-level `meta` box of a HEIF is small enough to be read whole (kamadak-exif reads
/// it into memory).
fn heif_meta_fits(content: &mut Content) -> bool {
    let total = content.len();
    match super::video::find_box(content, 0, total, b"meta") {
        Ok(Some(meta)) => meta.end.saturating_sub(meta.body) <= MAX_HEIF_META,
        _ => false,
    }
}

/// The raw TIFF data of a WebP's `EXIF` chunk, found by walking the RIFF chunks with seeks.
fn webp_exif_chunk(content: &mut Content) -> Option<Vec<u8>> {
    let total = content.len();
    let mut offset = 12u64;
    for _ in 0..10_000 {
        if offset + 8 > total {
            return None;
        }
        let header = content.read_at(offset, 8).ok()?;
        if header.len() < 8 {
            return None;
        }
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        if &header[0..4] == b"EXIF" {
            let len = usize::try_from(size.min(16 << 20)).ok()?;
            let mut data = content.read_at(offset + 8, len).ok()?;
            if data.starts_with(b"Exif\0\0") {
                data.drain(..6);
            }
            return Some(data);
        }
        offset = offset.checked_add(8 + size + (size & 1))?;
    }
    None
}

/// Dates, orientation, thumbnail and (for TIFF/HEIC) size from an EXIF block.
fn apply_exif(exif: &Exif, out: &mut Extracted) {
    let dates = [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            DateSource::Exif,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            DateSource::ExifDigitized,
        ),
        (Tag::DateTime, Tag::OffsetTime, DateSource::ExifDatetime),
    ];
    for (tag, offset_tag, source) in dates {
        if let Some(when) = ascii(exif, tag).and_then(|s| parse_exif_datetime(&s)) {
            out.dates.push(DateCandidate {
                source,
                when,
                offset: ascii(exif, offset_tag).and_then(|s| parse_offset(&s)),
            });
        }
    }
    out.orientation = uint(exif, Tag::Orientation, In::PRIMARY)
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o));
    out.has_thumbnail = match (
        uint(exif, Tag::JPEGInterchangeFormat, In::THUMBNAIL),
        uint(exif, Tag::JPEGInterchangeFormatLength, In::THUMBNAIL),
    ) {
        (Some(offset), Some(len)) => {
            len > 0 && (offset as usize).saturating_add(len as usize) <= exif.buf().len()
        }
        _ => false,
    };
    let pixel = (
        uint(exif, Tag::PixelXDimension, In::PRIMARY),
        uint(exif, Tag::PixelYDimension, In::PRIMARY),
    );
    let tiff = (
        uint(exif, Tag::ImageWidth, In::PRIMARY),
        uint(exif, Tag::ImageLength, In::PRIMARY),
    );
    // Image headers give the size of JPEG/PNG/WebP/GIF/HEIC later; TIFF only has its IFD0.
    if let (Some(w), Some(h)) = tiff {
        out.width = Some(w);
        out.height = Some(h);
    } else if let (Some(w), Some(h)) = pixel {
        out.width = Some(w);
        out.height = Some(h);
    }
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    match &field.value {
        Value::Ascii(values) => values
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        // Some writers store dates as UNDEFINED bytes.
        Value::Undefined(bytes, _) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

/// An unsigned value of any integer type (some cameras write SLONG where SHORT belongs).
fn uint(exif: &Exif, tag: Tag, ifd: In) -> Option<u32> {
    let value = &exif.get_field(tag, ifd)?.value;
    match value {
        Value::SLong(v) => v.first().and_then(|&x| u32::try_from(x).ok()),
        Value::SShort(v) => v.first().and_then(|&x| u32::try_from(x).ok()),
        Value::SByte(v) => v.first().and_then(|&x| u32::try_from(x).ok()),
        _ => value.get_uint(0),
    }
}

/// `2025:05:07 10:15:00` (also with `-` in the date) as written; blanks, zeros and
/// impossible values are no date.
pub fn parse_exif_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let head = s.get(..19)?;
    let normalized: String = head
        .char_indices()
        .map(|(i, c)| {
            if (i == 4 || i == 7) && c == '-' {
                ':'
            } else {
                c
            }
        })
        .collect();
    let when = NaiveDateTime::parse_from_str(&normalized, "%Y:%m:%d %H:%M:%S").ok()?;
    // Leap seconds are not a camera's business.
    (when.second() < 60).then_some(when)
}

/// `+08:00`, `-05:00` as written; anything else is no offset.
fn parse_offset(s: &str) -> Option<String> {
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let b = s.as_bytes();
    let ok = b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit);
    ok.then(|| s.to_string())
}

fn damaged(out: &mut Extracted, why: &str) {
    out.problems.push(format!("图片不完整或已损坏：{why}"));
}

/// Walks the JPEG markers up to the start of scan (size from the SOF marker), then checks the
/// end of the file for the EOI marker.
fn check_jpeg(content: &mut Content, out: &mut Extracted) {
    let total = content.len();
    let mut offset = 2u64;
    let mut size = None;
    // XMP segments, where a motion photo says how long its video is.
    let mut xmp = Vec::new();
    let mut reached_scan = false;
    for _ in 0..100_000 {
        let Ok(marker) = content.read_at(offset, 11) else {
            break;
        };
        if marker.len() < 2 {
            break;
        }
        if marker[0] != 0xFF {
            damaged(out, "JPEG 段结构错误（找不到段标记）");
            return;
        }
        let code = marker[1];
        match code {
            0xFF => {
                offset += 1;
                continue;
            }
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                offset += 2;
                continue;
            }
            0xD9 => break,
            _ => {}
        }
        if marker.len() < 4 {
            break;
        }
        let len = u16::from_be_bytes([marker[2], marker[3]]);
        if len < 2 {
            damaged(out, "JPEG 段长度错误");
            return;
        }
        let is_sof = matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC);
        if is_sof && marker.len() >= 9 {
            let h = u16::from_be_bytes([marker[5], marker[6]]);
            let w = u16::from_be_bytes([marker[7], marker[8]]);
            size = Some((u32::from(w), u32::from(h)));
        }
        if code == 0xE1 && xmp.len() < 256 << 10 {
            const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/";
            if let Ok(segment) = content.read_at(offset + 4, usize::from(len - 2))
                && segment.starts_with(XMP_NS)
            {
                xmp.extend_from_slice(&segment);
            }
        }
        if code == 0xDA {
            reached_scan = true;
            break;
        }
        offset += 2 + u64::from(len);
    }
    match size {
        Some((w, h)) if w > 0 && h > 0 => {
            out.width = Some(w);
            out.height = Some(h);
        }
        Some(_) => damaged(out, "JPEG 图片头中的尺寸为 0"),
        None => {}
    }
    if !reached_scan || size.is_none() {
        damaged(out, "JPEG 文件在图像数据之前就结束了，或缺少图片头（SOF）");
        return;
    }
    let tail = match content.tail(4096) {
        Ok(tail) => tail,
        Err(e) => {
            damaged(out, &format!("无法读取文件末尾（{e}）"));
            return;
        }
    };
    // A Samsung trailer (motion photo, edit history) ends in "SEFT" after the image.
    if tail.ends_with(b"SEFT") {
        return;
    }
    let eoi_found = match motion_photo(&xmp) {
        // A Google motion photo: the MP4 after the image is `len` bytes long.
        MotionPhoto::VideoLength(len) => {
            let image_end = total.saturating_sub(len);
            let window = content
                .read_at(image_end.saturating_sub(64), 64.min(image_end as usize))
                .unwrap_or_default();
            contains(&window, &[0xFF, 0xD9])
        }
        MotionPhoto::UnknownLength => true,
        MotionPhoto::No => {
            contains(&tail, &[0xFF, 0xD9])
                || content
                    .tail(JPEG_TAIL)
                    .is_ok_and(|t| contains(&t, &[0xFF, 0xD9]))
        }
    };
    if !eoi_found {
        damaged(
            out,
            &format!("JPEG 文件末尾没有结束标记（文件长 {total} 字节，可能传输或拷贝中断）"),
        );
    }
}

/// Whether a JPEG carries a video after its image (Google/Android "motion photo").
#[derive(Debug, PartialEq, Eq)]
enum MotionPhoto {
    No,
    UnknownLength,
    VideoLength(u64),
}

/// Reads a JPEG's XMP: `GCamera:MicroVideoOffset` (the video's length, counted from the
/// end) or a `Container:Item` whose semantic is MotionPhoto and its `Item:Length`.
fn motion_photo(xmp: &[u8]) -> MotionPhoto {
    let number_after = |from: usize, key: &[u8], window: usize| -> Option<u64> {
        let end = (from + window).min(xmp.len());
        let area = xmp.get(from..end)?;
        let at = area.windows(key.len()).position(|w| w == key)? + key.len();
        let digits: Vec<u8> = area[at..]
            .iter()
            .skip_while(|b| matches!(b, b'"' | b'=' | b'>' | b' '))
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        std::str::from_utf8(&digits).ok()?.parse().ok()
    };
    if let Some(n) = number_after(0, b"MicroVideoOffset", xmp.len()) {
        return MotionPhoto::VideoLength(n);
    }
    if let Some(pos) = xmp
        .windows(b"Semantic=\"MotionPhoto\"".len())
        .position(|w| w == b"Semantic=\"MotionPhoto\"")
    {
        let from = pos.saturating_sub(200);
        return match number_after(from, b"Length=\"", 400) {
            Some(n) => MotionPhoto::VideoLength(n),
            None => MotionPhoto::UnknownLength,
        };
    }
    if contains(xmp, b"MotionPhoto") || contains(xmp, b"MicroVideo") {
        return MotionPhoto::UnknownLength;
    }
    MotionPhoto::No
}

/// PNG size from IHDR, and the IEND chunk at the end.
fn check_png(content: &mut Content, out: &mut Extracted) {
    let h = content.head();
    if h.len() < 24 || &h[12..16] != b"IHDR" {
        damaged(out, "PNG 文件头（IHDR）缺失或不完整");
        return;
    }
    out.width = Some(u32::from_be_bytes([h[16], h[17], h[18], h[19]]));
    out.height = Some(u32::from_be_bytes([h[20], h[21], h[22], h[23]]));
    match content.tail(1024) {
        Ok(tail) if contains(&tail, b"IEND") => {}
        Ok(_) => damaged(out, "PNG 文件末尾没有 IEND 块（可能传输或拷贝中断）"),
        Err(e) => damaged(out, &format!("无法读取文件末尾（{e}）")),
    }
}

/// WebP size from its first chunk, and the file as long as the RIFF header says.
fn check_webp(content: &mut Content, out: &mut Extracted) {
    let head = content.head();
    let declared = head
        .get(4..8)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) + 8);
    match webp_size(head) {
        Some((w, h)) => {
            out.width = Some(w);
            out.height = Some(h);
        }
        None => damaged(out, "无法读取 WebP 图片头"),
    }
    if let Some(declared) = declared
        && content.len() < declared
    {
        damaged(
            out,
            &format!(
                "WebP 文件应有 {declared} 字节，实际只有 {} 字节（可能传输或拷贝中断）",
                content.len()
            ),
        );
    }
}

/// Canvas size from the first chunk: VP8X (24-bit sizes minus one), VP8L (14-bit sizes minus
/// one after the 0x2F signature) or VP8 (14-bit sizes after the key frame start code).
fn webp_size(head: &[u8]) -> Option<(u32, u32)> {
    let kind = head.get(12..16)?;
    let body = head.get(20..)?;
    let u24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    match kind {
        b"VP8X" => {
            let b = body.get(..10)?;
            Some((u24(&b[4..7]) + 1, u24(&b[7..10]) + 1))
        }
        b"VP8L" => {
            let b = body.get(..5)?;
            if b[0] != 0x2F {
                return None;
            }
            let bits = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => {
            let b = body.get(..10)?;
            if b[3..6] != [0x9D, 0x01, 0x2A] {
                return None;
            }
            let w = u32::from(u16::from_le_bytes([b[6], b[7]]) & 0x3FFF);
            let h = u32::from(u16::from_le_bytes([b[8], b[9]]) & 0x3FFF);
            Some((w, h))
        }
        _ => None,
    }
}

/// The body of a HEIF's top-level `meta` box (at most 1 MiB of it).
fn heif_meta(content: &mut Content) -> Option<Vec<u8>> {
    let total = content.len();
    let meta = super::video::find_box(content, 0, total, b"meta").ok()??;
    let len = usize::try_from(meta.end.saturating_sub(meta.body).min(1 << 20)).ok()?;
    content.read_at(meta.body, len).ok()
}

/// The largest `ispe` (image spatial extent) property in a HEIF's `meta`: the primary image,
/// not one of its tiles.
fn heif_size(head: &[u8]) -> Option<(u32, u32)> {
    let mut best: Option<(u32, u32)> = None;
    let mut from = 0;
    while let Some(pos) = head[from..].windows(4).position(|w| w == b"ispe") {
        let at = from + pos;
        // box: size(4) 'ispe' version/flags(4) width(4) height(4)
        if let Some(b) = head.get(at + 8..at + 16) {
            let w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let h = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            if best
                .is_none_or(|(bw, bh)| u64::from(w) * u64::from(h) > u64::from(bw) * u64::from(bh))
            {
                best = Some((w, h));
            }
        }
        from = at + 4;
    }
    best
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::{ExtractOptions, extract};
    use std::path::Path;

    /// A big-endian EXIF block (the other byte order from the integration tests' photos):
    /// IFD0 with Orientation 6, DateTime and the Exif IFD with DateTimeOriginal and
    /// OffsetTimeOriginal.
    pub(crate) fn exif_block(original: &str, offset: &str, ifd0_datetime: &str) -> Vec<u8> {
        crate::testing::Exif {
            original: Some(original),
            offset_original: Some(offset),
            datetime: Some(ifd0_datetime),
            orientation: Some(6),
            big_endian: true,
            ..Default::default()
        }
        .tiff()
    }

    /// A JPEG: SOI, APP1 EXIF, SOF0 (w×h), SOS, a few scan bytes, EOI.
    pub(crate) fn tiny_jpeg(exif: &[u8], w: u16, h: u16, with_eoi: bool) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        j.extend_from_slice(&h.to_be_bytes());
        j.extend_from_slice(&w.to_be_bytes());
        j.extend_from_slice(&[1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]);
        j.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        if with_eoi {
            j.extend_from_slice(&[0xFF, 0xD9]);
        }
        crate::testing::with_exif(&j, exif)
    }

    fn run(format: Format, bytes: &[u8]) -> Extracted {
        extract(
            format,
            bytes,
            Path::new("/nonexistent/dangan-exif-test"),
            &ExtractOptions::default(),
        )
    }

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn exif_dates_offsets_and_orientation() {
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:08 09:00:00");
        let out = run(Format::Jpeg, &tiny_jpeg(&exif, 4000, 3000, true));
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(
            out.dates,
            vec![
                DateCandidate {
                    source: DateSource::Exif,
                    when: dt("2025-05-07 10:15:00"),
                    offset: Some("+08:00".into())
                },
                DateCandidate {
                    source: DateSource::ExifDatetime,
                    when: dt("2025-05-08 09:00:00"),
                    offset: None
                },
            ]
        );
        assert_eq!((out.width, out.height), (Some(4000), Some(3000)));
        assert_eq!(out.orientation, Some(6));
        assert!(!out.has_thumbnail);
    }

    #[test]
    fn blank_and_zero_exif_dates_are_no_candidates() {
        let exif = exif_block("0000:00:00 00:00:00", "", "    :  :     :  :  ");
        let out = run(Format::Jpeg, &tiny_jpeg(&exif, 10, 10, true));
        assert_eq!(out.dates, vec![]);
        assert_eq!(parse_exif_datetime("2025:13:01 00:00:00"), None);
        assert_eq!(
            parse_exif_datetime("2025-05-07 10:15:00\0"),
            Some(dt("2025-05-07 10:15:00"))
        );
    }

    #[test]
    fn truncated_jpeg_is_a_problem_but_keeps_its_date() {
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:07 10:15:00");
        let out = run(Format::Jpeg, &tiny_jpeg(&exif, 10, 10, false));
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        assert!(out.problems[0].starts_with("图片不完整或已损坏"));
        assert_eq!(out.dates[0].when, dt("2025-05-07 10:15:00"));
        // Cut before the scan: no SOF at all.
        let whole = tiny_jpeg(&exif, 10, 10, true);
        let out = run(Format::Jpeg, &whole[..whole.len() / 2]);
        assert!(out.problems[0].starts_with("图片不完整或已损坏"));
    }

    #[test]
    fn pixel_bomb_header_is_a_problem() {
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:07 10:15:00");
        let out = run(Format::Jpeg, &tiny_jpeg(&exif, 60000, 60000, true));
        assert_eq!(out.width, Some(60000));
        assert!(
            out.problems.iter().any(|p| p.contains("超过上限")),
            "{:?}",
            out.problems
        );
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        png.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
        let out = run(Format::Png, &png);
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        assert!(out.problems[0].contains("100000×100000"));
    }

    #[test]
    fn unset_clock_exif_falls_through_to_the_file_name() {
        use crate::resolve::date::{choose, date_from_names};
        let exif = exif_block("1970:01:01 00:00:00", "+08:00", "1970:01:01 00:00:00");
        let mut candidates = run(Format::Jpeg, &tiny_jpeg(&exif, 10, 10, true)).dates;
        assert_eq!(candidates.len(), 2);
        assert_eq!(candidates[0].when, dt("1970-01-01 00:00:00"));
        let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        candidates.extend(date_from_names(
            "IMG_20250507_101500.jpg",
            &["启动仪式"],
            offset,
        ));
        let today = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let choice = choose(&candidates, today);
        let chosen = choice.chosen.unwrap();
        assert_eq!(chosen.source, DateSource::Filename);
        assert_eq!(chosen.when, dt("2025-05-07 10:15:00"));
        assert_eq!(choice.ignored.len(), 2);
        assert_eq!(choice.ignored[0].0.source, DateSource::Exif);
        assert!(choice.ignored[0].1.contains("疑似相机时钟未设置"));
    }

    fn chunk_le(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    #[test]
    fn webp_exif_chunk_after_the_bitstream_is_read_from_the_file() {
        use std::io::Write;
        let pixels = vec![200u8; 16 * 8 * 3];
        let mut encoded = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut encoded)
            .encode(&pixels, 16, 8, image::ExtendedColorType::Rgb8)
            .unwrap();
        let simple = run(Format::Webp, &encoded);
        assert_eq!((simple.width, simple.height), (Some(16), Some(8)));
        assert_eq!(simple.problems, Vec::<String>::new());
        let vp8l = &encoded[12..]; // the VP8L chunk of a simple-format file
        let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF present
        vp8x.extend_from_slice(&15u32.to_le_bytes()[..3]);
        vp8x.extend_from_slice(&7u32.to_le_bytes()[..3]);
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:07 10:15:00");
        let mut body = b"WEBP".to_vec();
        body.extend(chunk_le(b"VP8X", &vp8x));
        body.extend_from_slice(vp8l);
        body.extend(chunk_le(b"EXIF", &exif));
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp.extend(body);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&webp).unwrap();
        let out = extract(
            Format::Webp,
            &webp[..64],
            file.path(),
            &ExtractOptions::default(),
        );
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(out.dates[0].when, dt("2025-05-07 10:15:00"));
        assert_eq!((out.width, out.height), (Some(16), Some(8)));
        // Cut short: the RIFF header promises more than there is.
        let out = run(Format::Webp, &webp[..webp.len() - 10]);
        assert!(
            out.problems.iter().any(|p| p.contains("WebP 文件应有")),
            "{:?}",
            out.problems
        );
    }

    #[test]
    fn png_exif_chunk_and_missing_iend() {
        let exif = exif_block("2025:05:09 08:00:00", "+08:00", "2025:05:09 08:00:00");
        let chunk = |kind: &[u8], body: &[u8]| {
            let mut c = (body.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(body);
            c.extend_from_slice(&[0; 4]); // CRC, not checked here
            c
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = 640u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&480u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(b"eXIf", &exif));
        png.extend(chunk(b"IDAT", &[0; 32]));
        let whole = [png.clone(), chunk(b"IEND", &[])].concat();
        let out = run(Format::Png, &whole);
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(out.dates[0].when, dt("2025-05-09 08:00:00"));
        assert_eq!(out.orientation, Some(6));
        assert_eq!((out.width, out.height), (Some(640), Some(480)));
        let out = run(Format::Png, &png);
        assert_eq!(out.problems.len(), 1);
        assert!(out.problems[0].contains("IEND"));
    }

    /// A JPEG with an APP1 XMP segment saying how long the appended motion-photo video is.
    fn motion_jpeg(video_len: usize, cut: usize) -> Vec<u8> {
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:07 10:15:00");
        let mut jpeg = tiny_jpeg(&exif, 10, 10, true);
        let xmp = format!(
            "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><Container:Item Item:Mime=\"video/mp4\" Item:Semantic=\"MotionPhoto\" Item:Length=\"{video_len}\" Item:Padding=\"0\"/></x:xmpmeta>"
        );
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((xmp.len() + 2) as u16).to_be_bytes());
        app1.extend_from_slice(xmp.as_bytes());
        jpeg.splice(2..2, app1);
        // The "video": bytes without an FF D9 pair.
        jpeg.extend(std::iter::repeat_n(0x11u8, video_len));
        jpeg.truncate(jpeg.len() - cut);
        jpeg
    }

    #[test]
    fn motion_photo_video_after_the_image_is_not_a_truncation() {
        let out = run(Format::Jpeg, &motion_jpeg(100_000, 0));
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(out.dates[0].when, dt("2025-05-07 10:15:00"));
        let out = run(Format::Jpeg, &motion_jpeg(100_000, 5000));
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        // A Samsung trailer.
        let exif = exif_block("2025:05:07 10:15:00", "+08:00", "2025:05:07 10:15:00");
        let mut jpeg = tiny_jpeg(&exif, 10, 10, true);
        jpeg.extend(std::iter::repeat_n(0x22u8, 100_000));
        jpeg.extend_from_slice(b"\x10\0\0\0SEFT");
        assert_eq!(run(Format::Jpeg, &jpeg).problems, Vec::<String>::new());
    }

    #[test]
    fn gif_size_and_trailer() {
        let mut gif = b"GIF89a\x20\x03\x58\x02\x00\x00\x00".to_vec();
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0]);
        let whole = [gif.clone(), vec![0x3B]].concat();
        let out = run(Format::Gif, &whole);
        assert_eq!((out.width, out.height), (Some(800), Some(600)));
        assert_eq!(out.problems, Vec::<String>::new());
        let out = run(Format::Gif, &gif);
        assert_eq!(out.problems.len(), 1);
    }

    fn iso_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    /// A HEIF whose meta box (Exif item, ispe 4032×3024) comes after a 300 KiB mdat that
    /// holds the Exif item: nothing useful is in a 64 KiB head.
    #[test]
    fn heif_with_meta_after_a_large_mdat() {
        use std::io::Write;
        let exif = exif_block("2022:02:16 12:55:41", "+01:00", "2022:02:16 12:55:41");
        let ftyp = iso_box(b"ftyp", b"heic\0\0\0\0mif1heic");
        let mut item = 0u32.to_be_bytes().to_vec(); // offset to the TIFF header
        item.extend_from_slice(&exif);
        let mut mdat_body = vec![0u8; 300 * 1024];
        let item_at = ftyp.len() + 8 + 1000;
        mdat_body[1000..1000 + item.len()].copy_from_slice(&item);
        let mdat = iso_box(b"mdat", &mdat_body);
        let mut infe = vec![2, 0, 0, 0, 0, 1, 0, 0];
        infe.extend_from_slice(b"Exif\0");
        let mut iinf = vec![0, 0, 0, 0, 0, 1];
        iinf.extend(iso_box(b"infe", &infe));
        let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        iloc.extend_from_slice(&(item_at as u32).to_be_bytes());
        iloc.extend_from_slice(&(item.len() as u32).to_be_bytes());
        let mut ispe = vec![0, 0, 0, 0];
        ispe.extend_from_slice(&4032u32.to_be_bytes());
        ispe.extend_from_slice(&3024u32.to_be_bytes());
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(iso_box(b"iinf", &iinf));
        meta.extend(iso_box(b"iloc", &iloc));
        meta.extend(iso_box(
            b"iprp",
            &iso_box(b"ipco", &iso_box(b"ispe", &ispe)),
        ));
        let heif = [ftyp, mdat, iso_box(b"meta", &meta)].concat();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&heif).unwrap();
        let out = extract(
            Format::Heic,
            &heif[..64 * 1024],
            file.path(),
            &ExtractOptions::default(),
        );
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(out.dates[0].source, DateSource::Exif);
        assert_eq!(out.dates[0].when, dt("2022-02-16 12:55:41"));
        assert_eq!(out.dates[0].offset.as_deref(), Some("+01:00"));
        assert_eq!((out.width, out.height), (Some(4032), Some(3024)));
        // Cut short: the meta box is gone, the mdat claims more than there is.
        let cut = &heif[..200 * 1024];
        let out = run(Format::Heic, cut);
        assert_eq!(out.dates, vec![]);
        assert!(
            out.problems[0].starts_with("图片不完整"),
            "{:?}",
            out.problems
        );
    }
}
