//! STUB until the extract branch lands.
use crate::model::{DateCandidate, Format};
use std::path::Path;
pub struct ExtractOptions {
    pub utc_offset: chrono::FixedOffset,
}
#[derive(Default)]
pub struct Extracted {
    pub dates: Vec<DateCandidate>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub orientation: Option<u16>,
    pub has_thumbnail: bool,
    pub text: Option<String>,
    pub problems: Vec<String>,
}
pub fn extract(_f: Format, _h: &[u8], _p: &Path, _o: &ExtractOptions) -> Extracted {
    Extracted::default()
}
