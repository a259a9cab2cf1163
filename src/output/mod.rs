//! The statistics files of a [`Tally`]: 情况统计表.csv/.xlsx (附件5, one row), 活动明细.csv and
//! 部门明细.csv, plus the table as JSON with stable English keys.
//!
//! Each file is written to a temporary file in the target folder, synced, then renamed, so a
//! reader never sees half a file. Never writes a name, ID or phone number: a [`Tally`] holds
//! none, and nothing else is read here.

pub mod csv;
pub mod xlsx;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use self::csv::{Cell, CsvEncoding, csv_bytes, decode_csv, write_csv};
use crate::tally::{BreakdownRow, ProvincialRow, Tally};

/// The columns of 附件5 in order, the three media columns by their own names.
pub const TABLE_HEADERS: [&str; 11] = [
    "市（州）/职业学校（含技工院校）",
    "参与活动的职业学校（含技工院校）数",
    "参与活动的教师数",
    "参与活动的学生数",
    "参与活动的学生覆盖率",
    "参与活动的企业数",
    "参与总人数",
    "观摩体验活动项目数",
    "省级及以上媒体报道数",
    "市（州）级媒体报道数",
    "县（区）级媒体报道数",
];

/// The merged header over the three media columns.
pub const MEDIA_GROUP: &str = "活动周媒体报道数";

/// The line under the title, filled in by hand.
pub const FILL_LINE: &str = "填报单位（盖章）： 填报人： 联系电话：";

/// The name of a sum row.
pub const TOTAL: &str = "合计";

pub const TABLE_CSV: &str = "情况统计表.csv";
pub const TABLE_XLSX: &str = "情况统计表.xlsx";
pub const ACTIVITIES_CSV: &str = "活动明细.csv";
pub const DEPARTMENTS_CSV: &str = "部门明细.csv";

/// The title of the form: `2025 年职业教育活动周情况统计表`.
pub fn table_title(year: i32) -> String {
    format!("{year} 年职业教育活动周情况统计表")
}

/// The columns of 活动明细.csv.
pub const ACTIVITY_HEADERS: [&str; 22] = [
    "活动",
    "部门",
    "开始日期",
    "结束日期",
    "照片",
    "视频",
    "表格",
    "文档",
    "其他",
    "教师",
    "学生",
    "校外学生",
    "企业人员",
    "访客",
    "身份不明",
    "参与人数",
    "企业数（家）",
    "省级及以上",
    "市（州）级",
    "县（区）级",
    "其他媒体",
    "计数来源",
];

/// The columns of 部门明细.csv.
pub const DEPARTMENT_HEADERS: [&str; 19] = [
    "部门",
    "照片",
    "视频",
    "表格",
    "文档",
    "其他",
    "教师",
    "学生",
    "校外学生",
    "企业人员",
    "访客",
    "身份不明",
    "参与人数",
    "企业数（家）",
    "省级及以上",
    "市（州）级",
    "县（区）级",
    "其他媒体",
    "计数来源",
];

/// Why a statistics file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("无法写入 {path}：{source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("无法生成表格 {path}：{source}")]
    Xlsx {
        path: PathBuf,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
}

/// The cells of one 附件5 row, in [`TABLE_HEADERS`] order.
pub fn table_cells(row: &ProvincialRow) -> Vec<Cell> {
    vec![
        Cell::text(&row.institution),
        Cell::Int(row.schools),
        Cell::Int(row.teachers),
        Cell::Int(row.students),
        Cell::Text(row.coverage.text()),
        Cell::Int(row.enterprises),
        Cell::Int(row.participants),
        Cell::Int(row.experience_projects),
        Cell::Int(row.media_provincial),
        Cell::Int(row.media_city),
        Cell::Int(row.media_county),
    ]
}

fn date_cell(d: Option<NaiveDate>) -> Cell {
    match d {
        Some(d) => Cell::Text(d.format("%Y-%m-%d").to_string()),
        None => Cell::Empty,
    }
}

fn count_cells(r: &BreakdownRow) -> Vec<Cell> {
    vec![
        Cell::Int(r.files.photo),
        Cell::Int(r.files.video),
        Cell::Int(r.files.sheet),
        Cell::Int(r.files.document),
        Cell::Int(r.files.other),
        Cell::Int(r.teachers),
        Cell::Int(r.students),
        Cell::Int(r.external_students),
        Cell::Int(r.enterprise_people),
        Cell::Int(r.visitors),
        Cell::Int(r.unknown),
        Cell::Int(r.participants),
        Cell::Int(r.enterprises),
        Cell::Int(r.media.provincial),
        Cell::Int(r.media.city),
        Cell::Int(r.media.county),
        Cell::Int(r.media.other),
        Cell::text(r.source.label()),
    ]
}

/// The cells of one 活动明细 row, in [`ACTIVITY_HEADERS`] order.
pub fn activity_cells(r: &BreakdownRow) -> Vec<Cell> {
    let mut cells = vec![
        Cell::text(&r.activity),
        Cell::text(&r.department),
        date_cell(r.start),
        date_cell(r.end),
    ];
    cells.extend(count_cells(r));
    cells
}

