//! Plain data shared by the stages: what a file is, where its date came from, which rule
//! decided its activity. No stage logic lives here.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// What a person reads where a file has no date.
pub const NO_DATE: &str = "无日期";
/// The state of a file taken back out of the inbox (kept in the archive, no longer counted).
pub const WITHDRAWN: &str = "已撤回";

/// What a file is, decided from its bytes (the extension is only a hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Photo,
    Video,
    Sheet,
    Document,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::Video => "video",
            Kind::Sheet => "sheet",
            Kind::Document => "document",
            Kind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "photo" => Kind::Photo,
            "video" => Kind::Video,
            "sheet" => Kind::Sheet,
            "document" => Kind::Document,
            "other" => Kind::Other,
            _ => return None,
        })
    }
    /// The word a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Photo => "照片",
            Kind::Video => "视频",
            Kind::Sheet => "表格",
            Kind::Document => "文档",
            Kind::Other => "其他",
        }
    }
}

/// The exact format behind a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Heic,
    Tiff,
    Gif,
    Mp4,
    Mov,
    Xlsx,
    Xlsm,
    Xlsb,
    Xls,
    Ods,
    Csv,
    /// An HTML page with a `<table>` saved under a sheet's name (what school systems export
    /// as "xls").
    HtmlTable,
    /// An Excel 2003 XML Spreadsheet (`urn:schemas-microsoft-com:office:spreadsheet`).
    XmlSpreadsheet,
    Docx,
    Doc,
    Odt,
    Pdf,
    Txt,
    Md,
    /// A zip that is none of the Office/OpenDocument formats.
    Zip,
    /// A 7-Zip archive.
    SevenZ,
    Unknown,
}

impl Format {
    pub fn kind(self) -> Kind {
        use Format::*;
        match self {
            Jpeg | Png | Webp | Heic | Tiff | Gif => Kind::Photo,
            Mp4 | Mov => Kind::Video,
            Xlsx | Xlsm | Xlsb | Xls | Ods | Csv | HtmlTable | XmlSpreadsheet => Kind::Sheet,
            Docx | Doc | Odt | Pdf | Txt | Md => Kind::Document,
            Zip | SevenZ | Unknown => Kind::Other,
        }
    }
    pub fn as_str(self) -> &'static str {
        use Format::*;
        match self {
            Jpeg => "jpeg",
            Png => "png",
            Webp => "webp",
            Heic => "heic",
            Tiff => "tiff",
            Gif => "gif",
            Mp4 => "mp4",
            Mov => "mov",
            Xlsx => "xlsx",
            Xlsm => "xlsm",
            Xlsb => "xlsb",
            Xls => "xls",
            Ods => "ods",
            Csv => "csv",
            HtmlTable => "html_table",
            XmlSpreadsheet => "xml_spreadsheet",
            Docx => "docx",
            Doc => "doc",
            Odt => "odt",
            Pdf => "pdf",
            Txt => "txt",
            Md => "md",
            Zip => "zip",
            SevenZ => "7z",
            Unknown => "unknown",
        }
    }
}

/// Which step of DESIGN.md's date chain gave a file its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    Exif,
    ExifDigitized,
    ExifDatetime,
    Video,
    Filename,
    Sheet,
    Document,
    Mtime,
    /// A date the office set in the corrections workbook (更正日期).
    Correction,
    None,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Exif => "exif",
            DateSource::ExifDigitized => "exif_digitized",
            DateSource::ExifDatetime => "exif_datetime",
            DateSource::Video => "video",
            DateSource::Filename => "filename",
            DateSource::Sheet => "sheet",
            DateSource::Document => "document",
            DateSource::Mtime => "mtime",
            DateSource::Correction => "correction",
            DateSource::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<DateSource> {
        Some(match s {
            "exif" => DateSource::Exif,
            "exif_digitized" => DateSource::ExifDigitized,
            "exif_datetime" => DateSource::ExifDatetime,
            "video" => DateSource::Video,
            "filename" => DateSource::Filename,
            "sheet" => DateSource::Sheet,
            "document" => DateSource::Document,
            "mtime" => DateSource::Mtime,
            "correction" => DateSource::Correction,
            "none" => DateSource::None,
            _ => return None,
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            DateSource::Exif => "EXIF拍摄时间",
            DateSource::ExifDigitized => "EXIF数字化时间",
            DateSource::ExifDatetime => "EXIF修改时间",
            DateSource::Video => "视频创建时间",
            DateSource::Filename => "文件名",
            DateSource::Sheet => "表格内日期",
            DateSource::Document => "文档内日期",
            DateSource::Mtime => "文件修改时间（低可信）",
            DateSource::Correction => "更正",
            DateSource::None => NO_DATE,
        }
    }
}

