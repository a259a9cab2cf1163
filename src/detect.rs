//! STUB until the extract branch lands.
use crate::model::Format;
use std::path::Path;
pub struct Detected {
    pub format: Format,
    pub warning: Option<String>,
}
pub fn detect(head: &[u8], file_name: &str, _full: &Path) -> Detected {
    let format = if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Format::Jpeg
    } else if head.starts_with(b"\x89PNG") {
        Format::Png
    } else if file_name.ends_with(".csv") {
        Format::Csv
    } else if file_name.ends_with(".txt") {
        Format::Txt
    } else if file_name.ends_with(".xlsx") && head.starts_with(b"PK") {
        Format::Xlsx
    } else {
        Format::Unknown
    };
    Detected {
        format,
        warning: None,
    }
}
