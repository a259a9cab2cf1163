//! Plain data shared by the stages: what a file is, where its date came from, which rule
//! decided its activity. No stage logic lives here.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

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
    Docx,
    Doc,
    Odt,
    Pdf,
    Txt,
    Md,
    /// A zip that is none of the Office/OpenDocument formats.
    Zip,
    Unknown,
}

impl Format {
    pub fn kind(self) -> Kind {
        use Format::*;
        match self {
            Jpeg | Png | Webp | Heic | Tiff | Gif => Kind::Photo,
            Mp4 | Mov => Kind::Video,
            Xlsx | Xlsm | Xlsb | Xls | Ods | Csv => Kind::Sheet,
            Docx | Doc | Odt | Pdf | Txt | Md => Kind::Document,
            Zip | Unknown => Kind::Other,
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
            Docx => "docx",
            Doc => "doc",
            Odt => "odt",
            Pdf => "pdf",
            Txt => "txt",
            Md => "md",
            Zip => "zip",
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
            DateSource::None => "无日期",
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
    Folder,
    Filename,
    Sheet,
    Date,
    None,
}

impl ActivityRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityRule::Folder => "folder",
            ActivityRule::Filename => "filename",
            ActivityRule::Sheet => "sheet",
            ActivityRule::Date => "date",
            ActivityRule::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<ActivityRule> {
        Some(match s {
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
            ActivityRule::Folder => "文件夹名",
            ActivityRule::Filename => "文件名",
            ActivityRule::Sheet => "表格活动名称列",
            ActivityRule::Date => "日期落在活动期间",
            ActivityRule::None => "未归类",
        }
    }
}