/// One candidate date for a file, found by one step of the chain. `when` is local wall-clock
/// time: EXIF as the camera wrote it, Unix stamps already converted to the configured offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateCandidate {
    pub source: DateSource,
    pub when: NaiveDateTime,
    /// EXIF `OffsetTime*` as written (`+08:00`), kept but never applied.
    pub offset: Option<String>,
}

impl DateCandidate {
    pub fn date(&self) -> NaiveDate {
        self.when.date()
    }
}

/// Which of DESIGN.md's activity rules decided a file's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityRule {
    /// A row of the corrections workbook (更正活动) decided.
    Correction,
    Folder,
    Filename,
    Sheet,
    Date,
    None,
}

impl ActivityRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityRule::Correction => "correction",
            ActivityRule::Folder => "folder",
            ActivityRule::Filename => "filename",
            ActivityRule::Sheet => "sheet",
            ActivityRule::Date => "date",
            ActivityRule::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<ActivityRule> {
        Some(match s {
            "correction" => ActivityRule::Correction,
            "folder" => ActivityRule::Folder,
            "filename" => ActivityRule::Filename,
            "sheet" => ActivityRule::Sheet,
            "date" => ActivityRule::Date,
            "none" => ActivityRule::None,
            _ => return None,
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            ActivityRule::Correction => "更正",
            ActivityRule::Folder => "文件夹名",
            ActivityRule::Filename => "文件名",
            ActivityRule::Sheet => "表格活动名称列",
            ActivityRule::Date => "日期落在活动期间",
            ActivityRule::None => crate::tally::UNASSIGNED,
        }
    }
}

/// A SHA-256 digest: the name of a stored object. Shown and stored as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }
    /// 64 hex digits, as stored in the catalog and named in the store.
    pub fn parse_hex(s: &str) -> Option<Sha256> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }
        let b = s.trim().as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Sha256(out))
    }
    pub fn hex(&self) -> String {
        // encode_to_slice writes the pairs directly (hex::encode goes char by char).
        let mut out = [0u8; 64];
        hex::encode_to_slice(self.0, &mut out).expect("64 hex digits for 32 bytes");
        std::str::from_utf8(&out).expect("ASCII").to_string()
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256({})", self.hex())
    }
}

impl Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

/// Where a sheet row is: the file's inbox path (as shown), the sheet and the row number as the
/// spreadsheet program shows it (0: the whole sheet or file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowAt {
    pub path: String,
    pub sheet: String,
    pub row: u32,
}

impl RowAt {
    /// The sheet part: `部门/文件.xlsx 表“Sheet1”`; a CSV file is one sheet, named by the file
    /// alone (`部门/签到.csv`).
    pub fn sheet_text(&self) -> String {
        if self.is_csv() {
            self.path.clone()
        } else {
            format!("{} 表“{}”", self.path, self.sheet)
        }
    }

    fn is_csv(&self) -> bool {
        self.path
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("csv"))
    }
}

impl std::fmt::Display for RowAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, self.is_csv()) {
            (0, _) => write!(f, "{}", self.sheet_text()),
            (row, true) => write!(f, "{} 第 {row} 行", self.path),
            (row, false) => write!(f, "{} 表“{}”第 {row} 行", self.path, self.sheet),
        }
    }
}

/// A path relative to the inbox, `/`-separated, as raw bytes (file names need not be UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InboxPath(pub Vec<u8>);

