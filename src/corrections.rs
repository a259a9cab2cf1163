//! Placeholder until the corrections module lands (read 更正.xlsx, write 待归类.xlsx).

use std::path::Path;

pub const CORRECTIONS_XLSX: &str = "更正.xlsx";
pub const CORRECTIONS_CSV: &str = "更正.csv";
pub const PENDING_XLSX: &str = "待归类.xlsx";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    pub row: u32,
    pub path: String,
    pub department: Option<String>,
    pub activity: Option<String>,
    pub date: Option<chrono::NaiveDate>,
    pub exclude: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrectionsRead {
    pub rows: Vec<CorrectionRow>,
    pub problems: Vec<String>,
}

pub fn read(_path: &Path) -> CorrectionsRead {
    CorrectionsRead::default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    pub path: String,
    pub department: String,
    pub activity: String,
    pub date: String,
    pub date_source: String,
    pub reason: String,
    pub fix_department: String,
    pub fix_activity: String,
    pub fix_date: String,
    pub exclude: bool,
}

pub fn pending_xlsx(
    _rows: &[PendingRow],
    _activities: &[String],
    _departments: &[String],
    _epoch: i64,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    Ok(Vec::new())
}