/// The cells of one 部门明细 row, in [`DEPARTMENT_HEADERS`] order.
pub fn department_cells(r: &BreakdownRow) -> Vec<Cell> {
    let mut cells = vec![Cell::text(&r.department)];
    cells.extend(count_cells(r));
    cells
}

/// 情况统计表.csv for any rows (one institution, or a city's with its 合计).
pub fn table_csv(rows: &[ProvincialRow], enc: CsvEncoding) -> Vec<u8> {
    let cells: Vec<Vec<Cell>> = rows.iter().map(table_cells).collect();
    csv_bytes(&TABLE_HEADERS, &cells, enc)
}

/// The table row as JSON: `institution`, `schools`, `teachers`, `students`, `coverage`
/// (`"13.13%"`, or null when no enrolment is known), `enterprises`, `participants`,
/// `experience_projects`, `media_provincial`, `media_city`, `media_county`.
pub fn table_json(tally: &Tally) -> serde_json::Value {
    row_json(&tally.table)
}

/// One table row as JSON (see [`table_json`]).
pub fn row_json(r: &ProvincialRow) -> serde_json::Value {
    serde_json::json!({
        "institution": r.institution,
        "schools": r.schools,
        "teachers": r.teachers,
        "students": r.students,
        "coverage": r.coverage.json_text(),
        "enterprises": r.enterprises,
        "participants": r.participants,
        "experience_projects": r.experience_projects,
        "media_provincial": r.media_provincial,
        "media_city": r.media_city,
        "media_county": r.media_county,
    })
}

/// Writes `bytes` to `path` through a synced temporary file in the same folder and a rename:
/// the file at `path` is either the old one or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        // Readable by the office as the umask allows (0644 under 022), not tempfile's 0600.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .prefix(".dangan-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    // Make the rename itself durable where the platform allows syncing a folder.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes 情况统计表.csv, 情况统计表.xlsx, 活动明细.csv and 部门明细.csv into `dir` (created when
/// missing) and returns their paths in that order. `epoch` (Unix seconds) dates the XLSX, so
/// the same tally and epoch give the same bytes.
pub fn write_stats(
    tally: &Tally,
    dir: &Path,
    enc: CsvEncoding,
    epoch: i64,
) -> Result<Vec<PathBuf>, OutputError> {
    write_stats_filled(tally, dir, enc, epoch, FILL_LINE)
}

/// [`write_stats`] with the XLSX's 填报 line filled in (see [`xlsx::fill_line`]).
pub fn write_stats_filled(
    tally: &Tally,
    dir: &Path,
    enc: CsvEncoding,
    epoch: i64,
    fill: &str,
) -> Result<Vec<PathBuf>, OutputError> {
    write_files(dir, &stats_files(tally, enc, epoch, fill)?)
}

/// The statistics files as `(name, bytes)`: 情况统计表.csv, 情况统计表.xlsx, 活动明细.csv and
/// 部门明细.csv, in that order (what [`write_stats_filled`] writes, and what the year's bag
/// carries under `data/统计/`).
pub fn stats_files(
    tally: &Tally,
    enc: CsvEncoding,
    epoch: i64,
    fill: &str,
) -> Result<Vec<(&'static str, Vec<u8>)>, OutputError> {
    let rows = std::slice::from_ref(&tally.table);
    let xlsx =
        xlsx::table_form(rows, tally.year, epoch, fill).map_err(|source| OutputError::Xlsx {
            path: PathBuf::from(TABLE_XLSX),
            source,
        })?;
    let acts: Vec<Vec<Cell>> = tally.activities.iter().map(activity_cells).collect();
    let depts: Vec<Vec<Cell>> = tally.departments.iter().map(department_cells).collect();
    Ok(vec![
        (TABLE_CSV, table_csv(rows, enc)),
        (TABLE_XLSX, xlsx),
        (ACTIVITIES_CSV, csv_bytes(&ACTIVITY_HEADERS, &acts, enc)),
        (DEPARTMENTS_CSV, csv_bytes(&DEPARTMENT_HEADERS, &depts, enc)),
    ])
}

/// Writes each `(name, bytes)` into `dir` (created when missing), each atomically; returns the
/// paths in the same order.
pub fn write_files(
    dir: &Path,
    files: &[(&'static str, Vec<u8>)],
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        write_if_changed(&path, bytes)?;
        paths.push(path);
    }
    Ok(paths)
}

/// [`write_atomic`], unless `path` holds these bytes already: an unchanged night rewrites (and
/// syncs) nothing. Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, OutputError> {
    // The size first: a file of another size is not read to be compared.
    let same = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes);
    if same {
        return Ok(false);
    }
    write_atomic(path, bytes)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_file_with_the_same_bytes_is_left_alone_and_another_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("情况统计表.csv");
        assert!(write_if_changed(&path, b"a,b\n1,2\n").unwrap());
        let first = std::fs::metadata(&path).unwrap().ino();
        // Same bytes: not written (the same file, no temp file made and renamed over it).
        assert!(!write_if_changed(&path, b"a,b\n1,2\n").unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), first);
        // Same size, other bytes; and another size: replaced whole.
        assert!(write_if_changed(&path, b"a,b\n1,3\n").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n1,3\n");
        assert!(write_if_changed(&path, b"a\n").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"a\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
