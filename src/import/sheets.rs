//! From the sheet reader's rows to catalog records: each row's 活动名称 matched to the catalog,
//! row problems kept with their sheet and row. STUB until the sheet branch lands.

use std::path::Path;

use crate::catalog::SheetRecord;
use crate::config::Config;
use crate::model::{DateCandidate, Format};

#[derive(Default)]
pub struct SheetsRead {
    pub records: Vec<SheetRecord>,
    pub problems: Vec<String>,
    pub earliest: Option<DateCandidate>,
    pub row_activities: Vec<Option<String>>,
}

pub fn read(_cfg: &Config, _path: &Path, _format: Format, _exe: Option<&Path>) -> SheetsRead {
    SheetsRead::default()
}
