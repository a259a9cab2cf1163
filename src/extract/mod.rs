//! Extract: what a file says about itself — EXIF dates, offsets, size and orientation of
//! photos, the `mvhd` creation time of videos, the text and first date of documents — plus the
//! problems met on the way (truncated image, pixel bomb, zip bomb), in Chinese.
//!
//! Works from the head already read by the importer (first 256 KiB) and opens the full content
//! only when the needed part lies beyond it (a `moov` after `mdat`, a tail check, a docx's
//! document.xml). Never decodes pixels, never reads unbounded amounts, never panics on bad
//! input, never touches sheets (another module reads those).

pub mod doc;
pub mod document;
pub mod exif;
pub mod pdf;
pub mod video;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use chrono::{FixedOffset, Offset};

use crate::model::{DateCandidate, Format, Kind};

/// How to read what is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Local time of Unix timestamps (video `mvhd`); DESIGN.md's `utc_offset`, default +08:00.
    pub utc_offset: FixedOffset,
    /// The file's length when the caller knows it (the import just read every byte): no
    /// `stat` of the file to learn it again. `None`: asked of the file system when needed.
    pub size: Option<u64>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            utc_offset: FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Utc.fix()),
            size: None,
        }
    }
}

/// Everything a file's content says about it. Fields stay empty when the format has no such
/// thing or it could not be read (see `problems`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Every in-content date candidate: Exif, ExifDigitized, ExifDatetime, Video, Document.
    pub dates: Vec<DateCandidate>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// EXIF orientation (1–8) as written.
    pub orientation: Option<u16>,
    /// An EXIF IFD1 JPEG thumbnail is present (`JPEGInterchangeFormat`).
    pub has_thumbnail: bool,
    /// Documents: their text, paragraphs one per line, capped at [`MAX_TEXT_CHARS`].
    pub text: Option<String>,
    /// Why something could not be used, in Chinese (the file is still stored).
    pub problems: Vec<String>,
}

/// Text kept of a document, in characters.
pub const MAX_TEXT_CHARS: usize = 200_000;

/// Extract what `format` carries from `head` (the first bytes of the file) and, where needed,
/// `full` (the whole content). Never panics; sheets, zips and unknown content give nothing.
pub fn extract(format: Format, head: &[u8], full: &Path, opts: &ExtractOptions) -> Extracted {
    let mut content = Content::new(head, full);
    if let Some(size) = opts.size {
        content.len = Some(size.max(head.len() as u64));
    }
    let mut out = Extracted::default();
    match format.kind() {
        Kind::Photo => exif::extract_image(format, &mut content, &mut out),
        Kind::Video => video::extract_video(&mut content, opts, &mut out),
        Kind::Document => document::extract_document(format, &mut content, &mut out),
        Kind::Sheet | Kind::Other => {}
    }
    out
}

/// The bytes of one file: the head in memory, the rest on disk, opened only when asked for.
pub(crate) struct Content<'a> {
    head: &'a [u8],
    full: &'a Path,
    file: Option<File>,
    len: Option<u64>,
}

impl<'a> Content<'a> {
    pub(crate) fn new(head: &'a [u8], full: &'a Path) -> Self {
        Content {
            head,
            full,
            file: None,
            len: None,
        }
    }

    pub(crate) fn head(&self) -> &'a [u8] {
        self.head
    }

    /// The file's length; the head's when the file cannot be opened.
    pub(crate) fn len(&mut self) -> u64 {
        if let Some(len) = self.len {
            return len;
        }
        let len = std::fs::metadata(self.full)
            .map(|m| m.len())
            .ok()
            .filter(|&l| l >= self.head.len() as u64)
            .unwrap_or(self.head.len() as u64);
        self.len = Some(len);
        len
    }

    /// Whether the head holds the whole file.
    pub(crate) fn head_is_whole(&mut self) -> bool {
        self.len() <= self.head.len() as u64
    }

    pub(crate) fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            self.file = Some(File::open(self.full)?);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("file not open"))
    }

    /// Up to `len` bytes at `offset` (fewer at the end of the file), from the head when they
    /// lie in it.
    pub(crate) fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let head_len = self.head.len() as u64;
        if offset.saturating_add(len as u64) <= head_len || self.head_is_whole() {
            let start = offset.min(head_len) as usize;
            let end = (start + len).min(self.head.len());
            return Ok(self.head[start..end].to_vec());
        }
        let file = self.file()?;
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len.min(1 << 20));
        file.take(len as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// The last `len` bytes of the file.
    pub(crate) fn tail(&mut self, len: usize) -> io::Result<Vec<u8>> {
        let total = self.len();
        let start = total.saturating_sub(len as u64);
        self.read_at(start, (total - start) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_reads_head_then_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut c = Content::new(&bytes[..100], &path);
        assert_eq!(c.len(), 1000);
        assert!(!c.head_is_whole());
        assert_eq!(c.read_at(10, 5).unwrap(), bytes[10..15].to_vec());
        assert_eq!(c.read_at(500, 10).unwrap(), bytes[500..510].to_vec());
        assert_eq!(c.tail(4).unwrap(), bytes[996..].to_vec());
        assert_eq!(c.read_at(998, 10).unwrap(), bytes[998..].to_vec());
        let missing = dir.path().join("missing");
        let mut c = Content::new(&bytes[..100], &missing);
        assert!(c.head_is_whole());
        assert_eq!(c.tail(2).unwrap(), bytes[98..100].to_vec());
    }

    #[test]
    fn sheets_and_unknown_give_nothing() {
        let opts = ExtractOptions::default();
        let p = Path::new("/nonexistent");
        assert_eq!(extract(Format::Xlsx, b"PK", p, &opts), Extracted::default());
        assert_eq!(
            extract(Format::Unknown, b"", p, &opts),
            Extracted::default()
        );
    }

    use proptest::prelude::*;

    const ALL: &[Format] = &[
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Heic,
        Format::Tiff,
        Format::Gif,
        Format::Mp4,
        Format::Mov,
        Format::Docx,
        Format::Odt,
        Format::Txt,
        Format::Md,
        Format::Pdf,
        Format::Doc,
    ];

    /// Magic-number prefixes, so that random tails reach the format parsers.
    const PREFIXES: &[&[u8]] = &[
        b"\xFF\xD8\xFF\xE1",
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
        b"RIFF\xff\0\0\0WEBPVP8X",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
        b"\0\0\0\x18ftypisom\0\0\0\0isommp41",
        b"II*\0\x08\0\0\0",
        b"MM\0*\0\0\0\x08",
        b"PK\x03\x04",
        b"GIF89a",
        b"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Whatever the bytes, detect and extract return (no panic, no hang).
        #[test]
        fn random_bytes_never_panic(
            prefix in 0..PREFIXES.len(),
            tail in proptest::collection::vec(any::<u8>(), 0..600),
            cut in 0usize..700,
        ) {
            let mut bytes = PREFIXES[prefix].to_vec();
            bytes.extend_from_slice(&tail);
            let head = &bytes[..cut.min(bytes.len())];
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &bytes).unwrap();
            let detected = crate::detect::detect(head, "f.jpg", &path);
            let opts = ExtractOptions::default();
            let _ = extract(detected.format, head, &path, &opts);
            for format in ALL {
                let _ = extract(*format, head, &path, &opts);
            }
        }
    }
}