impl InboxPath {
    /// The path as text without loss: valid UTF-8 as is, every invalid byte as `\xNN`. The key
    /// of `list --json`, the catalog's text column and 文件索引.csv.
    pub fn display(&self) -> String {
        crate::walk::display_bytes(&self.0)
    }
    /// For a person: each component valid UTF-8 as is, else GB18030 when it decodes cleanly
    /// (a GBK name from an old unzip tool reads 颁奖合影.jpg), else with `\xNN` escapes.
    pub fn shown(&self) -> String {
        crate::walk::show_bytes(&self.0)
    }
    /// Every component as a person reads it ([`InboxPath::shown`]), top first.
    pub fn parts(&self) -> Vec<String> {
        self.0
            .split(|b| *b == b'/')
            .map(crate::walk::show_bytes)
            .collect()
    }
    /// The last component, raw.
    pub fn file_name_raw(&self) -> &[u8] {
        self.0.rsplit(|b| *b == b'/').next().unwrap_or(&self.0)
    }
}

/// What was read once from one file version's bytes and path: facts, never conclusions. The
/// department, activity and date a file has are judged from these at every run (`classify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFacts {
    pub path: InboxPath,
    pub size: u64,
    pub mtime_ns: i64,
    pub sha256: Sha256,
    pub kind: Kind,
    /// `jpeg`, `xlsx`, … (`Format::as_str`).
    pub format: String,
    /// In-content date candidates: EXIF as the camera wrote it (wall clock), video `mvhd` as UTC
    /// wall clock (turned into local time by the judgement), a sheet's earliest date, a
    /// document's first date. Names and the modification time are read from `path` and
    /// `mtime_ns` by the judgement.
    pub dates: Vec<DateCandidate>,
    /// When this version was imported (Unix seconds): dates after that day are an unset clock.
    pub imported: i64,
    /// What could not be used in the bytes (truncated image, unreadable sheet…), in Chinese.
    pub problems: Vec<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub orientation: Option<u16>,
    pub has_thumbnail: bool,
    pub sign_in: bool,
    pub media: bool,
    /// The 活动名称 cells of its sign-in and declared rows, distinct, as written.
    pub row_activities: Vec<String>,
    /// The earliest date its sheet rows wrote without a year (`5月15日`), when no row had a
    /// full date: the judgement gives it a year (the activity's, else the period's).
    pub row_month_day: Option<MonthDay>,
}

/// A date written without a year (`5月15日 14:00`): a fact of the sheet. Its year is a
/// judgement — the row's activity's, else the configured period's (DESIGN.md, *Spreadsheets*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    /// A valid month and day (29 February included).
    pub fn new(month: u32, day: u32) -> Option<MonthDay> {
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| MonthDay { month, day })
    }

    /// The date in `year`; `None` for 29 February of a common year.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }

    /// As the catalog stores it: ISO 8601's year-less `--MM-DD`.
    pub fn stored(self) -> String {
        format!("--{:02}-{:02}", self.month, self.day)
    }

    /// Reads [`MonthDay::stored`] (anything after the day is ignored).
    pub fn parse_stored(s: &str) -> Option<MonthDay> {
        let rest = s.strip_prefix("--")?;
        MonthDay::new(rest.get(..2)?.parse().ok()?, rest.get(3..5)?.parse().ok()?)
    }
}

/// How the name of a zip member was read (DESIGN.md: the UTF-8 flag, else the Info-ZIP Unicode
/// Path extra field, else GB18030 when it decodes cleanly, else the bytes as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameEncoding {
    Utf8,
    UnicodePath,
    Gb18030,
    Bytes,
}

impl NameEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            NameEncoding::Utf8 => "utf8",
            NameEncoding::UnicodePath => "unicode_path",
            NameEncoding::Gb18030 => "gb18030",
            NameEncoding::Bytes => "bytes",
        }
    }
    pub fn parse(s: &str) -> Option<NameEncoding> {
        Some(match s {
            "utf8" => NameEncoding::Utf8,
            "unicode_path" => NameEncoding::UnicodePath,
            "gb18030" => NameEncoding::Gb18030,
            "bytes" => NameEncoding::Bytes,
            _ => return None,
        })
    }
}
